# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How Consul learns whether the node is healthy."""

from enum import StrEnum


class EnumCheckMode(StrEnum):
    # Consul polls the health endpoint: the usual choice.
    HTTP = "http"
    # The node reports to Consul itself: works where Consul cannot reach it.
    TTL = "ttl"
    # Consul only opens a TCP connection to the node's port.
    TCP = "tcp"
