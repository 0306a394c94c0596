# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The owner's structured logger: JSON lines through log_event, redacted."""

from collections.abc import Mapping

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..logs.log_events import log_event

type LogValue = str | int | float


class NodeLogger:
    """`info(event, message, **fields)` and its siblings, one JSON line each.

    `event` is a stable machine-readable name (`"invoice.priced"`), `message`
    the sentence for people. Lines go through the node's one JSON formatter,
    which redacts the secrets it knows. `bind(**fields)` returns a logger
    that adds `fields` to every line (a request's correlation ID, say).
    """

    def __init__(self, fields: Mapping[str, LogValue] | None = None) -> None:
        self._fields = dict(fields or {})

    def bind(self, **fields: LogValue) -> "NodeLogger":
        """A logger that adds `fields` (they win over the ones bound before)."""
        return NodeLogger({**self._fields, **fields})

    def debug(self, event: str, message: str, **fields: LogValue) -> None:
        self._emit(EnumLogLevel.DEBUG, event, message, fields)

    def info(self, event: str, message: str, **fields: LogValue) -> None:
        self._emit(EnumLogLevel.INFO, event, message, fields)

    def warning(self, event: str, message: str, **fields: LogValue) -> None:
        self._emit(EnumLogLevel.WARNING, event, message, fields)

    def error(self, event: str, message: str, **fields: LogValue) -> None:
        self._emit(EnumLogLevel.ERROR, event, message, fields)

    def _emit(
        self,
        level: EnumLogLevel,
        event: str,
        message: str,
        fields: Mapping[str, LogValue],
    ) -> None:
        log_event(level, event, message, **{**self._fields, **fields})
