# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The log levels a node accepts (ONEX_NODE_LOG_LEVEL, contract service.log_level)."""

import logging
from enum import StrEnum


class EnumNodeLogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"

    @property
    def logging_level(self) -> int:
        """The `logging` module's number for this level."""
        return logging.getLevelNamesMapping()[self.value]
