# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's own identifiers: strings with Consul's rules, not UUIDs."""

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .durations import parse_go_duration

# The shortest timeout or pause the node accepts (RETRY_CAP=1ns would spin).
_MIN_PAUSE_S = 0.01

_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~:-]+")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _host(value: str) -> str:
    """An IP address or a DNS host name, nothing else (no port, no scheme)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is neither an IP address nor a host name"
            ) from None
    return value


def _url_path_segment(value: str) -> str:
    """A service ID that survives Consul's URL paths (`/v1/agent/service/<id>`).

    Go's ServeMux cleans paths (`/`, `.` and `..` segments become a redirect)
    and Consul's own clients do not percent-encode the ID, so an ID with `/`,
    `%`, `?`, `#`, spaces or control characters could be registered but never
    read or deregistered. RFC 3986 unreserved characters (and `:`) are safe.
    """
    if value in (".", "..") or not _PATH_SEGMENT.fullmatch(value):
        raise ValueError(
            f"service ID {value!r} cannot be used in Consul's URL paths: use "
            "letters, digits and - . _ ~ : (not '.' or '..' alone)"
        )
    return value


def _seconds(value: object) -> object:
    """Accept a Go duration ("5s", "250ms") wherever seconds are expected."""
    return parse_go_duration(value) if isinstance(value, str) else value


def _not_a_busy_loop(seconds: float) -> float:
    if seconds < _MIN_PAUSE_S:
        raise ValueError(
            "must be at least the minimum of 10ms: a shorter timeout or pause "
            "turns the node's retry and watch loops into busy loops"
        )
    return seconds


# A DNS label, so the service is reachable as <name>.service.consul.
type ConsulServiceName = Annotated[
    str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
]
type ConsulServiceId = Annotated[str, AfterValidator(_url_path_segment)]
# Names of Consul Enterprise namespaces and admin partitions, and of
# datacenters: Consul allows letters, digits, "-" and "_" (namespaces and
# partitions at most 64 characters).
type ConsulScopeName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$")
]
# Where the node listens, what it advertises, the name a TLS certificate is
# checked against.
type HostAddress = Annotated[str, AfterValidator(_host)]
# A bound or pause, written as a Go duration in the contract, kept in seconds.
type DurationSeconds = Annotated[
    float, BeforeValidator(_seconds), AfterValidator(_not_a_busy_loop)
]
