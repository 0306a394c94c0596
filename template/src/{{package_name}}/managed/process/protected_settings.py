# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The node's settings, loaded with every secret they hold kept out of logs."""

import os

from ..lifecycle.mixin_managed_node import MixinManagedNode
from ..logs.log_events import configure_logging, protect_secrets
from ..settings.consul_environment import secrets_as_set
from ..settings.consul_secrets import consul_secrets
from ..settings.model_node_settings import ModelNodeSettings
from ..settings.node_contract import settings_for


def load_protected_settings(node_class: type[MixinManagedNode]) -> ModelNodeSettings:
    """The settings of `node_class` from its contract and the environment.

    Logging is JSON from the first line (INFO until the caller sets the
    level), and every secret is redacted before anything can log it: the
    environment's first, then the token read from a file, which only the
    settings know. Raises ConfigurationError as settings_for does.
    """
    configure_logging()
    protect_secrets(*secrets_as_set(os.environ))
    settings = settings_for(node_class, os.environ)
    protect_secrets(*consul_secrets(settings.consul))
    return settings
