# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""``Connect.SidecarService``: the second registration an agent derives from it.

Consul's agent/sidecar_service.go: the sidecar is ``<id>-sidecar-proxy``, a
connect-proxy named ``<name>-sidecar-proxy`` in front of its parent, on a port
from the agent's sidecar range unless given, with two default checks when it
declares none. The parent keeps nothing of it but the lineage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Final

from tests.managed.consul_double.agent_state import Registration
from tests.managed.consul_double.connect_proxy import CONNECT_PROXY, join_host_port
from tests.managed.consul_double.constants import SIDECAR_CHECK_INTERVAL_NS
from tests.managed.consul_double.http_plumbing import HttpError
from tests.managed.consul_double.registration_rules import meta_error
from tests.managed.consul_double.request_decoding import CheckSpec, RegistrationSpec

SIDECAR_SUFFIX: Final = "-sidecar-proxy"
# Consul's defaults for ports.sidecar_min_port / sidecar_max_port.
SIDECAR_MIN_PORT: Final = 21000
SIDECAR_MAX_PORT: Final = 21255
_LOOPBACK: Final = "127.0.0.1"


def sidecar_id(service_id: str) -> str:
    return service_id + SIDECAR_SUFFIX


def sidecar_spec(parent: RegistrationSpec, parent_id: str) -> RegistrationSpec | None:
    """sidecarServiceFromNodeService: the sidecar with Consul's defaults (no
    port yet), or None when the parent declares none."""
    given = parent.connect.sidecar_service
    if given is None:
        return None
    problem = meta_error(given.meta, given.kind)
    if problem:
        raise HttpError(400, f"Invalid SidecarService: {problem}")
    proxy = dict(given.proxy)
    proxy["DestinationServiceName"] = proxy.get("DestinationServiceName") or parent.name
    proxy["DestinationServiceID"] = proxy.get("DestinationServiceID") or parent_id
    local_port = int(proxy.get("LocalServicePort", 0))
    if not proxy.get("LocalServiceSocketPath") and (
        not proxy.get("LocalServiceAddress") or local_port < 1
    ):
        if parent.socket_path:
            proxy["LocalServiceSocketPath"] = parent.socket_path
        else:
            proxy["LocalServiceAddress"] = proxy.get("LocalServiceAddress") or _LOOPBACK
            proxy["LocalServicePort"] = local_port if local_port >= 1 else parent.port
    return dataclasses.replace(
        given,
        id=sidecar_id(parent_id),
        kind=given.kind or CONNECT_PROXY,
        name=given.name or parent.name + SIDECAR_SUFFIX,
        address=given.address or parent.address,
        tags=list(given.tags or parent.tags),
        meta=dict(given.meta or parent.meta),
        proxy=proxy,
    )


def sidecar_port(services: Iterable[Registration], service_id: str) -> int:
    """sidecarPortFromServiceIDLocked: the port this sidecar already holds in
    the range, else the lowest one no other service holds."""
    used: set[int] = set()
    for service in services:
        if SIDECAR_MIN_PORT <= service.port <= SIDECAR_MAX_PORT:
            if service.id == service_id:
                return service.port
            used.add(service.port)
    free = (p for p in range(SIDECAR_MIN_PORT, SIDECAR_MAX_PORT + 1) if p not in used)
    port = next(free, 0)
    if not port:
        raise HttpError(
            500,
            "no port provided for sidecar_service and none left in the configured "
            f"range [{SIDECAR_MIN_PORT}, {SIDECAR_MAX_PORT}]",
        )
    return port


def default_checks(sidecar: RegistrationSpec, parent_id: str) -> list[CheckSpec]:
    """sidecarDefaultChecks: a TCP check on the proxy, an alias of the parent."""
    address = sidecar.address or str(sidecar.proxy.get("LocalServiceAddress", ""))
    return [
        CheckSpec(
            name="Connect Sidecar Listening",
            tcp=join_host_port(address, sidecar.port),
            interval=SIDECAR_CHECK_INTERVAL_NS,
        ),
        CheckSpec(
            name=f"Connect Sidecar Aliasing {parent_id}", alias_service=parent_id
        ),
    ]
