# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The ACL token (CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN), header-safe or refused."""

import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from ..errors import ConfigurationError

# What an HTTP header value can carry without surprises (RFC 9110 VCHAR).
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def acl_token(environ: Mapping[str, str]) -> SecretStr | None:
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
