# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Text the node did not write (answer bodies, foreign exception messages),
made safe to put into an exception message or a log line."""

import re

from .log_redaction import SecretRedactor

# A few hundred characters say what went wrong; a proxy's 1 MB error page
# must not become a 1 MB log line.
EXTERNAL_TEXT_LIMIT = 300
# Longer than any token or credential the node sends.
_SECRET_MARGIN = 1024
# C0 and C1 controls, DEL and the Unicode line separators: each could end a
# log line early or rewrite a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(
    text: str | bytes,
    redactor: SecretRedactor | None = None,
    limit: int = EXTERNAL_TEXT_LIMIT,
) -> str:
    """`text` on one line: secrets replaced, controls escaped, truncated.

    Secrets go first, so truncation never leaves a recognisable part of one
    (a body that echoes the X-Consul-Token header); bytes are decoded leniently
    because they are shown, not believed.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    # Only the head is shown, so only the head is redacted; the margin keeps
    # a secret that starts in the head whole.
    head = text[: limit + _SECRET_MARGIN]
    if redactor is not None:
        head = redactor.redact(head)
    shown = _CONTROL.sub(_escaped, head[:limit])[:limit]
    if len(text) > limit:
        shown += f"... ({len(text) - limit} more characters)"
    return shown


def _escaped(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape").decode("ascii")
