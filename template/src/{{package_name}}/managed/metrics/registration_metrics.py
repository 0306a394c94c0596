# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The Consul registration's state and outcomes, in the node's registry."""

from .enum_registration_outcome import EnumRegistrationOutcome
from .node_metrics import NodeMetrics

# Whether Consul holds the registration after each outcome (None: unchanged).
_REGISTERED_AFTER: dict[EnumRegistrationOutcome, bool | None] = {
    EnumRegistrationOutcome.REGISTERED: True,
    EnumRegistrationOutcome.REREGISTERED: True,
    EnumRegistrationOutcome.REGISTER_FAILED: None,
    EnumRegistrationOutcome.REGISTER_REJECTED: None,
    EnumRegistrationOutcome.REGISTRATION_LOST: False,
    EnumRegistrationOutcome.DEREGISTERED: False,
    # Consul may still hold it; it reaps it after deregister_critical_after.
    EnumRegistrationOutcome.DEREGISTER_FAILED: None,
}
# Agent requests take milliseconds; a hung agent is cut off by
# consul.request_timeout or deregister_timeout, both a few seconds.
_DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class RegistrationMetrics:
    """`onex_consul_registered`, `onex_consul_registration_events_total` by
    outcome and `onex_consul_request_duration_seconds` by operation.

    Every outcome's counter exists from the start at 0, so `increase()` sees
    the first event and an alert on `register_failed` has a series to watch.
    """

    def __init__(self, metrics: NodeMetrics) -> None:
        self._registered = metrics.gauge(
            "onex_consul_registered",
            documentation="1 while Consul holds this node's registration, else 0",
        )
        self._events = metrics.counter(
            "onex_consul_registration_events",
            documentation="Outcomes of registering with Consul, as the node logs them",
            labels=("outcome",),
        )
        for outcome in EnumRegistrationOutcome:
            self._events.labels(outcome=outcome.value)
        self._durations = metrics.histogram(
            "onex_consul_request_duration_seconds",
            documentation="Time of successful register and deregister requests",
            labels=("operation",),
            buckets=_DURATION_BUCKETS,
        )

    def record(
        self, outcome: EnumRegistrationOutcome, duration_s: float | None = None
    ) -> None:
        """Count `outcome`, update the state, and time a successful request."""
        self._events.labels(outcome=outcome.value).inc()
        registered = _REGISTERED_AFTER[outcome]
        if registered is not None:
            self._registered.set(1 if registered else 0)
        if duration_s is not None:
            operation = (
                "deregister"
                if outcome is EnumRegistrationOutcome.DEREGISTERED
                else "register"
            )
            self._durations.labels(operation=operation).observe(duration_s)
