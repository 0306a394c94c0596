# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How many invoke requests run at once: refuse past the limit, drain on stop."""

import asyncio
import contextlib

from prometheus_client import Gauge

IN_FLIGHT_GAUGE = "onex_http_requests_in_flight"


class InFlightLimit:
    """Counts the requests running; the count is also the `IN_FLIGHT_GAUGE`
    gauge (read at scrape time, so it is never out of step)."""

    def __init__(self, limit: int, gauge: Gauge) -> None:
        self.limit = limit
        self.running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        gauge.set_function(lambda: self.running)

    def try_enter(self) -> bool:
        """Count one more request, unless `limit` already run."""
        if self.running >= self.limit:
            return False
        self.running += 1
        self._idle.clear()
        return True

    def leave(self) -> None:
        self.running -= 1
        if self.running == 0:
            self._idle.set()

    async def drain(self, timeout: float) -> int:
        """Wait until none runs or `timeout` seconds pass; return how many still run."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        return self.running
