# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's client environment variables, read the way Consul's own CLI reads them.

Parsed once, here, into ModelConsulSettings: the node's connection
(handlers/consul_agent_connection.py) reads no environment itself.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from ..errors import ConfigurationError
from ..logs.log_redaction import redact_url_credentials

# strconv.ParseBool, which Consul uses for every boolean variable.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What an HTTP header value can carry without surprises (RFC 9110 VCHAR).
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
# Variables naming a file (or directory) of TLS material, and the setting each sets.
_TLS_FILES = {
    "CONSUL_CACERT": "ca_file",
    "CONSUL_CLIENT_CERT": "client_cert",
    "CONSUL_CLIENT_KEY": "client_key",
}
# Plain text variables; their values are validated by ModelConsulSettings.
_TEXT = {
    "CONSUL_TLS_SERVER_NAME": "tls_server_name",
    "CONSUL_NAMESPACE": "namespace",
    "CONSUL_PARTITION": "partition",
}
# Which variable each setting came from, for error messages.
CONSUL_VARIABLES = {
    "host": "CONSUL_HTTP_ADDR",
    "port": "CONSUL_HTTP_ADDR",
    "scheme": "CONSUL_HTTP_ADDR / CONSUL_HTTP_SSL",
    "verify": "CONSUL_HTTP_SSL_VERIFY",
    "token": "CONSUL_HTTP_TOKEN / CONSUL_HTTP_TOKEN_FILE",
    "http_auth": "CONSUL_HTTP_AUTH",
    "ca_path": "CONSUL_CAPATH",
    **{setting: variable for variable, setting in _TLS_FILES.items()},
    **{setting: variable for variable, setting in _TEXT.items()},
}


def parse_go_bool(variable: str, value: str) -> bool:
    """Parse a boolean as Go's strconv.ParseBool does, naming the variable on error."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{variable}={value!r} is not a boolean: use one of "
        "1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False"
    )


def consul_overrides(environ: Mapping[str, str]) -> dict[str, object]:
    """Settings of ModelConsulSettings that the environment overrides.

    Files are checked for readability here, so a missing CA or key is a
    start-up error naming its variable, not a TLS failure at the first request.
    """
    overrides: dict[str, object] = {}
    address = environ.get("CONSUL_HTTP_ADDR", "").strip()
    if address:
        overrides.update(parse_http_addr(address, "CONSUL_HTTP_ADDR"))
    ssl = environ.get("CONSUL_HTTP_SSL")
    # As in Consul's Go client: a true value switches to https, a false one
    # leaves the scheme of CONSUL_HTTP_ADDR alone.
    if ssl and parse_go_bool("CONSUL_HTTP_SSL", ssl):
        overrides["scheme"] = "https"
    verify = environ.get("CONSUL_HTTP_SSL_VERIFY")
    if verify:
        overrides["verify"] = parse_go_bool("CONSUL_HTTP_SSL_VERIFY", verify)
    token = _token(environ)
    if token is not None:
        overrides["token"] = token
    http_auth = environ.get("CONSUL_HTTP_AUTH", "")
    if http_auth:
        overrides["http_auth"] = SecretStr(http_auth)
    overrides.update(_tls_overrides(environ))
    for variable, setting in _TEXT.items():
        value = environ.get(variable, "").strip()
        if value:
            overrides[setting] = value
    return overrides


def _tls_overrides(environ: Mapping[str, str]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for variable, setting in _TLS_FILES.items():
        value = environ.get(variable, "").strip()
        if value:
            overrides[setting] = _readable_file(variable, value)
    ca_path = environ.get("CONSUL_CAPATH", "").strip()
    if ca_path:
        overrides["ca_path"] = _readable_directory("CONSUL_CAPATH", ca_path)
    return overrides


def _readable_file(source: str, value: str) -> Path:
    """`value` as a path to a file this process can read, or a ConfigurationError."""
    path = Path(value)
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise ConfigurationError(
            f"{source}: cannot read file {value!r} ({error.strerror})"
        ) from None
    return path


def _readable_directory(source: str, value: str) -> Path:
    """`value` as a directory this process can list, or a ConfigurationError."""
    path = Path(value)
    try:
        next(path.iterdir(), None)
    except OSError as error:
        raise ConfigurationError(
            f"{source}: cannot read directory {value!r} ({error.strerror})"
        ) from None
    return path


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


def _token(environ: Mapping[str, str]) -> SecretStr | None:
    token_file = environ.get("CONSUL_HTTP_TOKEN_FILE", "").strip()
    if token_file:
        # The file wins over CONSUL_HTTP_TOKEN, as in Consul's CLI.
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ConfigurationError(
                f"CONSUL_HTTP_TOKEN_FILE: cannot read {token_file!r} ({error.strerror})"
            ) from None
        except UnicodeDecodeError:
            raise ConfigurationError(
                f"CONSUL_HTTP_TOKEN_FILE: {token_file!r} is not UTF-8 text"
            ) from None
        if not token:
            raise ConfigurationError(
                f"CONSUL_HTTP_TOKEN_FILE: {token_file!r} is empty; it must hold "
                "the ACL token"
            )
        return _header_safe_token(token, f"CONSUL_HTTP_TOKEN_FILE: {token_file!r}")
    token = environ.get("CONSUL_HTTP_TOKEN", "").strip()
    return _header_safe_token(token, "CONSUL_HTTP_TOKEN") if token else None


def _header_safe_token(token: str, source: str) -> SecretStr:
    """The token as a secret, if it can travel in an HTTP header.

    Surrounding whitespace (a token file's final newline) is already gone,
    as Consul's CLI trims it; anything else outside visible ASCII (a control
    character, a space, a pasted non-ASCII character) would break every
    request, so it is refused here. The message never shows the token.
    """
    if not _VISIBLE_ASCII.fullmatch(token):
        raise ConfigurationError(
            f"{source}: the ACL token must be visible ASCII characters only "
            "(no control characters, spaces or non-ASCII text)"
        )
    return SecretStr(token)
