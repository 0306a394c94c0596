# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Headers nodes send each other: one name for the serving and the calling side."""

# The request's UUID: taken from the caller (or generated) and sent on with
# every call the handler makes, so one ID follows a request through nodes.
CORRELATION_HEADER = "X-Correlation-ID"
# The caller's remaining time budget in whole milliseconds: the callee answers
# 504 instead of starting work it cannot finish, and passes what is left on.
TIMEOUT_HEADER = "X-Request-Timeout-Ms"
