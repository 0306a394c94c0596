# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""TCP port numbers, read strictly: plain ASCII decimal digits, 1 to 65535."""

import re
from typing import Annotated

from pydantic import BeforeValidator

# int() also reads "1_0" (10), "٣" (3), "+1" and " 1": a port written that
# way is a typo, not a port.
_DECIMAL = re.compile(r"[0-9]{1,5}")
_RULE = "port must be plain decimal digits from 1 to 65535"


def parse_port(value: object) -> int:
    """`value` (an int from YAML, or text) as a port; ValueError naming the rule."""
    if isinstance(value, int) and not isinstance(value, bool):
        port = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        port = int(value)
    else:
        raise ValueError(f"{value!r}: {_RULE}")
    if not 1 <= port <= 65535:
        raise ValueError(f"{value!r}: {_RULE}")
    return port


type PortNumber = Annotated[int, BeforeValidator(parse_port)]
