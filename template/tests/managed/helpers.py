# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Helpers the test modules share: polling with a deadline, ports, agent reads."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from omnibase_core.infrastructure.node_core_base import NodeCoreBase
from omnibase_core.models.container.model_onex_container import ModelONEXContainer
from omnibase_core.protocols.infrastructure import ProtocolServiceDiscovery
from prometheus_client.parser import text_string_to_metric_families

from tests.managed.agent_handle import ConsulAgentHandle

type Predicate = Callable[[], bool | Awaitable[bool]]
# One scrape: each sample's value by its name and labels.
type Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _holds(predicate: Predicate) -> bool:
    outcome = predicate()
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return bool(outcome)


async def wait_until(
    predicate: Predicate,
    timeout: float = 5.0,
    message: str = "condition",
    interval: float = 0.01,
) -> None:
    """Poll ``predicate`` (sync or async) until it holds; never a fixed sleep.

    Raises TimeoutError naming ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await _holds(predicate):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)


async def never_within(
    predicate: Predicate,
    duration: float,
    message: str = "condition",
    interval: float = 0.01,
) -> None:
    """Fail if ``predicate`` holds at any poll during ``duration`` seconds."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if await _holds(predicate):
            raise AssertionError(f"{message} happened within {duration}s")
        await asyncio.sleep(interval)
    if await _holds(predicate):
        raise AssertionError(f"{message} happened within {duration}s")


class SimulatedClock:
    """Time that passes only when the code under test sleeps on it.

    Pass `sleep` and the clock itself where the code takes them: hours of
    backoff then run in moments. Every `yield_every` sleeps it lets the event
    loop run, so a loop that never waits for real still lets the test look.
    """

    def __init__(self, yield_every: int = 1) -> None:
        self.now = 0.0
        self.sleeps = 0
        self._yield_every = yield_every

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.sleeps % self._yield_every == 0:
            await asyncio.sleep(0)


def logged_events(
    caplog: pytest.LogCaptureFixture, level: int
) -> list[tuple[str, str]]:
    """(event, message) of the structured log lines at `level` or above."""
    events = []
    for record in caplog.records:
        if record.levelno < level:
            continue
        try:
            line = json.loads(record.getMessage())
        except ValueError:
            continue
        event = line.get("context", {}).get("event")
        if event:
            events.append((event, line["message"]))
    return events


def exposition_samples(text: str) -> Samples:
    """GET metrics' body parsed by prometheus-client's own parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample_value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample `name` with exactly `labels` (None: not exposed)."""
    return samples.get((name, frozenset(labels.items())))


async def agent_get(agent: ConsulAgentHandle, path: str) -> Any:
    """GET ``path`` from the agent (its scheme and ACL token); the JSON body."""
    headers = {"X-Consul-Token": agent.token} if agent.token else {}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.get(f"{agent.base_url}{path}") as response,
    ):
        response.raise_for_status()
        return await response.json()


async def make_node[NodeT: NodeCoreBase](
    node_class: type[NodeT], discovery: object
) -> NodeT:
    """A node built as the runtime builds it: its container resolves
    ProtocolServiceDiscovery to ``discovery``, and holds the settings of its
    contract and of the environment now (the node never loads them itself)."""
    container = ModelONEXContainer()
    await container.service_registry.register_instance(
        ProtocolServiceDiscovery,
        discovery,
    )
    # This file is not rendered: the package is found from the node's module.
    package = node_class.__module__.partition(".")[0]
    settings = importlib.import_module(f"{package}.managed.settings.node_contract")
    resolved = settings.settings_for(node_class, os.environ)
    await container.service_registry.register_instance(type(resolved), resolved)
    return node_class(container)
