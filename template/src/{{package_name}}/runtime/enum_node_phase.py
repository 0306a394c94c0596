# Managed by the ONEX node template: `copier update` replaces this file.
"""Where the process is in its life, as the health endpoint reports it."""

from enum import StrEnum


class EnumNodePhase(StrEnum):
    STARTING = "starting"
    READY = "passing"
    STOPPING = "stopping"
