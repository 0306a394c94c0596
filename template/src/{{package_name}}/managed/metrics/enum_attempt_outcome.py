# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How one attempt of a call to another node ended (a label of its counter)."""

from enum import StrEnum


class EnumAttemptOutcome(StrEnum):
    """What the instance tried did with the request, as the caller saw it."""

    # 2xx: an answer (its body may still not match the response model).
    ANSWERED = "answered"
    # 4xx other than 429: the request itself was refused.
    REJECTED = "rejected"
    # 429: too busy to start the work.
    THROTTLED = "throttled"
    # 503: not serving (starting, draining, full) and did not start the work.
    UNAVAILABLE = "unavailable"
    # No connection: refused, reset while connecting, DNS, connect timeout.
    CONNECT_FAILED = "connect_failed"
    # Sent, then a 5xx other than 503 or a lost connection: work may have run.
    FAILED_AFTER_SEND = "failed_after_send"
    # The call's time budget ran out while waiting for the answer.
    TIMED_OUT = "timed_out"
    # 504 deadline_exceeded: the budget the attempt carried ran out in the
    # callee (alive and answering; the caller has no time left for another).
    DEADLINE_EXCEEDED = "deadline_exceeded"
