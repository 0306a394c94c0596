# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""PUT /v1/catalog/register and /v1/catalog/deregister."""

from __future__ import annotations

from collections.abc import (
    Callable,
)

from aiohttp import web

from tests.managed.consul_double.catalog_reads import Respond
from tests.managed.consul_double.catalog_requests import (
    decode_deregister,
    decode_register,
)
from tests.managed.consul_double.external_catalog import (
    CatalogWriteError,
    ExternalCatalog,
    PermissionDenied,
)
from tests.managed.consul_double.http_plumbing import HttpError, Route
from tests.managed.consul_double.request_decoding import DecodeError, load_json

Require = Callable[[web.Request, str, str], None]  # raises the 403


class CatalogWrites:
    """The write handlers; the server wires ``routes()`` in.

    The agent's own node is refused: there the agent's state is the catalog
    (a real agent's anti-entropy would undo such a write within minutes).
    """

    def __init__(
        self,
        external: ExternalCatalog,
        own_node: str,
        datacenter: str,
        authorized: Callable[[web.Request], bool],
        require: Require,
        respond: Respond,
    ) -> None:
        self._external = external
        self._own_node = own_node
        self._datacenter = datacenter
        self._authorized = authorized
        self._require = require
        self._respond = respond

    def routes(self) -> list[Route]:
        return [
            Route("/v1/catalog/register", "PUT", self._register),
            Route("/v1/catalog/deregister", "PUT", self._deregister),
        ]

    async def _register(self, request: web.Request, _: str) -> web.Response:
        req = await _decoded(request, decode_register)
        if req.service is not None and req.service.connect.sidecar_service:
            # Consul stores it as given and shows it in full (a ServiceDefinition
            # with every Check field) on every read: not modelled, so refused.
            raise HttpError(
                400,
                "The Consul agent double does not model Service.Connect."
                "SidecarService in catalog registrations: register the sidecar "
                "as its own service",
            )
        if req.peer_names():
            raise HttpError(500, "cannot register requests with PeerName in them")
        self._check_target(req.datacenter, req.node)
        req.datacenter = req.datacenter or self._datacenter
        return self._write(request, lambda ok: self._external.register(req, ok))

    async def _deregister(self, request: web.Request, _: str) -> web.Response:
        req = await _decoded(request, decode_deregister)
        self._check_target(req.datacenter, req.node)
        if req.peer_name:
            self._authorized(request)  # an unknown token still fails
            return self._respond(request, True, None)  # no such peer: nothing to delete
        return self._write(request, lambda ok: self._external.deregister(req, ok))

    def _write(
        self, request: web.Request, write: Callable[[bool], None]
    ) -> web.Response:
        """Run ``write`` (given whether the token may write) as Consul answers it."""
        try:
            write(self._authorized(request))
        except PermissionDenied as exc:
            self._require(request, exc.permission, exc.name)
        except CatalogWriteError as exc:
            raise HttpError(500, str(exc)) from None
        return self._respond(request, True, None)

    def _check_target(self, datacenter: str, node: str) -> None:
        if datacenter and datacenter != self._datacenter:
            raise HttpError(500, "No path to datacenter")
        if node.lower() == self._own_node.lower():
            raise HttpError(
                400,
                f"The Consul agent double does not take catalog writes for its own "
                f"node {node!r}: use /v1/agent/service/register and deregister",
            )


async def _decoded[T](request: web.Request, decode: Callable[[object], T]) -> T:
    try:
        return decode(load_json(await request.read()))
    except DecodeError as exc:
        raise HttpError(400, f"Request decode failed: {exc}") from None
