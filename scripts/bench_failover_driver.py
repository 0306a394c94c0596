"""The failover benchmark's driver: back-to-back calls through HandlerServiceCalls.

Runs with a render's interpreter (it imports the rendered package): builds the
node's own call path (settings from the contract and the environment, the
Consul discovery handler and its watch-fed cache, EndpointResolver,
HandlerServiceCalls), waits for two healthy instances of SERVICE, makes
BEFORE timed calls, SIGKILLs process KILL_PID (the instance on KILL_PORT),
then calls back to back for AFTER_S seconds. Prints one JSON object: the call
latencies before the kill, and for every call after it, its time since the
kill, its latency, whether it sent a request to the dead instance, and its
error (null when it succeeded).

Which instance a call tried is seen through aiohttp's own request tracing
(a TraceConfig on every ClientSession of this process), so the client's code
is measured as it ships.

Usage: ``python scripts/bench_failover_driver.py PACKAGE SERVICE KILL_PID
KILL_PORT BEFORE AFTER_S`` with CONSUL_HTTP_ADDR set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import os
import signal
import sys
import time
from importlib.metadata import entry_points
from types import SimpleNamespace
from typing import Any

import aiohttp

READY_S = 30.0
WARM_UP = 50
# The compute sample's input (its model's example).
PAYLOAD = {"values": [1.0, 2.0, 4.0]}


class RequestsTo:
    """Counts requests started to one port, through aiohttp tracing."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.count = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._started)

    async def _started(
        self, _: aiohttp.ClientSession, __: SimpleNamespace, params: Any
    ) -> None:
        if params.url.port == self.port:
            self.count += 1

    def install(self) -> None:
        """Every ClientSession opened from now on traces its requests here."""
        aiohttp.ClientSession = functools.partial(  # type: ignore[misc,assignment]
            aiohttp.ClientSession, trace_configs=[self.trace]
        )


def _node_class(package: str) -> type[Any]:
    """The package's node class, found as the runtime finds it (onex.nodes)."""
    (entry,) = (
        e for e in entry_points(group="onex.nodes") if e.value.startswith(package)
    )
    node_class: type[Any] = entry.load()
    return node_class


def _module(package: str, name: str) -> Any:
    return importlib.import_module(f"{package}.managed.{name}")


async def _two_instances(
    resolver: Any, service: str, none_yet: type[Exception]
) -> None:
    deadline = time.monotonic() + READY_S
    while True:
        with contextlib.suppress(none_yet):
            if len(await resolver.resolve_endpoints(service)) == 2:
                return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"two healthy {service} instances: not in {READY_S} s")
        await asyncio.sleep(0.05)


async def _timed_call(calls: Any, service: str) -> tuple[float, str | None]:
    """Seconds the call took and its error (None: it answered)."""
    started = time.perf_counter()
    try:
        await calls.call(service, PAYLOAD)
    except Exception as error:  # every failure is a figure, whatever its kind
        return time.perf_counter() - started, f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, None


async def drive(
    package: str, service: str, victim: tuple[int, int], before: int, after_s: float
) -> dict[str, Any]:
    kill_pid, kill_port = victim
    to_victim = RequestsTo(kill_port)
    to_victim.install()
    settings = _module(package, "settings.node_contract").settings_for(
        _node_class(package), os.environ
    )
    discovery = _module(
        package, "consul.handlers.handler_consul_discovery"
    ).HandlerConsulDiscovery(settings.consul, settings.check, settings.discovery)
    metrics = _module(package, "metrics.node_metrics").NodeMetrics()
    resolver = _module(package, "discovery.endpoint_resolver").EndpointResolver(
        discovery, settings, metrics
    )
    calls = _module(
        package, "calling.handlers.handler_service_calls"
    ).HandlerServiceCalls(resolver, settings.calls, metrics)
    try:
        none_yet = _module(package, "errors").NoHealthyInstanceError
        await _two_instances(resolver, service, none_yet)
        for _ in range(WARM_UP):
            await _timed_call(calls, service)
        latencies = [(await _timed_call(calls, service))[0] for _ in range(before)]
        os.kill(kill_pid, signal.SIGKILL)
        killed = time.perf_counter()
        after = []
        while (since := time.perf_counter() - killed) < after_s:
            sent = to_victim.count
            seconds, error = await _timed_call(calls, service)
            after.append((since, seconds, to_victim.count > sent, error))
    finally:
        await calls.aclose()
        await discovery.aclose()
    return {"before": latencies, "after": after}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package")
    parser.add_argument("service")
    parser.add_argument("kill_pid", type=int)
    parser.add_argument("kill_port", type=int)
    parser.add_argument("before", type=int)
    parser.add_argument("after_s", type=float)
    args = parser.parse_args()
    result = asyncio.run(
        drive(
            args.package,
            args.service,
            (args.kill_pid, args.kill_port),
            args.before,
            args.after_s,
        )
    )
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
