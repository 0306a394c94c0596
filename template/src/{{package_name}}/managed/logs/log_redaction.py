# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Keeping secrets out of text that is shown: known secret values, URL credentials."""

import base64
import re

PLACEHOLDER = "<redacted>"
# The userinfo of a URL (`scheme://user:password@`, or scheme-relative
# `//user:password@`): a credential even without a password (a token passed
# as the user name). Anchored on `//` alone, the scheme left as it is: a
# pattern that also matched the scheme rescanned every long run of letters
# from each of its characters, minutes for a 1 MB line.
_URL_USERINFO = re.compile(r"//[^/?#@\s]*@")


def redact_url_credentials(text: str) -> str:
    """`http://user:pw@host` becomes `http://<redacted>@host`, anywhere in `text`."""
    return _URL_USERINFO.sub(f"//{PLACEHOLDER}@", text)


class SecretRedactor:
    """Replaces every known secret value (and URL credentials) by a placeholder.

    The last line of defence: whatever code wrote a line, a secret the
    process knows never reaches its output.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        # Longest first: a secret that contains another is replaced whole.
        # Sorted when a secret is added, not on each of the many redactions.
        self._longest_first: tuple[str, ...] = ()

    def add_token(self, token: str) -> None:
        """An ACL token: sent as it is in a header."""
        if token:
            self._remember(token)

    def add_basic_auth(self, user_info: str) -> None:
        """`user[:password]`: the password, and the header value it becomes."""
        if not user_info:
            return
        password = user_info.partition(":")[2]
        encoded = base64.b64encode(user_info.encode()).decode("ascii")
        self._remember(*(secret for secret in (password, encoded) if secret))

    def redact(self, text: str) -> str:
        for secret in self._longest_first:
            text = text.replace(secret, PLACEHOLDER)
        # `//` is in every URL with credentials: most lines skip the regex.
        return redact_url_credentials(text) if "//" in text else text

    def _remember(self, *secrets: str) -> None:
        self._secrets.update(secrets)
        self._longest_first = tuple(sorted(self._secrets, key=len, reverse=True))
