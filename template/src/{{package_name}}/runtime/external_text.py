# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Text the node did not write (answer bodies, foreign exception messages),
made safe to put into an exception message or a log line."""

import re
from collections.abc import Iterable

# A few hundred characters say what went wrong; a proxy's 1 MB error page
# must not become a 1 MB log line.
EXTERNAL_TEXT_LIMIT = 300
REDACTED = "<redacted>"
# C0 and C1 controls, DEL and the Unicode line separators: each could end a
# log line early or rewrite a terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(
    text: str | bytes,
    secrets: Iterable[str] = (),
    limit: int = EXTERNAL_TEXT_LIMIT,
) -> str:
    """`text` on one line: secrets replaced, controls escaped, truncated.

    Secrets go first, so truncation never leaves a recognisable part of one
    (a body that echoes the X-Consul-Token header); bytes are decoded leniently
    because they are shown, not believed.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = text.strip()
    shown = _CONTROL.sub(_escaped, text[:limit])[:limit]
    if len(text) > limit:
        shown += f"... ({len(text) - limit} more characters)"
    return shown


def _escaped(match: re.Match[str]) -> str:
    return match[0].encode("unicode_escape").decode("ascii")
