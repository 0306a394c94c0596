# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What the node registers with service discovery."""

from pydantic import BaseModel, ConfigDict

from ..settings.model_node_settings import ModelNodeSettings
from ..values.consul_types import ConsulServiceId, ConsulServiceName
from ..values.service_meta import META_VALUE_LIMIT


class ModelInstanceRegistration(BaseModel):
    """One service instance: identity, address, tags, meta and health endpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_id: ConsulServiceId
    service_name: ConsulServiceName
    address: str
    port: int
    tags: tuple[str, ...]
    meta: dict[str, str]
    health_check_url: str

    @classmethod
    def for_node(
        cls, settings: ModelNodeSettings, node_id: str
    ) -> "ModelInstanceRegistration":
        """What the node registers itself: the platform's registration plus
        `node_id`, the ONEX node's identity, drawn afresh by each process."""
        platform = cls.for_platform(settings)
        meta = {**platform.meta, "node_id": node_id[:META_VALUE_LIMIT]}
        return platform.model_copy(update={"meta": meta})

    @classmethod
    def for_platform(cls, settings: ModelNodeSettings) -> "ModelInstanceRegistration":
        """What a service definition written before the process starts can
        carry (deploy/, `service-definition`): everything but `node_id`."""
        # The owner's pairs first; ModelNodeSettings rejects any that would
        # replace the node's own keys, which describe the instance.
        meta = {
            **settings.meta,
            "node_type": settings.node_type,
            "node_name": settings.node_class,
            "node_version": settings.node_version,
            "domain": settings.domain,
            "template_version": settings.template_version,
            "invoke_path": settings.invoke_path,
            "metrics_path": settings.metrics_path,
            "idempotent": "true" if settings.idempotent else "false",
        }
        return cls(
            service_id=settings.service_id,
            service_name=settings.service_name,
            address=settings.advertise_address,
            port=settings.port,
            tags=settings.tags,
            meta={key: value[:META_VALUE_LIMIT] for key, value in meta.items()},
            health_check_url=settings.health_url,
        )
