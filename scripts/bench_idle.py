"""What a node costs its agent: requests while idle, state loss, a busy agent.

Each figure runs a node process of the render against its own in-process
Consul agent double (the double's recorded requests are the count):

- ``idle_requests_per_minute``: a node with the default answers (http check
  every 10 s, the default watch wait of 5 minutes) and one discovery
  dependency. Counted after start-up settled (registered, its check passing,
  the registration watch and the dependency's watch both held on the agent's
  current state), over one window longer than the wait plus Consul's jitter
  (wait + wait/16), so each held query is renewed in it at most once or
  twice; the figure is the requests in the window per minute of it. A node
  that polled would show its polls (before this change: 8/min, 6 polls of
  ``GET /v1/agent/service/<id>`` and 2 renewals of a 30 s watch). The window
  runs beside the other bench phases (``start_idle_window``): it is idle.
- ``state_loss_to_reregistered``: default 10 s interval; the agent forgets
  everything (``forget_all``) or restarts mid-block (stopped, so the held
  watch's connection drops, state forgotten, started on the same port);
  milliseconds from the loss to the registration being back, median per kind
  over ``runs`` of each, and the larger of the two medians as the goal line.
- ``busy_agent_requests_per_second``: the agent answers every registration
  watch at once with the same hash (a broken agent or proxy); the node's
  requests per second over BUSY_WINDOW_S, beside the rate limit of the
  blocking-loop rules (at least 50 ms between requests).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from scripts.bench_node_process import DEADLINE_S, NodeRun
from scripts.rendering import RenderedPackage

DEPENDENCY = "bench-idle-dependency"
DEFAULT_WAIT_S = 300.0  # the node's default discovery.watch_wait
BUSY_WAIT = "2s"  # the held query ends soon, then every answer comes at once
BUSY_WINDOW_S = 10.0
MIN_INTERVAL_S = 0.05  # managed/loops/blocking_query.py


class IdleNode(NodeRun):
    """A node with the rendered check answers and one dependency, as a
    context manager (started, then stopped with SIGTERM)."""

    def __init__(
        self, package: RenderedPackage, double: Any, extra: dict[str, str]
    ) -> None:
        dependency = {"ONEX_NODE_DISCOVERY_DEPENDENCIES": DEPENDENCY}
        super().__init__(package, double, {**dependency, **extra}, None)

    async def __aenter__(self) -> IdleNode:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def watches(self) -> list[dict[str, str]]:
        """Queries of the registration watch's blocking reads."""
        return _blocking_reads(self.double, f"/v1/agent/service/{self.service_id}")

    async def settled(self) -> None:
        """Registered, passing, and both watches held on the current state."""
        await self.until(self.registered)
        await self.until(self.passing)
        deadline = time.monotonic() + DEADLINE_S
        while not await self._held():
            if time.monotonic() > deadline:
                raise TimeoutError("the node's watches never settled")
            await asyncio.sleep(0.05)

    async def _held(self) -> bool:
        path = f"/v1/health/service/{DEPENDENCY}"
        watches, reads = self.watches(), _blocking_reads(self.double, path)
        service = self.double.service(self.service_id) or {}
        return bool(
            watches
            and reads
            and watches[-1]["hash"] == service.get("ContentHash")
            and reads[-1]["index"] == await _current_index(self.double, path)
        )


def _blocking_reads(double: Any, path: str) -> list[dict[str, str]]:
    return [
        dict(request.query)
        for request in double.requests
        if request.path == path and {"hash", "index"} & set(dict(request.query))
    ]


async def _current_index(double: Any, path: str) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{double.url}{path}") as response,
    ):
        return str(response.headers["X-Consul-Index"])


async def idle_window(package: RenderedPackage, double_module: Any) -> list[str]:
    """Requests an idle node sends over one window longer than wait + wait/16."""
    window_s = DEFAULT_WAIT_S * 17 / 16 + 15.0
    async with (
        double_module.ConsulAgentDouble() as double,
        IdleNode(package, double, {}) as node,
    ):
        await node.settled()
        seen = len(double.requests)
        await asyncio.sleep(window_s)  # the window itself: nothing to poll for
        counted = len(double.requests) - seen
    return [
        f"idle_requests_per_minute: {counted * 60 / window_s:.2f} requests/min",
        "idle_requests_per_minute goal (at most): 1 requests/min",
        f"idle_requests_window: {window_s:.0f} s ({counted} requests)",
    ]


def start_idle_window(
    package: RenderedPackage, double_module: Any
) -> asyncio.Task[list[str]]:
    """The idle window as a task, so it runs beside the other phases."""
    return asyncio.create_task(idle_window(package, double_module))


async def _forget(double: Any) -> None:
    double.forget_all()


async def _restart(double: Any) -> None:
    port = double.port
    await double.stop()
    double.forget_all()
    await double.start(port=port)


async def state_loss(
    package: RenderedPackage, double_module: Any, runs: int
) -> list[str]:
    """Loss to re-registered, default interval, forget and restart mid-block."""
    kinds: dict[str, Callable[[Any], Awaitable[None]]] = {
        "forget": _forget,
        "restart": _restart,
    }
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    async with (
        double_module.ConsulAgentDouble() as double,
        IdleNode(package, double, {}) as node,
    ):
        for _ in range(runs):
            for kind, lose in kinds.items():
                await node.settled()
                lost = time.perf_counter()
                await lose(double)
                await double.wait_for(node.registered, DEADLINE_S)
                samples[kind].append((time.perf_counter() - lost) * 1000)
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    return [
        *(
            f"state_loss_to_reregistered_{kind}: {median:.1f} ms"
            for kind, median in medians.items()
        ),
        f"state_loss_to_reregistered: {max(medians.values()):.1f} ms",
        "state_loss_to_reregistered goal (at most): 1000 ms",
        f"state_loss check interval: {package.answers['check_interval']}",
    ]


async def busy_agent(package: RenderedPackage, double_module: Any) -> list[str]:
    """Requests per second while every registration watch is answered at once."""
    short_wait = {"ONEX_NODE_DISCOVERY_WATCH_WAIT": BUSY_WAIT}
    async with (
        double_module.ConsulAgentDouble() as double,
        IdleNode(package, double, short_wait) as node,
    ):
        await node.settled()
        same = json.dumps(double.service(node.service_id)).encode()
        double.answer_requests(
            200, body=same, path_prefix=f"/v1/agent/service/{node.service_id}"
        )
        before = len(node.watches())
        await double.wait_for(lambda: len(node.watches()) > before, DEADLINE_S)
        started, seen = time.perf_counter(), len(node.watches())
        await asyncio.sleep(BUSY_WINDOW_S)  # the window: the node's pace is measured
        rate = (len(node.watches()) - seen) / (time.perf_counter() - started)
        double.clear_faults()
    return [
        f"busy_agent_requests_per_second: {rate:.2f} requests/s",
        f"busy_agent_rate_limit: {1 / MIN_INTERVAL_S:.0f} requests/s",
    ]


async def quiet_benchmark(
    package: RenderedPackage, double_module: Any, runs: int
) -> list[str]:
    """State loss and a busy agent (the idle window runs on its own)."""
    return [
        *await state_loss(package, double_module, runs),
        *await busy_agent(package, double_module),
    ]
