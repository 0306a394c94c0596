# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's client environment variables, read the way Consul's own CLI reads them.

py-consul reads a few of these itself, with traps (no IPv6, only the literal
"true", an env token overriding an explicit one), so the node parses them here
and hands py-consul explicit values only.
"""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from .errors import ConfigurationError

# strconv.ParseBool, which Consul uses for every boolean variable.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_go_bool(variable: str, value: str) -> bool:
    """Parse a boolean as Go's strconv.ParseBool does, naming the variable on error."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{variable}={value!r} is not a boolean: use one of 1, t, true, TRUE, "
        "0, f, false, FALSE"
    )


def consul_overrides(environ: Mapping[str, str]) -> dict[str, object]:
    """Settings of ModelConsulSettings that the environment overrides."""
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
    return overrides


def parse_http_addr(value: str, source: str) -> dict[str, object]:
    """Split a Consul address (`host:port`, `http[s]://host:port`) into settings."""
    if value.startswith("unix://"):
        raise ConfigurationError(
            f"{source}: unix sockets are not supported by this node; "
            "use host:port, http://host:port or https://host:port"
        )
    parsed = urlsplit(value if "://" in value else f"//{value}")
    scheme = parsed.scheme or "http"
    if scheme not in _DEFAULT_PORTS:
        raise ConfigurationError(f"{source}={value!r}: scheme must be http or https")
    try:
        port = parsed.port
    except ValueError as error:
        raise ConfigurationError(
            f"{source}={value!r}: invalid port ({error})"
        ) from None
    if not parsed.hostname or parsed.path not in ("", "/"):
        raise ConfigurationError(
            f"{source}={value!r}: expected host:port, http://host:port "
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
            return SecretStr(Path(token_file).read_text(encoding="utf-8").strip())
        except OSError as error:
            raise ConfigurationError(
                f"CONSUL_HTTP_TOKEN_FILE: cannot read {token_file!r} ({error.strerror})"
            ) from None
    token = environ.get("CONSUL_HTTP_TOKEN", "").strip()
    return SecretStr(token) if token else None
