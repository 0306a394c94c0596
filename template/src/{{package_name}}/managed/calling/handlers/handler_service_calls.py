# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""HandlerServiceCalls: POST a payload to healthy instances of a service, failing over."""

import asyncio
import json
import time
import uuid
from typing import Any, overload

import aiohttp
from pydantic import BaseModel, ValidationError

from ...discovery.balancing import attempt_order
from ...discovery.endpoint_resolver import EndpointResolver
from ...discovery.instance_cache import Clock
from ...discovery.model_instance_endpoint import ModelInstanceEndpoint
from ...errors import NoHealthyInstanceError
from ...logs.correlation import current_correlation_id
from ...metrics.call_metrics import CallMetrics
from ...metrics.enum_attempt_outcome import EnumAttemptOutcome
from ...metrics.enum_call_outcome import EnumCallOutcome
from ...metrics.node_metrics import NodeMetrics
from ...settings.model_call_settings import ModelCallSettings
from ...values.http_headers import (
    CORRELATION_HEADER,
    MIN_BUDGET_MS,
    TIMEOUT_HEADER,
)
from ..attempt_rules import (
    MAYBE_STARTED,
    error_body,
    error_outcome,
    status_outcome,
)
from ..call_arguments import CallPayload, CallTags, CallTimeout
from ..call_deadline import remaining_budget
from ..call_errors import (
    CallAttempt,
    CallDeadlineExceededError,
    CallFailedError,
    CallRejectedError,
    CallResponseInvalidError,
    InstancesEjectedError,
)
from ..outlier_ejection import OutlierEjection

# Where an instance that registers no invoke_path meta takes requests.
_DEFAULT_INVOKE_PATH = "/invoke"
_JSON = "application/json"
# How a call that raised ended, most specific class first.
_OUTCOMES: tuple[tuple[type[Exception], EnumCallOutcome], ...] = (
    (CallRejectedError, EnumCallOutcome.REJECTED),
    (CallResponseInvalidError, EnumCallOutcome.INVALID_RESPONSE),
    (CallDeadlineExceededError, EnumCallOutcome.DEADLINE_EXCEEDED),
    (NoHealthyInstanceError, EnumCallOutcome.NO_INSTANCE),
)


