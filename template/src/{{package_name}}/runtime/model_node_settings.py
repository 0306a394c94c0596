# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Everything the runtime and the Consul registration need to know."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .address_detection import WILDCARD_ADDRESSES, host_port
from .consul_types import ConsulServiceId, ConsulServiceName, HostAddress
from .model_check_settings import ModelCheckSettings
from .model_consul_settings import ModelConsulSettings
from .model_discovery_settings import ModelDiscoverySettings
from .service_meta import meta_problem


class ModelNodeSettings(BaseModel):
    """Resolved settings: contract `config:` block overridden by the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_name: ConsulServiceName
    service_id: ConsulServiceId
    node_class: str
    node_type: str
    node_version: str
    template_version: str
    domain: str
    port: int = Field(ge=1, le=65535)
    bind_host: HostAddress
    advertise_address: HostAddress
    health_path: str = Field(pattern=r"^/")
    tags: tuple[str, ...]
    # The owner's meta pairs, registered beside the node's own keys.
    meta: dict[str, str] = Field(default_factory=dict)
    check: ModelCheckSettings
    consul: ModelConsulSettings
    discovery: ModelDiscoverySettings = ModelDiscoverySettings()

    @field_validator("advertise_address")
    @classmethod
    def _is_routable(cls, value: str) -> str:
        if value in WILDCARD_ADDRESSES:
            raise ValueError(
                f"advertise address {value!r} is not routable: Consul rejects it; "
                "set a reachable IP address"
            )
        return value

    @field_validator("meta")
    @classmethod
    def _fits_consul_meta_rules(cls, value: dict[str, str]) -> dict[str, str]:
        problem = meta_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def health_url(self) -> str:
        address = host_port(self.advertise_address, self.port)
        return f"http://{address}{self.health_path}"
