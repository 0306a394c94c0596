# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's ``HTTPHandlers.Index``: ``GET /``, and the 404 of every unknown path.

Go's ServeMux sends every path no endpoint pattern matches to the ``/``
pattern, Index, whatever the method: ``/`` itself answers 200 with a line
saying the UI is disabled, or a 301 to ``/ui/`` when it is enabled (``consul
agent -dev`` enables it), so an HTTP check pointed at an agent's own address
passes either way (Consul's check client follows redirects); any other path is
a 404 whose text (with Go's Fprintln newline) depends on whether it contains
``/v1/``.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from tests.managed.consul_double.constants import INVALID_PATH
from tests.managed.consul_double.http_plumbing import (
    ANY_METHOD,
    Route,
    text_response,
)
from tests.managed.consul_double.response_headers import ConsulResponse, redirect

UI_DISABLED: Final = (
    "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the "
    "agent configuration and restart."
)
NOT_AN_API_PATH: Final = (
    "Invalid URL path: if attempting to use the HTTP API, ensure the path starts "
    "with '/v1/'"
)
UI_CONTENT_PATH: Final = "/ui/"
# A stand-in for the UI's single-page application (its index.html).
_UI_PAGE: Final = (
    "<!DOCTYPE html><html><head><title>Consul by HashiCorp</title></head>"
    "<body></body></html>"
)


def index_routes(ui_enabled: bool) -> list[Route]:
    """The ``/`` route, plus the UI's when it is enabled."""

    async def index(request: web.Request, _: str) -> web.StreamResponse:
        if request.path != "/":
            text = INVALID_PATH if "/v1/" in request.path else NOT_AN_API_PATH
            return text_response(404, text + "\n")
        if not ui_enabled:
            return text_response(200, UI_DISABLED)
        return redirect(request, UI_CONTENT_PATH)

    async def ui(request: web.Request, _: str) -> web.StreamResponse:
        return ConsulResponse(text=_UI_PAGE, content_type="text/html")

    routes = [Route("/", ANY_METHOD, index, wrapped=False)]
    if ui_enabled:
        routes.append(Route(UI_CONTENT_PATH, ANY_METHOD, ui, wrapped=False))
    return routes
