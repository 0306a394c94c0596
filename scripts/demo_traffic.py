"""Steady POST traffic to one URL from a thread, every call's outcome kept."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from scripts.processes import http_request

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class CallOutcome:
    """One POST: when it started (monotonic), its status (None: no answer), seconds."""

    started: float
    status: int | None
    seconds: float
    body: bytes


@dataclass
class Traffic:
    """``rate`` POSTs of ``body`` a second to ``url``, one at a time, until stop()."""

    url: str
    body: bytes
    rate: float
    timeout: float = 5.0
    outcomes: list[CallOutcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
        self._thread.start()

    def stop(self) -> list[CallOutcome]:
        """Stop after the call in progress; every outcome so far."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
        return list(self.outcomes)

    def failed(self) -> list[CallOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status != 200]

    def _run(self) -> None:
        period = 1 / self.rate
        due = time.monotonic()
        while not self._stop.is_set():
            started = time.monotonic()
            response = http_request(
                self.url,
                method="POST",
                headers=JSON_HEADERS,
                data=self.body,
                timeout=self.timeout,
            )
            self.outcomes.append(
                CallOutcome(
                    started,
                    None if response is None else response.status,
                    time.monotonic() - started,
                    b"" if response is None else response.body,
                )
            )
            # Pacing, not synchronisation: the next call is due one period
            # after the last one was, or at once when this one ran late.
            due = max(due + period, time.monotonic())
            self._stop.wait(due - time.monotonic())
