# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The machine-readable codes of POST /invoke's error answers."""

from enum import StrEnum

from ..values.http_headers import DEADLINE_EXCEEDED_CODE


class EnumInvokeErrorCode(StrEnum):
    """Stable: clients branch on these, not on messages."""

    NOT_JSON = "not_json"
    INVALID_CORRELATION_ID = "invalid_correlation_id"
    INVALID_TIMEOUT = "invalid_timeout"
    INVALID_INPUT = "invalid_input"
    REJECTED = "rejected"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_FOUND = "not_found"
    STARTING = "starting"
    STOPPING = "stopping"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    DEADLINE_EXCEEDED = DEADLINE_EXCEEDED_CODE  # what callers look for
    INTERNAL = "internal"
