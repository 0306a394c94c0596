# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Remove the node's registration at shutdown, bounded in time, whatever Consul does."""

import asyncio
import time

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..errors import ConsulRejectedError, ConsulUnavailableError
from ..logs.external_text import one_line
from ..logs.log_events import log_event
from ..logs.log_redaction import SecretRedactor
from ..metrics.enum_registration_outcome import EnumRegistrationOutcome
from ..metrics.registration_metrics import RegistrationMetrics
from .model_instance_registration import ModelInstanceRegistration


async def deregister(
    discovery: ProtocolServiceDiscovery,
    registration: ModelInstanceRegistration,
    timeout: float,
    metrics: RegistrationMetrics,
    redactor: SecretRedactor,
) -> None:
    """Deregister within `timeout` seconds; a failure is one warning, never raised.

    Shutdown goes on whatever the backend raised: Consul reaps the service
    once its check has been critical for deregister_critical_after.
    """
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            removed = await discovery.deregister_service(registration.service_id)
    except TimeoutError:
        _failed(registration, metrics, "timed out")  # its TimeoutError has no text
        return
    except (ConsulUnavailableError, ConsulRejectedError) as error:
        _failed(registration, metrics, str(error))
        return
    except Exception as error:  # shutdown goes on whatever the backend raised
        _failed(
            registration,
            metrics,
            f"unexpected {type(error).__name__}: {one_line(str(error), redactor)}",
        )
        return
    metrics.record(EnumRegistrationOutcome.DEREGISTERED, time.perf_counter() - started)
    log_event(
        EnumLogLevel.INFO,
        "consul.deregistered",
        f"deregistered service {registration.service_name!r} from Consul",
        service_id=registration.service_id,
        was_registered=str(removed).lower(),
    )


def _failed(
    registration: ModelInstanceRegistration, metrics: RegistrationMetrics, reason: str
) -> None:
    metrics.record(EnumRegistrationOutcome.DEREGISTER_FAILED)
    log_event(
        EnumLogLevel.WARNING,
        "consul.deregister_failed",
        f"could not deregister service {registration.service_name!r}: "
        f"{reason}; Consul reaps it once its check has been critical for "
        "deregister_critical_after",
        service_id=registration.service_id,
    )
