# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The catalog's nodes: the agent's own one and those registered through /v1/catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from tests.managed.consul_double.agent_state import Check, Registration
from tests.managed.consul_double.constants import PASSING
from tests.managed.consul_double.request_decoding import CheckSpec

SERF_CHECK_ID: Final = "serfHealth"


@dataclass
class CatalogNode:
    """Consul's ``structs.Node``; ``None`` maps show as JSON null, like Go's nil."""

    name: str
    id: str
    address: str
    datacenter: str
    tagged_addresses: dict[str, str] | None
    meta: dict[str, str] | None
    locality: dict[str, str] | None = None  # {"region": ..., "zone": ...}
    create_index: int = 0
    modify_index: int = 0

    def same_as(self, other: CatalogNode) -> bool:
        """Consul's Node.IsSame: everything but the raft indexes and the
        locality (so a write changing only the locality changes nothing)."""
        return (
            self.name,
            self.id,
            self.address,
            self.datacenter,
            self.tagged_addresses or {},
            self.meta or {},
        ) == (
            other.name,
            other.id,
            other.address,
            other.datacenter,
            other.tagged_addresses or {},
            other.meta or {},
        )


@dataclass
class NodeEntries:
    """One node with its services (by ID) and checks (by check ID)."""

    node: CatalogNode
    services: dict[str, Registration] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)

    def sorted_services(self) -> list[Registration]:
        return [self.services[sid] for sid in sorted(self.services)]

    def sorted_checks(self) -> list[Check]:
        # by check ID, the node's serfHealth first (as the double always showed it)
        order = sorted(self.checks, key=lambda cid: (cid != SERF_CHECK_ID, cid))
        return [self.checks[cid] for cid in order]

    def checks_of(self, service_id: str) -> list[Check]:
        return [c for c in self.sorted_checks() if c.service_id == service_id]

    def health_checks_of(self, service_id: str) -> list[Check]:
        """What counts for a service's health: node checks, then its own."""
        return self.checks_of("") + self.checks_of(service_id)


def serf_check() -> Check:
    """The agent's own node check (never failing: the double is always alive)."""
    return Check(
        check_id=SERF_CHECK_ID,
        name="Serf Health Status",
        service_id="",
        spec=CheckSpec(),
        status=PASSING,
        output="Agent alive and reachable",
        create_index=1,
        modify_index=1,
    )
