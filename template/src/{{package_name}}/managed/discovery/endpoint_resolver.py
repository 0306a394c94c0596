# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Healthy endpoints of a service, from any ProtocolServiceDiscovery."""

import contextlib
from collections.abc import Iterable, Iterator, Sequence

from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..errors import NoHealthyInstanceError
from ..metrics.node_metrics import NodeMetrics
from ..settings.enum_balancing import EnumBalancing
from ..settings.model_node_settings import ModelNodeSettings
from .balancing import choose_endpoint
from .instance_cache import InstanceCache
from .instance_cache_collector import InstanceCacheCollector
from .model_instance_endpoint import ModelInstanceEndpoint

# Label values of the lookup counter: all of them exist from the start at 0.
_SOURCES = ("cache", "discovery")
_OUTCOMES = ("found", "no_healthy_instance", "error")


class EndpointResolver:
    """`resolve_endpoint` / `resolve_endpoints`, the one implementation.

    With the Consul handler they are in-memory reads of its InstanceCache,
    kept fresh by blocking queries (instance_cache.py); a discovery without
    a cache (the in-memory fake) is asked on every lookup. Lookups are
    counted in `metrics` by source and outcome, and the cache's figures are
    collected from it at every scrape.
    """

    def __init__(
        self,
        discovery: ProtocolServiceDiscovery,
        settings: ModelNodeSettings,
        metrics: NodeMetrics,
    ) -> None:
        self._discovery = discovery
        found = getattr(discovery, "instances", None)
        self._cache = found if isinstance(found, InstanceCache) else None
        if self._cache is not None:
            metrics.registry.register(InstanceCacheCollector(self._cache))
        lookups = metrics.counter(
            "onex_discovery_lookups",
            documentation="resolve_endpoint(s) calls by source and outcome",
            labels=("source", "outcome"),
        )
        # Every child exists from the start at 0, and is looked up here once:
        # labels() takes a lock and builds its key, on a lookup's hot path.
        self._lookups = {
            (source, outcome): lookups.labels(source=source, outcome=outcome)
            for source in _SOURCES
            for outcome in _OUTCOMES
        }
        self._balancing = settings.discovery.balancing
        self._first_answer_timeout = settings.consul.request_timeout

    @property
    def balancing(self) -> EnumBalancing:
        """The contract's `discovery.balancing` (calls try instances in its order)."""
        return self._balancing

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
        with self._counted(cache):
            if cache is not None:
                return cache.pick(service, wanted, chosen)
            return choose_endpoint(await self._discovered(service, wanted), chosen, 0)

    async def resolve_endpoints(
        self, service: str, *, tags: Sequence[str] | None = None
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """What ModelNodeContext.resolve_endpoints answers (its docstring)."""
        wanted = tuple(tags or ())
        cache = await self._cache_for(service)
        with self._counted(cache):
            if cache is not None:
                return cache.endpoints(service, wanted)
            return await self._discovered(service, wanted)

    @contextlib.contextmanager
    def _counted(self, cache: InstanceCache | None) -> Iterator[None]:
        """Count one lookup by where it was answered and how it ended."""
        source = "discovery" if cache is None else "cache"
        outcome = "found"
        try:
            yield
        except NoHealthyInstanceError:
            outcome = "no_healthy_instance"
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            self._lookups[source, outcome].inc()

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
