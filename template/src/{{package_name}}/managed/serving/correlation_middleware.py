# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""X-Correlation-ID: taken or generated, set for the request, returned on the answer."""

from uuid import UUID, uuid4

from aiohttp import web
from aiohttp.typedefs import Handler

from ..logs.correlation import CORRELATION_ID
from ..values.http_headers import CORRELATION_HEADER
from .enum_invoke_error_code import EnumInvokeErrorCode
from .error_response import error_response


@web.middleware
async def correlation_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Every answer of the node carries the request's ID; every line logged
    while it is handled (see logs/correlation.py) does too.

    A header that is not a UUID is refused (400): the caller would otherwise
    look for its ID in logs that carry another.
    """
    given = request.headers.get(CORRELATION_HEADER)
    correlation_id = _parsed(given)
    token = CORRELATION_ID.set(correlation_id or uuid4())
    response: web.StreamResponse
    try:
        if given is not None and correlation_id is None:
            response = error_response(
                400,
                EnumInvokeErrorCode.INVALID_CORRELATION_ID,
                f"header {CORRELATION_HEADER} must be a UUID",
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                error.headers[CORRELATION_HEADER] = str(CORRELATION_ID.get())
                raise
        response.headers[CORRELATION_HEADER] = str(CORRELATION_ID.get())
        return response
    finally:
        CORRELATION_ID.reset(token)


def _parsed(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text.strip())
    except ValueError:
        return None
