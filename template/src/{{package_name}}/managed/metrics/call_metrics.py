# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Outgoing calls by target service, in the node's registry."""

from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

from .enum_attempt_outcome import EnumAttemptOutcome
from .enum_call_outcome import EnumCallOutcome
from .node_metrics import NodeMetrics


@dataclass(frozen=True)
class CalleeSeries:
    """The children of one called service, each looked up once: labels()
    takes a lock and builds its key, on every call's hot path."""

    calls: dict[EnumCallOutcome, Counter]
    attempts: dict[EnumAttemptOutcome, Counter]
    duration: Histogram
    retries: Counter
    ejections: Counter
    ejected: Gauge


class CallMetrics:
    """`onex_calls_total{service,outcome}`, `onex_call_duration_seconds{service}`,
    `onex_call_attempts_total{service,outcome}`, `onex_call_retries_total{service}`,
    `onex_call_ejections_total{service}` and `onex_call_ejected_instances{service}`.

    A service's series all appear at 0 with its first call; the label values
    are the services the node's code calls, so they stay few.
    """

    def __init__(self, metrics: NodeMetrics) -> None:
        self._calls = metrics.counter(
            "onex_calls",
            documentation="Calls to other nodes by target service and outcome",
            labels=("service", "outcome"),
        )
        self._attempts = metrics.counter(
            "onex_call_attempts",
            documentation="Attempts of calls (one per instance tried) by outcome",
            labels=("service", "outcome"),
        )
        self._duration = metrics.histogram(
            "onex_call_duration_seconds",
            documentation="Time of whole calls to other nodes, every attempt included",
            labels=("service",),
        )
        self._retries = metrics.counter(
            "onex_call_retries",
            documentation="Attempts after a call's first, each on another instance",
            labels=("service",),
        )
        self._ejections = metrics.counter(
            "onex_call_ejections",
            documentation="Instances ejected after consecutive failures",
            labels=("service",),
        )
        self._ejected = metrics.gauge(
            "onex_call_ejected_instances",
            documentation="Instances skipped now (ejected, not yet restored)",
            labels=("service",),
        )
        self._series: dict[str, CalleeSeries] = {}

    def of(self, service: str) -> CalleeSeries:
        """The series of `service` (created at 0 on its first call)."""
        found = self._series.get(service)
        if found is None:
            found = CalleeSeries(
                calls={
                    outcome: self._calls.labels(service=service, outcome=outcome.value)
                    for outcome in EnumCallOutcome
                },
                attempts={
                    outcome: self._attempts.labels(
                        service=service, outcome=outcome.value
                    )
                    for outcome in EnumAttemptOutcome
                },
                duration=self._duration.labels(service=service),
                retries=self._retries.labels(service=service),
                ejections=self._ejections.labels(service=service),
                ejected=self._ejected.labels(service=service),
            )
            self._series[service] = found
        return found
