# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Local TCP ports for tests: free ones for a node to bind, refused ones.

Standard library only: the template's own scripts load this file too.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Clear of well-known and registered service ports (Consul's 8300-8600 too).
_FLOOR = 10000


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, chosen outside the ephemeral range.

    A port from bind(0) comes from the ephemeral range, so the kernel may hand
    it out again as the local end of some outgoing connection (the tests' own
    polling makes hundreds) before the node, still importing, binds it:
    "address already in use", seen in CI. Ports below that range are only ever
    taken by an explicit bind.
    """
    low = _ephemeral_range_start()
    if low - _FLOOR >= 2000:
        for _ in range(100):
            port = random.randrange(_FLOOR, low)
            if _bindable(port):
                return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        kernel_pick: int = probe.getsockname()[1]
        return kernel_pick


@contextmanager
def refused_port() -> Iterator[int]:
    """A local TCP port that refuses connections while the context lasts: it
    stays bound (so no one else can take it) but never listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        yield port


def _ephemeral_range_start() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 49152  # IANA's (macOS, BSD); Linux's default is 32768


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
