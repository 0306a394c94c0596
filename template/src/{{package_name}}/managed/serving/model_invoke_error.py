# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What went wrong with one request, as the error answer's `error` member."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict

from .enum_invoke_error_code import EnumInvokeErrorCode
from .model_invalid_field import ModelInvalidField


class ModelInvokeError(BaseModel):
    """A stable `code`, a message fit for the caller, the request's
    correlation ID and, for `invalid_input`, each failing field."""

    model_config = ConfigDict(frozen=True)

    code: EnumInvokeErrorCode
    message: str
    correlation_id: UUID
    fields: tuple[ModelInvalidField, ...] = ()
