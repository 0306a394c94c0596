# Managed by the ONEX node template: `copier update` replaces this file.
"""Consul registration wired into the ONEX lifecycle hooks."""

import os
from collections.abc import Sequence
from typing import Any

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.enums.enum_node_lifecycle_status import EnumNodeLifecycleStatus

from ..runtime.enum_balancing import EnumBalancing
from ..runtime.errors import NoHealthyInstanceError
from ..runtime.instance_cache import InstanceCache, choose_endpoint
from ..runtime.log_events import log_event
from ..runtime.model_discovery_settings import ModelDiscoverySettings
from ..runtime.model_instance_endpoint import ModelInstanceEndpoint
from ..runtime.model_instance_registration import ModelInstanceRegistration
from ..runtime.registration_keeper import RegistrationKeeper
from ..runtime.settings_loader import load_node_settings
from .mixin_contract_file import MixinContractFile

# Lifecycle states in which the node reports itself healthy to a TTL check:
# registration happens at the end of initialisation, before READY is set.
_HEALTHY_STATES = frozenset(
    {EnumNodeLifecycleStatus.INITIALIZING.value, EnumNodeLifecycleStatus.READY.value}
)


class MixinConsulRegistration(MixinContractFile):
    """Register on `initialize()`, deregister first thing on `cleanup()`.

    List it before the omnibase-core base class, so these hooks wrap the
    base's own. Discovery goes through whatever implements
    ProtocolServiceDiscovery in the node's container: the Consul handler in
    production, an in-memory fake in unit tests. Consul outcomes are counted
    in the node's `metrics` (`consul_registrations`, ...).

    Business code finds the services it calls with `resolve_endpoint` /
    `resolve_endpoints`: in-memory reads of the discovery handler's instance
    cache, kept fresh by blocking queries (see runtime/instance_cache.py).
    """

    _registration_keeper: RegistrationKeeper | None = None
    _discovery_settings: ModelDiscoverySettings = ModelDiscoverySettings()
    _instance_cache: InstanceCache | None = None
    _discovery_handler: Any = None
    _first_lookup_wait: float = 3.0

    async def resolve_endpoint(
        self,
        service: str,
        tags: Sequence[str] = (),
        strategy: EnumBalancing | None = None,
    ) -> ModelInstanceEndpoint:
        """One healthy instance of `service` carrying every tag in `tags`.

        `strategy` defaults to the contract's `discovery.balancing`. Raises
        NoHealthyInstanceError when Consul knows no passing instance.
        """
        chosen = strategy or self._discovery_settings.balancing
        cache = await self._cache_for(service)
        if cache is not None:
            return cache.pick(service, tags, chosen)
        found = await self._discovered(service, tags)
        return choose_endpoint(found, chosen, 0)

    async def resolve_endpoints(
        self, service: str, tags: Sequence[str] = ()
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """Every healthy instance of `service` carrying all `tags` (never empty)."""
        cache = await self._cache_for(service)
        if cache is not None:
            return cache.endpoints(service, tags)
        return await self._discovered(service, tags)

    async def _cache_for(self, service: str) -> InstanceCache | None:
        """The instance cache, watching `service` (None: discovery has none)."""
        cache = self._instance_cache
        if cache is None:
            if self._discovery_handler is not None:
                return None
            handler = await self.container.get_service_discovery()
            object.__setattr__(self, "_discovery_handler", handler)
            found = getattr(handler, "instances", None)
            if not isinstance(found, InstanceCache):
                return None
            cache = found
            object.__setattr__(self, "_instance_cache", cache)
        if not cache.answered(service):
            await cache.ready(service, self._first_lookup_wait)
        return cache

    async def _discovered(
        self, service: str, tags: Sequence[str]
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """Without a cache (a fake discovery in unit tests): ask every time."""
        records = await self._discovery_handler.discover_services(
            service, list(tags) or None
        )
        found = tuple(
            ModelInstanceEndpoint(
                service_id=record["id"],
                service=record["name"],
                address=record["address"],
                port=record["port"],
                tags=tuple(record.get("tags") or ()),
                metadata=dict(record.get("metadata") or {}),
            )
            for record in records
        )
        if not found:
            raise NoHealthyInstanceError(service, tuple(tags), "none discovered")
        return found

    async def _initialize_node_resources(self) -> None:
        await super()._initialize_node_resources()
        settings = load_node_settings(
            self.contract_config.model_extra or {}, os.environ, type(self).__name__
        )
        object.__setattr__(self, "_discovery_settings", settings.discovery)
        object.__setattr__(self, "_first_lookup_wait", settings.consul.request_timeout)
        if not settings.consul.enabled:
            log_event(
                EnumLogLevel.INFO,
                "consul.disabled",
                f"Consul is disabled; service {settings.service_name!r} "
                "will not be registered",
                service_name=settings.service_name,
            )
            return
        await self._watch_dependencies(settings.discovery.dependencies)
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

    async def _watch_dependencies(self, dependencies: Sequence[str]) -> None:
        """Start the watches of declared dependencies now (they do not block)."""
        if not dependencies:
            return
        handler = await self.container.get_service_discovery()
        cache = getattr(handler, "instances", None)
        if isinstance(cache, InstanceCache):
            for dependency in dependencies:
                cache.watch(dependency)

    @property
    def consul_registered(self) -> bool:
        """True while Consul holds this node's registration."""
        keeper = self._registration_keeper
        return keeper is not None and keeper.registered

    def _is_healthy(self) -> bool:
        return self.state.get("status") in _HEALTHY_STATES
