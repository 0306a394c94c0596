# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Where the process is in its life, as the health endpoint reports it."""

from enum import StrEnum


class EnumNodePhase(StrEnum):
    STARTING = "starting"
    READY = "passing"
    STOPPING = "stopping"
