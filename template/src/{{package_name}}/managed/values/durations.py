# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Go duration strings, the format Consul uses for intervals and timeouts."""

import re

# Go's time.ParseDuration units, in seconds. Consul accepts both spellings of micro.
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek small letter mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
# ASCII digits only, as Go reads them: \d would also take "٣" (Arabic-Indic 3).
_COMPONENT = re.compile(
    r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"
)


def parse_go_duration(text: str) -> float:
    """Return the duration in seconds, rejecting what Consul would reject.

    A bare number is only valid as ``0`` (Go's rule), so ``"10"`` is an error
    rather than silently meaning ten nanoseconds or ten seconds.
    """
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    body = body.lstrip("+-")
    if body == "0":
        return 0.0
    position = 0
    total = 0.0
    while position < len(body):
        match = _COMPONENT.match(body, position)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: expected a Go duration such as "
                '"10s", "1m30s" or "250ms"'
            )
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0:
        raise ValueError(f"invalid duration {text!r}: empty")
    return sign * total
