# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""GET /metrics: the node's registry in Prometheus' text format."""

import copy
from collections.abc import Iterator

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric

# Families whose `_created` sample prometheus-client adds by default.
_WITH_CREATED = frozenset({"counter", "histogram", "summary"})


class WithoutCreatedSamples:
    """The registry without `<name>_created` samples.

    Each is one more series per counter and histogram child that Prometheus
    stores as a gauge holding a start time; the node drops them here, at its
    own exposition, because prometheus-client's switch
    (`disable_created_metrics`) is process-wide and would change every other
    registry in the owner's process too.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            if family.type in _WITH_CREATED:
                created = family.name + "_created"
                family = copy.copy(family)
                family.samples = [s for s in family.samples if s.name != created]
            yield family


def metrics_route(registry: CollectorRegistry) -> Handler:
    """Exposition by prometheus-client, never by hand."""
    exposed = WithoutCreatedSamples(registry)

    async def expose(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(exposed),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    return expose
