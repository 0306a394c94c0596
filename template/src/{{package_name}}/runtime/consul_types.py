# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's own identifiers: strings with Consul's rules, not UUIDs."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from .durations import parse_go_duration


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
# A bound or pause, written as a Go duration in the contract, kept in seconds.
type DurationSeconds = Annotated[float, BeforeValidator(_seconds), Field(gt=0)]
