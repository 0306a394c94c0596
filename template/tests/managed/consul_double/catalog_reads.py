# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The catalog and health reads (/v1/catalog/..., /v1/health/...) over every node."""

from __future__ import annotations

from collections.abc import (
    Callable,
    Iterable,
)
from typing import Any

from aiohttp import web

from tests.managed.consul_double.agent_state import AgentState, Check, Registration
from tests.managed.consul_double.catalog_json import (
    catalog_service_json,
    check_json,
    health_entry,
    node_json,
    service_json,
)
from tests.managed.consul_double.catalog_records import NodeEntries
from tests.managed.consul_double.connect_proxy import CONNECT_PROXY
from tests.managed.consul_double.constants import PASSING
from tests.managed.consul_double.external_catalog import ExternalCatalog
from tests.managed.consul_double.filter_expression import request_filter
from tests.managed.consul_double.http_plumbing import (
    Blocking,
    HttpError,
    Route,
    parse_blocking,
    query_flag,
)

Respond = Callable[[web.Request, object, int | None], web.Response]


def _no_peer_index() -> int:
    # Consul CE has no peers until one is established: a ?peer= read finds
    # nothing, and that peer's tables were never written (index 1, the floor).
    return 1


def tagged(services: Iterable[Registration], tags: list[str]) -> list[Registration]:
    """Consul compares tags case-insensitively; several ?tag= must all match."""
    wanted = [t.lower() for t in tags]
    return [
        s for s in services if all(w in {t.lower() for t in s.tags} for w in wanted)
    ]


def _with_name(entries: NodeEntries, name: str) -> list[Registration]:
    return [s for s in entries.sorted_services() if s.name == name]


def _connect_instances(entries: NodeEntries, name: str) -> list[Registration]:
    """Consul's connect view of ``name``: its proxies and its native instances."""
    return [
        s
        for s in entries.sorted_services()
        if (s.kind == CONNECT_PROXY and s.proxy.get("DestinationServiceName") == name)
        or (s.name == name and s.connect_native)
    ]


