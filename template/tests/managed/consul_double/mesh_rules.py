# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's NodeService.Validate: the proxy, gateway and sidecar rules, in order."""

from __future__ import annotations

from collections.abc import (
    Iterable,
    Mapping,
)
from typing import Any, Final

from tests.managed.consul_double.connect_proxy import (
    API_GATEWAY,
    CONNECT_PROXY,
    GATEWAYS,
    INGRESS_GATEWAY,
    UPSTREAM_SERVICE,
    join_host_port,
)
from tests.managed.consul_double.go_durations import go_quote
from tests.managed.consul_double.request_decoding import RegistrationSpec

# validateOpaqueProxyConfig: a socket path's limit on the BSDs and macOS.
_SOCKET_DIR_KEY: Final = "envoy_hcp_metrics_bind_socket_dir"
_SOCKET_DIR_MAX: Final = 70
_DEFAULT_PARTITION: Final = "default"
_WILDCARD: Final = "*"
# Go prints its map of allowed protocols in random order; sorted here.
_EXPOSE_PROTOCOLS: Final = ("http", "http2")
_GATEWAY_INVALID: Final = (
    "DestinationServiceName",
    "DestinationServiceID",
    "LocalServiceAddress",
    "LocalServicePort",
    "LocalServiceSocketPath",
)


def multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's default (ListFormatFunc) text."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {error}" for error in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"


def service_errors(spec: RegistrationSpec, *, agent_assists: bool) -> list[str]:
    """NodeService.Validate, or ValidateForAgent with ``agent_assists`` (the
    agent allocates a sidecar's port, so a missing one is no error there)."""
    errors: list[str] = []
    if (
        not agent_assists
        and spec.kind == CONNECT_PROXY
        and spec.port == 0
        and not spec.socket_path
    ):
        errors.append(f"Port or SocketPath must be set for a {spec.kind}")
    if spec.kind == CONNECT_PROXY:
        errors += _connect_proxy_errors(spec)
    if spec.kind in GATEWAYS:
        errors += _gateway_errors(spec)
    sidecar = spec.connect.sidecar_service
    if sidecar is not None and sidecar.id:
        errors.append(
            "A SidecarService cannot specify an ID as this is managed by the agent"
        )
    if sidecar is not None and sidecar.connect.sidecar_service is not None:
        errors.append("A SidecarService cannot have a nested SidecarService")
    if spec.connect.native and spec.port == 0 and not spec.socket_path:
        errors.append("Port or SocketPath must be set for a Connect native service.")
    return errors


def _connect_proxy_errors(spec: RegistrationSpec) -> list[str]:
    errors: list[str] = []
    destination = str(spec.proxy.get("DestinationServiceName", ""))
    if not destination.strip():
        errors.append(
            "Proxy.DestinationServiceName must be non-empty for Connect proxy services"
        )
    if destination == _WILDCARD:
        errors.append(
            "Proxy.DestinationServiceName must not be a wildcard for Connect proxy "
            "services"
        )
    if spec.connect.native:
        errors.append("A Proxy cannot also be Connect Native, only typical services")
    socket_dir = spec.proxy.get("Config", {}).get(_SOCKET_DIR_KEY)
    if isinstance(socket_dir, str) and len(socket_dir.encode()) > _SOCKET_DIR_MAX:
        errors.append(
            f"Proxy.Config: {_SOCKET_DIR_KEY} length {len(socket_dir.encode())} "
            f"exceeds max {_SOCKET_DIR_MAX}"
        )
    errors += _upstreams_errors(spec.proxy.get("Upstreams", []))
    errors += _expose_errors(spec.proxy.get("Expose", {}).get("Paths", []))
    return errors


def _upstreams_errors(upstreams: Iterable[Mapping[str, Any]]) -> list[str]:
    errors: list[str] = []
    keys: set[str] = set()
    binds: set[str] = set()
    for upstream in upstreams:
        problem = _partition_error(upstream) or _upstream_error(upstream)
        if problem:
            errors.append(problem)
            continue
        key = _upstream_key(upstream)
        if key in keys:
            errors.append(f"upstreams cannot contain duplicates of {key}")
            continue
        keys.add(key)
        bind = _bind_address(upstream)
        if bind in binds and not upstream.get("CentrallyConfigured"):
            errors.append(
                "upstreams cannot contain duplicates by local bind address and port "
                f"or unix path; {go_quote(bind)} is specified twice"
            )
            continue
        binds.add(bind)
    return errors


