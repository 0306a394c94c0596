# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""A blocking query's `wait` as Consul reads it, and the time its answer may take."""

# Consul holds a blocking query up to wait + wait/16 (random jitter).
_JITTER_FRACTION = 1 / 16


def wait_param(wait_s: float) -> tuple[str, str]:
    """`wait` in milliseconds (Consul reads Go durations; 0 would mean its 5m)."""
    return ("wait", f"{max(int(wait_s * 1000), 1)}ms")


def blocking_timeout(wait_s: float, request_timeout_s: float) -> float:
    """The bound of one blocking request: Consul's longest hold plus the time
    any request may take, so the node never cuts a query Consul still holds."""
    return wait_s * (1 + _JITTER_FRACTION) + request_timeout_s
