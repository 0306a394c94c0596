# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Headers nodes send each other: one name for the serving and the calling side."""

# The request's UUID: taken from the caller (or generated) and sent on with
# every call the handler makes, so one ID follows a request through nodes.
CORRELATION_HEADER = "X-Correlation-ID"
# The caller's remaining time budget in whole milliseconds: the callee answers
# 504 instead of starting work it cannot finish, and passes what is left on.
TIMEOUT_HEADER = "X-Request-Timeout-Ms"
# A budget this small (in ms) is answered 504 without running the handler,
# and a caller does not send a request with less: a whole POST /invoke of the
# effect sample on loopback takes 0.8 ms (median) but 8.8 ms at the 99th
# percentile on a busy two-core machine, so below this the answer would
# likely reach the caller after it gave up.
MIN_BUDGET_MS = 10
# The error code of that 504 (and of a handler whose own call ran out of
# time): the caller's budget is spent, so it tries no other instance.
DEADLINE_EXCEEDED_CODE = "deadline_exceeded"
