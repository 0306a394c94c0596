# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""The Consul agent the tests talk to: the double, or a real agent (CONSUL_HTTP_ADDR).

The fixtures here are the ones conftest.py offers; they live in a module so
that tests elsewhere (the template's own) can import them too.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.managed.consul_agent_double import ConsulAgentDouble

DoubleFactory = Callable[..., Awaitable[ConsulAgentDouble]]

REAL_AGENT_SKIP_REASON = (
    "needs the Consul agent double; CONSUL_HTTP_ADDR points at a real agent"
)


@dataclass(frozen=True)
class ConsulAgentHandle:
    """Where the agent answers; ``double`` is None for a real agent."""

    http_addr: str  # host:port
    double: ConsulAgentDouble | None
    scheme: str = "http"
    token: str | None = None  # for a real agent with ACLs (CONSUL_HTTP_TOKEN[_FILE])

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.http_addr}"


def real_agent() -> tuple[str, str] | None:
    """(scheme, host:port) of CONSUL_HTTP_ADDR, or None when it is not set."""
    raw = os.environ.get("CONSUL_HTTP_ADDR", "").strip().rstrip("/")
    if not raw:
        return None
    scheme, sep, addr = raw.partition("://")
    if not sep:
        return "http", raw
    if scheme not in ("http", "https"):
        raise pytest.UsageError(f"CONSUL_HTTP_ADDR scheme {scheme!r} is not supported")
    return scheme, addr


def _real_agent_token() -> str | None:
    """CONSUL_HTTP_TOKEN_FILE wins over CONSUL_HTTP_TOKEN, as in Consul's CLI."""
    token_file = os.environ.get("CONSUL_HTTP_TOKEN_FILE", "")
    if token_file:
        return Path(token_file).read_text().strip() or None
    return os.environ.get("CONSUL_HTTP_TOKEN") or None


@pytest.fixture
async def consul_agent() -> AsyncIterator[ConsulAgentHandle]:
    """The real agent CONSUL_HTTP_ADDR names, else a fresh in-process double."""
    real = real_agent()
    if real is not None:
        scheme, addr = real
        yield ConsulAgentHandle(addr, None, scheme, _real_agent_token())
        return
    async with ConsulAgentDouble(node_name="test-node") as double:
        yield ConsulAgentHandle(http_addr=double.address, double=double)


@pytest.fixture
async def consul_double_factory() -> AsyncIterator[DoubleFactory]:
    """Start extra doubles with chosen options (ACLs, short timings...); all
    are stopped after the test. Never skipped: these are doubles by design."""
    started: list[ConsulAgentDouble] = []

    async def start(port: int = 0, **options: Any) -> ConsulAgentDouble:
        double = ConsulAgentDouble(**options)
        await double.start(port=port)
        started.append(double)
        return double

    yield start
    for double in started:
        await double.stop()


@pytest.fixture
def consul_double(consul_agent: ConsulAgentHandle) -> ConsulAgentDouble:
    """The double itself; skips only when a real agent is in use."""
    if consul_agent.double is None:
        pytest.skip(REAL_AGENT_SKIP_REASON)
    return consul_agent.double
