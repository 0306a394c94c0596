# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""omnibase-core's ProtocolServiceDiscovery over the local Consul agent.

consul_agent_connection sends the requests and consul_answers checks the
answers; this handler gives them explicit connection values (never reading
the environment itself), bounds every request with its own timeout, and turns
every failure into one of two kinds: ConsulUnavailableError (worth retrying,
including ConsulAnswerError: an answer that is not Consul's) and
ConsulRejectedError (not). Messages never carry the ACL token.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from omnibase_core.enums.enum_log_level import EnumLogLevel

from ...discovery.discovery_arguments import (
    CheckText,
    FoundRecord,
    RecordMeta,
    RecordTags,
    ServiceRecord,
)
from ...discovery.instance_cache import InstanceCache
from ...discovery.model_instance_endpoint import ModelInstanceEndpoint
from ...logs.log_events import log_event
from ...registration.model_instance_registration import ModelInstanceRegistration
from ...settings.model_check_settings import ModelCheckSettings
from ...settings.model_consul_settings import ModelConsulSettings
from ...settings.model_discovery_settings import ModelDiscoverySettings
from ..blocking_wait import blocking_timeout, wait_param
from ..consul_agent_connection import ConsulAgentConnection, ConsulAnswer, QueryParams
from ..consul_answers import (
    AGENT_CHECKS,
    AGENT_SERVICE,
    CATALOG_SERVICES,
    WATCHED_SERVICE,
    as_record,
    blocking_index,
    expect_empty,
    expect_json,
    health_entries,
)
from ..consul_request_failures import within_limit
from ..consul_tls import consul_ssl_context
from ..service_definition import service_definition

# A service record as ProtocolServiceDiscovery defines it.
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
            self._healthy_entries,
            (settings.retry_initial, settings.retry_cap),
            self.discovery_settings.watch_wait,
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
        tags: RecordTags = None,
        metadata: RecordMeta = None,
        health_check_url: CheckText = None,
        health_check_interval: CheckText = None,
    ) -> bool:
        """True once Consul answered 200 with nothing: its one success.

        A 404 (a proxy, a wrong address) or a 200 with a body is raised as
        ConsulAnswerError, never taken for a registration. The check follows
        the check settings this handler was built with, their one route here:
        `health_check_interval` is in ProtocolServiceDiscovery's signature only.
        """
        # Unvalidated: what Consul accepts is Consul's to say (its 400 names
        # the problem); the node's own registration was validated in settings.
        definition = service_definition(
            ModelInstanceRegistration.model_construct(
                service_id=service_id,
                service_name=service_name,
                address=address,
                port=port,
                tags=tuple(tags or ()),
                meta=dict(metadata or {}),
                health_check_url=health_check_url or "",
            ),
            self._check,
        )
        answer = await self._send(
            "service registration",
            "PUT",
            "/v1/agent/service/register",
            # The request is the whole truth: checks an older version of the
            # node registered must not linger.
            params=[("replace-existing-checks", "true")],
            body=definition,
        )
        expect_empty(answer)
        return True

    async def deregister_service(self, service_id: str) -> bool:
        """True if Consul removed the service, False if it did not know it."""
        answer = await self._send(
            "service deregistration",
            "PUT",
            f"/v1/agent/service/deregister/{_segment(service_id)}",
            missing_ok=True,
        )
        if answer.status == 404:
            return False
        expect_empty(answer)
        return True

    async def discover_services(
        self,
        service_name: str,
        tags: RecordTags = None,
        healthy_only: bool = True,
    ) -> list[ServiceRecord]:
        params = [("tag", tag) for tag in tags or []]
        if healthy_only:
            params.append(("passing", "true"))
        answer = await self._send(
            "service discovery",
            "GET",
            f"/v1/health/service/{_segment(service_name)}",
            params=self._datacenter(params),
        )
        return [
            ModelInstanceEndpoint.from_health_entry(entry).as_record()
            for entry in health_entries(answer)
        ]

    async def get_service(self, service_id: str) -> FoundRecord:
        """The instance as this node's agent knows it, None if it does not."""
        answer = await self._send(
            "service lookup",
            "GET",
            f"/v1/agent/service/{_segment(service_id)}",
            missing_ok=True,
        )
        if answer.status == 404:
            return None
        return as_record(expect_json(answer, AGENT_SERVICE))

    async def watch_registration(
        self, service_id: str, content_hash: str, wait_s: float
    ) -> tuple[str, FoundRecord]:
        """Hash blocking on the agent's own state: the instance and its
        ContentHash now ("" as `content_hash`), or once the hash differs from
        `content_hash` (the agent answers 404 at once when it forgets the
        service), or after `wait_s`; ("", None) when the agent does not know it.
        """
        params = [("hash", content_hash), wait_param(wait_s)] if content_hash else []
        answer = await self._send(
            "registration watch",
            "GET",
            f"/v1/agent/service/{_segment(service_id)}",
            params=params,
            timeout=blocking_timeout(wait_s, self._settings.request_timeout),
            missing_ok=True,
        )
        if answer.status == 404:
            return "", None
        service = expect_json(answer, WATCHED_SERVICE)
        return service["ContentHash"], as_record(service)

    async def get_service_health(self, service_id: str) -> dict[str, Any]:
        answer = await self._send("health lookup", "GET", "/v1/agent/checks")
        checks = expect_json(answer, AGENT_CHECKS)
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
        answer = await self._send(
            "service listing",
            "GET",
            "/v1/catalog/services",
            params=self._datacenter([]),
        )
        services = expect_json(answer, CATALOG_SERVICES)
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
        verdict = "pass" if passing else "fail"
        check_id = _segment(f"service:{service_id}")
        answer = await self._send(
            "TTL check update",
            "PUT",
            f"/v1/agent/check/{verdict}/{check_id}",
            params=[("note", note)],
            missing_ok=True,
        )
        if answer.status == 404:
            return False
        expect_empty(answer)
        return True

    async def aclose(self) -> None:
        """Stop every watch and close the HTTP session (aiohttp warns otherwise)."""
        await self.instances.aclose()
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _healthy_entries(
        self, service_name: str, index: int
    ) -> tuple[int, list[ModelInstanceEndpoint]]:
        """One round of a watch: passing instances, blocking while `index` is
        current (0: answer at once); the index is 0 when Consul's is unusable."""
        wait = self.discovery_settings.watch_wait
        params = [("passing", "true"), wait_param(wait)]
        if index > 0:
            params.append(("index", str(index)))
        answer = await self._send(
            "service watch",
            "GET",
            f"/v1/health/service/{_segment(service_name)}",
            params=self._datacenter(params),
            timeout=blocking_timeout(wait, self._settings.request_timeout),
        )
        return blocking_index(answer), [
            ModelInstanceEndpoint.from_health_entry(entry)
            for entry in health_entries(answer)
        ]

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: QueryParams = (),
        body: object = None,
        timeout: float | None = None,
        missing_ok: bool = False,
    ) -> ConsulAnswer:
        """One request, bounded in time; its 200 answer (or 404 if `missing_ok`)."""
        limit = timeout if timeout is not None else self._settings.request_timeout
        return await within_limit(
            operation,
            self._connection().request(
                operation,
                method,
                path,
                params=params,
                body=body,
                max_body=self.discovery_settings.max_answer_size,
                missing_ok=missing_ok,
            ),
            limit,
            self._settings,
        )

    def _datacenter(self, params: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Catalog and health reads name the datacenter, as Consul's client does."""
        if self._settings.datacenter:
            return [*params, ("dc", self._settings.datacenter)]
        return params

    def _connection(self) -> ConsulAgentConnection:
        """The agent connection, created in the running loop on first use."""
        if self._client is None:
            self._client = ConsulAgentConnection(self._settings, self._ssl_context)
        return self._client


def _segment(value: str) -> str:
    """`value` as one path segment: Consul's IDs may hold `?`, `#` or `%`."""
    return quote(value, safe=":@")
