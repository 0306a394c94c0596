# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The HTTP health endpoint Consul's check polls."""

from aiohttp import web
from aiohttp.typedefs import Handler

from .enum_node_phase import EnumNodePhase


class NodeHealth:
    """The phase the runtime last reported; read on every request."""

    def __init__(self) -> None:
        self.phase = EnumNodePhase.STARTING


def health_route(health: NodeHealth) -> Handler:
    """200 while the node is ready, 503 while it starts or stops.

    The body says the status and nothing else: no configuration, no addresses.
    """

    async def report_health(_: web.Request) -> web.Response:
        status = 200 if health.phase is EnumNodePhase.READY else 503
        return web.json_response({"status": health.phase.value}, status=status)

    return report_health
