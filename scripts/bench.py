"""Lifecycle benchmarks of a rendered node against the Consul agent double.

Prints one line per figure, ``<name>: <value> <unit>``, each the median over
repeated runs. The node runs as a real process (``python -m <package>``); the
double runs in this process so that faults can be injected and every change is
timestamped the moment the double makes it.

The discovery figures (lookup time, staleness, Consul requests) come from
``scripts/bench_discovery.py``, side by side with a five-minute TTL cache;
the memory of a watch on a 20,000-instance service from
``scripts/measure_watch_memory.py``; what a node costs its agent (requests
per idle minute, over a window that runs beside the other phases; agent
state loss to re-registered at the default interval; a busy agent) from
``scripts/bench_idle.py``; POST invoke's latency, throughput and
memory beside a bare aiohttp route from ``scripts/bench_http.py``; a call
through discovery beside a direct POST from ``scripts/bench_calls.py``; calls
failing and the first call's added latency while one of two instances is
SIGKILLed from ``scripts/bench_failover.py``.

Run with ``make bench`` (or ``.venv/bin/python -m scripts.bench [--runs N]
[--http-runs N] [--failover-runs N]``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from scripts.answer_sets import NODE_TYPES
from scripts.bench_calls import calls_benchmark
from scripts.bench_discovery import discovery_benchmark
from scripts.bench_failover import failover_benchmark
from scripts.bench_http import http_benchmark
from scripts.bench_idle import quiet_benchmark, start_idle_window
from scripts.bench_node_process import NodeRun
from scripts.measure_watch_memory import watch_memory_figures
from scripts.rendering import (
    RenderedPackage,
    import_in_this_process,
    render_and_install,
)

# Checks every second (FAST_CHECKS), so that passing is measured in check
# intervals the benchmark can afford to wait for.
INTERVAL_S = 1.0


def load_double_module(package: RenderedPackage) -> ModuleType:
    """The Consul agent double shipped in the rendered package's tests."""
    import_in_this_process(package)
    return importlib.import_module("tests.managed.consul_agent_double")


async def measure_once(
    package: RenderedPackage, double_module: ModuleType, mode: str
) -> dict[str, float]:
    """Start, register, pass, stop: one node's life (state loss: bench_idle)."""
    async with double_module.ConsulAgentDouble() as double:
        node = NodeRun(package, double, {"ONEX_NODE_CHECK_MODE": mode})
        started = await node.start()
        registered = await node.until(node.registered)
        passing = await node.until(node.passing)
        figures = {
            "start to registered": registered - started,
            f"registered to passing ({mode})": passing - registered,
            "resident memory": node.resident_mib(),
        }
        figures["sigterm to deregistered"] = await node.stop()
        return figures


def report(samples: Mapping[str, list[float]]) -> list[str]:
    lines = []
    for name, values in samples.items():
        median = statistics.median(values)
        if name == "resident memory":
            lines.append(f"node {name} median: {median:.1f} MiB")
        else:
            lines.append(f"{name} median: {median * 1000:.1f} ms")
    return lines


async def benchmark(
    package: RenderedPackage, runs: int, workdir: Path, extra_runs: tuple[int, int]
) -> list[str]:
    http_runs, failover_runs = extra_runs
    double_module = load_double_module(package)
    idle = start_idle_window(package, double_module)
    samples: dict[str, list[float]] = {}
    for mode in ("http", "ttl"):
        for _ in range(runs):
            for name, value in (
                await measure_once(package, double_module, mode)
            ).items():
                if mode == "ttl" and not name.startswith("registered to"):
                    continue
                samples.setdefault(name, []).append(value)
    lines = report(samples)
    lines.append(f"check interval: {INTERVAL_S * 1000:.0f} ms")
    lines.extend(await quiet_benchmark(package, double_module, runs))
    lines.extend(await discovery_benchmark(package, double_module, runs))
    lines.extend(await watch_memory_figures(package.python, package.package_name, runs))
    lines.extend(await http_benchmark(package, http_runs, workdir / "http"))
    lines.extend(await calls_benchmark(package, runs, workdir / "calls"))
    lines.extend(await failover_benchmark(failover_runs, workdir / "failover"))
    lines.extend(await idle)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    # Each HTTP run sends 10,000 requests to fresh processes (about 10 s).
    parser.add_argument("--http-runs", type=int, default=3)
    # Each failover run starts fresh processes and calls for 10 s after the kill.
    parser.add_argument("--failover-runs", type=int, default=3)
    parser.add_argument("--node-type", choices=NODE_TYPES, default="effect")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onex-bench-") as workdir:
        package = render_and_install(
            Path(workdir),
            {"service_name": "bench-node", "node_type": args.node_type},
        )
        lines = benchmark(
            package,
            args.runs,
            Path(workdir),
            (args.http_runs, args.failover_runs),
        )
        for line in asyncio.run(lines):
            print(line, flush=True)


if __name__ == "__main__":
    main()
