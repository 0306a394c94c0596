# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Go duration strings, the format Consul uses for intervals and timeouts."""

from fractions import Fraction

from ..errors import GoDurationError

NANOSECONDS_PER_SECOND = 1_000_000_000
# Go's time.ParseDuration units. Consul accepts both spellings of micro.
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": NANOSECONDS_PER_SECOND,
    "m": 60 * NANOSECONDS_PER_SECOND,
    "h": 3600 * NANOSECONDS_PER_SECOND,
}
_MAX_INT64 = 2**63 - 1
# ASCII digits only, as Go reads them: str.isdigit would take "٣" (Arabic-Indic 3).
_DIGITS = frozenset("0123456789")


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_digits(text: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return text[:end], text[end:]


def _split_unit(text: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and text[end] != "." and text[end] not in _DIGITS:
        end += 1
    return text[:end], text[end:]


def parse_go_duration_ns(text: str) -> int:
    """Parse like Go's ``time.ParseDuration``: integer nanoseconds.

    "1m30s", "250ms", "1.5s", "-1s", "0" are fine; "10" (no unit), " 1s" and
    anything beyond Go's int64 are not. The error's message is Go's own.
    """
    invalid = GoDurationError(f"time: invalid duration {_go_quote(text)}")
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = Fraction(0)
    while rest:
        whole, rest = _split_digits(rest)
        fraction = ""
        if rest.startswith("."):
            fraction, rest = _split_digits(rest[1:])
        if not whole and not fraction:
            raise invalid
        unit, rest = _split_unit(rest)
        if not unit:
            raise GoDurationError(f"time: missing unit in duration {_go_quote(text)}")
        if unit not in _UNIT_NS:
            raise GoDurationError(
                f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(text)}"
            )
        number = Fraction(int(whole or "0"))
        if fraction:
            number += Fraction(int(fraction), 10 ** len(fraction))
        total += number * _UNIT_NS[unit]
    nanos = int(total)  # truncated toward zero, as Go does
    if nanos > _MAX_INT64 + (1 if negative else 0):
        raise invalid
    return -nanos if negative else nanos


def parse_go_duration(text: str) -> float:
    """Return the duration in seconds, rejecting what Consul would reject.

    A bare number is only valid as ``0`` (Go's rule), so ``"10"`` is an error
    rather than silently meaning ten nanoseconds or ten seconds.
    """
    try:
        return parse_go_duration_ns(text) / NANOSECONDS_PER_SECOND
    except GoDurationError as error:
        raise GoDurationError(
            f"invalid duration {text!r} ({error}): expected a Go duration such "
            'as "10s", "1m30s" or "250ms"'
        ) from None
