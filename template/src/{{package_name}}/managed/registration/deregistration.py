# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Remove the node's registration at shutdown, bounded in time, whatever Consul does."""

import asyncio
import time
from collections.abc import MutableMapping

from omnibase_core.enums.enum_log_level import EnumLogLevel
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery

from ..errors import ConsulRejectedError, ConsulUnavailableError
from ..logs.external_text import one_line
from ..logs.log_events import log_event
from ..logs.log_redaction import SecretRedactor
from .model_instance_registration import ModelInstanceRegistration


async def deregister(
    discovery: ProtocolServiceDiscovery,
    registration: ModelInstanceRegistration,
    timeout: float,
    metrics: MutableMapping[str, float],
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
        _log_failed(registration, "timed out")  # its TimeoutError has no text
        return
    except (ConsulUnavailableError, ConsulRejectedError) as error:
        _log_failed(registration, str(error))
        return
    except Exception as error:  # shutdown goes on whatever the backend raised
        _log_failed(
            registration,
            f"unexpected {type(error).__name__}: {one_line(str(error), redactor)}",
        )
        return
    metrics["consul_registered"] = 0.0
    metrics["consul_deregister_latency_ms"] = (time.perf_counter() - started) * 1000
    log_event(
        EnumLogLevel.INFO,
        "consul.deregistered",
        f"deregistered service {registration.service_name!r} from Consul",
        service_id=registration.service_id,
        was_registered=str(removed).lower(),
    )


def _log_failed(registration: ModelInstanceRegistration, reason: str) -> None:
    log_event(
        EnumLogLevel.WARNING,
        "consul.deregister_failed",
        f"could not deregister service {registration.service_name!r}: "
        f"{reason}; Consul reaps it once its check has been critical for "
        "deregister_critical_after",
        service_id=registration.service_id,
    )
