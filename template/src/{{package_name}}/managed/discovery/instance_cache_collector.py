# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The instance cache's figures for Prometheus, read at scrape time."""

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .instance_cache import InstanceCache


class InstanceCacheCollector:
    """Watched services, healthy instances, staleness and watch events.

    A custom collector rather than gauges kept up to date: the cache is the
    one record of these figures, so a scrape cannot disagree with it. The
    `service` label takes the names the node watches (its dependencies and
    the services its handler looks up), never instance IDs.
    """

    def __init__(self, cache: InstanceCache) -> None:
        self._cache = cache

    def describe(self) -> list[Metric]:
        """The names this collector owns (a clash raises when it is registered)."""
        return list(self.collect())

    def collect(self) -> Iterator[Metric]:
        cache = self._cache
        services = tuple(cache.watched)
        yield GaugeMetricFamily(
            "onex_discovery_watched_services",
            "Services the node watches in Consul",
            value=len(services),
        )
        healthy = GaugeMetricFamily(
            "onex_discovery_healthy_instances",
            "Healthy instances in the cache, per watched service",
            labels=["service"],
        )
        stale = GaugeMetricFamily(
            "onex_discovery_stale",
            "1 while the watch cannot refresh the service (the last set is served)",
            labels=["service"],
        )
        updates = CounterMetricFamily(
            "onex_discovery_updates",
            "New healthy sets taken from Consul, per watched service",
            labels=["service"],
        )
        errors = CounterMetricFamily(
            "onex_discovery_watch_errors",
            "Failed watch requests, per watched service",
            labels=["service"],
        )
        for service in services:
            healthy.add_metric([service], len(cache.healthy_sets.get(service, ())))
            stale.add_metric([service], 1 if service in cache.stale else 0)
            updates.add_metric([service], cache.updates[service])
            errors.add_metric([service], cache.watch_errors[service])
        yield from (healthy, stale, updates, errors)
