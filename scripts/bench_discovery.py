"""Discovery benchmark: the node's instance cache against the pattern it replaces.

The baseline is what nodes did before: ``health.service(name, passing=True)``
through py-consul, the answer cached for five minutes, a random instance per
lookup. Both run in this process against the same in-process Consul agent
double; Consul requests are counted from the double's request log.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import aiohttp
import consul.aio  # type: ignore[import-untyped]

from scripts.rendering import RenderedPackage

SERVICE = "billing"
INSTANCES = 3
TTL_S = 300.0  # the baseline's cache lifetime
LOOKUPS = 10_000
TIMED_LOOKUPS = 20_000
BASELINE_STEP_S = 0.1  # virtual time between two baseline lookups
STALENESS_DEADLINE_S = 10.0


class TtlCacheBaseline:
    """health.service(passing=True) cached for TTL_S, one random instance."""

    def __init__(self, client: Any, clock: Callable[[], float]) -> None:
        self._client = client
        self._clock = clock
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    async def lookup(self, name: str) -> dict[str, Any]:
        now = self._clock()
        cached = self._cache.get(name)
        if cached is None or now - cached[0] >= TTL_S:
            _, nodes = await self._client.health.service(name, passing=True)
            cached = (now, nodes)
            self._cache[name] = cached
        return random.choice(cached[1])

    def expires_at(self, name: str) -> float:
        return self._cache[name][0] + TTL_S


def import_from(package: RenderedPackage, module: str) -> ModuleType:
    """``<package>.<module>`` of the render, imported in this process."""
    src = str(package.root / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return importlib.import_module(f"{package.package_name}.{module}")


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _health_requests(double: Any, blocking: bool) -> int:
    """Requests for SERVICE's health; the cache's watches (blocking) always send
    ``wait``, the baseline never does."""
    return sum(
        1
        for r in double.requests
        if r.path == f"/v1/health/service/{SERVICE}"
        and ("wait" in dict(r.query)) == blocking
    )


async def _register(double: Any) -> list[str]:
    ids = []
    async with aiohttp.ClientSession(f"http://{double.address}") as session:
        for n in range(INSTANCES):
            service_id = f"{SERVICE}-{n}"
            body = {
                "Name": SERVICE,
                "ID": service_id,
                "Address": f"10.0.0.{n + 1}",
                "Port": 8080,
                "Check": {"TTL": "10m", "Status": "passing"},
            }
            async with session.put("/v1/agent/service/register", json=body) as reply:
                reply.raise_for_status()
            ids.append(service_id)
    return ids


def _timed(lookup: Callable[[], object], count: int) -> list[float]:
    samples = []
    clock = time.perf_counter_ns
    for _ in range(count):
        started = clock()
        lookup()
        samples.append((clock() - started) / 1000)
    return samples


async def timed_async(lookup: Callable[[], Any], count: int) -> list[float]:
    """Microseconds of each of ``count`` awaited calls, one after another."""
    samples = []
    clock = time.perf_counter_ns
    for _ in range(count):
        started = clock()
        await lookup()
        samples.append((clock() - started) / 1000)
    return samples


async def _cache_staleness(cache: Any, double: Any, victim: str) -> float:
    """Seconds from `victim` turning critical to the last lookup returning it."""
    turned = time.perf_counter()
    double.set_check_status(f"service:{victim}", "critical")
    last = turned
    deadline = turned + STALENESS_DEADLINE_S
    while time.perf_counter() < deadline:
        if cache.pick(SERVICE).service_id == victim:
            last = time.perf_counter()
        elif victim not in {e.service_id for e in cache.endpoints(SERVICE)}:
            break
        await asyncio.sleep(0)
    else:
        raise TimeoutError("the cache never dropped the critical instance")
    double.set_check_status(f"service:{victim}", "passing")
    while len(cache.endpoints(SERVICE)) < INSTANCES:
        await asyncio.sleep(0.001)
    # Let the watch send its next blocking query (it rate-limits itself to one
    # request per 50 ms), so each run measures a change in a quiet period.
    sent = _health_requests(double, blocking=True)
    await double.wait_for(lambda: _health_requests(double, blocking=True) > sent)
    return last - turned


async def _baseline_staleness(client: Any, double: Any, victim: str) -> float:
    """The same, on the baseline, with a virtual clock (its answer is minutes)."""
    now = 0.0
    baseline = TtlCacheBaseline(client, lambda: now)
    await baseline.lookup(SERVICE)
    now = turned = random.uniform(0, TTL_S)  # any moment of the cache's life
    double.set_check_status(f"service:{victim}", "critical")
    last = turned
    refreshed = baseline.expires_at(SERVICE)
    while now <= refreshed + 1.0:
        if (await baseline.lookup(SERVICE))["Service"]["ID"] == victim:
            last = now
        now += BASELINE_STEP_S
    double.set_check_status(f"service:{victim}", "passing")
    return last - turned


async def _requests_per_lookups(
    lookup: Callable[[], Any], double: Any, victim: str, blocking: bool
) -> int:
    """Consul requests during LOOKUPS lookups while one instance flaps 4 times."""
    double.requests.clear()
    flips = {LOOKUPS * k // 5: k % 2 == 1 for k in range(1, 5)}
    for n in range(LOOKUPS):
        if n in flips:
            status = "critical" if flips[n] else "passing"
            double.set_check_status(f"service:{victim}", status)
        await lookup()
        if n % 10 == 0:
            await asyncio.sleep(0.0001)
    return _health_requests(double, blocking)


async def discovery_benchmark(
    package: RenderedPackage, double_module: ModuleType, runs: int
) -> list[str]:
    handler_module = import_from(
        package, "managed.consul.handlers.handler_consul_discovery"
    )
    consul_settings = import_from(package, "managed.settings.model_consul_settings")
    check_settings = import_from(package, "managed.settings.model_check_settings")
    async with double_module.ConsulAgentDouble() as double:
        ids = await _register(double)
        handler = handler_module.HandlerConsulDiscovery(
            consul_settings.ModelConsulSettings(host=double.host, port=double.port),
            check_settings.ModelCheckSettings(),
        )
        client = consul.aio.Consul(host=double.host, port=double.port)
        try:
            cache = handler.instances
            await cache.ready(SERVICE, 5.0)
            baseline = TtlCacheBaseline(client, time.monotonic)
            await baseline.lookup(SERVICE)
            plain = {SERVICE: tuple(cache.endpoints(SERVICE))}
            lookups = _timed(lambda: cache.pick(SERVICE), TIMED_LOOKUPS)
            dict_lookups = _timed(lambda: plain[SERVICE], TIMED_LOOKUPS)
            baseline_lookups = await timed_async(
                lambda: baseline.lookup(SERVICE), TIMED_LOOKUPS
            )
            stale = [
                await _cache_staleness(cache, double, ids[n % INSTANCES])
                for n in range(runs)
            ]
            baseline_stale = [
                await _baseline_staleness(client, double, ids[n % INSTANCES])
                for n in range(runs * 10)
            ]

            async def cached() -> None:
                cache.pick(SERVICE)

            cache_requests = await _requests_per_lookups(
                cached, double, ids[0], blocking=True
            )
            baseline_requests = await _requests_per_lookups(
                lambda: baseline.lookup(SERVICE), double, ids[0], blocking=False
            )
        finally:
            await client.close()
            await handler.aclose()
    median = statistics.median
    return [
        f"discovery lookup median: {median(lookups):.2f} us",
        f"discovery lookup p99: {percentile(lookups, 0.99):.2f} us",
        f"dict lookup median: {median(dict_lookups):.2f} us",
        f"discovery lookup to dict lookup ratio: "
        f"{median(lookups) / median(dict_lookups):.1f} x",
        f"baseline lookup median: {median(baseline_lookups):.2f} us",
        f"baseline lookup p99: {percentile(baseline_lookups, 0.99):.2f} us",
        f"discovery staleness median: {median(stale) * 1000:.1f} ms",
        f"discovery staleness max: {max(stale) * 1000:.1f} ms",
        f"baseline staleness median: {median(baseline_stale):.0f} s",
        f"baseline staleness max: {max(baseline_stale):.0f} s",
        f"discovery consul requests per {LOOKUPS} lookups: {cache_requests} requests",
        f"baseline consul requests per {LOOKUPS} lookups: {baseline_requests} requests",
        "discovery watched services: 1 services",
    ]
