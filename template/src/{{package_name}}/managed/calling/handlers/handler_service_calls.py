# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""HandlerServiceCalls: POST a payload to a healthy instance of a service."""

import json
from typing import Any, overload

import aiohttp
from pydantic import BaseModel, ValidationError

from ...discovery.endpoint_resolver import EndpointResolver
from ...discovery.model_instance_endpoint import ModelInstanceEndpoint
from ...logs.correlation import current_correlation_id
from ...metrics.node_metrics import NodeMetrics
from ...settings.model_call_settings import ModelCallSettings
from ...values.http_headers import CORRELATION_HEADER, TIMEOUT_HEADER
from ..call_arguments import CallPayload, CallTags, CallTimeout
from ..call_deadline import remaining_budget
from ..call_errors import (
    CallAttempt,
    CallDeadlineExceededError,
    CallFailedError,
    CallRejectedError,
    CallResponseInvalidError,
)

# Where an instance that registers no invoke_path meta takes requests.
_DEFAULT_INVOKE_PATH = "/invoke"
_JSON = "application/json"


class HandlerServiceCalls:
    """`call(service, payload)`: the one way template and owner code call a node.

    Instances come from the node's discovery (the watch-fed cache); the
    payload goes as JSON to the instance's `invoke_path` meta with the
    request's correlation ID and remaining time budget. One aiohttp session
    (opened on the first call) serves every call until `aclose()`.
    """

    def __init__(
        self,
        resolver: EndpointResolver,
        settings: ModelCallSettings,
        metrics: NodeMetrics,
    ) -> None:
        self._resolver = resolver
        self._settings = settings
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None

    @overload
    async def call[ResponseT: BaseModel](
        self,
        service: str,
        payload: CallPayload,
        *,
        response_model: type[ResponseT],
        tags: CallTags = None,
        timeout: CallTimeout = None,
    ) -> ResponseT: ...

    @overload
    async def call(
        self,
        service: str,
        payload: CallPayload,
        *,
        response_model: None = None,
        tags: CallTags = None,
        timeout: CallTimeout = None,
    ) -> Any: ...

    async def call(
        self,
        service: str,
        payload: CallPayload,
        *,
        response_model: type[BaseModel] | None = None,
        tags: CallTags = None,
        timeout: CallTimeout = None,
    ) -> Any:
        """What ModelNodeContext.call answers (its docstring)."""
        budget = _budget(timeout or self._settings.timeout)
        if budget <= 0:
            raise CallDeadlineExceededError(service, (), "no time left")
        body = _encoded(payload)
        endpoints = await self._resolver.resolve_endpoints(service, tags=tags)
        endpoint = endpoints[0]
        try:
            status, answer = await self._post(endpoint, body, budget)
        except TimeoutError:
            raise CallDeadlineExceededError(
                service, (_attempt(endpoint, "timed out"),), "the time budget ran out"
            ) from None
        except aiohttp.ClientError as error:
            raise CallFailedError(
                service, (_attempt(endpoint, _transport_reason(error)),)
            ) from None
        if status == 200:
            return _decoded(
                service, _attempt(endpoint, "answered"), answer, response_model
            )
        if 400 <= status < 500 and status != 429:
            raise CallRejectedError(
                service, _attempt(endpoint, str(status)), status, _error_body(answer)
            )
        raise CallFailedError(service, (_attempt(endpoint, f"answered {status}"),))

    async def aclose(self) -> None:
        """Close the connections; the node calls it after its last request."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def _post(
        self, endpoint: ModelInstanceEndpoint, body: bytes, budget: float
    ) -> tuple[int, bytes]:
        headers = {
            "Content-Type": _JSON,
            TIMEOUT_HEADER: str(max(int(budget * 1000), 1)),
        }
        correlation_id = current_correlation_id()
        if correlation_id is not None:
            headers[CORRELATION_HEADER] = str(correlation_id)
        path = endpoint.metadata.get("invoke_path") or _DEFAULT_INVOKE_PATH
        timeout = aiohttp.ClientTimeout(
            total=budget, sock_connect=self._settings.connect_timeout
        )
        async with self._opened().post(
            f"http://{endpoint.host_port}{path}",
            data=body,
            headers=headers,
            timeout=timeout,
        ) as response:
            return response.status, await response.read()

    def _opened(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


def _budget(timeout: float) -> float:
    """Seconds this call may take: its timeout, within the request's deadline."""
    left = remaining_budget()
    return timeout if left is None else min(timeout, left)


def _encoded(payload: CallPayload) -> bytes:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json().encode()
    return json.dumps(payload, separators=(",", ":")).encode()


def _attempt(endpoint: ModelInstanceEndpoint, reason: str) -> CallAttempt:
    return CallAttempt(endpoint.service_id, endpoint.host_port, reason)


def _transport_reason(error: aiohttp.ClientError) -> str:
    if isinstance(error, aiohttp.ClientConnectorError):
        return f"connection failed: {error.strerror or type(error).__name__}"
    return type(error).__name__


def _decoded(
    service: str,
    attempt: CallAttempt,
    answer: bytes,
    response_model: type[BaseModel] | None,
) -> Any:
    try:
        if response_model is not None:
            return response_model.model_validate_json(answer)
        return json.loads(answer)
    except ValidationError as error:
        fields = sorted(
            {".".join(map(str, detail["loc"])) for detail in error.errors()}
        )
        problem = (
            f"does not match {response_model.__name__ if response_model else 'JSON'}"
            f" (fields: {', '.join(fields) or 'the body'})"
        )
        raise CallResponseInvalidError(service, attempt, problem) from None
    except ValueError:
        raise CallResponseInvalidError(service, attempt, "not JSON") from None


def _error_body(answer: bytes) -> dict[str, Any] | None:
    """The callee's `{"error": {...}}` as a dict; None for anything else."""
    try:
        document = json.loads(answer)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else None
