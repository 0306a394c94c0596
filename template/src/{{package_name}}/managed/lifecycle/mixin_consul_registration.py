# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul registration wired into the ONEX lifecycle hooks."""

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.enums.enum_node_lifecycle_status import EnumNodeLifecycleStatus

from ..logs.log_events import log_event
from ..registration.model_instance_registration import ModelInstanceRegistration
from ..registration.registration_keeper import RegistrationKeeper
from .mixin_endpoint_resolution import MixinEndpointResolution

# Lifecycle states in which the node reports itself healthy to a TTL check:
# registration happens at the end of initialisation, before READY is set.
_HEALTHY_STATES = frozenset(
    {EnumNodeLifecycleStatus.INITIALIZING.value, EnumNodeLifecycleStatus.READY.value}
)


class MixinConsulRegistration(MixinEndpointResolution):
    """Register on `initialize()`, deregister first thing on `cleanup()`.

    List it before the omnibase-core base class, so these hooks wrap the
    base's own. Discovery goes through whatever implements
    ProtocolServiceDiscovery in the node's container: the Consul handler in
    production, an in-memory fake in unit tests. Consul outcomes are counted
    in the node's `metrics` (`consul_registrations`, ...).

    Business code finds the services it calls through the methods of
    MixinEndpointResolution, which this mixin builds on.
    """

    _registration_keeper: RegistrationKeeper | None = None

    async def _initialize_node_resources(self) -> None:
        await super()._initialize_node_resources()
        settings = self._node_settings
        if settings is None:
            raise RuntimeError("node settings are resolved by MixinEndpointResolution")
        if not settings.consul.enabled:
            log_event(
                EnumLogLevel.INFO,
                "consul.disabled",
                f"Consul is disabled; service {settings.service_name!r} "
                "will not be registered",
                service_name=settings.service_name,
            )
            return
        keeper = RegistrationKeeper(
            await self.container.get_service_discovery(),
            ModelInstanceRegistration.for_node(settings, str(self.node_id)),
            settings.consul,
            settings.check,
            self.metrics,
            self._is_healthy,
        )
        # NodeCoreBase keeps its state outside pydantic's attribute handling.
        object.__setattr__(self, "_registration_keeper", keeper)
        await keeper.start()

    async def _cleanup_node_resources(self) -> None:
        # Deregister before anything else stops, so callers are steered away
        # while this node can still answer them.
        if self._registration_keeper is not None:
            await self._registration_keeper.stop()
        await super()._cleanup_node_resources()

    @property
    def consul_registered(self) -> bool:
        """True while Consul holds this node's registration."""
        keeper = self._registration_keeper
        return keeper is not None and keeper.registered

    def _is_healthy(self) -> bool:
        return self.state.get("status") in _HEALTHY_STATES
