# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""aiohttp's own error answers (404, 405, 413) as the node's JSON error body."""

from aiohttp import web
from aiohttp.typedefs import Handler

from .enum_invoke_error_code import EnumInvokeErrorCode
from .error_response import error_response

_CODES = {
    404: EnumInvokeErrorCode.NOT_FOUND,
    405: EnumInvokeErrorCode.METHOD_NOT_ALLOWED,
    413: EnumInvokeErrorCode.TOO_LARGE,
}


@web.middleware
async def json_errors_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """A client parses one error shape, whoever refused the request."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        code = _CODES.get(error.status)
        if code is None:
            raise
        # 405 keeps its Allow header: what the client should use instead.
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return error_response(error.status, code, error.reason, headers=allow)
