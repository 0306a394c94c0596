# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Structured log events through omnibase-core's logging, one JSON line each."""

import logging
import sys

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.logging.logging_structured import emit_log_event_sync

from .errors import ConfigurationError

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}


def log_event(
    level: EnumLogLevel, event: str, message: str, **context: str | int | float
) -> None:
    """Emit `message` with a stable machine-readable `event` name in its context.

    Callers must not pass secrets: context values are written as they are.
    """
    emit_log_event_sync(level, message, {"event": event, **context})


def configure_logging(level_name: str) -> None:
    """Send omnibase-core's JSON lines to stderr at the given level.

    Without a handler, Python drops INFO and prints WARNING+ through its
    last-resort handler, so a node would be silent about successes.
    """
    level = _LEVELS.get(level_name.upper())
    if level is None:
        raise ConfigurationError(
            f"ONEX_NODE_LOG_LEVEL={level_name!r}: use one of {', '.join(_LEVELS)}"
        )
    logger = logging.getLogger("omnibase")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
