# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Whole numbers (settings: ports, sizes, limits; a request's time budget),
read strictly: plain ASCII decimal digits within the value's bounds."""

import re
from typing import Annotated

from pydantic import BeforeValidator

# int() also reads "1_0" (10), "٣" (3), "+1" and " 1": a number written that
# way is a typo, not a number.
_DECIMAL = re.compile(r"[0-9]{1,10}")


def whole_number(value: object, what: str, low: int, high: int) -> int:
    """`value` (an int, or a str of plain decimal digits) within [low, high].

    Raises ValueError naming `what` and the rule.
    """
    rule = f"{what} must be plain decimal digits from {low} to {high}"
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = int(value)
    else:
        raise ValueError(f"{value!r}: {rule}")
    if not low <= number <= high:
        raise ValueError(f"{value!r}: {rule}")
    return number


def _whole_number(what: str, low: int, high: int) -> BeforeValidator:
    return BeforeValidator(lambda value: whole_number(value, what, low, high))


type PortNumber = Annotated[int, _whole_number("port", 1, 65535)]
# Request bodies: up to 1 GiB, which is already more than one request should be.
type ByteCount = Annotated[int, _whole_number("size in bytes", 1, 1 << 30)]
# Concurrent requests: past 100,000 the limit no longer protects anything.
type RequestCount = Annotated[int, _whole_number("request count", 1, 100_000)]
# An operation's time budget (the contract's descriptor.timeout_ms): a day at most.
MAX_MILLISECONDS = 86_400_000
type Milliseconds = Annotated[
    int, _whole_number("timeout in milliseconds", 1, MAX_MILLISECONDS)
]
# Attempts of one outgoing call: each goes to another instance.
type AttemptCount = Annotated[int, _whole_number("attempt count", 1, 100)]
# Consecutive failures before an instance is skipped; 0 never skips one.
type FailureCount = Annotated[int, _whole_number("failure count", 0, 100_000)]
