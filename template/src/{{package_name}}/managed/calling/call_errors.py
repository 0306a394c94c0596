# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What a call to another node raises when it does not return a response.

NoHealthyInstanceError (managed/errors.py) is raised too, before any attempt,
and InstancesEjectedError, its kind for instances that are all ejected.
Messages name the service and the instances, never a token or the payload,
and end with the call's correlation ID (the X-Correlation-ID every attempt
sent), so the callee's log lines of the call are found from the caller's error.
"""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ..errors import NoHealthyInstanceError


@dataclass(frozen=True)
class CallAttempt:
    """One attempt of a call: which instance, and why it did not answer."""

    service_id: str
    address: str
    reason: str

    def __str__(self) -> str:
        return f"{self.service_id} ({self.address}): {self.reason}"


class CallError(Exception):
    """A call to `service` returned no usable response (every case below)."""

    def __init__(self, message: str, service: str, correlation_id: UUID) -> None:
        super().__init__(f"{message} [correlation ID {correlation_id}]")
        self.service = service
        self.correlation_id = correlation_id


class CallFailedError(CallError):
    """Every attempt failed (refused, reset, timed out, 5xx); `attempts` says how."""

    def __init__(
        self,
        service: str,
        attempts: tuple[CallAttempt, ...],
        why: str = "",
        *,
        correlation_id: UUID,
    ) -> None:
        tried = "; ".join(map(str, attempts)) or "no attempt was made"
        ending = f" ({why})" if why else ""
        super().__init__(
            f"call to {service!r} failed after {len(attempts)} attempt(s)"
            f"{ending}: {tried}",
            service,
            correlation_id,
        )
        self.attempts = attempts


class CallDeadlineExceededError(CallFailedError):
    """The call's time budget ran out before an instance answered."""


class CallRejectedError(CallError):
    """The callee refused the request (a 4xx other than 429): sending it again
    would be refused again. `error` is the callee's JSON error body (its
    `{"error": {...}}`), or None when the answer was not one.
    """

    def __init__(
        self,
        service: str,
        attempt: CallAttempt,
        status: int,
        error: dict[str, Any] | None,
        *,
        correlation_id: UUID,
    ) -> None:
        code = (error or {}).get("code")
        detail = f" {code}" if isinstance(code, str) else ""
        super().__init__(
            f"call to {service!r} rejected by {attempt.service_id} "
            f"({attempt.address}): {status}{detail}",
            service,
            correlation_id,
        )
        self.attempt = attempt
        self.status = status
        self.error = error


class CallResponseInvalidError(CallError):
    """The callee answered 200 with a body that is not JSON or does not match
    the response model; `problem` says what was wrong (never the values).
    """

    def __init__(
        self,
        service: str,
        attempt: CallAttempt,
        problem: str,
        *,
        correlation_id: UUID,
    ) -> None:
        super().__init__(
            f"call to {service!r}: the answer of {attempt.service_id} "
            f"({attempt.address}) is unusable: {problem}",
            service,
            correlation_id,
        )
        self.attempt = attempt
        self.problem = problem


class InstancesEjectedError(NoHealthyInstanceError):
    """Every healthy instance (with the tags) is ejected after consecutive
    failures (outlier_ejection.py): the call fails at once instead of waiting.
    """

    def __init__(
        self, service: str, tags: tuple[str, ...], ejected: int, back_in: float
    ) -> None:
        super().__init__(
            service,
            tags,
            f"all {ejected} instance(s) are ejected after consecutive failures;"
            f" the first is tried again in {back_in:.1f}s",
        )
        self.ejected = ejected
        self.back_in = back_in
