# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Healthy endpoints of a service, from any ProtocolServiceDiscovery."""

from collections.abc import Iterable, Sequence

from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..errors import NoHealthyInstanceError
from ..settings.enum_balancing import EnumBalancing
from ..settings.model_node_settings import ModelNodeSettings
from .balancing import choose_endpoint
from .instance_cache import InstanceCache
from .model_instance_endpoint import ModelInstanceEndpoint


class EndpointResolver:
    """`resolve_endpoint` / `resolve_endpoints`, the one implementation.

    With the Consul handler they are in-memory reads of its InstanceCache,
    kept fresh by blocking queries (instance_cache.py); a discovery without
    a cache (the in-memory fake) is asked on every lookup.
    """

    def __init__(
        self, discovery: ProtocolServiceDiscovery, settings: ModelNodeSettings
    ) -> None:
        self._discovery = discovery
        found = getattr(discovery, "instances", None)
        self._cache = found if isinstance(found, InstanceCache) else None
        self._balancing = settings.discovery.balancing
        self._first_answer_timeout = settings.consul.request_timeout

    def watch(self, services: Iterable[str]) -> None:
        """Start watching `services` now (the cache's watches never block)."""
        if self._cache is not None:
            for service in services:
                self._cache.watch(service)

    async def resolve_endpoint(
        self,
        service: str,
        *,
        tags: Sequence[str] | None = None,
        strategy: EnumBalancing | None = None,
    ) -> ModelInstanceEndpoint:
        """What ModelNodeContext.resolve_endpoint answers (its docstring)."""
        chosen = strategy or self._balancing
        wanted = tuple(tags or ())
        cache = await self._cache_for(service)
        if cache is not None:
            return cache.pick(service, wanted, chosen)
        return choose_endpoint(await self._discovered(service, wanted), chosen, 0)

    async def resolve_endpoints(
        self, service: str, *, tags: Sequence[str] | None = None
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """What ModelNodeContext.resolve_endpoints answers (its docstring)."""
        wanted = tuple(tags or ())
        cache = await self._cache_for(service)
        if cache is not None:
            return cache.endpoints(service, wanted)
        return await self._discovered(service, wanted)

    async def _cache_for(self, service: str) -> InstanceCache | None:
        """The instance cache, watching `service` and answered once."""
        cache = self._cache
        if cache is not None and not cache.answered(service):
            await cache.ready(service, self._first_answer_timeout)
        return cache

    async def _discovered(
        self, service: str, tags: tuple[str, ...]
    ) -> tuple[ModelInstanceEndpoint, ...]:
        records = await self._discovery.discover_services(service, list(tags) or None)
        found = tuple(map(ModelInstanceEndpoint.from_record, records))
        if not found:
            raise NoHealthyInstanceError(service, tags, "none discovered")
        return found
