# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""GET /metrics: the node's registry in Prometheus' text format."""

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def metrics_route(registry: CollectorRegistry) -> Handler:
    """Exposition by prometheus-client, never by hand."""

    async def expose(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    return expose
