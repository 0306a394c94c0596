# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""POST /invoke: the input model as JSON in, the output model as JSON out."""

import asyncio
import json

from aiohttp import web
from aiohttp.typedefs import Handler
from omnibase_core.enums.enum_log_level import EnumLogLevel
from pydantic import ValidationError

from ..calling.call_deadline import REQUEST_DEADLINE
from ..calling.call_errors import CallDeadlineExceededError
from ..errors import RequestRejectedError
from ..logs.log_events import log_event
from ..settings.model_node_settings import ModelNodeSettings
from ..values.http_headers import MIN_BUDGET_MS
from .enum_invoke_error_code import EnumInvokeErrorCode
from .enum_node_phase import EnumNodePhase
from .error_response import error_response
from .health_route import NodeHealth
from .in_flight_limit import InFlightLimit
from .model_invalid_field import ModelInvalidField
from .protocol_invocable_node import ProtocolInvocableNode
from .request_budget import budget_ms

# Seconds a client should wait before asking again (starting, stopping, full).
RETRY_AFTER_S = "1"
_MEDIA_TYPE = "application/json"
_BAD_REQUEST_TEXT_CHARS = 200


class RequestRefusedError(Exception):
    """A request answered with an error before it reaches the node (internal)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def invoke_route(
    settings: ModelNodeSettings,
    node: ProtocolInvocableNode,
    health: NodeHealth,
    in_flight: InFlightLimit,
) -> Handler:
    """Run one request through the node; every refusal is a JSON error body."""

    async def invoke(request: web.Request) -> web.Response:
        if health.phase is not EnumNodePhase.READY:
            return _unavailable(health.phase)
        if not in_flight.try_enter():
            return error_response(
                503,
                EnumInvokeErrorCode.OVERLOADED,
                f"{in_flight.limit} requests are already running",
                headers={"Retry-After": RETRY_AFTER_S},
            )
        try:
            # The budget counts from arrival: reading the body spends it too.
            deadline = asyncio.get_running_loop().time() + _budget_s(
                request, settings.operation_timeout_ms
            )
            payload = node.input_model.model_validate(
                await _json_object(request, settings.max_request_bytes)
            )
            return await _run(node, payload, deadline)
        except RequestRefusedError as refused:
            return refused.response
        except ValidationError as error:
            return error_response(
                422,
                EnumInvokeErrorCode.INVALID_INPUT,
                f"the body does not match {node.input_model.__name__}",
                fields=_invalid_fields(error),
            )
        finally:
            in_flight.leave()

    return invoke


def _unavailable(phase: EnumNodePhase) -> web.Response:
    starting = phase is EnumNodePhase.STARTING
    return error_response(
        503,
        EnumInvokeErrorCode.STARTING if starting else EnumInvokeErrorCode.STOPPING,
        "the node is starting" if starting else "the node is stopping",
        headers={"Retry-After": RETRY_AFTER_S},
    )


def _budget_s(request: web.Request, operation_timeout_ms: int) -> float:
    try:
        return budget_ms(request.headers, operation_timeout_ms) / 1000
    except ValueError as error:
        raise RequestRefusedError(
            error_response(400, EnumInvokeErrorCode.INVALID_TIMEOUT, str(error))
        ) from None


async def _json_object(request: web.Request, max_bytes: int) -> object:
    """The body as JSON, refused (415, 413, 400, 422) before the model sees it."""
    if request.content_type != _MEDIA_TYPE:
        raise RequestRefusedError(
            error_response(
                415,
                EnumInvokeErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type must be {_MEDIA_TYPE}",
            )
        )
    charset = request.charset
    if charset is not None and charset.lower() not in {"utf-8", "utf8"}:
        raise RequestRefusedError(
            error_response(
                415,
                EnumInvokeErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "the body must be UTF-8 (RFC 8259), not "
                f"{charset[:_BAD_REQUEST_TEXT_CHARS]!r}",
            )
        )
    body = await _bounded_body(request, max_bytes)
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RequestRefusedError(
            error_response(
                400,
                EnumInvokeErrorCode.NOT_JSON,
                f"the body is not UTF-8 (byte {error.start})",
            )
        ) from None
    except json.JSONDecodeError as error:
        raise RequestRefusedError(
            error_response(
                400,
                EnumInvokeErrorCode.NOT_JSON,
                f"the body is not JSON: {error.msg} "
                f"(line {error.lineno}, column {error.colno})",
            )
        ) from None
    if not isinstance(document, dict):
        raise RequestRefusedError(
            error_response(
                422,
                EnumInvokeErrorCode.INVALID_INPUT,
                "the body must be a JSON object",
                fields=[
                    ModelInvalidField(
                        location=("body",), message="must be a JSON object"
                    )
                ],
            )
        )
    return document


async def _bounded_body(request: web.Request, max_bytes: int) -> bytes:
    """The body, read chunk by chunk and refused once past `max_bytes`."""
    declared = request.content_length
    if declared is not None:
        if declared > max_bytes:
            raise _too_large(max_bytes)
        # Declared and within bounds: aiohttp reads exactly that much.
        return await request.read()
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(body)


def _too_large(max_bytes: int) -> RequestRefusedError:
    return RequestRefusedError(
        error_response(
            413,
            EnumInvokeErrorCode.TOO_LARGE,
            f"the body is larger than {max_bytes} bytes",
        )
    )


async def _run(
    node: ProtocolInvocableNode, payload: object, deadline: float
) -> web.Response:
    """The node's output, or 422 (rejected), 504 (no time left, too slow) or
    500 (failed); the handler's calls are bounded by `deadline` too."""
    left_s = deadline - asyncio.get_running_loop().time()
    if left_s * 1000 < MIN_BUDGET_MS:
        return error_response(
            504,
            EnumInvokeErrorCode.DEADLINE_EXCEEDED,
            f"{max(int(left_s * 1000), 0)}ms left of the time budget: "
            f"not started (it needs at least {MIN_BUDGET_MS}ms)",
        )
    token = REQUEST_DEADLINE.set(deadline)
    try:
        async with asyncio.timeout_at(deadline) as budget:
            result = await node.invoke(payload)
    except RequestRejectedError as error:
        return error_response(422, EnumInvokeErrorCode.REJECTED, str(error))
    except CallDeadlineExceededError as error:
        return error_response(
            504,
            EnumInvokeErrorCode.DEADLINE_EXCEEDED,
            f"the time budget ran out while calling {error.service!r}",
        )
    except TimeoutError as error:
        if not budget.expired():
            return _failed(error)
        log_event(
            EnumLogLevel.WARNING,
            "invoke.timed_out",
            f"invoke ran past its time budget ({left_s:.3f}s) and was cancelled",
        )
        return error_response(
            504,
            EnumInvokeErrorCode.TIMEOUT,
            f"the operation took longer than its time budget ({left_s:.3f}s)",
        )
    except Exception as error:  # any other failure of the handler is a 500
        return _failed(error)
    finally:
        REQUEST_DEADLINE.reset(token)
    return web.Response(body=result.model_dump_json(), content_type=_MEDIA_TYPE)


def _failed(error: Exception) -> web.Response:
    # The type says what broke; the message may hold what the caller sent
    # or an internal path, so it stays out of the log line and the answer.
    log_event(
        EnumLogLevel.ERROR,
        "invoke.failed",
        f"invoke failed: {type(error).__name__}",
        error_type=type(error).__name__,
    )
    return error_response(
        500, EnumInvokeErrorCode.INTERNAL, "the node failed to handle the request"
    )


def _invalid_fields(error: ValidationError) -> list[ModelInvalidField]:
    # include_input=False: the value sent may be a caller's secret.
    return [
        ModelInvalidField(location=("body", *detail["loc"]), message=detail["msg"])
        for detail in error.errors(include_input=False, include_url=False)
    ]
