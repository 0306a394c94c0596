# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The argument types of `call()`, named once for each signature that takes them.

(`onex validate --strict` caps the unions of a package; an alias is one.)
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

# What is sent: a pydantic model, or a mapping that encodes as a JSON object.
type CallPayload = BaseModel | Mapping[str, Any]
# Tags every instance called must carry; None: any instance of the service.
type CallTags = Sequence[str] | None
# Seconds the whole call may take; None: the contract's calls.timeout.
type CallTimeout = float | None
