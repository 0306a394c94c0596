# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Bodies of PUT /v1/catalog/register and /v1/catalog/deregister, decoded like Go."""

from __future__ import annotations

from collections.abc import (
    Mapping,
)
from dataclasses import dataclass, field
from typing import Any, Final

from tests.managed.consul_double.connect_proxy import decode_proxy
from tests.managed.consul_double.request_decoding import (
    CHECK_TYPE_FIELDS,
    CheckSpec,
    DecodeError,
    Schema,
    ServiceConnect,
    Weights,
    json_type,
)

# Namespace and Partition are left out of these schemas: Consul CE's
# EnterpriseMeta is an empty struct, so a body using them is an unknown field
# there too. Service.Connect decodes with the agent's own schema; its
# SidecarService is refused by catalog_writes (not modelled in the catalog).


@dataclass
class ServiceRequest:
    """Consul's ``structs.NodeService`` of a catalog registration."""

    id: str = ""
    service: str = ""
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    address: str = ""
    tagged_addresses: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    port: int = 0
    socket_path: str = ""
    weights: Weights | None = None
    enable_tag_override: bool = False
    locality: dict[str, str] | None = None  # {"region": ..., "zone": ...}
    peer_name: str = ""
    raft_index: int = 0  # CreateIndex/ModifyIndex: decoded, then replaced
    proxy: dict[str, Any] = field(default_factory=dict)  # see connect_proxy
    connect: ServiceConnect = field(default_factory=ServiceConnect)


@dataclass
class CheckRequest:
    """Consul's ``structs.HealthCheck`` of a catalog registration."""

    node: str = ""
    check_id: str = ""
    name: str = ""
    status: str = ""
    notes: str = ""
    output: str = ""
    service_id: str = ""
    service_name: str = ""  # replaced by the service's, as Consul does
    service_tags: list[str] = field(default_factory=list)  # likewise
    type: str = ""
    interval: str = ""  # shown as given; the Definition's Interval is the duration
    timeout: str = ""
    exposed_port: int = 0
    definition: CheckSpec = field(default_factory=CheckSpec)
    peer_name: str = ""
    raft_index: int = 0


@dataclass
class RegisterRequest:
    """Consul's ``structs.RegisterRequest``."""

    node: str = ""
    id: str = ""
    address: str = ""
    datacenter: str = ""
    tagged_addresses: dict[str, str] | None = None
    node_meta: dict[str, str] | None = None
    service: ServiceRequest | None = None
    check: CheckRequest | None = None
    checks: list[CheckRequest] = field(default_factory=list)
    locality: dict[str, str] | None = None  # the node's, shown by its reads
    skip_node_update: bool = False
    peer_name: str = ""
    token: str = ""  # Consul replaces it with the request's token
    raft_index: int = 0

    def all_checks(self) -> list[CheckRequest]:
        """Check and Checks together, as Consul's Catalog.Register merges them."""
        return self.checks + ([self.check] if self.check is not None else [])

    def peer_names(self) -> list[str]:
        named = [self.peer_name] + [c.peer_name for c in self.all_checks()]
        if self.service is not None:
            named.append(self.service.peer_name)
        return [name for name in named if name]


@dataclass
class DeregisterRequest:
    """Consul's ``structs.DeregisterRequest``."""

    node: str = ""
    service_id: str = ""
    check_id: str = ""
    datacenter: str = ""
    peer_name: str = ""
    token: str = ""


_RAFT_INDEX: Final[Mapping[str, tuple[str, str]]] = {
    "CreateIndex": ("raft_index", "int"),
    "ModifyIndex": ("raft_index", "int"),
}

_DEFINITION_KEYS: Final = (
    "HTTP",
    "TLSServerName",
    "TLSSkipVerify",
    "Header",
    "Method",
    "Body",
    "DisableRedirects",
    "TCP",
    "TCPUseTLS",
    "UDP",
    "H2PING",
    "H2PingUseTLS",
    "Interval",
    "OutputMaxSize",
    "Timeout",
    "DeregisterCriticalServiceAfter",
    "ScriptArgs",
    "DockerContainerID",
    "Shell",
    "GRPC",
    "GRPCUseTLS",
    "OSService",
    "AliasNode",
    "AliasService",
    "TTL",
)

_DEFINITION_SCHEMA: Final = Schema(
    "structs.HealthCheckDefinition",
    {key: CHECK_TYPE_FIELDS[key] for key in _DEFINITION_KEYS},
)

