# Managed by the ONEX node template: `copier update` replaces this file.
"""How the node reaches its Consul agent."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ModelConsulSettings(BaseModel):
    """Connection to the local Consul agent and the bounds put on talking to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    scheme: Literal["http", "https"] = "http"
    host: str = "127.0.0.1"
    port: int = Field(default=8500, ge=1, le=65535)
    # SecretStr keeps the token out of reprs, logs and validation errors.
    token: SecretStr | None = None
    verify: bool = True
    request_timeout_s: float = Field(default=3.0, gt=0)
    # initialize() never waits longer than this for Consul; registration goes
    # on in the background afterwards.
    register_wait_s: float = Field(default=5.0, gt=0)
    deregister_timeout_s: float = Field(default=3.0, gt=0)
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_cap_s: float = Field(default=30.0, gt=0)

    @property
    def http_addr(self) -> str:
        """``host:port`` as Consul's own tools print it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"
