# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""omnibase-core's ProtocolServiceDiscovery over the local Consul agent.

py-consul does the HTTP; this handler keeps its traps away from callers: it is
given explicit connection values (never reading the environment itself), bounds
every request with its own timeout, and turns py-consul's and aiohttp's errors
into two kinds: ConsulUnavailableError (worth retrying) and ConsulRejectedError
(not). Messages never carry the ACL token.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import consul
from consul.callback import CB
from omnibase_core.enums.enum_log_level import EnumLogLevel

from ..runtime.address_detection import host_port
from ..runtime.consul_tls import consul_ssl_context
from ..runtime.enum_check_mode import EnumCheckMode
from ..runtime.errors import ConsulRejectedError, ConsulUnavailableError
from ..runtime.instance_cache import InstanceCache
from ..runtime.log_events import log_event
from ..runtime.model_check_settings import ModelCheckSettings
from ..runtime.model_consul_settings import ModelConsulSettings
from ..runtime.model_discovery_settings import ModelDiscoverySettings
from ..runtime.model_instance_endpoint import ModelInstanceEndpoint
from .consul_agent_connection import ConsulAgentConnection

# A service record as ProtocolServiceDiscovery defines it.
type ServiceRecord = dict[str, Any]
type WatchCallback = Callable[[list[ServiceRecord]], Awaitable[None]]

_STATUS_RANK = {"passing": 0, "warning": 1, "critical": 2}


