# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""`<console script> service-definition`: the registration, for the platform to make."""

import json
import logging
import sys

from ..consul.service_definition import service_definition
from ..errors import ConfigurationError
from ..lifecycle.mixin_managed_node import MixinManagedNode
from ..logs.log_events import set_log_level
from ..registration.model_instance_registration import ModelInstanceRegistration
from .protected_settings import load_protected_settings

EXIT_OK = 0
EXIT_BAD_CONFIGURATION = 2


def service_definition_command(node_class: type[MixinManagedNode]) -> int:
    """Print the agent service definition the node would register, as JSON.

    Built by the code the node registers with, from the same contract and
    environment (ONEX_NODE_ADVERTISE_ADDRESS, ONEX_NODE_PORT, ...), so an
    agent's config directory or `consul services register` can hold exactly
    the node's registration when the node runs with consul.registration
    external. It carries no secret: the agent registers with its own token.
    """
    try:
        settings = load_protected_settings(node_class)
    except ConfigurationError as error:
        print(f"service-definition: configuration error: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    set_log_level(logging.WARNING)
    definition = service_definition(
        ModelInstanceRegistration.for_platform(settings), settings.check
    )
    json.dump({"Service": definition}, sys.stdout, indent=2)
    print()
    return EXIT_OK
