# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The owner's Prometheus metrics: one registry per node, get-or-create by name."""

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

type Metric = Counter | Gauge | Histogram


class NodeMetrics:
    """Counters, gauges and histograms of one node, in its own registry.

    Asking twice for the same name returns the same metric, so a handler can
    ask where it counts; asking for a name already taken by another kind of
    metric, or with other labels, raises ValueError saying which. `registry`
    is what an exporter (GET /metrics) reads.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._metrics: dict[str, tuple[Metric, tuple[str, ...]]] = {}

    def counter(
        self, name: str, *, documentation: str = "", labels: Sequence[str] = ()
    ) -> Counter:
        """The counter `name` (created on first use)."""
        return self._get_or_create(Counter, name, documentation, labels)

    def gauge(
        self, name: str, *, documentation: str = "", labels: Sequence[str] = ()
    ) -> Gauge:
        """The gauge `name` (created on first use)."""
        return self._get_or_create(Gauge, name, documentation, labels)

    def histogram(
        self,
        name: str,
        *,
        documentation: str = "",
        labels: Sequence[str] = (),
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        """The histogram `name` (created on first use, when `buckets` apply)."""
        return self._get_or_create(
            Histogram, name, documentation, labels, buckets=tuple(buckets)
        )

    def _get_or_create[MetricT: (Counter, Gauge, Histogram)](
        self,
        kind: type[MetricT],
        name: str,
        documentation: str,
        labels: Sequence[str],
        **options: object,
    ) -> MetricT:
        names = tuple(labels)
        known = self._metrics.get(name)
        if known is None:
            metric = kind(
                name,
                documentation or name,
                names,
                registry=self.registry,
                **options,  # type: ignore[arg-type]
            )
            self._metrics[name] = (metric, names)
            return metric
        metric_found, labels_found = known
        if not isinstance(metric_found, kind):
            raise ValueError(
                f"metric {name!r} is a {type(metric_found).__name__.lower()}, "
                f"not a {kind.__name__.lower()}"
            )
        if labels_found != names:
            raise ValueError(
                f"metric {name!r} has labels {list(labels_found)}, not {list(names)}"
            )
        return metric_found
