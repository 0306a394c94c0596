# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Responses with the headers a Consul agent sends, and no ``Server`` header.

Consul's HTTP server is Go's net/http: it sends no ``Server`` header. Every
endpoint Consul wraps (``HTTPHandlers.wrap``: all of ``/v1/``) also carries
``Vary: Accept-Encoding`` (its gzip handler) and ``X-Consul-Default-ACL-Policy``;
the index page does not. Only reads served by an RPC to the servers (catalog
and health) call ``setMeta``: ``X-Consul-Index``, ``X-Consul-KnownLeader``,
``X-Consul-LastContact``, ``X-Consul-Effective-Consistency`` and
``X-Consul-Query-Backend``. Agent-local reads (``/v1/agent/...``) and
``/v1/status/...`` carry none of them.

How a route opts in: every route is wrapped unless built with
``Route(..., wrapped=False)``; a handler answering a catalog or health read
calls ``set_query_meta(response, request, index)``.
"""

from __future__ import annotations

import json

from aiohttp import hdrs, web

JSON: str = "application/json"
# What Go's http.DetectContentType answers for the plain-text bodies Consul
# writes without setting a Content-Type (errors, the index page).
PLAIN_TEXT: str = "text/plain; charset=utf-8"


class ConsulResponse(web.Response):
    """A ``web.Response`` without the ``Server`` header aiohttp adds."""

    async def _prepare_headers(self) -> None:
        # aiohttp's only way in: it sets Server by default while preparing.
        await super()._prepare_headers()
        self.headers.popall(hdrs.SERVER, None)


def json_response(request: web.Request, payload: object) -> ConsulResponse:
    """Go's json.Marshal, or MarshalIndent with a final newline for ?pretty."""
    pretty = "pretty" in request.query
    text = json.dumps(
        payload,
        ensure_ascii=False,
        indent=4 if pretty else None,
        separators=None if pretty else (",", ":"),
    ) + ("\n" if pretty else "")
    response = ConsulResponse(text=text)
    response.headers[hdrs.CONTENT_TYPE] = JSON
    return response


def redirect(request: web.Request, location: str) -> ConsulResponse:
    """Go's http.Redirect with 301: a short HTML body for GET and HEAD only."""
    response = ConsulResponse(status=301)
    response.headers[hdrs.LOCATION] = location
    if request.method in ("GET", "HEAD"):
        response.text = f'<a href="{location}">Moved Permanently</a>.\n\n'
        response.headers[hdrs.CONTENT_TYPE] = "text/html; charset=utf-8"
    return response


def set_wrapped_headers(response: web.StreamResponse, acl_default_policy: str) -> None:
    """What ``HTTPHandlers.wrap`` and its gzip handler add to every answer."""
    response.headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
    response.headers["X-Consul-Default-ACL-Policy"] = acl_default_policy


def effective_consistency(request: web.Request) -> str:
    if "consistent" in request.query:
        return "consistent"
    return "stale" if "stale" in request.query else "leader"


def set_query_meta(
    response: web.StreamResponse,
    request: web.Request,
    index: int,
    index_override: str | None = None,
) -> None:
    """Consul's setMeta for a read answered by the (single) server's RPC.

    The index is never 0 (Consul's setIndex sends 1 instead);
    ``index_override`` is the double's fault hook (a buggy index) when set.
    """
    shown = str(max(index, 1)) if index_override is None else index_override
    response.headers["X-Consul-Index"] = shown
    response.headers["X-Consul-KnownLeader"] = "true"
    response.headers["X-Consul-LastContact"] = "0"
    response.headers["X-Consul-Effective-Consistency"] = effective_consistency(request)
    response.headers["X-Consul-Query-Backend"] = "blocking-query"
