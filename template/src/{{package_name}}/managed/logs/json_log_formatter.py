# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Every log record as one JSON object on one line, whoever logged it."""

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from .correlation import current_correlation_id
from .log_redaction import SecretRedactor

# An exception's text can carry what a client sent (a bad request line):
# enough to recognise the problem, never a flood.
_MAX_ERROR_CHARS = 300
_ENVELOPE = ("timestamp", "level", "message", "context")


class JsonLineFormatter(logging.Formatter):
    """`{"timestamp", "level", "message", "context"}`, as omnibase-core writes.

    omnibase-core's `emit_log_event_sync` lines pass through unchanged; plain
    records (omnibase-core's stdlib helper, aiohttp, asyncio, warnings) get the
    same envelope, with the logger's name and their structured context in
    `context`. An exception becomes one `error` field: no traceback lines.
    A line written while a request is handled carries its `correlation_id`.
    Every string is run through the redactor, so a known secret never shows.
    """

    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        entry = _core_entry(record) or _plain_entry(record)
        correlation_id = current_correlation_id()
        context = entry.get("context")
        if correlation_id is not None and isinstance(context, dict):
            context.setdefault("correlation_id", str(correlation_id))
        # ASCII escapes, as omnibase-core writes: a stderr that cannot encode
        # UTF-8 (a C locale) must not lose the line.
        return json.dumps(self._clean(entry))

    def _clean(self, value: object) -> object:
        """JSON-ready copy of `value` with every string redacted."""
        if isinstance(value, str):
            return self._redactor.redact(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {
                self._redactor.redact(str(key)): self._clean(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(item) for item in value]
        return self._redactor.redact(str(value))


def _core_entry(record: logging.LogRecord) -> dict[str, object] | None:
    """The entry `emit_log_event_sync` already encoded as the message, if it is one."""
    if not isinstance(record.msg, str) or not record.msg.startswith("{"):
        return None
    try:
        entry = json.loads(record.msg)
    except ValueError:
        return None
    if isinstance(entry, dict) and all(key in entry for key in _ENVELOPE):
        return entry
    return None


def _plain_entry(record: logging.LogRecord) -> dict[str, object]:
    context: dict[str, object] = {"logger": record.name}
    extra = getattr(record, "onex_context", None)
    if isinstance(extra, Mapping):
        context.update(extra)
    elif extra is not None:
        context["detail"] = extra
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        context["error"] = f"{type(error).__name__}: {error}"[:_MAX_ERROR_CHARS]
    return {
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": record.levelname.lower(),
        "message": record.getMessage(),
        "context": context,
    }
