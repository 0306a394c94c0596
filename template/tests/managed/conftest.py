# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Shared fixtures.

Consul agent: tests talk to ``consul_agent.http_addr``. By default that is an
in-process ConsulAgentDouble; when CONSUL_HTTP_ADDR is set, the same tests run
against that real agent instead (``consul_agent.double`` is then None).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.managed.agent_handle import (  # fixtures, offered to every test here
    consul_agent,
    consul_double,
    consul_double_factory,
)

__all__ = ["consul_agent", "consul_double", "consul_double_factory"]

# Tests that mostly wait on node processes (seconds each).
_PROCESS_TESTS = (
    "test_node_process.py",
    "test_node_http.py",
    "test_node_chain.py",
    "test_node_cli.py",
    "test_service_calls_process.py",
    "test_registration_mode.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread the process tests evenly through the run, each followed by an
    equal share of the quick ones (both in their own order): `pytest -n 4`
    hands workers runs of consecutive tests, and a run of process tests alone
    would keep one worker busy long after the others are done."""
    slow = [item for item in items if item.path.name in _PROCESS_TESTS]
    if not slow:
        return
    quick = [item for item in items if item.path.name not in _PROCESS_TESTS]
    share = len(quick) / len(slow)
    spread: list[pytest.Item] = []
    for number, item in enumerate(slow):
        spread.append(item)
        spread += quick[round(number * share) : round((number + 1) * share)]
    items[:] = spread


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
