# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What the double's agent holds: services, checks, the index, and waiters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import (
    Callable,
    Iterable,
)
from dataclasses import dataclass, field
from typing import Any

from tests.managed.consul_double.request_decoding import CheckSpec, Weights


@dataclass
class Registration:
    id: str
    name: str
    tags: list[str]
    address: str
    port: int
    meta: dict[str, str]
    weights: Weights
    enable_tag_override: bool
    tagged_addresses: dict[str, Any]
    kind: str
    create_index: int
    modify_index: int
    socket_path: str = ""
    locality: dict[str, str] | None = None  # {"region": ..., "zone": ...}
    connect_native: bool = False
    proxy: dict[str, Any] = field(default_factory=dict)  # see connect_proxy
    peer_meta: dict[str, Any] | None = None  # Connect.PeerMeta, Go names
    # LocallyRegisteredAsSidecar: the parent's ID; deregistering it removes this.
    sidecar_of: str = ""


@dataclass
class Check:
    check_id: str
    name: str
    service_id: str
    spec: CheckSpec
    status: str
    output: str = ""
    notes: str = ""
    kind: str = ""
    create_index: int = 0
    modify_index: int = 0
    critical_since: float | None = None  # monotonic time it last turned critical
    successes: int = 0  # consecutive, for SuccessBeforePassing
    failures: int = 0  # consecutive, for FailuresBeforeWarning/Critical
    ttl_output: str = ""  # last output given to a TTL check, quoted on expiry
    # As registered: what the API shows (Consul displays the requested Interval
    # and Timeout, while ``spec`` holds the floors and defaults actually used).
    declared: CheckSpec = field(default_factory=CheckSpec)
    # A catalog-registered check shows the Interval/Timeout strings it was
    # given (Consul stores them verbatim); None: derived from ``declared``.
    interval_text: str | None = None
    timeout_text: str | None = None
    exposed_port: int = 0


def effective_interval(spec: CheckSpec, minimum_ns: int) -> int:
    return max(spec.interval, minimum_ns) if spec.interval > 0 else 0


class AgentState:
    """Services and checks of one agent, plus a raft-like modification index.

    Every change bumps the index and wakes blocked queries; each waiter
    recomputes the index it cares about.
    """

    def __init__(self) -> None:
        self.index = 1  # never 0, like Consul's X-Consul-Index
        self.services: dict[str, Registration] = {}
        self.checks: dict[str, Check] = {}
        self.name_index: dict[str, int] = {}  # Consul's "service.<name>" index
        self.services_index = 1  # Consul's "services" table index
        self.checks_index = 1  # Consul's "checks" table index
        self.nodes_index = 1  # Consul's "nodes" table index
        self._changed = asyncio.Event()

    def bump(
        self,
        *names: str,
        catalog: bool = False,
        checks: bool = False,
        nodes: bool = False,
    ) -> int:
        """One raft write: ``names`` are the services whose index moves;
        ``catalog``/``checks``/``nodes`` say which tables it changed."""
        self.index += 1
        for name in names:
            self.name_index[name] = self.index
        if catalog:
            self.services_index = self.index
        if checks:
            self.checks_index = self.index
        if nodes:
            self.nodes_index = self.index
        self._notify()
        return self.index

    def mark(self, index: int, names: Iterable[str]) -> None:
        """Give ``names`` the index of the write just bumped (waiters have not
        run since: they see both at once)."""
        for name in names:
            self.name_index[name] = index

    def poke(self) -> None:
        """Wake waiters without a state change (they re-test and go on waiting)."""
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def service_index(self, name: str) -> int:
        # A missing service answers with the table index, which the removal of
        # its last instance bumped: watchers see the removal.
        if self.instances(name):
            return self.name_index.get(name, self.index)
        return self.services_index

    def instances(self, name: str) -> list[Registration]:
        return [s for s in self.services.values() if s.name == name]

    def checks_of(self, service_id: str) -> list[Check]:
        found = [c for c in self.checks.values() if c.service_id == service_id]
        return sorted(found, key=lambda c: c.check_id)

    def reset(self) -> None:
        """Forget everything, like a restarted ``-dev`` agent (index restarts)."""
        self.services.clear()
        self.checks.clear()
        self.name_index.clear()
        self.index = 1
        self.services_index = self.checks_index = self.nodes_index = 1
        self._notify()

    def rewind(self, to: int) -> None:
        self.index = min(self.index, to)
        self.services_index = min(self.services_index, to)
        self.checks_index = min(self.checks_index, to)
        self.nodes_index = min(self.nodes_index, to)
        for name, index in self.name_index.items():
            self.name_index[name] = min(index, to)
        self._notify()

    async def wait(self, changed: Callable[[], bool], timeout: float) -> None:
        """Return when ``changed()`` is true or ``timeout`` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not changed():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
