# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The signals that stop the node, from the first line of the process to its exit.

Standard library only: it is imported before anything heavy, so a signal
during the imports (which take a second or more) is already the node's.
"""

import signal
import sys
from collections.abc import Callable
from types import FrameType

# SIGHUP too: the node has nothing to reload, and a closed terminal or a
# supervisor's HUP should end it cleanly (deregistered), not kill it.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class StopSignalReceivedError(BaseException):
    """A stop signal arrived before the event loop was there to take it.

    A BaseException, like KeyboardInterrupt, so no `except Exception` in the
    code being imported or run can swallow it: start-up unwinds to the
    entry point, which exits quietly.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


# Signals received while start-up unwinds on them. The exception alone is not
# enough: raised inside a finalizer, or into Python code a C extension called,
# it can be swallowed, and start-up would go on to serve as if never stopped.
_received: list[int] = []


def _unwind(signum: int, _: FrameType | None) -> None:
    _received.append(signum)
    raise StopSignalReceivedError(signum)


def _quiet_when_swallowed(unraisable: "sys.UnraisableHookArgs") -> None:
    # Raised where Python cannot propagate it (a finalizer, a weakref
    # callback, GC during an import), the exception would be printed with a
    # traceback as "Exception ignored in ...". It is already recorded in
    # _received, and start-up unwinds on that record: nothing to print.
    if not isinstance(unraisable.exc_value, StopSignalReceivedError):
        sys.__unraisablehook__(unraisable)


def unwind_on_stop_signals() -> None:
    """Until the event loop takes them over, a stop signal unwinds start-up."""
    _received.clear()
    sys.unraisablehook = _quiet_when_swallowed
    for signum in STOP_SIGNALS:
        signal.signal(signum, _unwind)


def stop_signal_received() -> int | None:
    """The first stop signal received during start-up, if any."""
    return _received[0] if _received else None


def on_stop_signals(stop: Callable[[], object]) -> None:
    """While the node serves, a stop signal calls `stop` (which must not raise).

    A handler of the signal module, not the event loop's: removing the loop's
    puts the fatal default back until the next line ignores the signals, and
    a second SIGTERM landing in that gap (a supervisor insisting) would kill
    the node mid-teardown; this one is simply replaced by ignore_stop_signals.
    """

    def handle(signum: int, _: FrameType | None) -> None:
        stop()

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)


def ignore_stop_signals() -> None:
    """Teardown is done or under way: another signal must change nothing."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
