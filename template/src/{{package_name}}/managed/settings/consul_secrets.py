# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The secrets the node sends Consul, read in one place for every redactor."""

from ..logs.log_redaction import SecretRedactor
from .model_consul_settings import ModelConsulSettings


def consul_secrets(settings: ModelConsulSettings) -> tuple[str, str]:
    """The ACL token and the basic-auth `user[:password]` the node sends ("" unset)."""
    token = settings.token.get_secret_value() if settings.token else ""
    http_auth = settings.http_auth.get_secret_value() if settings.http_auth else ""
    return token, http_auth


def consul_redactor(settings: ModelConsulSettings) -> SecretRedactor:
    """Replaces the token and the basic-auth credentials the node sends."""
    token, http_auth = consul_secrets(settings)
    redactor = SecretRedactor()
    redactor.add_token(token)
    redactor.add_basic_auth(http_auth)
    return redactor
