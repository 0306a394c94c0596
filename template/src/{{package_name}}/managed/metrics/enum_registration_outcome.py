# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What happened to the node's Consul registration: the keeper's log events."""

from enum import StrEnum


class EnumRegistrationOutcome(StrEnum):
    """One value per `consul.<outcome>` event the keeper and deregistration log."""

    REGISTERED = "registered"
    REGISTER_FAILED = "register_failed"
    REGISTER_REJECTED = "register_rejected"
    REGISTRATION_LOST = "registration_lost"
    REREGISTERED = "reregistered"
    DEREGISTERED = "deregistered"
    DEREGISTER_FAILED = "deregister_failed"