class HandlerServiceCalls:
    """`call(service, payload)`: the one way template and owner code call a node.

    Instances come from the node's discovery (the watch-fed cache), tried in
    the contract's balancing order, each at most once, at most
    `calls.max_attempts` of them, within the call's time budget, skipping
    the ejected ones (outlier_ejection.py); the payload goes as JSON to the
    instance's `invoke_path` meta with the request's correlation ID and what
    is left of the budget. Which failures move on to the next instance:
    attempt_rules.py. Calls, attempts and ejections are counted in `metrics`
    (metrics/call_metrics.py). One aiohttp session (opened on the first
    call) serves every call until `aclose()`; `clock` times the ejections.
    """

    def __init__(
        self,
        resolver: EndpointResolver,
        settings: ModelCallSettings,
        metrics: NodeMetrics,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        self._resolver = resolver
        self._settings = settings
        self._metrics = CallMetrics(metrics)
        self._ejection = OutlierEjection(settings, self._metrics, clock)
        self._session: aiohttp.ClientSession | None = None
        # Per service: the round-robin turn of the next call's first attempt.
        self._turns: dict[str, int] = {}

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
        budget = _budget(self._settings.timeout if timeout is None else timeout)
        body = _encoded(payload)
        series = self._metrics.of(service)
        # One ID for every attempt: the callee's logs and the caller's error agree.
        correlation_id = current_correlation_id() or uuid.uuid4()
        started = time.perf_counter()
        try:
            if budget * 1000 < MIN_BUDGET_MS:  # the callee would not start
                raise CallDeadlineExceededError(
                    service, (), "no time left", correlation_id=correlation_id
                )
            attempt, answer = await self._failed_over(
                service, body, tuple(tags or ()), budget, correlation_id
            )
            decoded = _decoded(service, attempt, answer, response_model, correlation_id)
        except Exception as error:
            series.calls[_call_outcome(error)].inc()
            raise
        finally:
            series.duration.observe(time.perf_counter() - started)
        series.calls[EnumCallOutcome.OK].inc()
        return decoded

    async def aclose(self) -> None:
        """Close the connections; the node calls it after its last request."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def _failed_over(
        self,
        service: str,
        body: bytes,
        tags: tuple[str, ...],
        budget: float,
        correlation_id: uuid.UUID,
    ) -> tuple[CallAttempt, bytes]:
        """The first answer of an instance, trying them in turn; raises the
        call's error when there is none to return."""
        series = self._metrics.of(service)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        found = await self._resolver.resolve_endpoints(service, tags=tags)
        self._ejection.forget_missing(service, tags, found)
        order = attempt_order(found, self._resolver.balancing, self._turn(service))
        headers = {"Content-Type": _JSON, CORRELATION_HEADER: str(correlation_id)}
        attempts: list[CallAttempt] = []
        timed_out = False
        for endpoint in order:
            left = deadline - loop.time()
            too_late = left * 1000 < MIN_BUDGET_MS
            if len(attempts) == self._settings.max_attempts or timed_out or too_late:
                break
            if not self._ejection.admits(endpoint):
                continue
            if attempts:
                series.retries.inc()
            outcome, reason, status, answer = await self._attempt(
                endpoint, body, headers, left
            )
            series.attempts[outcome].inc()
            attempt = _attempt(endpoint, reason)
            if outcome is EnumAttemptOutcome.ANSWERED:
                return attempt, answer
            if outcome is EnumAttemptOutcome.DEADLINE_EXCEEDED:
                # The budget this attempt carried ran out in the callee: what
                # is left here is less still, so no instance could finish.
                attempts.append(attempt)
                timed_out = True
                break
            if outcome is EnumAttemptOutcome.REJECTED:
                raise CallRejectedError(
                    service,
                    attempt,
                    status,
                    error_body(answer),
                    correlation_id=correlation_id,
                )
            if outcome in MAYBE_STARTED and not _idempotent(endpoint):
                reason = f"{reason}; not retried: {service} is not idempotent"
                attempts.append(_attempt(endpoint, reason))
                raise CallFailedError(
                    service, tuple(attempts), correlation_id=correlation_id
                )
            attempts.append(attempt)
            timed_out = outcome is EnumAttemptOutcome.TIMED_OUT
        if timed_out or (deadline - loop.time()) * 1000 < MIN_BUDGET_MS:
            raise CallDeadlineExceededError(
                service,
                tuple(attempts),
                "the time budget ran out",
                correlation_id=correlation_id,
            )
        if not attempts:
            raise InstancesEjectedError(
                service, tags, len(found), self._ejection.back_in(service)
            )
        raise CallFailedError(service, tuple(attempts), correlation_id=correlation_id)

    async def _attempt(
        self,
        endpoint: ModelInstanceEndpoint,
        body: bytes,
        headers: dict[str, str],
        left: float,
    ) -> tuple[EnumAttemptOutcome, str, int, bytes]:
        """One attempt: its outcome, reason, status and body (0, b"": none),
        counted for or against the instance."""
        status, answer = 0, b""
        try:
            status, answer = await self._post(endpoint, body, headers, left)
        except (TimeoutError, aiohttp.ClientError) as error:
            outcome, reason = error_outcome(error)
        except BaseException:
            self._ejection.release(endpoint)  # cancelled: nothing learnt
            raise
        else:
            outcome, reason = status_outcome(status, answer), f"answered {status}"
        self._ejection.record(endpoint, outcome)
        return outcome, reason, status, answer

    async def _post(
        self,
        endpoint: ModelInstanceEndpoint,
        body: bytes,
        headers: dict[str, str],
        left: float,
    ) -> tuple[int, bytes]:
        """One request, bounded by what is left of the call's budget."""
        path = endpoint.metadata.get("invoke_path") or _DEFAULT_INVOKE_PATH
        timeout = aiohttp.ClientTimeout(
            total=left, sock_connect=min(self._settings.connect_timeout, left)
        )
        sent = {**headers, TIMEOUT_HEADER: str(max(int(left * 1000), 1))}
        async with self._opened().post(
            f"http://{endpoint.host_port}{path}",
            data=body,
            headers=sent,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            return response.status, await response.read()

    def _turn(self, service: str) -> int:
        """This call's round-robin turn for `service` (one per call)."""
        turn = self._turns.get(service, 0)
        self._turns[service] = turn + 1
        return turn

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


def _call_outcome(error: Exception) -> EnumCallOutcome:
    """The label of a call that raised `error` (the first class it is of)."""
    for kind, outcome in _OUTCOMES:
        if isinstance(error, kind):
            return outcome
    return EnumCallOutcome.FAILED


def _idempotent(endpoint: ModelInstanceEndpoint) -> bool:
    """The callee's contract (its `idempotent` meta) allows running it twice."""
    return endpoint.metadata.get("idempotent") == "true"


def _decoded(
    service: str,
    attempt: CallAttempt,
    answer: bytes,
    response_model: type[BaseModel] | None,
    correlation_id: uuid.UUID,
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
        raise CallResponseInvalidError(
            service, attempt, problem, correlation_id=correlation_id
        ) from None
    except ValueError:
        raise CallResponseInvalidError(
            service, attempt, "not JSON", correlation_id=correlation_id
        ) from None
