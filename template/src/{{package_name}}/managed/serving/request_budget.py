# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""One invoke's time budget: the operation timeout, within X-Request-Timeout-Ms."""

from collections.abc import Mapping

from ..values.http_headers import TIMEOUT_HEADER
from ..values.whole_numbers import MAX_MILLISECONDS, whole_number


def budget_ms(headers: Mapping[str, str], operation_timeout_ms: int) -> int:
    """Milliseconds the request may take: the smaller of the operation timeout
    and the caller's remaining budget (the header, when sent).

    Raises ValueError naming the header and its rule for a value that is not
    whole milliseconds.
    """
    sent = headers.get(TIMEOUT_HEADER)
    if sent is None:
        return operation_timeout_ms
    caller_ms = whole_number(sent, f"header {TIMEOUT_HEADER}", 0, MAX_MILLISECONDS)
    return min(operation_timeout_ms, caller_ms)
