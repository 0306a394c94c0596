# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""ProtocolServiceDiscovery's argument and record types, named once for every
implementation (the fake and Consul's); `onex validate --strict` caps the
unions of a package, and an alias is one.
"""

from typing import Any

# One instance as the protocol describes it (id, name, address, port, tags,
# metadata): what discover_services and get_service answer.
type ServiceRecord = dict[str, Any]
# get_service's answer: the record, or None when the service is unknown.
type FoundRecord = ServiceRecord | None
# Tags a registration carries, or a lookup wants; None: none.
type RecordTags = list[str] | None
# Meta pairs of a registration; None: none.
type RecordMeta = dict[str, str] | None
# The health check URL or interval of a registration; None: not given.
type CheckText = str | None
