# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The one loop pattern of the node's background work: it never dies silently.

The registration keeper and every discovery watch run as a SupervisedLoop:
a step is retried with capped backoff whatever it raises, so a Consul answer
nobody foresaw, or a bug, costs one warning and a retry instead of the
registration (and the deregistration at shutdown) or a watch.
"""

import asyncio
from collections.abc import Awaitable, Callable

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..logs.external_text import one_line
from ..logs.log_events import log_event
from ..logs.log_redaction import SecretRedactor
from .backoff import backoff_delay

type Sleep = Callable[[float], Awaitable[None]]
# One step of the loop: the pause before the next one, or None to end it.
type Step = Callable[[], Awaitable[float | None]]
# Called on every failed step: the error, how many failed in a row, and the
# level to log it at (None: say nothing, it was said already).
type FailureHook = Callable[[Exception, int, EnumLogLevel | None], None]


def failure_level(attempt: int, novel: bool) -> EnumLogLevel | None:
    """A warning for a new kind of failure; a debug line at failure 2, 4, 8...

    Repeating the warning at every backoff step would drown the log while
    Consul is down for hours; a power-of-two trail keeps 10^6 failures to
    about twenty lines.
    """
    if novel:
        return EnumLogLevel.WARNING
    if attempt & (attempt - 1) == 0:
        return EnumLogLevel.DEBUG
    return None


class SupervisedLoop:
    """Run `step` until it returns None or the task is cancelled.

    A step that raises is retried after `backoff_delay` (`retry` is its
    initial and cap). Errors of the `expected` types are the owner's to log
    (in `on_failure`); any other is logged here once per episode with its
    type and a truncated, one-line message `redactor` cleaned.
    `sleep` is injectable, so tests drive a million failures on a simulated
    clock.
    """

    def __init__(
        self,
        name: str,
        step: Step,
        retry: tuple[float, float],
        *,
        expected: tuple[type[Exception], ...],
        on_failure: FailureHook,
        redactor: SecretRedactor | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._name = name
        self._step = step
        self._retry = retry
        self._expected = expected
        self._on_failure = on_failure
        self._redactor = redactor
        self._sleep = sleep

    async def run(self) -> None:
        failures = 0
        last_kind: type[Exception] | None = None
        while True:
            try:
                pause = await self._step()
            except Exception as error:  # the point: nothing ends the loop
                failures += 1
                level = failure_level(failures, type(error) is not last_kind)
                last_kind = type(error)
                self._failed(error, failures, level)
                await self._sleep(backoff_delay(failures, *self._retry))
                continue
            failures, last_kind = 0, None
            if pause is None:
                return
            await self._sleep(pause)

    def _failed(
        self, error: Exception, attempt: int, level: EnumLogLevel | None
    ) -> None:
        if not isinstance(error, self._expected) and level is not None:
            log_event(
                level,
                "loop.unexpected_error",
                f"{self._name}: unexpected {type(error).__name__}: "
                f"{one_line(str(error), self._redactor)}; retrying with backoff",
                loop=self._name,
                error_type=type(error).__name__,
                attempt=attempt,
            )
        try:
            self._on_failure(error, attempt, level)
        except Exception as hook_error:  # a broken hook must not end the loop
            log_event(
                EnumLogLevel.WARNING,
                "loop.unexpected_error",
                f"{self._name}: the failure hook raised "
                f"{type(hook_error).__name__}: "
                f"{one_line(str(hook_error), self._redactor)}",
                loop=self._name,
                error_type=type(hook_error).__name__,
            )
