# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""A Consul agent address (`host:port`, `http[s]://host:port`) split into settings."""

from urllib.parse import urlsplit

from ..errors import ConfigurationError
from ..logs.log_redaction import redact_url_credentials

_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_http_addr(value: str, source: str) -> dict[str, object]:
    """Split a Consul address (`host:port`, `http[s]://host:port`) into settings.

    Errors show the address without its credentials (`user:password@`).
    """
    url = value if "://" in value else f"//{value}"
    shown = redact_url_credentials(url).removeprefix("//")
    if value.startswith("unix://"):
        raise ConfigurationError(
            f"{source}: unix sockets are not supported by this node; "
            "use host:port, http://host:port or https://host:port"
        )
    try:
        parsed = urlsplit(url)
    except ValueError as error:  # an unbalanced IPv6 bracket
        raise ConfigurationError(f"{source}={shown!r}: {error}") from None
    scheme = parsed.scheme or "http"
    if scheme not in _DEFAULT_PORTS:
        raise ConfigurationError(f"{source}={shown!r}: scheme must be http or https")
    if "@" in parsed.netloc:
        # Consul's clients take them from CONSUL_HTTP_AUTH; dropping them
        # silently would send requests without the credentials.
        raise ConfigurationError(
            f"{source}={shown!r}: credentials in the address are not used; "
            "set CONSUL_HTTP_AUTH=user:password instead"
        )
    try:
        # urllib reads ASCII decimal digits only (no "1_0", "٣", "+1").
        port = parsed.port
        if port == 0:
            raise ValueError("port 0 cannot be reached")
    except ValueError as error:
        raise ConfigurationError(
            f"{source}={shown!r}: invalid port ({error})"
        ) from None
    if not parsed.hostname or parsed.path not in ("", "/"):
        raise ConfigurationError(
            f"{source}={shown!r}: expected host:port, http://host:port "
            "or https://host:port"
        )
    result: dict[str, object] = {
        "host": parsed.hostname,
        "port": port if port is not None else _DEFAULT_PORTS[scheme],
    }
    if parsed.scheme:
        result["scheme"] = scheme
    return result
