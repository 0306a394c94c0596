# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Errors the runtime raises; their messages never contain secrets."""


class ConfigurationError(ValueError):
    """A setting (contract `config:` block or environment variable) is invalid.

    The message names the setting and the rule, so it can be shown to an
    operator as is.
    """


class GoDurationError(ValueError):
    """A string Go's ``time.ParseDuration`` rejects (Consul's durations)."""


class ConsulUnavailableError(Exception):
    """Consul could not answer now (refused, timed out, 5xx, 429): worth retrying.

    `reached` is False when the request provably never got to the agent
    (connection refused, name not resolved), so it cannot have had an effect.
    """

    def __init__(self, message: str, reached: bool = True) -> None:
        super().__init__(message)
        self.reached = reached


class ConsulConnectionLostError(ConsulUnavailableError):
    """The agent closed the connection before it answered (it restarted, or
    was stopped mid-request): a registration it held may be gone with it."""


class ConsulAnswerError(ConsulUnavailableError):
    """Consul answered something that is not Consul's: a status, content type,
    encoding or JSON shape no Consul agent sends (a proxy, a wrong address, an
    agent mid-restart). Treated as transient; `problem` names what was wrong.
    """

    def __init__(self, operation: str, endpoint: str, problem: str) -> None:
        super().__init__(
            f"{operation}: Consul answered something that is not Consul's "
            f"on {endpoint}: {problem}"
        )


class ConsulRejectedError(Exception):
    """Consul refused the request (400, 403): retrying the same request is futile."""

    def __init__(self, operation: str, status: int, reason: str) -> None:
        super().__init__(f"Consul rejected {operation} ({status}): {reason}")
        self.operation = operation
        self.status = status
        self.reason = reason


class ConsulRegistrationRequiredError(RuntimeError):
    """`consul.required` is set and the node could not register at start-up."""


class NoHealthyInstanceError(LookupError):
    """No instance of the service (with the wanted tags) is passing in Consul."""

    def __init__(self, service: str, tags: tuple[str, ...], reason: str) -> None:
        wanted = f" with tags {list(tags)}" if tags else ""
        super().__init__(f"no healthy instance of {service!r}{wanted}: {reason}")
        self.service = service
        self.tags = tags
        self.reason = reason


class RequestRejectedError(ValueError):
    """Raised by a handler for a request it will not carry out as asked (an
    event the current state does not accept, say): the caller's mistake, not
    the node's. POST /invoke answers 422 with this message, so it must be fit
    for the caller to read (no secrets, no internal paths).
    """