class CatalogReads:
    """The read handlers; the server wires ``routes()`` in.

    ``own_node`` gives the agent's node with its services and checks, seen
    first; the external catalog gives the others. ``authorized`` is False for
    an anonymous token under default deny (such reads answer empty).
    """

    def __init__(
        self,
        state: AgentState,
        external: ExternalCatalog,
        own_node: Callable[[], NodeEntries],
        authorized: Callable[[web.Request], bool],
        respond: Respond,
        datacenter: str,
    ) -> None:
        self._state = state
        self._external = external
        self._own_node = own_node
        self._authorized = authorized
        self._respond = respond
        self._datacenter = datacenter

    def routes(self) -> list[Route]:
        table = [
            ("/v1/health/service/", self._health_service),
            ("/v1/health/connect/", self._health_connect),
            ("/v1/health/checks/", self._health_checks),
            ("/v1/health/state/", self._health_state),
            ("/v1/health/node/", self._health_node),
            ("/v1/catalog/services", self._catalog_services),
            ("/v1/catalog/service/", self._catalog_service),
            ("/v1/catalog/connect/", self._catalog_connect),
            ("/v1/catalog/nodes", self._catalog_nodes),
            ("/v1/catalog/node/", self._catalog_node),
            ("/v1/catalog/datacenters", self._catalog_datacenters),
        ]
        return [Route(pattern, "GET", handler) for pattern, handler in table]

    # ---- what every read shares ------------------------------------------- #

    def _nodes(self) -> list[NodeEntries]:
        """Every node, by name (Consul's catalog order)."""
        found = [self._own_node(), *self._external.nodes()]
        return sorted(found, key=lambda e: e.node.name.lower())

    def _visible(self, request: web.Request) -> list[NodeEntries]:
        """The nodes this request sees: ACLs allow it, every ?node-meta=key:value
        matches, and no ?peer= names a peer (none exists)."""
        if request.query.get("peer") or not self._authorized(request):
            return []
        wanted = [p.partition(":") for p in request.query.getall("node-meta", [])]
        return [
            e
            for e in self._nodes()
            if all((e.node.meta or {}).get(k) == v for k, _, v in wanted)
        ]

    async def _blocking_index(
        self, request: web.Request, blocking: Blocking, index_of: Callable[[], int]
    ) -> int:
        """Hold while ``index_of()`` <= ?index (bounded by ?wait), return it."""
        if request.query.get("peer"):
            index_of = _no_peer_index
        if blocking.min_index > 0:
            await self._state.wait(
                lambda: index_of() > blocking.min_index, blocking.wait_s
            )
        return max(index_of(), 1)

    def _service_index(self, name: str) -> int:
        # A missing service answers with the table index, which the removal of
        # its last instance bumped: watchers see the removal.
        if any(_with_name(e, name) for e in self._nodes()):
            return self._state.name_index.get(name, self._state.index)
        return self._state.services_index

    def _find_node(self, name: str) -> NodeEntries | None:
        return next(
            (e for e in self._nodes() if e.node.name.lower() == name.lower()), None
        )

    # ---- /v1/health -------------------------------------------------------- #

    async def _health_service(self, request: web.Request, name: str) -> web.Response:
        return await self._instances_read(
            request, name, _with_name, lambda: self._service_index(name)
        )

    async def _health_connect(self, request: web.Request, name: str) -> web.Response:
        # Simplified index: any write to the services or checks tables (Consul
        # keeps a "connect-service.<name>" one; catalog/connect: services only).
        return await self._instances_read(
            request,
            name,
            _connect_instances,
            lambda: max(self._state.services_index, self._state.checks_index),
        )

    async def _instances_read(
        self,
        request: web.Request,
        name: str,
        select: Callable[[NodeEntries, str], list[Registration]],
        index_of: Callable[[], int],
        *,
        health: bool = True,
    ) -> web.Response:
        """health/service|connect (``health``: with node and checks, and
        ``?passing``) and catalog/service|connect (flat entries): ``select``'s
        instances of ``name``, with ``?tag`` and ``?filter``."""
        blocking = parse_blocking(request)  # Consul parses ?wait/?index first
        _require(name, "Missing service name")
        passing = health and query_flag(request, "passing")
        keep = request_filter(request)
        index = await self._blocking_index(request, blocking, index_of)
        tags = request.query.getall("tag", [])
        found = []
        for entries in self._visible(request):
            for svc in tagged(select(entries, name), tags):
                if not health:
                    found.append(catalog_service_json(entries.node, svc))
                    continue
                entry = health_entry(entries, svc)
                if passing and any(c["Status"] != PASSING for c in entry["Checks"]):
                    continue
                found.append(entry)
        return self._respond(request, [e for e in found if keep(e)], index)

    async def _checks_read(
        self,
        request: web.Request,
        value: str,
        missing: str,
        select: Callable[[], Iterable[tuple[NodeEntries, Check]]],
    ) -> web.Response:
        """health/checks, state and node: the checks ``select`` picks (once the
        path's ``value`` is known), blocking on Consul's checks table index."""
        blocking = parse_blocking(request)
        _require(value, missing)
        keep = request_filter(request)
        index = await self._blocking_index(
            request, blocking, lambda: self._state.checks_index
        )
        found = [_json_of(entries, check) for entries, check in select()]
        return self._respond(request, [c for c in found if keep(c)], index)

    async def _health_checks(self, request: web.Request, name: str) -> web.Response:
        def select() -> Iterable[tuple[NodeEntries, Check]]:
            for entries in self._visible(request):
                for svc in _with_name(entries, name):
                    yield from ((entries, c) for c in entries.checks_of(svc.id))

        return await self._checks_read(request, name, "Missing service name", select)

    async def _health_state(self, request: web.Request, state: str) -> web.Response:
        def select() -> Iterable[tuple[NodeEntries, Check]]:
            # Consul does not validate the state: an unknown one matches nothing.
            for entries in self._visible(request):
                for check in entries.sorted_checks():
                    if state == "any" or check.status == state:
                        yield entries, check

        return await self._checks_read(request, state, "Missing check state", select)

    async def _health_node(self, request: web.Request, node: str) -> web.Response:
        def select() -> Iterable[tuple[NodeEntries, Check]]:
            for entries in self._visible_node(request, node):
                yield from ((entries, c) for c in entries.sorted_checks())

        return await self._checks_read(request, node, "Missing node name", select)

    def _visible_node(self, request: web.Request, node: str) -> list[NodeEntries]:
        # health/node and catalog/node take no ?node-meta
        if request.query.get("peer") or not self._authorized(request):
            return []
        entries = self._find_node(node)
        return [] if entries is None else [entries]

    # ---- /v1/catalog ------------------------------------------------------- #

    async def _catalog_service(self, request: web.Request, name: str) -> web.Response:
        return await self._instances_read(
            request, name, _with_name, lambda: self._service_index(name), health=False
        )

    async def _catalog_connect(self, request: web.Request, name: str) -> web.Response:
        return await self._instances_read(
            request,
            name,
            _connect_instances,
            lambda: self._state.services_index,
            health=False,
        )

    async def _catalog_services(self, request: web.Request, _: str) -> web.Response:
        blocking = parse_blocking(request)
        keep = request_filter(request)
        index = await self._blocking_index(
            request, blocking, lambda: self._state.services_index
        )
        result: dict[str, list[str]] = {}
        for entries in self._visible(request):
            for svc in entries.sorted_services():
                # ?filter= applies to each instance (the flat catalog entry)
                if not keep(catalog_service_json(entries.node, svc)):
                    continue
                tags = result.setdefault(svc.name, [])
                tags.extend(t for t in svc.tags if t not in tags)
        return self._respond(request, dict(sorted(result.items())), index)

    async def _catalog_nodes(self, request: web.Request, _: str) -> web.Response:
        blocking = parse_blocking(request)
        keep = request_filter(request)
        index = await self._blocking_index(
            request, blocking, lambda: self._state.nodes_index
        )
        found = [node_json(e.node) for e in self._visible(request)]
        return self._respond(request, [n for n in found if keep(n)], index)

    async def _catalog_node(self, request: web.Request, node: str) -> web.Response:
        blocking = parse_blocking(request)
        _require(node, "Missing node name")
        keep = request_filter(request)
        index = await self._blocking_index(
            request,
            blocking,
            lambda: max(self._state.nodes_index, self._state.services_index),
        )
        found = self._visible_node(request, node)
        if not found:
            return self._respond(request, None, index)  # Consul's nil NodeServices
        entries = found[0]
        services = {
            svc.id: body
            for svc in entries.sorted_services()
            if keep(body := service_json(svc))
        }
        payload = {"Node": node_json(entries.node), "Services": services}
        return self._respond(request, payload, index)

    async def _catalog_datacenters(self, request: web.Request, _: str) -> web.Response:
        # Not a blocking read: Consul ignores ?index and ?wait here.
        return self._respond(request, [self._datacenter], None)


def _json_of(entries: NodeEntries, check: Check) -> dict[str, Any]:
    return check_json(entries.node.name, check, entries.services.get(check.service_id))


def _require(value: str, message: str) -> None:
    if not value:
        raise HttpError(400, message)
