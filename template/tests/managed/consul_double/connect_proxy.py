# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's ``structs.ConnectProxyConfig``: decoded and shown as an agent does.

A decoded proxy is a dict keyed by Go field names (nested structs likewise);
an absent key is Go's zero value. Consul's agent shows it as
``api.AgentServiceConnectProxyConfig`` (``agent_proxy_json``); the catalog and
health reads show the stored struct (``catalog_proxy_json``).
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    Iterable,
    Mapping,
)
from typing import Any, Final

from tests.managed.consul_double.request_decoding import DecodeError, Schema

CONNECT_PROXY: Final = "connect-proxy"
INGRESS_GATEWAY: Final = "ingress-gateway"
API_GATEWAY: Final = "api-gateway"
GATEWAYS: Final = frozenset(
    {"mesh-gateway", "terminating-gateway", INGRESS_GATEWAY, API_GATEWAY}
)
UPSTREAM_SERVICE: Final = "service"


def _list_of(schema: Schema) -> Callable[[object, str], object]:
    def decode(value: object, where: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise DecodeError(
                f"json: cannot unmarshal object into Go struct field {where} "
                f"of type []{schema.go_type}"
            )
        return [schema.decode(item, where) for item in value]

    return decode


def _same_names(*names: str, kind: str) -> dict[str, tuple[str, str]]:
    return {name: (name, kind) for name in names}


_MESH_GATEWAY: Final = Schema(
    "structs.MeshGatewayConfig", _same_names("Mode", kind="string")
)
_TRANSPARENT_PROXY: Final = Schema(
    "structs.TransparentProxyConfig",
    {
        "OutboundListenerPort": ("OutboundListenerPort", "int"),
        "DialedDirectly": ("DialedDirectly", "bool"),
    },
)
_ACCESS_LOGS: Final = Schema(
    "structs.AccessLogsConfig",
    {
        "Enabled": ("Enabled", "bool"),
        "DisableListenerLogs": ("DisableListenerLogs", "bool"),
        **_same_names("Type", "Path", "JSONFormat", "TextFormat", kind="string"),
    },
)
# ExposePath and Upstream have UnmarshalJSON methods adding snake_case keys.
_EXPOSE_PATH: Final = Schema(
    "structs.ExposePath",
    {
        "ListenerPort": ("ListenerPort", "int"),
        "Path": ("Path", "string"),
        "LocalPathPort": ("LocalPathPort", "int"),
        "Protocol": ("Protocol", "string"),
        "ParsedFromCheck": ("ParsedFromCheck", "bool"),
    },
    aliases={
        "listener_port": "ListenerPort",
        "local_path_port": "LocalPathPort",
        "parsed_from_check": "ParsedFromCheck",
    },
)
_EXPOSE: Final = Schema(
    "structs.ExposeConfig",
    {"Checks": ("Checks", "bool"), "Paths": ("Paths", _list_of(_EXPOSE_PATH))},
)
_UPSTREAM_STRINGS: Final = (
    "DestinationType",
    "DestinationNamespace",
    "DestinationPartition",
    "DestinationPeer",
    "DestinationName",
    "Datacenter",
    "LocalBindAddress",
    "LocalBindSocketPath",
    "LocalBindSocketMode",
)
_UPSTREAM: Final = Schema(
    "structs.Upstream",
    {
        **_same_names(*_UPSTREAM_STRINGS, kind="string"),
        "LocalBindPort": ("LocalBindPort", "int"),
        "Config": ("Config", "raw"),
        "MeshGateway": ("MeshGateway", _MESH_GATEWAY.decode),
        "CentrallyConfigured": ("CentrallyConfigured", "bool"),
    },
    aliases={
        "destination_type": "DestinationType",
        "destination_namespace": "DestinationNamespace",
        "destination_partition": "DestinationPartition",
        "destination_peer": "DestinationPeer",
        "destination_name": "DestinationName",
        "local_bind_address": "LocalBindAddress",
        "local_bind_port": "LocalBindPort",
        "local_bind_socket_path": "LocalBindSocketPath",
        "local_bind_socket_mode": "LocalBindSocketMode",
        "mesh_gateway": "MeshGateway",
    },
)
_LOCAL_SERVICE: Final = (
    "DestinationServiceName",
    "DestinationServiceID",
    "LocalServiceAddress",
    "LocalServicePort",
    "LocalServiceSocketPath",
)
_PROXY: Final = Schema(
    "structs.ConnectProxyConfig",
    {
        "EnvoyExtensions": ("EnvoyExtensions", "objects"),
        **_same_names(*_LOCAL_SERVICE, kind="string"),
        "LocalServicePort": ("LocalServicePort", "int"),
        "Mode": ("Mode", "string"),
        "Config": ("Config", "raw"),
        "Upstreams": ("Upstreams", _list_of(_UPSTREAM)),
        "MeshGateway": ("MeshGateway", _MESH_GATEWAY.decode),
        "Expose": ("Expose", _EXPOSE.decode),
        "TransparentProxy": ("TransparentProxy", _TRANSPARENT_PROXY.decode),
        "AccessLogs": ("AccessLogs", _ACCESS_LOGS.decode),
    },
    aliases={
        "envoy_extensions": "EnvoyExtensions",
        "destination_service_name": "DestinationServiceName",
        "destination_service_id": "DestinationServiceID",
        "local_service_address": "LocalServiceAddress",
        "local_service_port": "LocalServicePort",
        "local_service_socket_path": "LocalServiceSocketPath",
        "mesh_gateway": "MeshGateway",
        "transparent_proxy": "TransparentProxy",
        "access_logs": "AccessLogs",
    },
)


def decode_proxy(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A body's ``Proxy`` (ConnectProxyConfig.UnmarshalJSON: strict)."""
    return _PROXY.decode(dict(raw), where)


def default_upstream_types(proxy: dict[str, Any]) -> dict[str, Any]:
    """What ServiceDefinition.NodeService() adds to an agent registration's
    proxy: an upstream without DestinationType is a "service" one (CE leaves
    its DestinationNamespace/Partition empty). A catalog write keeps it as is."""
    for upstream in proxy.get("Upstreams", []):
        upstream["DestinationType"] = (
            upstream.get("DestinationType") or UPSTREAM_SERVICE
        )
    return proxy


def shows_proxy(kind: str) -> bool:
    """buildAgentService attaches Proxy for connect proxies and gateways only."""
    return kind == CONNECT_PROXY or kind in GATEWAYS


def join_host_port(host: str, port: int) -> str:
    """Go's net.JoinHostPort: an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _set(source: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The ``omitempty`` fields among ``names`` that are not Go zero values."""
    return {name: source[name] for name in names if source.get(name)}


def _always(source: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Fields without ``omitempty``: Go's zero value when absent."""
    zeros = {"LocalBindPort": 0}
    return {name: source.get(name, zeros.get(name, "")) for name in names}


_PATH_FIELDS: Final = (
    "ListenerPort",
    "Path",
    "LocalPathPort",
    "Protocol",
    "ParsedFromCheck",
)
_TPROXY_FIELDS: Final = ("OutboundListenerPort", "DialedDirectly")
_LOG_FIELDS: Final = (
    "Enabled",
    "DisableListenerLogs",
    "Type",
    "Path",
    "JSONFormat",
    "TextFormat",
)
_BIND_FIELDS: Final = (
    "LocalBindAddress",
    "LocalBindPort",
    "LocalBindSocketPath",
    "LocalBindSocketMode",
    "Config",
)


def _expose_json(expose: Mapping[str, Any]) -> dict[str, Any]:
    # ExposeConfig and ExposePath fields are all omitempty (a struct never is).
    body = _set(expose, ("Checks",))
    if expose.get("Paths"):
        body["Paths"] = [_set(path, _PATH_FIELDS) for path in expose["Paths"]]
    return body


def _mesh_gateway_json(proxy: Mapping[str, Any]) -> dict[str, Any]:
    return _set(proxy.get("MeshGateway", {}), ("Mode",))


def _catalog_upstream_json(upstream: Mapping[str, Any]) -> dict[str, Any]:
    """structs.Upstream: DestinationType, DestinationName and Datacenter always."""
    return {
        **_always(upstream, ("DestinationType",)),
        **_set(
            upstream,
            ("DestinationNamespace", "DestinationPartition", "DestinationPeer"),
        ),
        **_always(upstream, ("DestinationName", "Datacenter")),
        **_set(upstream, _BIND_FIELDS),
        "MeshGateway": _mesh_gateway_json(upstream),
        **_set(upstream, ("CentrallyConfigured",)),
    }


def _agent_upstream_json(upstream: Mapping[str, Any]) -> dict[str, Any]:
    """api.Upstream: only DestinationName and MeshGateway always."""
    return {
        **_set(
            upstream,
            (
                "DestinationType",
                "DestinationPartition",
                "DestinationNamespace",
                "DestinationPeer",
            ),
        ),
        **_always(upstream, ("DestinationName",)),
        **_set(upstream, ("Datacenter", *_BIND_FIELDS)),
        "MeshGateway": _mesh_gateway_json(upstream),
    }


def catalog_proxy_json(proxy: Mapping[str, Any]) -> dict[str, Any]:
    """ConnectProxyConfig.MarshalJSON: TransparentProxy and AccessLogs first,
    and only when set; Mode, MeshGateway and Expose always."""
    body: dict[str, Any] = {}
    transparent = _set(proxy.get("TransparentProxy", {}), _TPROXY_FIELDS)
    if transparent:
        body["TransparentProxy"] = transparent
    logs = _set(proxy.get("AccessLogs", {}), _LOG_FIELDS)
    if logs:
        body["AccessLogs"] = logs
    body |= _set(proxy, ("EnvoyExtensions", *_LOCAL_SERVICE))
    body["Mode"] = proxy.get("Mode", "")
    body |= _set(proxy, ("Config",))
    if proxy.get("Upstreams"):
        body["Upstreams"] = [_catalog_upstream_json(u) for u in proxy["Upstreams"]]
    body["MeshGateway"] = _mesh_gateway_json(proxy)
    body["Expose"] = _expose_json(proxy.get("Expose", {}))
    return body


def agent_proxy_json(proxy: Mapping[str, Any]) -> dict[str, Any]:
    """api.AgentServiceConnectProxyConfig (ConnectProxyConfig.ToAPI)."""
    body = _set(proxy, ("EnvoyExtensions", *_LOCAL_SERVICE, "Mode"))
    transparent = _set(proxy.get("TransparentProxy", {}), _TPROXY_FIELDS)
    if transparent:
        body["TransparentProxy"] = transparent
    body |= _set(proxy, ("Config",))
    if proxy.get("Upstreams"):
        body["Upstreams"] = [_agent_upstream_json(u) for u in proxy["Upstreams"]]
    body["MeshGateway"] = _mesh_gateway_json(proxy)
    body["Expose"] = _expose_json(proxy.get("Expose", {}))
    logs = _set(proxy.get("AccessLogs", {}), _LOG_FIELDS)
    if logs:
        body["AccessLogs"] = logs
    return body
