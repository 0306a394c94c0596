# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What a discovery backend offers beyond ProtocolServiceDiscovery for TTL checks."""

from typing import Protocol, runtime_checkable


@runtime_checkable
class ProtocolTtlReporter(Protocol):
    """Reports the health of a registered service whose check is a TTL check."""

    async def report_ttl(self, service_id: str, passing: bool, note: str) -> bool:
        """Send one report; False when the backend no longer knows the service."""
        ...
