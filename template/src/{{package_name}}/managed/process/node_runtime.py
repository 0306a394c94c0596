# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One node in a process: container, discovery handler, HTTP surface, order."""

from aiohttp import web
from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.models.container.model_onex_container import (
    create_model_onex_container,
)
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..consul.handlers.handler_consul_discovery import HandlerConsulDiscovery
from ..lifecycle.mixin_managed_node import MixinManagedNode
from ..logs.log_events import log_event
from ..serving.enum_node_phase import EnumNodePhase
from ..serving.health_route import NodeHealth
from ..serving.in_flight_limit import InFlightLimit
from ..serving.node_app import IN_FLIGHT, build_node_app
from ..serving.protocol_invocable_node import ProtocolInvocableNode
from ..settings.model_node_settings import ModelNodeSettings

# The invokes were drained already: what still runs then (a health check, a
# scrape) gets this long before aiohttp cancels it.
_AFTER_DRAIN_S = 0.5


class NodeRuntime:
    """Starts and stops a node and what it needs, in the order Consul wants.

    Start: listen first (so Consul's first check can reach the node), then
    initialize (which registers). Stop: cleanup (which deregisters) while the
    node still answers, then report 503 (health and new invokes), let the
    invokes in flight finish within `drain_timeout`, then stop listening.
    """

    def __init__(
        self, node_class: type[MixinManagedNode], settings: ModelNodeSettings
    ) -> None:
        self.settings = settings
        self.health = NodeHealth()
        self.discovery = HandlerConsulDiscovery(
            settings.consul, settings.check, settings.discovery
        )
        self._node_class = node_class
        self._node: MixinManagedNode | None = None
        self._runner: web.AppRunner | None = None
        self._in_flight: InFlightLimit | None = None

    @property
    def node(self) -> MixinManagedNode:
        if self._node is None:
            raise RuntimeError("open() the runtime before using its node")
        return self._node

    async def open(self) -> None:
        """Build the container and the node, and serve the node's HTTP
        surface (health and invoke answer 503 until ready).

        Raises OSError when the port cannot be bound.
        """
        container = await create_model_onex_container()
        # Registering under the protocol is how the container is meant to be
        # used; mypy's type-abstract check does not know protocols are valid keys.
        await container.service_registry.register_instance(
            ProtocolServiceDiscovery,  # type: ignore[type-abstract]
            self.discovery,
        )
        # The node reads these in initialize() instead of loading them again.
        await container.service_registry.register_instance(
            ModelNodeSettings, self.settings
        )
        node = self._node_class(container)
        if not isinstance(node, ProtocolInvocableNode):
            raise TypeError(
                f"{type(node).__name__} has no invoke(): its shell is not the "
                "template's (input_model, output_model and invoke are missing)"
            )
        app = build_node_app(
            self.settings, node, self.health, node.node_context.metrics
        )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_AFTER_DRAIN_S)
        await runner.setup()
        try:
            await web.TCPSite(
                runner, self.settings.bind_host, self.settings.port
            ).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._in_flight = app[IN_FLIGHT]
        self._node = node

    async def initialize_node(self) -> None:
        await self.node.initialize()
        self.health.phase = EnumNodePhase.READY

    async def close(self) -> None:
        """Deregister, report 503, drain, stop serving, close Consul connections."""
        if self._node is not None:
            await self._node.cleanup()
        self.health.phase = EnumNodePhase.STOPPING
        if self._in_flight is not None:
            await self._drain(self._in_flight)
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if self._node is not None:
            # Only now: a request draining above may still be calling others.
            await self._node.close_service_calls()
        await self.discovery.aclose()

    async def _drain(self, in_flight: InFlightLimit) -> None:
        running = in_flight.running
        if running:
            log_event(
                EnumLogLevel.INFO,
                "node.draining",
                f"waiting up to {self.settings.drain_timeout}s for "
                f"{running} request(s) in flight",
                in_flight=running,
            )
        still_running = await in_flight.drain(self.settings.drain_timeout)
        if still_running:
            log_event(
                EnumLogLevel.WARNING,
                "node.drain_timed_out",
                f"{still_running} request(s) still running after the drain "
                f"timeout ({self.settings.drain_timeout}s): they are cancelled",
                in_flight=still_running,
            )
