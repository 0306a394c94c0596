# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""What a discovery backend offers to watch one registration without polling."""

from typing import Any, Protocol, runtime_checkable

# The registration's content hash and the service as a ProtocolServiceDiscovery
# record; ("", None) when the backend does not know the service.
type WatchedRegistration = tuple[str, dict[str, Any] | None]


@runtime_checkable
class ProtocolRegistrationWatch(Protocol):
    """Answers when a registration changes or disappears, or after a wait."""

    async def watch_registration(
        self, service_id: str, content_hash: str, wait_s: float
    ) -> WatchedRegistration:
        """The registration now ("" as `content_hash`), or once its hash is no
        longer `content_hash`, or after `wait_s` (and the backend's jitter).

        Raises ConsulConnectionLostError when the connection dropped before the
        answer (the agent restarted: its state may be gone with it) and
        ConsulUnavailableError when the agent could not be asked.
        """
        ...
