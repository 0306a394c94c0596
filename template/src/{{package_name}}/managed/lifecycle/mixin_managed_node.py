# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The template's ONEX lifecycle hooks: contract, context, Consul registration."""

from dataclasses import dataclass, field

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.enums.enum_node_lifecycle_status import EnumNodeLifecycleStatus
from omnibase_core.infrastructure.node_core_base import NodeCoreBase
from omnibase_core.models.container.model_onex_container import ModelONEXContainer

from ..calling.handlers.handler_service_calls import HandlerServiceCalls
from ..context.model_node_context import ModelNodeContext
from ..context.node_logger import NodeLogger
from ..discovery.endpoint_resolver import EndpointResolver
from ..logs.log_events import log_event
from ..metrics.registration_metrics import RegistrationMetrics
from ..registration.model_instance_registration import ModelInstanceRegistration
from ..registration.registration_keeper import RegistrationKeeper
from ..settings.enum_registration_mode import EnumRegistrationMode
from ..settings.model_node_settings import ModelNodeSettings
from ..settings.node_contract import node_contract

# Lifecycle states in which the node reports itself healthy to a TTL check:
# registration happens at the end of initialisation, before READY is set.
_HEALTHY_STATES = frozenset(
    {EnumNodeLifecycleStatus.INITIALIZING.value, EnumNodeLifecycleStatus.READY.value}
)


@dataclass
class ManagedNodeState:
    """Everything the mixin keeps, in the one attribute it adds to a node."""

    context: ModelNodeContext
    keeper: RegistrationKeeper | None = field(default=None)
    calls: HandlerServiceCalls | None = field(default=None)


class MixinManagedNode(NodeCoreBase):
    """The one template mixin a node shell lists, before its omnibase-core base.

    - `_load_contract`: the contract from the one reader (settings/node_contract.py),
      without core's 1.3 s validation import (`onex validate` checks it at build);
    - `initialize()`: takes the settings the runtime registered in the
      container (it never rebuilds them), connects `node_context` to them and
      to the container's ProtocolServiceDiscovery, watches the contract's
      dependencies and registers with Consul;
    - `cleanup()`: deregisters first, while the node can still answer.

    Its state is one attribute, `_onex_template_state`, a name no
    omnibase-core base uses (tests/managed/test_node_context.py checks).
    """

    def __init__(self, container: ModelONEXContainer) -> None:
        super().__init__(container)
        log = NodeLogger({"node": type(self).__name__})
        self._onex_template_state = ManagedNodeState(ModelNodeContext(log=log))

    @property
    def node_context(self) -> ModelNodeContext:
        """The context the shell builds the handler with."""
        return self._onex_template_state.context

    @property
    def service_calls(self) -> HandlerServiceCalls:
        """The client of `node_context.call`, for template code (initialized nodes)."""
        calls = self._onex_template_state.calls
        if calls is None:
            raise RuntimeError("calls are available once the node is initialized")
        return calls

    async def close_service_calls(self) -> None:
        """Close the calls' connections: after the last request has drained."""
        calls, self._onex_template_state.calls = self._onex_template_state.calls, None
        if calls is not None:
            await calls.aclose()

    @property
    def consul_registered(self) -> bool:
        """True while Consul holds this node's registration."""
        keeper = self._onex_template_state.keeper
        return keeper is not None and keeper.registered

    async def _load_contract(self) -> None:
        self.contract_data = node_contract(type(self))

    async def _initialize_node_resources(self) -> None:
        await super()._initialize_node_resources()
        settings = await self.container.service_registry.try_resolve_service(
            ModelNodeSettings
        )
        if settings is None:
            raise RuntimeError(
                "no ModelNodeSettings in the node's container: the runtime "
                "registers them (unit tests: tests/managed/helpers.make_node)"
            )
        discovery = await self.container.get_service_discovery()
        metrics = self.node_context.metrics
        resolver = EndpointResolver(discovery, settings, metrics)
        calls = HandlerServiceCalls(resolver, settings.calls, metrics)
        self._onex_template_state.calls = calls
        self.node_context.attach(settings=settings, resolver=resolver, calls=calls)
        # Built even when Consul is disabled: the exposition then says 0
        # (not registered) instead of leaving the series out.
        registration_metrics = RegistrationMetrics(self.node_context.metrics)
        if not settings.consul.enabled:
            log_event(
                EnumLogLevel.INFO,
                "consul.disabled",
                f"Consul is disabled; service {settings.service_name!r} "
                "will not be registered",
                service_name=settings.service_name,
            )
            return
        resolver.watch(settings.discovery.dependencies)
        if settings.consul.registration is EnumRegistrationMode.EXTERNAL:
            log_event(
                EnumLogLevel.INFO,
                "consul.registered_externally",
                f"service {settings.service_name!r} is registered by the platform "
                "(consul.registration external): the node neither registers nor "
                "deregisters it",
                service_name=settings.service_name,
            )
            return
        keeper = RegistrationKeeper(
            discovery,
            ModelInstanceRegistration.for_node(settings, str(self.node_id)),
            settings.consul,
            settings.check,
            registration_metrics,
            self._is_healthy,
            watch_wait=settings.discovery.watch_wait,
        )
        self._onex_template_state.keeper = keeper
        await keeper.start()

    async def _cleanup_node_resources(self) -> None:
        # Deregister before anything else stops, so callers are steered away
        # while this node can still answer them.
        keeper = self._onex_template_state.keeper
        if keeper is not None:
            await keeper.stop()
        await super()._cleanup_node_resources()

    def _is_healthy(self) -> bool:
        return self.state.get("status") in _HEALTHY_STATES
