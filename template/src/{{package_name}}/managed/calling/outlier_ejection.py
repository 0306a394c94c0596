# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Outlier ejection: an instance that keeps failing is skipped, then probed once.

A circuit breaker per instance (keyed by its Consul service ID): after
`calls.eject_after_failures` consecutive failures (attempt_rules.py
INSTANCE_FAILURES; an INSTANCE_ALIVE outcome starts the count again) the
instance is skipped for `calls.ejection_cool_down`; then exactly one attempt
probes it (half-open): an answer restores it, a failure ejects it again. Only failing instances are remembered, and an
instance discovery no longer reports is forgotten, so memory stays bounded.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..discovery.instance_cache import Clock
from ..discovery.model_instance_endpoint import ModelInstanceEndpoint
from ..logs.log_events import log_event
from ..metrics.call_metrics import CallMetrics
from ..metrics.enum_attempt_outcome import EnumAttemptOutcome
from ..settings.model_call_settings import ModelCallSettings
from ..values.consul_tags import carries_tags
from .attempt_rules import INSTANCE_ALIVE, INSTANCE_FAILURES


@dataclass
class FailingInstance:
    """What is known of one instance that failed since it last answered."""

    tags: tuple[str, ...]
    failures: int = 0
    # Clock time until which it is skipped; 0: not ejected.
    ejected_until: float = 0.0
    # Its one half-open attempt is under way.
    probing: bool = False


class OutlierEjection:
    """`admits` before an attempt, `record` (or `release`) after it."""

    def __init__(
        self,
        settings: ModelCallSettings,
        metrics: CallMetrics,
        clock: Clock = time.monotonic,
    ) -> None:
        self._after = settings.eject_after_failures
        self._cool_down = settings.ejection_cool_down
        self._metrics = metrics
        self._clock = clock
        # Per service: its failing instances by service ID.
        self._failing: dict[str, dict[str, FailingInstance]] = {}

    def admits(self, endpoint: ModelInstanceEndpoint) -> bool:
        """Whether `endpoint` may be tried now; a probe is reserved when its
        cool-down is over (the caller then must `record` or `release`)."""
        failing = self._failing.get(endpoint.service)
        found = failing.get(endpoint.service_id) if failing else None
        if found is None or not found.ejected_until:
            return True
        if found.probing or self._clock() < found.ejected_until:
            return False
        found.probing = True
        return True

    def record(
        self, endpoint: ModelInstanceEndpoint, outcome: EnumAttemptOutcome
    ) -> None:
        """Count the attempt's outcome against (or for) the instance."""
        failing = self._failing.get(endpoint.service)
        if outcome in INSTANCE_ALIVE:
            found = failing.pop(endpoint.service_id, None) if failing else None
            if found is not None and found.ejected_until:
                self._restored(endpoint)
            return
        if outcome not in INSTANCE_FAILURES or not self._after:
            self.release(endpoint)
            return
        if failing is None:
            failing = self._failing[endpoint.service] = {}
        found = failing.setdefault(endpoint.service_id, FailingInstance(endpoint.tags))
        found.failures += 1
        found.probing = False
        if found.ejected_until or found.failures >= self._after:
            self._ejected(endpoint, found)

    def release(self, endpoint: ModelInstanceEndpoint) -> None:
        """The attempt said nothing of the instance (429, cancelled): a probe
        it held goes to the next call."""
        found = self._failing.get(endpoint.service, {}).get(endpoint.service_id)
        if found is not None:
            found.probing = False

    def forget_missing(
        self, service: str, tags: Sequence[str], found: Sequence[ModelInstanceEndpoint]
    ) -> None:
        """Forget the failing instances carrying `tags` that are not in `found`,
        the healthy set discovery answered with them: gone, or critical."""
        failing = self._failing.get(service)
        if not failing:
            return
        present = {endpoint.service_id for endpoint in found}
        for service_id, known in list(failing.items()):
            if service_id not in present and carries_tags(known.tags, tags):
                del failing[service_id]
                if known.ejected_until:
                    self._metrics.of(service).ejected.dec()

    def back_in(self, service: str) -> float:
        """Seconds until the first ejected instance of `service` is probed."""
        until = [
            known.ejected_until
            for known in self._failing.get(service, {}).values()
            if known.ejected_until
        ]
        return max(min(until, default=0.0) - self._clock(), 0.0)

    def _ejected(self, endpoint: ModelInstanceEndpoint, found: FailingInstance) -> None:
        series = self._metrics.of(endpoint.service)
        if not found.ejected_until:
            series.ejected.inc()
        series.ejections.inc()
        found.ejected_until = self._clock() + self._cool_down
        log_event(
            EnumLogLevel.WARNING,
            "call.instance_ejected",
            f"instance {endpoint.service_id} of {endpoint.service!r} failed "
            f"{found.failures} time(s) in a row; skipping it for "
            f"{self._cool_down:g}s",
            service=endpoint.service,
            service_id=endpoint.service_id,
            failures=found.failures,
            cool_down=self._cool_down,
        )

    def _restored(self, endpoint: ModelInstanceEndpoint) -> None:
        self._metrics.of(endpoint.service).ejected.dec()
        log_event(
            EnumLogLevel.INFO,
            "call.instance_restored",
            f"instance {endpoint.service_id} of {endpoint.service!r} answered "
            "its probe; calls go to it again",
            service=endpoint.service,
            service_id=endpoint.service_id,
        )
