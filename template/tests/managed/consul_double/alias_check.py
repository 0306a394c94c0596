# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Consul's local alias check (CheckAlias.processChecks): mirrored health."""

from __future__ import annotations

from collections.abc import Iterable

from tests.managed.consul_double.agent_state import Check
from tests.managed.consul_double.constants import CRITICAL, PASSING, WARNING


def alias_result(
    checks: Iterable[Check], service_id: str, service_exists: bool, node: str = ""
) -> tuple[str, str]:
    """(status, output) of an alias of ``service_id`` (empty: of the node) on
    ``node`` (empty: this agent), given that node's checks: its node checks
    count too; critical wins, then warning."""
    health, output, found = PASSING, "No checks found.", False
    # Go walks a map (random order); by check ID here, so a tie is stable.
    for check in sorted(checks, key=lambda c: c.check_id):
        matches = check.service_id == service_id
        if check.service_id and not matches:
            continue
        found = found or matches
        if check.status in (CRITICAL, WARNING):
            health = check.status
            output = f'Aliased check "{check.name}" failing: {check.output}'
            if check.status == CRITICAL:
                break
        elif health == PASSING:
            output = "All checks passing."
    if not found and not service_exists:
        # A local alias names no node: Consul prints an empty one.
        return CRITICAL, f"Service {service_id} could not be found on node {node}"
    return health, output