class HandlerConsulDiscovery:
    """Register, deregister and discover services through one Consul agent.

    `instances` is the node's client-side instance cache, fed by blocking
    queries; `watch_service` callbacks are fed by the same watches.
    Constructing it loads the TLS material: a ConfigurationError then names
    the variable at fault.
    """

    def __init__(
        self,
        settings: ModelConsulSettings,
        check: ModelCheckSettings,
        discovery: ModelDiscoverySettings | None = None,
    ) -> None:
        self._settings = settings
        self._check = check
        self._ssl_context = consul_ssl_context(settings)
        self._client: ConsulAgentConnection | None = None
        self.discovery_settings = discovery or ModelDiscoverySettings()
        self.instances = InstanceCache(
            self._healthy_entries, settings.retry_initial, settings.retry_cap
        )
        if self._ssl_context is not None and not settings.verify:
            log_event(
                EnumLogLevel.WARNING,
                "consul.tls_unverified",
                f"CONSUL_HTTP_SSL_VERIFY is off: the certificate of the Consul "
                f"agent at {settings.http_addr} is not verified, so anyone on "
                "the path can read the ACL token and forge answers",
                consul_addr=settings.http_addr,
            )

    async def register_service(
        self,
        service_id: str,
        service_name: str,
        address: str,
        port: int,
        tags: list[str] | None = None,
        metadata: dict[str, str] | None = None,
        health_check_url: str | None = None,
        health_check_interval: str | None = None,
    ) -> bool:
        check = self._check_definition(
            host_port(address, port), health_check_url, health_check_interval
        )
        registered: bool = await self._call(
            "service registration",
            lambda client: client.agent.service.register(
                service_name,
                service_id=service_id,
                address=address,
                port=port,
                tags=tags or [],
                meta=metadata or {},
                check=check,
                # The request is the whole truth: checks an older version of the
                # node registered must not linger.
                replace_existing_checks=True,
            ),
        )
        return registered

    async def deregister_service(self, service_id: str) -> bool:
        """True if Consul removed the service, False if it did not know it."""
        removed: bool = await self._call(
            "service deregistration",
            lambda client: client.agent.service.deregister(service_id),
        )
        return removed

    async def discover_services(
        self,
        service_name: str,
        tags: list[str] | None = None,
        healthy_only: bool = True,
    ) -> list[ServiceRecord]:
        _, entries = await self._call(
            "service discovery",
            lambda client: client.health.service(
                service_name, passing=healthy_only, tag=tags or None
            ),
        )
        return [
            ModelInstanceEndpoint.from_health_entry(entry).as_record()
            for entry in entries
        ]

    async def get_service(self, service_id: str) -> ServiceRecord | None:
        """The instance as this node's agent knows it, None if it does not."""
        service = await self._call(
            "service lookup",
            lambda client: client.http.get(
                CB.json(),
                f"/v1/agent/service/{service_id}",
                # py-consul's service_definition() would not send the token.
                headers=client.prepare_headers(),
            ),
        )
        if service is None:
            return None
        return {
            "id": service["ID"],
            "name": service["Service"],
            "address": service["Address"],
            "port": service["Port"],
            "tags": list(service.get("Tags") or []),
            "metadata": dict(service.get("Meta") or {}),
        }

    async def get_service_health(self, service_id: str) -> dict[str, Any]:
        checks = await self._call("health lookup", lambda client: client.agent.checks())
        own = [check for check in checks.values() if check["ServiceID"] == service_id]
        checked_at = datetime.now(UTC).isoformat()
        if not own:
            return {
                "status": "unknown",
                "message": f"no checks registered for service {service_id!r}",
                "last_check": checked_at,
            }
        worst = max(own, key=lambda check: _STATUS_RANK.get(check["Status"], 2))
        return {
            "status": worst["Status"],
            "message": worst.get("Output") or worst["Name"],
            "last_check": checked_at,
        }

    async def list_services(self) -> list[str]:
        _, services = await self._call(
            "service listing", lambda client: client.catalog.services()
        )
        return sorted(services)

    async def watch_service(self, service_name: str, callback: WatchCallback) -> str:
        """Call `callback` with the healthy instances now and each time they change."""

        async def forward(endpoints: tuple[ModelInstanceEndpoint, ...]) -> None:
            await callback([endpoint.as_record() for endpoint in endpoints])

        return await self.instances.subscribe(service_name, forward)

    async def stop_watch(self, watch_id: str) -> bool:
        return self.instances.unsubscribe(watch_id)

    async def report_ttl(self, service_id: str, passing: bool, note: str) -> bool:
        """Report the TTL check of `service_id`; False if the agent does not know it."""
        check_id = f"service:{service_id}"
        reported: bool = await self._call(
            "TTL check update",
            lambda client: (
                client.agent.check.ttl_pass(check_id, note)
                if passing
                else client.agent.check.ttl_fail(check_id, note)
            ),
        )
        return reported

    async def aclose(self) -> None:
        """Stop every watch and close the HTTP session (aiohttp warns otherwise)."""
        await self.instances.aclose()
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _healthy_entries(
        self, service_name: str, index: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """One round of a watch: passing instances, blocking while `index` is current."""
        wait = self.discovery_settings.watch_wait
        # A blocking query legitimately takes up to wait + wait/16.
        timeout = wait * 17 / 16 + self._settings.request_timeout
        new_index, entries = await self._call(
            "service watch",
            functools.partial(_blocking_health, service_name, index, wait),
            timeout=timeout,
        )
        return int(new_index or 0), list(entries)

    async def _call(
        self,
        operation: str,
        request: Callable[[Any], Awaitable[Any]],
        timeout: float | None = None,
    ) -> Any:
        limit = timeout if timeout is not None else self._settings.request_timeout
        where = self._settings.http_addr
        try:
            async with asyncio.timeout(limit):
                return await request(self._connection())
        except TimeoutError:
            raise ConsulUnavailableError(
                f"{operation}: Consul agent at {where} did not answer within {limit:g}s"
            ) from None
        except aiohttp.ClientConnectorCertificateError as error:
            raise ConsulUnavailableError(
                f"{operation}: TLS certificate of the Consul agent at {where} "
                f"was rejected ({error.certificate_error}); check CONSUL_CACERT, "
                "CONSUL_CAPATH and CONSUL_TLS_SERVER_NAME",
                reached=False,
            ) from None
        except aiohttp.ClientSSLError as error:
            raise ConsulUnavailableError(
                f"{operation}: TLS handshake with the Consul agent at {where} "
                f"failed ({_tls_reason(error)}); if the agent requires client "
                "certificates, set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY",
                reached=False,
            ) from None
        except aiohttp.ClientConnectorError as error:
            raise ConsulUnavailableError(
                f"{operation}: cannot reach Consul agent at {where} ({error})",
                reached=False,
            ) from None
        except aiohttp.ClientError as error:
            raise ConsulUnavailableError(
                f"{operation}: lost the connection to Consul agent at {where} "
                f"({error}){_disconnect_hint(self._settings, error)}"
            ) from None
        except consul.ConsulException as error:
            raise _classify(operation, error) from None

    def _check_definition(
        self, tcp_address: str, http_url: str | None, interval: str | None
    ) -> dict[str, str] | None:
        """The service's one check, in the mode the settings choose."""
        check = self._check
        reaping = {"DeregisterCriticalServiceAfter": check.deregister_critical_after}
        if check.mode is EnumCheckMode.TTL:
            # Passing from the start: the node registers once it is initialised,
            # and then reports well within every TTL.
            return {"TTL": check.interval, "Status": "passing", **reaping}
        timing = {"Interval": interval or check.interval, "Timeout": check.timeout}
        if check.mode is EnumCheckMode.TCP:
            return {"TCP": tcp_address, **timing, **reaping}
        if http_url is None:
            return None
        return {"HTTP": http_url, **timing, **reaping}

    def _connection(self) -> ConsulAgentConnection:
        """The py-consul client, created in the running loop on first use."""
        if self._client is None:
            self._client = ConsulAgentConnection(self._settings, self._ssl_context)
        return self._client


def _blocking_health(service_name: str, index: int, wait: float, client: Any) -> Any:
    """Healthy instances; blocks while `index` is current (0: answer at once)."""
    return client.health.service(
        service_name,
        passing=True,
        index=index or None,
        wait=f"{max(int(wait * 1000), 1)}ms",
    )


def _disconnect_hint(settings: ModelConsulSettings, error: Exception) -> str:
    """Name the likely cause when an https agent hangs up on the handshake.

    With TLS 1.3 an agent that requires client certificates (Consul's
    verify_incoming) refuses one only after the client's handshake is done,
    so aiohttp sees nothing but a disconnection.
    """
    if (
        isinstance(error, aiohttp.ServerDisconnectedError)
        and settings.scheme == "https"
        and settings.client_cert is None
    ):
        return (
            "; an agent requiring client certificates does this to clients "
            "without one: set CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY"
        )
    return ""


def _tls_reason(error: aiohttp.ClientSSLError) -> str:
    """OpenSSL's reason (e.g. TLSV13_ALERT_CERTIFICATE_REQUIRED), not the repr."""
    reason = getattr(error.os_error, "reason", None)
    return str(reason or error)


def _classify(operation: str, error: Exception) -> Exception:
    """Map py-consul's exceptions by HTTP status: 429 and 5xx are transient."""
    text = str(error)
    if isinstance(error, consul.ACLPermissionDenied):
        return ConsulRejectedError(operation, 403, text or "Permission denied")
    if isinstance(error, consul.ACLDisabled):
        return ConsulRejectedError(operation, 401, text)
    status_text, _, reason = text.partition(" ")
    status = int(status_text) if status_text.isdigit() else 500
    if status == 429 or status >= 500:
        return ConsulUnavailableError(
            f"{operation}: Consul agent answered {status}: {reason}"
        )
    return ConsulRejectedError(operation, status, reason)
