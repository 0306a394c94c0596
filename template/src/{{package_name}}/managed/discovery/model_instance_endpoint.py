# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One healthy instance of a service, as a caller needs it."""

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from ..values.address_detection import host_port
from ..values.consul_types import ConsulServiceId


class ModelInstanceEndpoint(BaseModel):
    """Where to send a request: Consul's view of one passing instance.

    `address` already follows Consul's rule that an empty service address
    means the address of the node the instance runs on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_id: ConsulServiceId
    service: str
    address: str
    port: int = Field(ge=0, le=65535)
    tags: tuple[str, ...] = ()
    metadata: dict[str, str] = Field(default_factory=dict)
    # Consul's Weights.Passing: the share `weighted` balancing gives it.
    weight: int = Field(default=1, ge=1)

    @property
    def host_port(self) -> str:
        """``address:port``, IPv6 addresses in brackets (for URLs)."""
        return host_port(self.address, self.port)

    @classmethod
    def from_health_entry(cls, entry: Mapping[str, Any]) -> Self:
        """One entry of Consul's /v1/health/service answer.

        Consul's rule: an empty service address means the node's address.
        """
        service = entry["Service"]
        weights = service.get("Weights") or {}
        return cls(
            service_id=service["ID"],
            service=service["Service"],
            address=service.get("Address") or entry["Node"]["Address"],
            port=service["Port"],
            tags=tuple(service.get("Tags") or ()),
            metadata=dict(service.get("Meta") or {}),
            weight=max(int(weights.get("Passing", 1)), 1),
        )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Self:
        """A ProtocolServiceDiscovery record (any discovery, fakes included)."""
        return cls(
            service_id=record["id"],
            service=record["name"],
            address=record["address"],
            port=record["port"],
            tags=tuple(record.get("tags") or ()),
            metadata=dict(record.get("metadata") or {}),
        )

    def as_record(self) -> dict[str, Any]:
        """The ProtocolServiceDiscovery record of this instance."""
        return {
            "id": self.service_id,
            "name": self.service,
            "address": self.address,
            "port": self.port,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
        }
