# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How business code finds the services it calls."""

import os
from collections.abc import Sequence
from typing import Any

from ..discovery.balancing import choose_endpoint
from ..discovery.instance_cache import InstanceCache
from ..discovery.model_instance_endpoint import ModelInstanceEndpoint
from ..errors import NoHealthyInstanceError
from ..settings.enum_balancing import EnumBalancing
from ..settings.model_consul_settings import ModelConsulSettings
from ..settings.model_discovery_settings import ModelDiscoverySettings
from ..settings.model_node_settings import ModelNodeSettings
from ..settings.settings_loader import load_node_settings
from .mixin_contract_file import MixinContractFile


class MixinEndpointResolution(MixinContractFile):
    """`resolve_endpoint` / `resolve_endpoints` for the node's business code.

    Both are in-memory reads of the discovery handler's instance cache, kept
    fresh by blocking queries (see runtime/instance_cache.py); services the
    contract declares in `discovery.dependencies` are watched from start-up.
    It also resolves the node's settings once, for the mixins built on it.
    """

    _node_settings: ModelNodeSettings | None = None
    _instance_cache: InstanceCache | None = None
    _discovery_handler: Any = None

    @property
    def _discovery_settings(self) -> ModelDiscoverySettings:
        """The node's discovery settings (defaults before initialize())."""
        settings = self._node_settings
        return settings.discovery if settings else ModelDiscoverySettings()

    @property
    def _consul_settings(self) -> ModelConsulSettings:
        settings = self._node_settings
        return settings.consul if settings else ModelConsulSettings()

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
        cache = await self._find_instance_cache()
        if cache is not None and not cache.answered(service):
            await cache.ready(service, self._consul_settings.request_timeout)
        return cache

    async def _find_instance_cache(self) -> InstanceCache | None:
        """The discovery handler's instance cache, looked up once."""
        if self._discovery_handler is None:
            handler = await self.container.get_service_discovery()
            object.__setattr__(self, "_discovery_handler", handler)
            found = getattr(handler, "instances", None)
            if isinstance(found, InstanceCache):
                object.__setattr__(self, "_instance_cache", found)
        return self._instance_cache

    async def _discovered(
        self, service: str, tags: Sequence[str]
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """Without a cache (a fake discovery in unit tests): ask every time."""
        records = await self._discovery_handler.discover_services(
            service, list(tags) or None
        )
        found = tuple(map(ModelInstanceEndpoint.from_record, records))
        if not found:
            raise NoHealthyInstanceError(service, tuple(tags), "none discovered")
        return found

    async def _initialize_node_resources(self) -> None:
        await super()._initialize_node_resources()
        # The runtime registers the settings it started with; a node built
        # without it (unit tests, other hosts) loads them from its contract.
        settings = await self.container.service_registry.try_resolve_service(
            ModelNodeSettings
        ) or load_node_settings(
            self.contract_config.model_extra or {}, os.environ, type(self).__name__
        )
        # NodeCoreBase keeps its state outside pydantic's attribute handling.
        object.__setattr__(self, "_node_settings", settings)
        if settings.consul.enabled:
            await self._watch_dependencies(settings.discovery.dependencies)

    async def _watch_dependencies(self, dependencies: Sequence[str]) -> None:
        """Start the watches of declared dependencies now (they do not block)."""
        if dependencies and (cache := await self._find_instance_cache()) is not None:
            for dependency in dependencies:
                cache.watch(dependency)
