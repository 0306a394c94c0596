# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The deadline of the request being handled, for the calls it makes."""

import asyncio
from contextvars import ContextVar

# The event loop's time by which the request being handled must be answered:
# set by POST /invoke from its X-Request-Timeout-Ms and operation timeout,
# read by every call the handler makes (so the budget shrinks along a chain).
REQUEST_DEADLINE: ContextVar[float | None] = ContextVar(
    "onex_request_deadline", default=None
)


def remaining_budget() -> float | None:
    """Seconds left of the request being handled (may be <= 0); None outside one."""
    deadline = REQUEST_DEADLINE.get()
    if deadline is None:
        return None
    return deadline - asyncio.get_running_loop().time()
