# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's client environment variables, read the way Consul's own CLI reads them.

Parsed once, here, into ModelConsulSettings: the node's connection
(consul/consul_agent_connection.py) reads no environment itself.
"""

from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from ..errors import ConfigurationError
from ..values.go_bool import parse_go_bool
from .consul_address import parse_http_addr
from .consul_token import acl_token

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
# Every variable this module reads: the Consul half of the node's one list
# (settings_loader.ENVIRONMENT_VARIABLES).
CONSUL_ENVIRONMENT_VARIABLES = (
    "CONSUL_HTTP_ADDR",
    "CONSUL_HTTP_SSL",
    "CONSUL_HTTP_SSL_VERIFY",
    "CONSUL_HTTP_TOKEN",
    "CONSUL_HTTP_TOKEN_FILE",
    "CONSUL_HTTP_AUTH",
    "CONSUL_CAPATH",
    *_TLS_FILES,
    *_TEXT,
)


def secrets_as_set(environ: Mapping[str, str]) -> tuple[str, str]:
    """CONSUL_HTTP_TOKEN and CONSUL_HTTP_AUTH as set, before any validation.

    Protected from the first line on, so not even a configuration error
    can echo them.
    """
    return environ.get("CONSUL_HTTP_TOKEN", ""), environ.get("CONSUL_HTTP_AUTH", "")


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
    token = acl_token(environ)
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
