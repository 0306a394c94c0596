# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Everything the runtime and the Consul registration need to know."""

import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
)

from ..values.address_detection import host_port, is_unspecified
from ..values.consul_types import (
    ConsulServiceId,
    ConsulServiceName,
    DurationSeconds,
    HostAddress,
)
from ..values.service_identity import stable_service_id
from ..values.service_meta import meta_problem
from ..values.whole_numbers import (
    ByteCount,
    Milliseconds,
    PortNumber,
    RequestCount,
)
from .enum_log_level import EnumNodeLogLevel
from .model_call_settings import ModelCallSettings
from .model_check_settings import ModelCheckSettings
from .model_consul_settings import ModelConsulSettings
from .model_discovery_settings import ModelDiscoverySettings

_URL_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_MAX_PATH = 1024
# Served beside the configurable paths; none of them may take it.
OPENAPI_PATH = "/openapi.json"


def _derived_id(data: dict[str, Any]) -> str:
    """The stable service ID of validated name, address and port.

    A field that failed validation is missing; its error is the one reported.
    """
    if not {"service_name", "advertise_address", "port"} <= data.keys():
        return ""
    return stable_service_id(
        data["service_name"], data["advertise_address"], data["port"]
    )


class ModelNodeSettings(BaseModel):
    """Resolved settings: contract `config:` block overridden by the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_name: ConsulServiceName
    node_class: str
    node_type: str
    node_version: str
    template_version: str
    domain: str
    port: PortNumber
    bind_host: HostAddress
    advertise_address: HostAddress
    # Derived from the fields above unless set (after them: it reads them).
    service_id: ConsulServiceId = Field(default_factory=_derived_id)
    health_path: str
    # The HTTP surface next to the health endpoint (serving/).
    invoke_path: str = "/invoke"
    metrics_path: str = "/metrics"
    # Checked against Content-Length and while reading: a body is never read
    # whole past this.
    max_request_bytes: ByteCount = 1 << 20
    # Requests past this many running at once get 503 with Retry-After.
    max_in_flight: RequestCount = 64
    # On a stop signal, after deregistering: how long requests in flight may
    # take to finish before the process exits anyway.
    drain_timeout: DurationSeconds = 5.0
    # The contract's `descriptor.timeout_ms`: an invoke running longer is
    # answered 504 (the handler is cancelled).
    operation_timeout_ms: Milliseconds = 30_000
    # The contract's `descriptor.idempotent`, registered as meta: callers
    # repeat a failed attempt elsewhere only when the operation says so.
    idempotent: StrictBool = False
    tags: tuple[str, ...]
    # The owner's meta pairs, registered beside the node's own keys.
    meta: dict[str, str] = Field(default_factory=dict)
    check: ModelCheckSettings
    consul: ModelConsulSettings
    discovery: ModelDiscoverySettings = ModelDiscoverySettings()
    calls: ModelCallSettings = ModelCallSettings()
    log_level: EnumNodeLogLevel = EnumNodeLogLevel.INFO

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        # `info` and `Info` name the level as well as `INFO` does.
        return value.upper() if isinstance(value, str) else value

    @field_validator("advertise_address")
    @classmethod
    def _is_routable(cls, value: str) -> str:
        if is_unspecified(value):
            raise ValueError(
                f"advertise address {value!r} is not routable: Consul rejects it; "
                "set a reachable IP address"
            )
        return value

    @field_validator("health_path", "invoke_path", "metrics_path")
    @classmethod
    def _is_url_path(cls, value: str) -> str:
        # Consul's HTTP check and callers put it in a URL and aiohttp routes
        # on it: RFC 3986 path characters only (no space, control character,
        # %, ? or #), and a bound, so a pasted blob cannot fail every check.
        if len(value) > _MAX_PATH or not _URL_PATH.fullmatch(value):
            raise ValueError(
                f"path must start with / and hold at most {_MAX_PATH} URL "
                "path characters (letters, digits, - . _ ~ ! $ & ' ( ) * + , "
                "; = : @ /)"
            )
        return value

    @field_validator("invoke_path", "metrics_path")
    @classmethod
    def _path_is_its_own(cls, value: str, info: ValidationInfo) -> str:
        # One route per path: a shared one would answer for only one of them.
        # Fields validate in order, so the earlier paths are in `info.data`.
        taken = {OPENAPI_PATH: "the OpenAPI document"}
        for key in ("health_path", "invoke_path"):
            if key in info.data and key != info.field_name:
                taken[info.data[key]] = key
        if value in taken:
            raise ValueError(f"{value!r} is already the path of {taken[value]}")
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
        return f"{self.base_url}{self.health_path}"

    @property
    def base_url(self) -> str:
        """Where callers reach this node: its advertised address and port."""
        return f"http://{host_port(self.advertise_address, self.port)}"
