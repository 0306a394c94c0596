# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""In-memory ProtocolServiceDiscovery: unit tests of handlers and of the lifecycle."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ...values.consul_tags import carries_tags
from ..discovery_arguments import (
    CheckText,
    FoundRecord,
    RecordMeta,
    RecordTags,
    ServiceRecord,
)


class FakeServiceDiscovery:
    """Records registrations; can be told to fail like an unreachable Consul.

    What ModelNodeContext.in_memory() discovers from, so an owner's handler
    tests need no Consul; the template's lifecycle tests drive the rest.

    `failure`, when set, is raised by every call until it is cleared (or,
    with `failures_left`, that many times), so tests can show what the node
    does while Consul is down and after it is back; `hold` makes every call
    wait until the event is set.
    Clearing `services` is what a restarted dev agent does to a node.
    """

    def __init__(self) -> None:
        self.services: dict[str, ServiceRecord] = {}
        self.calls: list[str] = []
        self.failure: Exception | None = None
        self.failures_left: int | None = None
        # While set and not yet released, every call waits: a hanging agent.
        self.hold: asyncio.Event | None = None

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
        await self._enter("register_service")
        self.services[service_id] = {
            "id": service_id,
            "name": service_name,
            "address": address,
            "port": port,
            "tags": list(tags or []),
            "metadata": dict(metadata or {}),
            "health_check_url": health_check_url,
            "health_check_interval": health_check_interval,
        }
        return True

    async def deregister_service(self, service_id: str) -> bool:
        await self._enter("deregister_service")
        return self.services.pop(service_id, None) is not None

    async def discover_services(
        self,
        service_name: str,
        tags: RecordTags = None,
        healthy_only: bool = True,
    ) -> list[ServiceRecord]:
        await self._enter("discover_services")
        return [
            service
            for service in self.services.values()
            if service["name"] == service_name
            and carries_tags(service["tags"], tags or ())
        ]

    async def get_service(self, service_id: str) -> FoundRecord:
        await self._enter("get_service")
        return self.services.get(service_id)

    async def get_service_health(self, service_id: str) -> dict[str, Any]:
        await self._enter("get_service_health")
        status = "passing" if service_id in self.services else "unknown"
        return {"status": status, "message": "fake", "last_check": ""}

    async def list_services(self) -> list[str]:
        await self._enter("list_services")
        return sorted({service["name"] for service in self.services.values()})

    async def watch_service(
        self,
        service_name: str,
        callback: Callable[[list[ServiceRecord]], Awaitable[None]],
    ) -> str:
        await self._enter("watch_service")
        return f"watch-{service_name}"

    async def stop_watch(self, watch_id: str) -> bool:
        await self._enter("stop_watch")
        return True

    async def report_ttl(self, service_id: str, passing: bool, note: str) -> bool:
        await self._enter("report_ttl")
        service = self.services.get(service_id)
        if service is None:
            return False
        service["ttl_status"] = "passing" if passing else "critical"
        return True

    async def _enter(self, call: str) -> None:
        self.calls.append(call)
        if self.hold is not None:
            await self.hold.wait()
        if self.failure is None:
            return
        if self.failures_left is not None:
            if self.failures_left == 0:
                self.failure = self.failures_left = None
                return
            self.failures_left -= 1
        # Without a fresh traceback, each raise of the same instance would
        # append to the last one's: a million failures, a million frames.
        raise self.failure.with_traceback(None)
