# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How a whole call to another node ended (a label of its counter)."""

from enum import StrEnum


class EnumCallOutcome(StrEnum):
    """One value per way `context.call` returns or raises."""

    OK = "ok"
    # CallRejectedError: a 4xx other than 429.
    REJECTED = "rejected"
    # CallFailedError: every attempt failed, or one that may not be repeated.
    FAILED = "failed"
    # CallDeadlineExceededError: the time budget ran out.
    DEADLINE_EXCEEDED = "deadline_exceeded"
    # NoHealthyInstanceError (InstancesEjectedError too): nothing to try.
    NO_INSTANCE = "no_instance"
    # CallResponseInvalidError: a 2xx whose body is not the response model.
    INVALID_RESPONSE = "invalid_response"
