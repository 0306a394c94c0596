# Managed by the ONEX node template: `copier update` replaces this file.
"""Errors the runtime raises; their messages never contain secrets."""


class ConfigurationError(ValueError):
    """A setting (contract `config:` block or environment variable) is invalid.

    The message names the setting and the rule, so it can be shown to an
    operator as is.
    """


class ConsulUnavailableError(Exception):
    """Consul could not answer now (refused, timed out, 5xx, 429): worth retrying."""


class ConsulRejectedError(Exception):
    """Consul refused the request (400, 403): retrying the same request is futile."""

    def __init__(self, operation: str, status: int, reason: str) -> None:
        super().__init__(f"Consul rejected {operation} ({status}): {reason}")
        self.operation = operation
        self.status = status
        self.reason = reason


class ConsulRegistrationRequiredError(RuntimeError):
    """`consul.required` is set and the node could not register at start-up."""
