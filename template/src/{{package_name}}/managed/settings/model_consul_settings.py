# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How the node reaches its Consul agent."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from ..values.address_detection import host_port
from ..values.consul_types import ConsulScopeName, DurationSeconds, HostAddress
from ..values.whole_numbers import PortNumber
from .enum_registration_mode import EnumRegistrationMode

# Each optional: None when the environment and the contract leave it unset.
type PemFile = Path | None
type Credential = SecretStr | None
type ScopeName = ConsulScopeName | None


class ModelConsulSettings(BaseModel):
    """Connection to the local Consul agent and the bounds put on talking to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    # self: the node registers itself; external: the platform does (deploy/).
    registration: EnumRegistrationMode = EnumRegistrationMode.SELF
    # Fail start-up instead of serving unregistered when Consul cannot be used.
    required: bool = False
    scheme: Literal["http", "https"] = "http"
    host: str = "127.0.0.1"
    port: PortNumber = 8500
    # SecretStr keeps the token out of reprs, logs and validation errors.
    token: Credential = None
    # CONSUL_HTTP_AUTH, `user[:password]` for HTTP basic auth in front of the
    # agent; a secret like the token.
    http_auth: Credential = None
    verify: bool = True
    # TLS material (CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT/KEY), read
    # into the node's own ssl.SSLContext at start-up (consul/consul_tls.py).
    ca_file: PemFile = None
    ca_path: PemFile = None
    client_cert: PemFile = None
    client_key: PemFile = None
    # The name the agent's certificate is checked against, when the address
    # is not it (an IP address, a load balancer): CONSUL_TLS_SERVER_NAME.
    tls_server_name: HostAddress | None = None
    # Sent as `dc` on catalog and health reads; None: the agent's own.
    datacenter: ScopeName = None
    # Consul Enterprise scopes, sent as `ns` / `partition` on every request
    # as Consul's own client does (a Community Edition agent answers 400).
    namespace: ScopeName = None
    partition: ScopeName = None
    request_timeout: DurationSeconds = 3.0
    # initialize() never waits longer than this for Consul; registration goes
    # on in the background afterwards.
    register_wait: DurationSeconds = 5.0
    # Shutdown never waits longer than this for Consul to drop the service.
    deregister_timeout: DurationSeconds = 3.0
    retry_initial: DurationSeconds = 0.5
    retry_cap: DurationSeconds = 30.0

    @model_validator(mode="after")
    def _client_certificate_pairs(self) -> "ModelConsulSettings":
        # mTLS needs both halves; one alone is a mistake, not a choice.
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError(
                "client_cert and client_key (CONSUL_CLIENT_CERT, "
                "CONSUL_CLIENT_KEY) must be set together"
            )
        return self

    @property
    def http_addr(self) -> str:
        """``host:port`` as Consul's own tools print it (IPv6 in brackets)."""
        return host_port(self.host, self.port)
