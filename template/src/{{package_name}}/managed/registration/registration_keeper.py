# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Keep the node registered with service discovery, whatever Consul is doing."""

import asyncio
import contextlib
import time
from collections.abc import Callable

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..errors import (
    ConfigurationError,
    ConsulConnectionLostError,
    ConsulRegistrationRequiredError,
    ConsulRejectedError,
    ConsulUnavailableError,
)
from ..logs.external_text import one_line
from ..logs.log_events import log_event
from ..loops.backoff import backoff_delay
from ..loops.blocking_query import BlockingQueryHash, answered_early, pause_after
from ..loops.supervised_loop import Sleep, SupervisedLoop
from ..metrics.enum_registration_outcome import EnumRegistrationOutcome
from ..metrics.registration_metrics import RegistrationMetrics
from ..settings.consul_secrets import consul_redactor
from ..settings.enum_check_mode import EnumCheckMode
from ..settings.model_check_settings import ModelCheckSettings
from ..settings.model_consul_settings import ModelConsulSettings
from ..values.address_detection import host_port
from .deregistration import deregister
from .model_instance_registration import ModelInstanceRegistration
from .protocol_registration_watch import (
    ProtocolRegistrationWatch,
    WatchedRegistration,
)
from .protocol_ttl_reporter import ProtocolTtlReporter

# Reports per TTL: two may be lost before the check expires.
_TTL_REPORTS_PER_PERIOD = 3

# One round of the registration watch: seconds it took, and the answer.
type WatchRound = tuple[float, WatchedRegistration]


