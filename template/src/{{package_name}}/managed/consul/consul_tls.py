# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The TLS context the node talks to its Consul agent with.

Built by the node from the Consul CLI variables (CONSUL_CACERT, CONSUL_CAPATH,
CONSUL_CLIENT_CERT/KEY, CONSUL_HTTP_SSL_VERIFY), as Consul's CLI builds it; the
server name (CONSUL_TLS_SERVER_NAME) is set per request. Every failure to load TLS material is a ConfigurationError naming
the variable, raised at start-up.
"""

import ssl
from pathlib import Path

from ..errors import ConfigurationError
from ..settings.model_consul_settings import ModelConsulSettings


def consul_ssl_context(settings: ModelConsulSettings) -> ssl.SSLContext | None:
    """The context for https, None for plain http.

    As in Consul's Go client: CONSUL_CACERT wins over CONSUL_CAPATH, and with
    either the system's CAs are not trusted; without both they are.
    """
    if settings.scheme != "https":
        return None
    # PROTOCOL_TLS_CLIENT verifies certificates and host names by default;
    # unlike create_default_context() it trusts nothing until told to.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Consul's own minimum
    if settings.ca_file is not None:
        _trust(context, "CONSUL_CACERT", settings.ca_file)
    elif settings.ca_path is not None:
        _trust_directory(context, settings.ca_path)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if settings.client_cert is not None and settings.client_key is not None:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except (OSError, ssl.SSLError) as error:
            raise ConfigurationError(
                "CONSUL_CLIENT_CERT / CONSUL_CLIENT_KEY: cannot load the client "
                f"certificate {str(settings.client_cert)!r} with key "
                f"{str(settings.client_key)!r} ({_reason(error)}); both must be "
                "PEM files and the key must match the certificate"
            ) from None
    if not settings.verify:
        # Order matters: check_hostname must be off before CERT_NONE is allowed.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _trust(context: ssl.SSLContext, variable: str, path: Path) -> None:
    text = _ca_text(variable, path)
    try:
        context.load_verify_locations(cadata=text)
    except ssl.SSLError as error:
        raise ConfigurationError(
            f"{variable}: {str(path)!r} is not a valid PEM CA certificate "
            f"({_reason(error)})"
        ) from None


def _trust_directory(context: ssl.SSLContext, directory: Path) -> None:
    """Every file in the directory, like Go's rootcerts.LoadCAPath.

    OpenSSL's own capath wants c_rehash-style file names; Consul's CLI reads
    any file, so the node does too.
    """
    try:
        files = sorted(entry for entry in directory.iterdir() if entry.is_file())
    except OSError as error:
        raise ConfigurationError(
            f"CONSUL_CAPATH: cannot read directory {str(directory)!r} "
            f"({error.strerror})"
        ) from None
    if not files:
        raise ConfigurationError(
            f"CONSUL_CAPATH: directory {str(directory)!r} holds no CA certificate"
        )
    for path in files:
        _trust(context, "CONSUL_CAPATH", path)


def _ca_text(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"{variable}: cannot read CA certificate {str(path)!r} ({_reason(error)})"
        ) from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigurationError(
            f"{variable}: {str(path)!r} holds no PEM certificate "
            "(-----BEGIN CERTIFICATE-----)"
        )
    return text


def _reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLError):
        return error.reason or str(error)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
