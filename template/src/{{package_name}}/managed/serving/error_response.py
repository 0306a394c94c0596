# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""An error answer of the HTTP surface: a status and ModelInvokeErrorBody."""

from collections.abc import Mapping, Sequence

from aiohttp import web

from ..logs.correlation import current_correlation_id
from .enum_invoke_error_code import EnumInvokeErrorCode
from .model_invalid_field import ModelInvalidField
from .model_invoke_error import ModelInvokeError
from .model_invoke_error_body import ModelInvokeErrorBody


def error_response(
    status: int,
    code: EnumInvokeErrorCode,
    message: str,
    *,
    fields: Sequence[ModelInvalidField] = (),
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """The JSON error body with the correlation ID of the request being handled.

    `message` must be fit for the caller: no traceback, secret or path.
    """
    correlation_id = current_correlation_id()
    if correlation_id is None:
        raise RuntimeError("error_response() answers a request: none is being handled")
    body = ModelInvokeErrorBody(
        error=ModelInvokeError(
            code=code,
            message=message,
            correlation_id=correlation_id,
            fields=tuple(fields),
        )
    )
    return web.Response(
        status=status,
        body=body.model_dump_json(),
        content_type="application/json",
        headers=headers,
    )
