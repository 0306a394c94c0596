# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""A bound on how many lines one noisy source may write (bad clients, for one)."""

import logging
import time
from collections.abc import Callable


class RateLimitFilter(logging.Filter):
    """Let at most `limit` records through per `window_s`; count the rest.

    The first record let through after some were dropped says how many
    (`suppressed` in its context), so nothing disappears without a trace.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._window_start = clock()
        self._passed = 0
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        if now - self._window_start >= self._window_s:
            self._window_start, self._passed = now, 0
        if self._passed >= self._limit:
            self._suppressed += 1
            return False
        self._passed += 1
        if self._suppressed:
            context = getattr(record, "onex_context", None)
            merged = dict(context) if isinstance(context, dict) else {}
            record.onex_context = {**merged, "suppressed": self._suppressed}
            self._suppressed = 0
        return True
