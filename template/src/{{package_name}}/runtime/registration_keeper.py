# Managed by the ONEX node template: `copier update` replaces this file.
"""Keep the node registered with service discovery, whatever Consul is doing."""

import asyncio
import contextlib

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from .backoff import backoff_delay
from .errors import ConsulRejectedError, ConsulUnavailableError
from .log_events import log_event
from .model_consul_settings import ModelConsulSettings
from .model_instance_registration import ModelInstanceRegistration


class RegistrationKeeper:
    """Registers in the background with backoff; deregisters on stop.

    The node must serve even when Consul is down, so registration never blocks
    start-up for longer than `register_wait_s` and keeps being retried. A
    rejected request (bad input, ACL) is logged once and not retried: sending
    the same request again cannot succeed.
    """

    def __init__(
        self,
        discovery: ProtocolServiceDiscovery,
        registration: ModelInstanceRegistration,
        settings: ModelConsulSettings,
    ) -> None:
        self._discovery = discovery
        self._registration = registration
        self._settings = settings
        self._first_outcome = asyncio.Event()
        self._registered = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Set once a request may have reached Consul: from then on, stopping
        # must deregister even if no answer came back.
        self._attempted = False
        self._stopped = False

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    async def start(self) -> None:
        """Start registering; return at the first answer or after `register_wait_s`."""
        self._task = asyncio.create_task(
            self._register_until_answered(),
            name=f"consul-register-{self._registration.service_id}",
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.register_wait_s):
                await self._first_outcome.wait()

    async def wait_registered(self) -> None:
        await self._registered.wait()

    async def stop(self) -> None:
        """Stop retrying and remove the registration; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._attempted:
            await self._deregister()

    async def _register_until_answered(self) -> None:
        registration = self._registration
        failures = 0
        while True:
            self._attempted = True
            try:
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
            except ConsulUnavailableError as error:
                failures += 1
                self._log_unavailable(error, failures)
                self._first_outcome.set()
                await asyncio.sleep(
                    backoff_delay(
                        failures,
                        self._settings.retry_initial_s,
                        self._settings.retry_cap_s,
                    )
                )
                continue
            except ConsulRejectedError as error:
                self._log_rejected(error)
                self._first_outcome.set()
                return
            log_event(
                EnumLogLevel.INFO,
                "consul.registered",
                f"registered service {registration.service_name!r} with Consul",
                service_name=registration.service_name,
                service_id=registration.service_id,
                address=f"{registration.address}:{registration.port}",
                attempts=failures + 1,
            )
            self._registered.set()
            self._first_outcome.set()
            return

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
        try:
            async with asyncio.timeout(self._settings.deregister_timeout_s):
                removed = await self._discovery.deregister_service(
                    registration.service_id
                )
        except (ConsulUnavailableError, ConsulRejectedError, TimeoutError) as error:
            log_event(
                EnumLogLevel.WARNING,
                "consul.deregister_failed",
                f"could not deregister service {registration.service_name!r}: "
                f"{error or 'timed out'}; Consul reaps it once its check has been "
                "critical for deregister_critical_after",
                service_id=registration.service_id,
            )
            return
        log_event(
            EnumLogLevel.INFO,
            "consul.deregistered",
            f"deregistered service {registration.service_name!r} from Consul",
            service_id=registration.service_id,
            was_registered=str(removed).lower(),
        )
