# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The correlation ID of the request being handled, for every line it logs."""

from contextvars import ContextVar
from uuid import UUID

# Set by the HTTP surface for the duration of one request; a context variable
# follows the request's task (and the tasks it starts), never another's.
CORRELATION_ID: ContextVar[UUID | None] = ContextVar(
    "onex_correlation_id", default=None
)


def current_correlation_id() -> UUID | None:
    """The ID of the request being handled, or None outside a request."""
    return CORRELATION_ID.get()