def _partition_error(upstream: Mapping[str, Any]) -> str | None:
    # CE: the service is in the default partition, and so is an upstream
    # that names none.
    partition = upstream.get("DestinationPartition") or _DEFAULT_PARTITION
    if partition == _DEFAULT_PARTITION:
        return None
    if upstream.get("DestinationPeer"):
        return "upstreams must target peers in the same partition as the service"
    if upstream.get("Datacenter"):
        return "upstreams cannot target another datacenter in non default partition"
    return None


def _upstream_error(upstream: Mapping[str, Any]) -> str | None:
    """Upstream.Validate()."""
    kind = upstream.get("DestinationType", "")
    name = upstream.get("DestinationName", "")
    central = bool(upstream.get("CentrallyConfigured"))
    port = upstream.get("LocalBindPort", 0)
    socket = upstream.get("LocalBindSocketPath", "")
    if kind not in ("", UPSTREAM_SERVICE, "prepared_query"):
        return f"unknown upstream destination type: {go_quote(kind)}"
    if not name:
        return "upstream destination name cannot be empty"
    if name == _WILDCARD and not central:
        return "upstream destination name cannot be a wildcard"
    if upstream.get("DestinationPeer") and upstream.get("Datacenter"):
        return "upstream cannot specify both destination peer and datacenter"
    if port == 0 and not socket and not central:
        return (
            "upstream local bind port or local socket path must be defined and nonzero"
        )
    if port != 0 and socket and not central:
        return (
            "only one of upstream local bind port or local socket path can be "
            "defined and nonzero"
        )
    return None


def _upstream_key(upstream: Mapping[str, Any]) -> str:
    """UpstreamKey.String()."""
    names = (
        ("type", "DestinationType"),
        ("name", "DestinationName"),
        ("partition", "DestinationPartition"),
        ("namespace", "DestinationNamespace"),
        ("peer", "DestinationPeer"),
        ("datacenter", "Datacenter"),
    )
    parts = (f"{label}={go_quote(str(upstream.get(go, '')))}" for label, go in names)
    return "[" + ", ".join(parts) + "]"


def _bind_address(upstream: Mapping[str, Any]) -> str:
    """Upstream.UpstreamAddressToString()."""
    address = str(upstream.get("LocalBindAddress", ""))
    port = int(upstream.get("LocalBindPort", 0))
    socket = str(upstream.get("LocalBindSocketPath", ""))
    if port == 0 and not address and socket:
        return socket
    return join_host_port(address or "127.0.0.1", port)


def _expose_errors(paths: Iterable[Mapping[str, Any]]) -> list[str]:
    errors: list[str] = []
    ports: set[int] = set()
    for path in paths:
        if not path.get("Path"):
            errors.append("expose.paths: empty path exposed")
        port = int(path.get("ListenerPort", 0))
        if port in ports:
            errors.append("expose.paths: duplicate listener ports exposed")
        ports.add(port)
        if port <= 0 or port > 65535:
            errors.append(f"expose.paths: invalid listener port: {port}")
        protocol = str(path.get("Protocol", "")).lower()
        if protocol and protocol not in _EXPOSE_PROTOCOLS:
            allowed = " ".join(_EXPOSE_PROTOCOLS)
            errors.append(
                f"protocol '{protocol}' not supported for path: "
                f"{path.get('Path', '')}, must be in: [{allowed}]"
            )
    return errors


def _gateway_errors(spec: RegistrationSpec) -> list[str]:
    kind = spec.kind
    errors: list[str] = []
    if spec.port == 0 and kind not in (INGRESS_GATEWAY, API_GATEWAY):
        errors.append(f"Port must be non-zero for a {kind}")
    if spec.connect.sidecar_service is not None:
        errors.append(f"A {kind} cannot have a sidecar service defined")
    for name in _GATEWAY_INVALID:
        if spec.proxy.get(name):
            errors.append(f"The Proxy.{name} configuration is invalid for a {kind}")
    if spec.proxy.get("Upstreams"):
        errors.append(f"The Proxy.Upstreams configuration is invalid for a {kind}")
    return errors
