# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How a lookup picks one of a service's healthy instances."""

from enum import StrEnum


class EnumBalancing(StrEnum):
    """`random`, `round_robin` (per service and tags) or `weighted` (Consul Weights)."""

    RANDOM = "random"
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