class RegistrationKeeper:
    """Registers in the background, notices when the agent forgets, deregisters.

    The node must serve even when Consul is down, so registration never blocks
    start-up for longer than `register_wait` and is retried with capped,
    jittered backoff. A rejected request (bad input, ACL) is logged once and
    not retried: the same request cannot succeed. Once registered, the keeper
    confirms the registration every check interval (in ttl mode: reports
    health three times per TTL) and registers again when the agent lost it,
    as a restarted dev agent or one with an ephemeral data dir does. A
    backend that can watch a registration (ProtocolRegistrationWatch: Consul's
    hash blocking on GET /v1/agent/service/<id>) is not polled: one request
    is held up to `watch_wait`, answered as soon as the registration changes
    or disappears, and a connection dropped mid-watch counts as a loss; ttl
    mode reports beside it on its own schedule. It runs
    as a SupervisedLoop: whatever a step raises is logged and retried, so the
    keeper never stops keeping (nor `stop()` deregistering). `sleep` is
    injectable for tests on a simulated clock.
    """

    def __init__(
        self,
        discovery: ProtocolServiceDiscovery,
        registration: ModelInstanceRegistration,
        consul: ModelConsulSettings,
        check: ModelCheckSettings,
        metrics: RegistrationMetrics,
        is_healthy: Callable[[], bool],
        *,
        watch_wait: float,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if check.mode is EnumCheckMode.TTL and not isinstance(
            discovery, ProtocolTtlReporter
        ):
            raise ConfigurationError(
                "check mode ttl needs a discovery backend that can report TTL "
                f"checks; {type(discovery).__name__} cannot"
            )
        self._discovery = discovery
        self._registration = registration
        self._consul = consul
        self._check = check
        self._metrics = metrics
        self._is_healthy = is_healthy
        self._sleep = sleep
        self._clock = clock
        self._retry = (consul.retry_initial, consul.retry_cap)
        self._watch_wait = watch_wait
        # What the agent must keep answering; anything else was changed by
        # someone re-registering the ID, so the node registers again.
        self._expected = {
            "id": registration.service_id,
            "name": registration.service_name,
            "address": registration.address,
            "port": registration.port,
            "tags": list(registration.tags),
            "metadata": dict(registration.meta),
        }
        self._hash = BlockingQueryHash()
        # The held registration watch: it outlives a step that only reports
        # the TTL, so reports cost no second request.
        self._watch: asyncio.Task[WatchRound] | None = None
        self._watch_failures = 0
        # Registrations replaced by other content in a row: two nodes sharing
        # one service ID would otherwise re-register against each other in a
        # busy loop, so each replacement after the first waits longer.
        self._replacements = 0
        self._report_at = 0.0
        # Foreign messages are cleaned of the token before they are shown.
        self._redactor = consul_redactor(consul)
        self._first_outcome = asyncio.Event()
        self._registered = asyncio.Event()
        # Why the last attempt failed; formatted only when it is shown.
        self._last_error: Exception | None = None
        self._task: asyncio.Task[None] | None = None
        # True while a registration may exist in Consul (one succeeded, or a
        # request got to the agent without an answer): stopping must then
        # deregister. Refused connections leave it unset, so a node that never
        # reached Consul stops without a pointless deregistration warning.
        self._may_be_registered = False
        self._ever_registered = False
        # Clear while a registration request is in flight: stop() lets it end
        # rather than cancel it, since only its outcome tells whether the
        # agent got it (and so whether there is anything to deregister).
        self._attempt_over = asyncio.Event()
        self._attempt_over.set()
        self._stopped = False
        # Failed registration attempts since the last success.
        self._failures = 0
        # Why confirmations failed since the last success: each reason is
        # logged once, so a second kind of failure is not hidden by the first.
        self._unconfirmed: set[str] = set()

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    async def start(self) -> None:
        """Start registering; return at the first answer or after `register_wait`.

        Raises ConsulRegistrationRequiredError when `consul.required` is set
        and that first answer was not a successful registration.
        """
        registration = self._registration
        loop = SupervisedLoop(
            f"registration of service {registration.service_name!r}",
            self._step,
            self._retry,
            expected=(ConsulUnavailableError,),
            on_failure=self._failed,
            redactor=self._redactor,
            sleep=self._sleep,
        )
        self._task = asyncio.create_task(
            loop.run(), name=f"consul-registration-{registration.service_id}"
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._consul.register_wait):
                await self._first_outcome.wait()
        if self._consul.required and not self.registered:
            await self.stop()
            raise ConsulRegistrationRequiredError(
                f"consul.required is set and service "
                f"{self._registration.service_name!r} could not be registered: "
                f"{self._last_reason()}"
            )

    async def wait_registered(self) -> None:
        await self._registered.wait()

    async def stop(self) -> None:
        """Stop all work and remove the registration; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        # One bound for the whole of stop(), as for the deregistration alone:
        # an attempt in flight gets at most half of it to end (a refusal ends
        # it in milliseconds), the deregistration at least the other half.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._consul.deregister_timeout
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._consul.deregister_timeout / 2):
                await self._attempt_over.wait()
        tasks = [task for task in (self._task, self._watch) if task is not None]
        self._watch = None
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._may_be_registered:
            await deregister(
                self._discovery,
                self._registration,
                deadline - loop.time(),
                self._metrics,
                self._redactor,
            )

    async def _step(self) -> float | None:
        """Register, or confirm; the pause before the next step (None: give up)."""
        if not self.registered:
            return await self._register()
        if isinstance(self._discovery, ProtocolRegistrationWatch):
            return await self._keep(self._discovery)
        return await self._confirm()

    async def _register(self) -> float | None:
        """One attempt; ConsulUnavailableError (and the unexpected) propagate to
        the loop, which backs off; a rejection ends the loop."""
        self._may_be_registered = True
        started = time.perf_counter()
        self._attempt_over.clear()
        try:
            await self._send_registration()
        except ConsulRejectedError as error:
            # Consul refused it: no registration was made by this request.
            self._may_be_registered = self._ever_registered
            self._note_failure(error)
            self._metrics.record(EnumRegistrationOutcome.REGISTER_REJECTED)
            _log_rejected(self._registration, error)
            return None
        except ConsulUnavailableError as error:
            if not error.reached:
                self._may_be_registered = self._ever_registered
            raise
        finally:
            self._attempt_over.set()
        self._note_registered(started)
        self._hash = BlockingQueryHash()
        self._report_at = self._clock() + self._confirmation_pause()
        if isinstance(self._discovery, ProtocolRegistrationWatch):
            return 0.0  # read the registration's hash at once, then block on it
        return self._confirmation_pause()

    def _failed(
        self, error: Exception, attempt: int, level: EnumLogLevel | None
    ) -> None:
        """A step raised: count a failed registration; log Consul's failures
        (the loop logs the others)."""
        if not self.registered:
            self._failures = attempt
            self._note_failure(error)
            self._metrics.record(EnumRegistrationOutcome.REGISTER_FAILED)
        if isinstance(error, ConsulUnavailableError) and level is not None:
            _log_unavailable(self._registration, error, attempt, level)

    async def _send_registration(self) -> None:
        registration = self._registration
        await self._discovery.register_service(
            registration.service_id,
            registration.service_name,
            registration.address,
            registration.port,
            tags=list(registration.tags),
            metadata=dict(registration.meta),
            health_check_url=registration.health_check_url,
        )

    async def _keep(self, watcher: ProtocolRegistrationWatch) -> float:
        """Registered: wait on the held watch (in ttl mode at most until the
        next report is due); the pause before the next step."""
        ttl = self._check.mode is EnumCheckMode.TTL
        due = self._report_at - self._clock()
        if ttl and due <= 0:
            return await self._report()
        if self._watch is None:
            self._watch = asyncio.create_task(
                self._watch_round(watcher),
                name=f"consul-registration-watch-{self._registration.service_id}",
            )
        if not ttl:
            await asyncio.wait({self._watch})
        elif not (await asyncio.wait({self._watch}, timeout=due))[0]:
            return 0.0  # a TTL report is due; the watch goes on being held
        watch, self._watch = self._watch, None
        pause = self._watched(watch)
        if ttl:  # no pause may delay the next report
            pause = max(0.0, min(pause, self._report_at - self._clock()))
        return pause

    async def _watch_round(self, watcher: ProtocolRegistrationWatch) -> WatchRound:
        asked_at = self._clock()
        answer = await watcher.watch_registration(
            self._registration.service_id, self._hash.content_hash, self._watch_wait
        )
        return self._clock() - asked_at, answer

    def _watched(self, watch: asyncio.Task[WatchRound]) -> float:
        """What one answer of the watch means; the pause before the next one."""
        name = self._registration.service_name
        try:
            elapsed, (content_hash, record) = watch.result()
        except ConsulConnectionLostError as error:
            return self._lost(
                f"the connection to the Consul agent dropped during the watch of "
                f"service {name!r} ({error}), as when the agent restarts"
            )
        except (ConsulUnavailableError, ConsulRejectedError) as error:
            self._unconfirmed_because(error)
            self._watch_failures += 1
            return backoff_delay(self._watch_failures, *self._retry)
        self._unconfirmed.clear()
        self._watch_failures = 0
        if record is None:
            return self._lost(f"the Consul agent no longer knows service {name!r}")
        if record != self._expected:
            self._replacements += 1
            self._lost(
                f"service ID {self._registration.service_id!r} was registered "
                "again with other content (another node with the same ID?)"
            )
            if self._replacements == 1:
                return 0.0
            return backoff_delay(self._replacements - 1, *self._retry)
        self._replacements = 0
        idle = self._hash.follow(
            content_hash, answered_early(elapsed, self._watch_wait)
        )
        return pause_after(idle, self._retry)

    async def _report(self) -> float:
        """The TTL report that is due, on its schedule whatever the watch does."""
        pause = await self._confirm()
        self._report_at = self._clock() + pause
        if not self.registered and self._watch is not None:
            self._watch.cancel()  # it watches a registration that is gone
            self._watch = None
        return 0.0

    async def _confirm(self) -> float:
        """Check that the agent still knows this service; the pause before the
        next step (0 when it forgot: register again at once)."""
        try:
            still_registered = await self._confirm_registration()
        except (ConsulUnavailableError, ConsulRejectedError) as error:
            self._unconfirmed_because(error)
            return self._confirmation_pause()
        self._unconfirmed.clear()
        if still_registered:
            return self._confirmation_pause()
        return self._lost(
            "the Consul agent no longer knows service "
            f"{self._registration.service_name!r}"
        )

    def _unconfirmed_because(self, error: Exception) -> None:
        """Say once per reason that the registration cannot be confirmed."""
        if str(error) in self._unconfirmed:
            return
        self._unconfirmed.add(str(error))
        log_event(
            EnumLogLevel.WARNING,
            "consul.unreachable",
            f"cannot confirm the registration of service "
            f"{self._registration.service_name!r}: {error}; still trying",
            service_id=self._registration.service_id,
        )

    def _lost(self, reason: str) -> float:
        """The registration is gone (or not the node's): register again at once."""
        self._registered.clear()
        self._metrics.record(EnumRegistrationOutcome.REGISTRATION_LOST)
        log_event(
            EnumLogLevel.WARNING,
            "consul.registration_lost",
            f"{reason}; registering again",
            service_id=self._registration.service_id,
        )
        return 0.0

    def _confirmation_pause(self) -> float:
        if self._check.mode is EnumCheckMode.TTL:
            return self._check.interval_s / _TTL_REPORTS_PER_PERIOD
        return self._check.interval_s

    async def _confirm_registration(self) -> bool:
        service_id = self._registration.service_id
        if isinstance(self._discovery, ProtocolTtlReporter) and (
            self._check.mode is EnumCheckMode.TTL
        ):
            healthy = self._is_healthy()
            note = "node is ready" if healthy else "node is not ready"
            return await self._discovery.report_ttl(service_id, healthy, note)
        return await self._discovery.get_service(service_id) is not None

    def _last_reason(self) -> str:
        error = self._last_error
        if error is None:
            return "Consul did not answer in time"
        return one_line(str(error), self._redactor) or type(error).__name__

    def _note_failure(self, error: Exception) -> None:
        self._last_error = error
        self._first_outcome.set()

    def _note_registered(self, started: float) -> None:
        registration = self._registration
        attempts, self._failures = self._failures + 1, 0
        reregistering = self._ever_registered
        latency_s = time.perf_counter() - started
        outcome = (
            EnumRegistrationOutcome.REREGISTERED
            if reregistering
            else EnumRegistrationOutcome.REGISTERED
        )
        self._metrics.record(outcome, latency_s)
        self._ever_registered = True
        verb = "registered again" if reregistering else "registered"
        log_event(
            EnumLogLevel.INFO,
            f"consul.{outcome}",
            f"{verb} service {registration.service_name!r} with Consul",
            service_name=registration.service_name,
            service_id=registration.service_id,
            address=host_port(registration.address, registration.port),
            attempts=attempts,
            latency_ms=round(latency_s * 1000, 3),
        )
        self._registered.set()
        self._first_outcome.set()


def _log_unavailable(
    registration: ModelInstanceRegistration,
    error: ConsulUnavailableError,
    failures: int,
    level: EnumLogLevel,
) -> None:
    log_event(
        level,
        "consul.register_failed",
        f"service {registration.service_name!r} is not registered yet: "
        f"{error}; the node keeps serving and retries in the background",
        service_name=registration.service_name,
        service_id=registration.service_id,
        attempt=failures,
    )


def _log_rejected(
    registration: ModelInstanceRegistration, error: ConsulRejectedError
) -> None:
    hint = ""
    if error.status == 403:
        hint = (
            " (the ACL token lacks service:write on "
            f"{registration.service_name!r}, or is unknown to Consul)"
        )
    log_event(
        EnumLogLevel.ERROR,
        "consul.register_rejected",
        f"Consul rejected the registration of service "
        f"{registration.service_name!r}: {error.reason}{hint}; "
        "not retrying",
        service_name=registration.service_name,
        service_id=registration.service_id,
        status=error.status,
    )
