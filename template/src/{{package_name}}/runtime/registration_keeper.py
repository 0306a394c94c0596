# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Keep the node registered with service discovery, whatever Consul is doing."""

import asyncio
import contextlib
import time
from collections.abc import Callable, MutableMapping

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..protocols.protocol_ttl_reporter import ProtocolTtlReporter
from .address_detection import host_port
from .backoff import backoff_delay
from .enum_check_mode import EnumCheckMode
from .errors import (
    ConfigurationError,
    ConsulRegistrationRequiredError,
    ConsulRejectedError,
    ConsulUnavailableError,
)
from .log_events import log_event
from .model_check_settings import ModelCheckSettings
from .model_consul_settings import ModelConsulSettings
from .model_instance_registration import ModelInstanceRegistration

# Reports per TTL: two may be lost before the check expires.
_TTL_REPORTS_PER_PERIOD = 3


class RegistrationKeeper:
    """Registers in the background, notices when the agent forgets, deregisters.

    The node must serve even when Consul is down, so registration never blocks
    start-up for longer than `register_wait` and is retried with capped,
    jittered backoff. A rejected request (bad input, ACL) is logged once and
    not retried: the same request cannot succeed. Once registered, the keeper
    confirms the registration every check interval (in ttl mode: reports
    health three times per TTL) and registers again when the agent lost it,
    as a restarted dev agent or one with an ephemeral data dir does.
    """

    def __init__(
        self,
        discovery: ProtocolServiceDiscovery,
        registration: ModelInstanceRegistration,
        consul: ModelConsulSettings,
        check: ModelCheckSettings,
        metrics: MutableMapping[str, float],
        is_healthy: Callable[[], bool],
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
        self._first_outcome = asyncio.Event()
        self._registered = asyncio.Event()
        self._last_error = "Consul did not answer in time"
        self._task: asyncio.Task[None] | None = None
        # True while a registration may exist in Consul (one succeeded, or a
        # request got to the agent without an answer): stopping must then
        # deregister. Refused connections leave it unset, so a node that never
        # reached Consul stops without a pointless deregistration warning.
        self._may_be_registered = False
        self._ever_registered = False
        self._stopped = False

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    async def start(self) -> None:
        """Start registering; return at the first answer or after `register_wait`.

        Raises ConsulRegistrationRequiredError when `consul.required` is set
        and that first answer was not a successful registration.
        """
        self._task = asyncio.create_task(
            self._keep_registered(),
            name=f"consul-registration-{self._registration.service_id}",
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._consul.register_wait):
                await self._first_outcome.wait()
        if self._consul.required and not self.registered:
            await self.stop()
            raise ConsulRegistrationRequiredError(
                f"consul.required is set and service "
                f"{self._registration.service_name!r} could not be registered: "
                f"{self._last_error}"
            )

    async def wait_registered(self) -> None:
        await self._registered.wait()

    async def stop(self) -> None:
        """Stop all work and remove the registration; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._may_be_registered:
            await self._deregister()

    async def _keep_registered(self) -> None:
        reregistering = False
        while await self._register_until_answered(reregistering):
            await self._watch_until_lost()
            self._registered.clear()
            self._metrics["consul_registered"] = 0.0
            reregistering = True

    async def _register_until_answered(self, reregistering: bool) -> bool:
        """Register, retrying while Consul is unavailable; False if rejected."""
        failures = 0
        while True:
            self._may_be_registered = True
            started = time.perf_counter()
            try:
                await self._send_registration()
            except ConsulUnavailableError as error:
                if not error.reached:
                    self._may_be_registered = self._ever_registered
                failures += 1
                self._note_failure(str(error))
                self._log_unavailable(error, failures)
                await asyncio.sleep(
                    backoff_delay(
                        failures, self._consul.retry_initial, self._consul.retry_cap
                    )
                )
                continue
            except ConsulRejectedError as error:
                # Consul refused it: no registration was made by this request.
                self._may_be_registered = self._ever_registered
                self._note_failure(str(error))
                self._log_rejected(error)
                return False
            self._note_registered(started, reregistering, failures + 1)
            return True

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
            health_check_interval=registration.check_interval,
        )

    async def _watch_until_lost(self) -> None:
        """Return once the agent has shown it no longer knows this service."""
        unreachable = False
        while True:
            await asyncio.sleep(self._confirmation_pause())
            try:
                still_registered = await self._confirm_registration()
            except (ConsulUnavailableError, ConsulRejectedError) as error:
                if not unreachable:
                    log_event(
                        EnumLogLevel.WARNING,
                        "consul.unreachable",
                        f"cannot confirm the registration of service "
                        f"{self._registration.service_name!r}: {error}; "
                        "still trying",
                        service_id=self._registration.service_id,
                    )
                unreachable = True
                continue
            unreachable = False
            if not still_registered:
                self._metrics["consul_registrations_lost"] = (
                    self._metrics.get("consul_registrations_lost", 0.0) + 1
                )
                log_event(
                    EnumLogLevel.WARNING,
                    "consul.registration_lost",
                    f"the Consul agent no longer knows service "
                    f"{self._registration.service_name!r}; registering again",
                    service_id=self._registration.service_id,
                )
                return

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

    def _note_failure(self, reason: str) -> None:
        self._last_error = reason
        self._metrics["consul_register_failures"] = (
            self._metrics.get("consul_register_failures", 0.0) + 1
        )
        self._first_outcome.set()

    def _note_registered(
        self, started: float, reregistering: bool, attempts: int
    ) -> None:
        registration = self._registration
        latency_ms = (time.perf_counter() - started) * 1000
        self._metrics["consul_registrations"] = (
            self._metrics.get("consul_registrations", 0.0) + 1
        )
        self._metrics["consul_register_latency_ms"] = latency_ms
        self._metrics["consul_registered"] = 1.0
        self._ever_registered = True
        event = "consul.reregistered" if reregistering else "consul.registered"
        verb = "registered again" if reregistering else "registered"
        log_event(
            EnumLogLevel.INFO,
            event,
            f"{verb} service {registration.service_name!r} with Consul",
            service_name=registration.service_name,
            service_id=registration.service_id,
            address=host_port(registration.address, registration.port),
            attempts=attempts,
            latency_ms=round(latency_ms, 3),
        )
        self._registered.set()
        self._first_outcome.set()

    def _log_unavailable(self, error: ConsulUnavailableError, failures: int) -> None:
        # One warning tells the operator; repeating it every backoff step
        # would drown the log while Consul is down.
        log_event(
            EnumLogLevel.WARNING if failures == 1 else EnumLogLevel.DEBUG,
            "consul.register_failed",
            f"service {self._registration.service_name!r} is not registered yet: "
            f"{error}; the node keeps serving and retries in the background",
            service_name=self._registration.service_name,
            service_id=self._registration.service_id,
            attempt=failures,
        )

    def _log_rejected(self, error: ConsulRejectedError) -> None:
        hint = ""
        if error.status == 403:
            hint = (
                " (the ACL token lacks service:write on "
                f"{self._registration.service_name!r}, or is unknown to Consul)"
            )
        log_event(
            EnumLogLevel.ERROR,
            "consul.register_rejected",
            f"Consul rejected the registration of service "
            f"{self._registration.service_name!r}: {error.reason}{hint}; "
            "not retrying",
            service_name=self._registration.service_name,
            service_id=self._registration.service_id,
            status=error.status,
        )

    async def _deregister(self) -> None:
        registration = self._registration
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._consul.deregister_timeout):
                removed = await self._discovery.deregister_service(
                    registration.service_id
                )
        except (ConsulUnavailableError, ConsulRejectedError, TimeoutError) as error:
            log_event(
                EnumLogLevel.WARNING,
                "consul.deregister_failed",
                f"could not deregister service {registration.service_name!r}: "
                f"{str(error) or 'timed out'}; Consul reaps it once its check has been "
                "critical for deregister_critical_after",
                service_id=registration.service_id,
            )
            return
        self._metrics["consul_registered"] = 0.0
        self._metrics["consul_deregister_latency_ms"] = (
            time.perf_counter() - started
        ) * 1000
        log_event(
            EnumLogLevel.INFO,
            "consul.deregistered",
            f"deregistered service {registration.service_name!r} from Consul",
            service_id=registration.service_id,
            was_registered=str(removed).lower(),
        )
