# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The agent service definition of one registration, as Consul's API spells it.

The one place the node's registration takes Consul's shape: the body the node
PUTs to /v1/agent/service/register, and (under "Service") the file the agent
reads from its config directory or `consul services register` sends, which
match Consul's keys case-insensitively.
"""

from typing import Any

from ..registration.model_instance_registration import ModelInstanceRegistration
from ..settings.model_check_settings import ModelCheckSettings
from ..values.address_detection import host_port
from .consul_check_definition import check_definition


def service_definition(
    registration: ModelInstanceRegistration, check: ModelCheckSettings
) -> dict[str, Any]:
    """ID, name, address, port, tags, meta and the one check of `registration`."""
    definition: dict[str, Any] = {
        "ID": registration.service_id,
        "Name": registration.service_name,
        "Address": registration.address,
        "Port": registration.port,
        "Tags": list(registration.tags),
        "Meta": dict(registration.meta),
    }
    probe = check_definition(
        check,
        host_port(registration.address, registration.port),
        registration.health_check_url or None,
    )
    if probe is not None:
        definition["Check"] = probe
    return definition
