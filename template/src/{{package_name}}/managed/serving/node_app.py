# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The aiohttp application a node serves on the port it registers."""

import json

from aiohttp import web

from ..metrics.node_metrics import NodeMetrics
from ..settings.model_node_settings import OPENAPI_PATH, ModelNodeSettings
from .correlation_middleware import correlation_middleware
from .health_route import NodeHealth, health_route
from .in_flight_limit import IN_FLIGHT_GAUGE, InFlightLimit
from .invoke_route import invoke_route
from .json_errors_middleware import json_errors_middleware
from .metrics_route import metrics_route
from .openapi_document import openapi_document
from .protocol_invocable_node import ProtocolInvocableNode
from .request_metrics import request_metrics

# The invoke requests running: the runtime drains them on a stop signal.
IN_FLIGHT = web.AppKey("in_flight", InFlightLimit)


def build_node_app(
    settings: ModelNodeSettings,
    node: ProtocolInvocableNode,
    health: NodeHealth,
    metrics: NodeMetrics,
) -> web.Application:
    """Health, invoke, the OpenAPI document and metrics, at their settings' paths."""
    # Encoded once: the document depends on the models and settings only.
    document = json.dumps(openapi_document(settings, node)).encode()

    async def serve_openapi(_: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/json")

    in_flight = InFlightLimit(
        settings.max_in_flight,
        metrics.gauge(IN_FLIGHT_GAUGE, documentation="Invoke requests running"),
    )
    app = web.Application(
        client_max_size=settings.max_request_bytes,
        # Request metrics outermost, so they count the status the client gets.
        middlewares=[
            request_metrics(settings, metrics),
            correlation_middleware,
            json_errors_middleware,
        ],
    )
    app[IN_FLIGHT] = in_flight
    app.router.add_get(settings.health_path, health_route(health))
    app.router.add_post(
        settings.invoke_path, invoke_route(settings, node, health, in_flight)
    )
    app.router.add_get(OPENAPI_PATH, serve_openapi)
    app.router.add_get(settings.metrics_path, metrics_route(metrics.registry))
    return app