_SERVICE_SCHEMA: Final = Schema(
    "structs.NodeService",
    {
        "ID": ("id", "string"),
        "Service": ("service", "string"),
        "Kind": ("kind", "string"),
        "Tags": ("tags", "strings"),
        "Address": ("address", "string"),
        "TaggedAddresses": ("tagged_addresses", "addresses"),
        "Meta": ("meta", "strmap"),
        "Port": ("port", "int"),
        "SocketPath": ("socket_path", "string"),
        "Weights": ("weights", "weights"),
        "EnableTagOverride": ("enable_tag_override", "bool"),
        "Locality": ("locality", "locality"),
        "Proxy": ("proxy", "raw"),
        "Connect": ("connect", "connect"),
        "PeerName": ("peer_name", "string"),
        **_RAFT_INDEX,
    },
)

_CHECK_SCHEMA: Final = Schema(
    "structs.HealthCheck",
    {
        "Node": ("node", "string"),
        "CheckID": ("check_id", "string"),
        "Name": ("name", "string"),
        "Status": ("status", "string"),
        "Notes": ("notes", "string"),
        "Output": ("output", "string"),
        "ServiceID": ("service_id", "string"),
        "ServiceName": ("service_name", "string"),
        "ServiceTags": ("service_tags", "strings"),
        "Type": ("type", "string"),
        "Interval": ("interval", "string"),
        "Timeout": ("timeout", "string"),
        "ExposedPort": ("exposed_port", "int"),
        "Definition": ("definition", "raw"),
        "PeerName": ("peer_name", "string"),
        **_RAFT_INDEX,
    },
)

_REGISTER_SCHEMA: Final = Schema(
    "structs.RegisterRequest",
    {
        "Node": ("node", "string"),
        "ID": ("id", "string"),
        "Address": ("address", "string"),
        "Datacenter": ("datacenter", "string"),
        "TaggedAddresses": ("tagged_addresses", "strmap"),
        "NodeMeta": ("node_meta", "strmap"),
        "Service": ("service", "raw"),
        "Check": ("check", "raw"),
        "Checks": ("checks", "any"),
        "Locality": ("locality", "locality"),
        "SkipNodeUpdate": ("skip_node_update", "bool"),
        "PeerName": ("peer_name", "string"),
        "Token": ("token", "string"),
        **_RAFT_INDEX,
    },
)

_DEREGISTER_SCHEMA: Final = Schema(
    "structs.DeregisterRequest",
    {
        "Node": ("node", "string"),
        "ServiceID": ("service_id", "string"),
        "CheckID": ("check_id", "string"),
        "Datacenter": ("datacenter", "string"),
        "PeerName": ("peer_name", "string"),
        "Token": ("token", "string"),
    },
)


def _check(raw: object, where: str) -> CheckRequest:
    fields_ = _CHECK_SCHEMA.decode(raw, where)
    if "definition" in fields_:
        where_def = f"{where}.Definition"
        spec = _DEFINITION_SCHEMA.decode(fields_["definition"], where_def)
        fields_["definition"] = CheckSpec(**spec)
    return CheckRequest(**fields_)


def decode_register(raw: object) -> RegisterRequest:
    """Raise DecodeError with Go's text (after ``Request decode failed: ``)."""
    fields_ = _REGISTER_SCHEMA.decode(raw, "RegisterRequest")
    where = "RegisterRequest"
    if "service" in fields_:
        decoded = _SERVICE_SCHEMA.decode(fields_["service"], f"{where}.Service")
        if "proxy" in decoded:
            decoded["proxy"] = decode_proxy(decoded["proxy"], f"{where}.Service.Proxy")
        fields_["service"] = ServiceRequest(**decoded)
    if "check" in fields_:
        fields_["check"] = _check(fields_["check"], f"{where}.Check")
    if "checks" in fields_:
        items = fields_["checks"]
        if not isinstance(items, list):
            raise DecodeError(
                f"json: cannot unmarshal {json_type(items)} into Go struct field "
                f"{where}.Checks of type structs.HealthChecks"
            )
        fields_["checks"] = [_check(item, f"{where}.Checks") for item in items]
    return RegisterRequest(**fields_)


def decode_deregister(raw: object) -> DeregisterRequest:
    return DeregisterRequest(**_DEREGISTER_SCHEMA.decode(raw, "DeregisterRequest"))
