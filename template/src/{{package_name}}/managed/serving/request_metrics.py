# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Every request counted and timed, by route, method and status (bounded labels)."""

import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import Counter

from ..metrics.node_metrics import NodeMetrics
from ..settings.model_node_settings import OPENAPI_PATH, ModelNodeSettings

# The one route label of every path the node does not serve: a raw path as a
# label value would give Prometheus one series per path a scanner tries.
UNMATCHED = "unmatched"
# Any other method token a client sends is counted as "other", for the same reason.
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}
)
# prometheus-client's defaults start at 5 ms, above a typical invoke: finer
# buckets below it, and up to 30 s for handlers with a long descriptor timeout.
_DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip


def route_labels(settings: ModelNodeSettings) -> dict[str, str]:
    """Fixed labels by configured path: dashboards work whatever the paths are."""
    return {
        settings.health_path: "health",
        settings.invoke_path: "invoke",
        OPENAPI_PATH: "openapi",
        settings.metrics_path: "metrics",
    }


def request_metrics(settings: ModelNodeSettings, metrics: NodeMetrics) -> Middleware:
    """`onex_http_requests_total` and `onex_http_request_duration_seconds`."""
    labels = route_labels(settings)
    requests = metrics.counter(
        "onex_http_requests",
        documentation="HTTP requests answered, by route, method and status code",
        labels=("route", "method", "status"),
    )
    durations = metrics.histogram(
        "onex_http_request_duration_seconds",
        documentation="Time from request to response, by route",
        labels=("route",),
        buckets=_DURATION_BUCKETS,
    )

    # Children are looked up once: labels() takes a lock and builds its key
    # on every call, microseconds a fast invoke should not pay each time.
    timers = {route: durations.labels(route) for route in {*labels.values(), UNMATCHED}}
    counters: dict[tuple[str, str, int], Counter] = {}

    def observe(request: web.Request, status: int, started: float) -> None:
        resource = request.match_info.route.resource
        route = (
            UNMATCHED if resource is None else labels.get(resource.canonical, UNMATCHED)
        )
        method = request.method if request.method in _METHODS else "other"
        counter = counters.get((route, method, status))
        if counter is None:
            counter = requests.labels(route, method, str(status))
            counters[route, method, status] = counter
        counter.inc()
        timers[route].observe(time.perf_counter() - started)

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as error:  # aiohttp's 404 and 405 arrive so
            observe(request, error.status, started)
            raise
        except Exception:  # aiohttp answers 500
            observe(request, 500, started)
            raise
        observe(request, response.status, started)
        return response

    return count
