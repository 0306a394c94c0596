# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's own identifiers: strings with Consul's rules, not UUIDs."""

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from .durations import parse_go_duration

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _host(value: str) -> str:
    """An IP address or a DNS host name, nothing else (no port, no scheme)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.match(value):
            raise ValueError(
                f"{value!r} is neither an IP address nor a host name"
            ) from None
    return value


def _seconds(value: object) -> object:
    """Accept a Go duration ("5s", "250ms") wherever seconds are expected."""
    return parse_go_duration(value) if isinstance(value, str) else value


# A DNS label, so the service is reachable as <name>.service.consul.
type ConsulServiceName = Annotated[
    str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
]
# Any text without "/": Consul cleans request paths, so an ID with "/" could
# be registered but never deregistered.
type ConsulServiceId = Annotated[str, Field(min_length=1, pattern=r"^[^/]+$")]
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
type DurationSeconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]
