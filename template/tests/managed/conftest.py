# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Shared fixtures.

Consul agent: tests talk to ``consul_agent.http_addr``. By default that is an
in-process ConsulAgentDouble; when CONSUL_HTTP_ADDR is set, the same tests run
against that real agent instead (``consul_agent.double`` is then None).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The double lives next to this file; make it importable whatever pytest's
# import mode (importlib mode does not put test directories on sys.path).
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from consul_agent_double import ConsulAgentDouble  # noqa: E402

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


def _real_agent() -> tuple[str, str] | None:
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
    real = _real_agent()
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


@pytest.fixture
def process_logging_restored() -> Iterator[None]:
    """configure_logging() (run by serve_node) sets process-wide state: the
    root and omnibase loggers, warning capture, the exception hooks. Put it
    all back, so the tests after this one log as pytest expects."""
    root, omnibase = logging.getLogger(), logging.getLogger("omnibase")
    server = logging.getLogger("aiohttp.server")
    saved_loggers = [
        (logger, list(logger.handlers), list(logger.filters), logger.level)
        for logger in (root, omnibase, server)
    ]
    saved_propagate = omnibase.propagate
    hooks = (sys.excepthook, threading.excepthook, sys.unraisablehook)
    raise_exceptions = logging.raiseExceptions
    yield
    for logger, handlers, filters, level in saved_loggers:
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
    omnibase.propagate = saved_propagate
    sys.excepthook, threading.excepthook, sys.unraisablehook = hooks
    logging.raiseExceptions = raise_exceptions
    logging.captureWarnings(False)
