# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The JSON body of every error answer: `{"error": {...}}`."""

from pydantic import BaseModel, ConfigDict

from .model_invoke_error import ModelInvokeError


class ModelInvokeErrorBody(BaseModel):
    """One member, so a client tells an error from an output at a glance."""

    model_config = ConfigDict(frozen=True)

    error: ModelInvokeError
