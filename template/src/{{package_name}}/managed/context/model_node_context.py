# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""ModelNodeContext: the door from the owner's handler to what the template runs."""

from collections.abc import Iterable, Sequence
from typing import Any, Self, overload
from uuid import UUID

from pydantic import BaseModel

from ..calling.call_arguments import CallPayload, CallTags, CallTimeout
from ..calling.handlers.handler_service_calls import HandlerServiceCalls
from ..discovery.endpoint_resolver import EndpointResolver
from ..discovery.handlers.fake_service_discovery import FakeServiceDiscovery
from ..discovery.model_instance_endpoint import ModelInstanceEndpoint
from ..logs.correlation import current_correlation_id
from ..metrics.node_metrics import NodeMetrics
from ..settings.enum_balancing import EnumBalancing
from ..settings.model_node_settings import ModelNodeSettings
from .node_logger import NodeLogger


class ModelNodeContext:
    """What a handler is built with: `Handler(context)`.

    - `await context.resolve_endpoint(service, tags=..., strategy=...)` and
      `await context.resolve_endpoints(service, tags=...)`: healthy instances
      from the node's discovery (Consul's, watched and cached);
    - `await context.call(service, payload, response_model=...)`: POST the
      payload to a healthy instance of `service`, failing over to others,
      within the request's deadline, with its correlation ID;
    - `context.settings`: the node's ModelNodeSettings (frozen);
    - `context.metrics`: NodeMetrics, the node's own Prometheus registry;
    - `context.log`: NodeLogger, JSON lines with secrets redacted;
    - `context.correlation_id`: the UUID of the request being handled (the
      caller's X-Correlation-ID, or one generated), None outside a request;
      every line logged meanwhile carries it already.

    Discovery and settings are there once the node is initialized (the node
    shell builds its handler earlier, with the node). Later template versions
    add members; every argument is keyword-only, so handlers keep working.
    Unit tests build one with `ModelNodeContext.in_memory(...)` and
    `await context.aclose()` it when done.
    """

    def __init__(self, *, log: NodeLogger) -> None:
        self.metrics = NodeMetrics()
        self.log = log
        self._settings: ModelNodeSettings | None = None
        self._resolver: EndpointResolver | None = None
        self._calls: HandlerServiceCalls | None = None

    @classmethod
    def in_memory(
        cls,
        *,
        settings: ModelNodeSettings,
        instances: Iterable[ModelInstanceEndpoint] = (),
    ) -> Self:
        """A context for unit tests: discovery answers from `instances`, no Consul."""
        discovery = FakeServiceDiscovery()
        for instance in instances:
            discovery.services[instance.service_id] = instance.as_record()
        context = cls(log=NodeLogger({"node": settings.node_class}))
        resolver = EndpointResolver(discovery, settings, context.metrics)
        context.attach(
            settings=settings,
            resolver=resolver,
            calls=HandlerServiceCalls(resolver, settings.calls, context.metrics),
        )
        return context

    def attach(
        self,
        *,
        settings: ModelNodeSettings,
        resolver: EndpointResolver,
        calls: HandlerServiceCalls,
    ) -> None:
        """Connect the node's settings, discovery and calls (the template calls it)."""
        self._settings = settings
        self._resolver = resolver
        self._calls = calls

    @property
    def settings(self) -> ModelNodeSettings:
        """The node's settings, as resolved once at start-up (read-only)."""
        if self._settings is None:
            raise RuntimeError("the node's settings are known once it is initialized")
        return self._settings

    @property
    def correlation_id(self) -> UUID | None:
        """The ID of the request being handled; None outside a request."""
        return current_correlation_id()

    async def resolve_endpoint(
        self,
        service: str,
        *,
        tags: Sequence[str] | None = None,
        strategy: EnumBalancing | None = None,
    ) -> ModelInstanceEndpoint:
        """One healthy instance of `service` carrying every tag in `tags`.

        `strategy` defaults to the contract's `discovery.balancing`. Raises
        NoHealthyInstanceError when no passing instance is known.
        """
        return await self._discovery().resolve_endpoint(
            service, tags=tags, strategy=strategy
        )

    async def resolve_endpoints(
        self, service: str, *, tags: Sequence[str] | None = None
    ) -> tuple[ModelInstanceEndpoint, ...]:
        """Every healthy instance of `service` carrying all `tags` (never empty)."""
        return await self._discovery().resolve_endpoints(service, tags=tags)

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
        """POST `payload` (a model or a mapping) as JSON to a healthy instance
        of `service` carrying all `tags`; return the answer validated into
        `response_model`, or the decoded JSON when there is none.

        `timeout` (seconds, every attempt included) defaults to the contract's
        `calls.timeout` and never exceeds what is left of the request being
        handled. Raises NoHealthyInstanceError, CallFailedError (its
        CallDeadlineExceededError when the time ran out), CallRejectedError
        or CallResponseInvalidError (managed/calling/call_errors.py).
        """
        if self._calls is None:
            raise RuntimeError("calls are available once the node is initialized")
        return await self._calls.call(
            service,
            payload,
            response_model=response_model,
            tags=tags,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        """Close the connections of `call` (tests of an in_memory() context;
        a node's own are closed by the runtime once its requests drained)."""
        if self._calls is not None:
            await self._calls.aclose()

    def _discovery(self) -> EndpointResolver:
        if self._resolver is None:
            raise RuntimeError("discovery is available once the node is initialized")
        return self._resolver
