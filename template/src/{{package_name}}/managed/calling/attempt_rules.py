# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""How an attempt ended, and which endings move a call to another instance.

One place for the failover rules (docs/operations.md, "Calls"):
what the callee did not start goes elsewhere; what it may have started goes
elsewhere only when its contract says the operation is idempotent.
"""

import json
from typing import Any

import aiohttp

from ..metrics.enum_attempt_outcome import EnumAttemptOutcome
from ..values.http_headers import DEADLINE_EXCEEDED_CODE

# The work may have run: another instance only for an idempotent callee.
# (What the callee did not start, a connect failure, 503 or 429, always goes
# to another instance.)
MAYBE_STARTED = frozenset({EnumAttemptOutcome.FAILED_AFTER_SEND})
# What makes an instance an outlier: never its 4xx (the caller's request) nor
# a 429 (the instance is alive and said so).
INSTANCE_FAILURES = frozenset(
    {
        EnumAttemptOutcome.CONNECT_FAILED,
        EnumAttemptOutcome.UNAVAILABLE,
        EnumAttemptOutcome.FAILED_AFTER_SEND,
        EnumAttemptOutcome.TIMED_OUT,
    }
)
# What says the instance is alive: its count of failures starts again.
INSTANCE_ALIVE = frozenset(
    {
        EnumAttemptOutcome.ANSWERED,
        EnumAttemptOutcome.REJECTED,
        EnumAttemptOutcome.DEADLINE_EXCEEDED,
    }
)


def status_outcome(status: int, answer: bytes) -> EnumAttemptOutcome:
    """What an answer's status (and error code) means for the call."""
    if 200 <= status < 300:
        return EnumAttemptOutcome.ANSWERED
    if status == 429:
        return EnumAttemptOutcome.THROTTLED
    if status == 503:
        return EnumAttemptOutcome.UNAVAILABLE
    if status == 504 and (error_body(answer) or {}).get("code") == (
        DEADLINE_EXCEEDED_CODE
    ):
        return EnumAttemptOutcome.DEADLINE_EXCEEDED
    if 400 <= status < 500:
        return EnumAttemptOutcome.REJECTED
    return EnumAttemptOutcome.FAILED_AFTER_SEND


def error_outcome(error: Exception) -> tuple[EnumAttemptOutcome, str]:
    """What a request that raised `error` means, and the attempt's reason.

    Only aiohttp's connector errors prove the request never left: anything
    lost later (a reset, a disconnect, a half-read answer) may have run.
    """
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return EnumAttemptOutcome.CONNECT_FAILED, "connect timed out"
    if isinstance(error, aiohttp.ClientConnectorError):
        why = error.strerror or type(error).__name__
        return EnumAttemptOutcome.CONNECT_FAILED, f"connection failed: {why}"
    if isinstance(error, TimeoutError):
        return EnumAttemptOutcome.TIMED_OUT, "no answer within the time budget"
    return (
        EnumAttemptOutcome.FAILED_AFTER_SEND,
        f"connection lost after the request was sent ({type(error).__name__})",
    )


def error_body(answer: bytes) -> dict[str, Any] | None:
    """The callee's `{"error": {...}}` as a dict; None for anything else."""
    try:
        document = json.loads(answer)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else None
