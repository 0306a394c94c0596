# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How the node reaches its Consul agent."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from .consul_types import DurationSeconds


class ModelConsulSettings(BaseModel):
    """Connection to the local Consul agent and the bounds put on talking to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    # Fail start-up instead of serving unregistered when Consul cannot be used.
    required: bool = False
    scheme: Literal["http", "https"] = "http"
    host: str = "127.0.0.1"
    port: int = Field(default=8500, ge=1, le=65535)
    # SecretStr keeps the token out of reprs, logs and validation errors.
    token: SecretStr | None = None
    verify: bool = True
    request_timeout: DurationSeconds = 3.0
    # initialize() never waits longer than this for Consul; registration goes
    # on in the background afterwards.
    register_wait: DurationSeconds = 5.0
    # Shutdown never waits longer than this for Consul to drop the service.
    deregister_timeout: DurationSeconds = 3.0
    retry_initial: DurationSeconds = 0.5
    retry_cap: DurationSeconds = 30.0

    @property
    def http_addr(self) -> str:
        """``host:port`` as Consul's own tools print it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"
