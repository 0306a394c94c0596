# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Structured log events, and the rule that every line the process writes is JSON.

The node's own events go through omnibase-core's `emit_log_event_sync`; every
other writer (omnibase-core's plain stdlib records, aiohttp, asyncio, Python
warnings, uncaught exceptions) reaches one root handler whose formatter
writes the same one-line JSON envelope and redacts the known secrets.
"""

import logging
import sys
import threading
import traceback
from types import TracebackType

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.logging.logging_structured import emit_log_event_sync

from .json_log_formatter import JsonLineFormatter
from .log_rate_limit import RateLimitFilter
from .log_redaction import SecretRedactor

# Anyone who reaches the health port can make aiohttp log a bad request:
# a few lines a minute show the problem, more would only flood the log.
_BAD_CLIENT_LINES_PER_WINDOW = 10
_BAD_CLIENT_WINDOW_S = 60.0
_REDACTOR = SecretRedactor()
_CRASH_LOGGER = logging.getLogger("onex.node")
# Where emit_log_event_sync writes, and its mapping of levels.
_EVENT_LOGGER = logging.getLogger("omnibase")
_LEVELS = {
    EnumLogLevel.DEBUG: logging.DEBUG,
    EnumLogLevel.INFO: logging.INFO,
    EnumLogLevel.WARNING: logging.WARNING,
    EnumLogLevel.ERROR: logging.ERROR,
    EnumLogLevel.CRITICAL: logging.CRITICAL,
    EnumLogLevel.FATAL: logging.CRITICAL,
}


def log_event(
    level: EnumLogLevel, event: str, message: str, **context: str | int | float
) -> None:
    """Emit `message` with a stable machine-readable `event` name in its context.

    Callers must not pass secrets; the formatter redacts the known ones anyway.
    A line below the node's level costs one comparison: emit_log_event_sync
    would encode it as JSON before logging finds nobody wants it.
    """
    if _EVENT_LOGGER.isEnabledFor(_LEVELS.get(level, logging.INFO)):
        emit_log_event_sync(level, message, {"event": event, **context})


def protect_secrets(token: str = "", http_auth: str = "") -> None:
    """Make sure these never appear in a line the process writes."""
    _REDACTOR.add_token(token)
    _REDACTOR.add_basic_auth(http_auth)


def configure_logging() -> None:
    """Route every logger, warning and uncaught exception to stderr as JSON lines.

    Without a handler, Python drops INFO and prints WARNING+ through its
    last-resort handler, as plain text; omnibase-core's own logger would
    write plain lines too. Called first thing, at INFO, so that even a bad
    setting is reported as JSON; `set_log_level` applies the node's level
    once the settings are known.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter(_REDACTOR))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    omnibase = logging.getLogger("omnibase")
    omnibase.handlers.clear()
    omnibase.propagate = True
    omnibase.setLevel(logging.NOTSET)
    logging.getLogger("aiohttp.server").addFilter(
        RateLimitFilter(_BAD_CLIENT_LINES_PER_WINDOW, _BAD_CLIENT_WINDOW_S)
    )
    # A record that cannot be formatted is dropped, not printed as a traceback.
    logging.raiseExceptions = False
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    sys.unraisablehook = _log_unraisable


def set_log_level(level: int) -> None:
    """Write records of `level` (a `logging` number) and above from now on."""
    logging.getLogger().setLevel(level)


def _log_uncaught(
    kind: type[BaseException],
    error: BaseException,
    trace: TracebackType | None,
) -> None:
    _CRASH_LOGGER.critical(
        "uncaught exception",
        exc_info=(kind, error, trace),
        extra={
            "onex_context": {
                "event": "node.crashed",
                "traceback": "".join(traceback.format_exception(kind, error, trace)),
            }
        },
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def _log_unraisable(unraisable: "sys.UnraisableHookArgs") -> None:
    # "Exception ignored in ...": an error in a finalizer; worth one line.
    error = unraisable.exc_value
    _CRASH_LOGGER.warning(
        f"exception ignored in {unraisable.object!r}",
        exc_info=(type(error), error, None) if error is not None else None,
        extra={"onex_context": {"event": "node.exception_ignored"}},
    )
