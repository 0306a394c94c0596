# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One healthy instance of a service, as a caller needs it."""

from pydantic import BaseModel, ConfigDict, Field

from .address_detection import host_port
from .consul_types import ConsulServiceId


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
