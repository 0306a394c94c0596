# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Healthy instances of the services a node calls, kept fresh by blocking queries.

One watch per service name runs a blocking query on `/v1/health/service/<name>`
(passing instances only) and replaces the cached set each time Consul answers
with something new, so a change reaches the cache as soon as Consul reports it.
Lookups (`pick`, `endpoints`) are plain in-memory reads: no request, no await.
When Consul cannot be reached the last healthy set keeps being served, flagged
stale in the logs and in `stale`; an instance Consul reported critical has
already left that set, so it is never served.
"""

import asyncio
import collections
import contextlib
import functools
import time
import types
import uuid
from collections.abc import Awaitable, Callable, KeysView, Mapping, Sequence

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..errors import ConsulRejectedError, ConsulUnavailableError, NoHealthyInstanceError
from ..logs.log_events import log_event
from ..loops.blocking_query import BlockingQueryIndex, answered_early, pause_after
from ..loops.supervised_loop import Sleep, SupervisedLoop
from ..settings.enum_balancing import EnumBalancing
from ..values.consul_tags import carries_tags
from .balancing import choose_endpoint
from .model_instance_endpoint import ModelInstanceEndpoint

type Endpoints = tuple[ModelInstanceEndpoint, ...]
# fetch(service, index) -> (X-Consul-Index, healthy instances): blocks while
# `index` is current, answers at once for index 0; an index of 0 means
# Consul's was missing or unusable.
type HealthFetch = Callable[
    [str, int], Awaitable[tuple[int, Sequence[ModelInstanceEndpoint]]]
]
type ChangeListener = Callable[[Endpoints], Awaitable[None]]
type Clock = Callable[[], float]


class InstanceCache:
    """Per-service watch tasks and the last healthy set each one saw."""

    def __init__(
        self,
        fetch: HealthFetch,
        retry: tuple[float, float],
        watch_wait: float,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        """`retry`: initial and cap of the backoff on errors (and of the brake
        on an index that does not advance); `watch_wait`: the `wait` of each
        blocking query. `sleep` and `clock` are injectable for tests."""
        self._fetch = fetch
        self._retry = retry
        self._wait_s = watch_wait
        self._sleep = sleep
        self._clock = clock
        self._instances: dict[str, Endpoints] = {}
        self._by_tags: dict[tuple[str, ...], Endpoints] = {}
        self._turns: dict[tuple[str, ...], int] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._answered: dict[str, asyncio.Event] = {}
        self._listeners: dict[str, tuple[str, ChangeListener]] = {}
        self.stale: set[str] = set()
        # Per service: new healthy sets taken, failed watch requests.
        self.updates: collections.Counter[str] = collections.Counter()
        self.watch_errors: collections.Counter[str] = collections.Counter()
        # Live read-only views for the metrics collector: the services watched
        # (until aclose) and the healthy set of each that Consul answered for.
        self.watched: KeysView[str] = self._tasks.keys()
        self.healthy_sets: Mapping[str, Endpoints] = types.MappingProxyType(
            self._instances
        )

    def watch(self, service: str) -> None:
        """Start watching `service` (once); needs a running event loop."""
        if service in self._tasks:
            return
        self._answered[service] = asyncio.Event()
        index = BlockingQueryIndex()
        loop = SupervisedLoop(
            f"watch of {service!r}",
            functools.partial(self._watch_step, service, index),
            self._retry,
            expected=(ConsulUnavailableError, ConsulRejectedError),
            on_failure=functools.partial(self._went_stale, service, index=index),
            sleep=self._sleep,
        )
        self._tasks[service] = asyncio.create_task(
            loop.run(), name=f"consul-watch-{service}"
        )

    async def ready(self, service: str, timeout: float) -> None:
        """Watch `service` and wait (at most `timeout`) for Consul's first answer."""
        self.watch(service)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._answered[service].wait()

    def answered(self, service: str) -> bool:
        """True once the watch of `service` got an answer (or gave up on one)."""
        event = self._answered.get(service)
        return event is not None and event.is_set()

    def endpoints(self, service: str, tags: Sequence[str] = ()) -> Endpoints:
        """Every cached healthy instance carrying all `tags` (case-insensitive)."""
        if not tags:
            found = self._instances.get(service, ())
        else:
            key = (service, *tags)
            cached = self._by_tags.get(key)
            if cached is None:
                cached = tuple(
                    endpoint
                    for endpoint in self._instances.get(service, ())
                    if carries_tags(endpoint.tags, tags)
                )
                self._by_tags[key] = cached
            found = cached
        if not found:
            raise NoHealthyInstanceError(service, tuple(tags), self._why_empty(service))
        return found

    def pick(
        self,
        service: str,
        tags: Sequence[str] = (),
        strategy: EnumBalancing = EnumBalancing.ROUND_ROBIN,
    ) -> ModelInstanceEndpoint:
        """One cached healthy instance, chosen by `strategy`."""
        found = self.endpoints(service, tags)
        turn = 0
        if strategy is EnumBalancing.ROUND_ROBIN:
            key = (service, *tags)
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
        return choose_endpoint(found, strategy, turn)

    async def subscribe(self, service: str, listener: ChangeListener) -> str:
        """Call `listener` with the healthy set now (if known) and on every change."""
        listener_id = uuid.uuid4().hex
        self._listeners[listener_id] = (service, listener)
        self.watch(service)
        if self.answered(service):
            await listener(self._instances.get(service, ()))
        return listener_id

    def unsubscribe(self, listener_id: str) -> bool:
        return self._listeners.pop(listener_id, None) is not None

    async def aclose(self) -> None:
        """Stop every watch; returns once their tasks (and requests) are gone."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._listeners.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch_step(self, service: str, index: BlockingQueryIndex) -> float:
        """One blocking query; the pause before the next one.

        Answers that come back early without the index advancing get a
        growing pause (the retry backoff), logged once per episode.
        """
        asked_at = self._clock()
        new_index, endpoints = await self._fetch(service, index.index)
        current = tuple(sorted(endpoints, key=_by_id))
        braking = index.idle_answers > 0
        idle = index.follow(
            new_index, answered_early(self._clock() - asked_at, self._wait_s)
        )
        if service in self.stale:
            self._went_fresh(service)
        changed = current != self._instances.get(service)
        if changed:
            self._replace(service, current)
        self._answered[service].set()
        if changed:
            await self._notify(service, current)
        if idle > 0 and not braking:
            log_event(
                EnumLogLevel.WARNING,
                "discovery.index_not_advancing",
                f"Consul answered the watch of {service!r} at once without its "
                f"index advancing (X-Consul-Index {new_index}); slowing the "
                "watch down until it does",
                service=service,
                index=new_index,
            )
        return pause_after(idle, self._retry)

    def _replace(self, service: str, current: Endpoints) -> None:
        self._instances[service] = current
        for key in [key for key in self._by_tags if key[0] == service]:
            del self._by_tags[key]
        self.updates[service] += 1

    async def _notify(self, service: str, current: Endpoints) -> None:
        for watched, listener in list(self._listeners.values()):
            if watched != service:
                continue
            try:
                await listener(current)
            except Exception as error:  # a listener must not stop the watch
                log_event(
                    EnumLogLevel.WARNING,
                    "discovery.listener_failed",
                    f"a watcher of {service!r} failed: {error!r}",
                    service=service,
                )

    def _went_stale(
        self,
        service: str,
        error: Exception,
        attempt: int,
        level: EnumLogLevel | None,
        *,
        index: BlockingQueryIndex,
    ) -> None:
        """Keep serving the last healthy set; say so once per kind of failure."""
        del attempt  # the level already says whether to speak
        # The agent may have restarted with its index starting over: a query
        # at the old index would be held for the whole wait (Consul blocks
        # while its index is not above the one sent), so read afresh.
        index.index = 0
        self.watch_errors[service] += 1
        self._answered[service].set()  # lookups stop waiting: nothing better is coming
        newly_stale = service not in self.stale
        self.stale.add(service)
        if level is None and not newly_stale:
            return
        known = len(self._instances.get(service, ()))
        log_event(
            level or EnumLogLevel.WARNING,
            "discovery.stale",
            f"cannot refresh the instances of {service!r} ({error}); "
            f"serving the last known healthy set ({known} instance(s))",
            service=service,
            instances=known,
        )

    def _went_fresh(self, service: str) -> None:
        self.stale.discard(service)
        log_event(
            EnumLogLevel.INFO,
            "discovery.fresh",
            f"instances of {service!r} are fresh again",
            service=service,
        )

    def _why_empty(self, service: str) -> str:
        if service in self.stale:
            return "Consul is unreachable and no healthy instance was known"
        if not self.answered(service):
            return "Consul has not answered yet"
        return "Consul reports no passing instance"


def _by_id(endpoint: ModelInstanceEndpoint) -> str:
    return endpoint.service_id
