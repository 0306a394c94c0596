"""Call benchmark: context.call through discovery beside a direct aiohttp POST.

One callee node runs as ``python -m <package>``, registered with the Consul
agent double (its own process). A driver in the render's venv
(``python -m scripts.bench_calls --driver``) finds it as a node does, through
HandlerConsulDiscovery's watch-fed cache, and sends SEQUENTIAL calls through
HandlerServiceCalls; then, in the same run, SEQUENTIAL direct POSTs of the same
body to the same instance with one aiohttp.ClientSession (the ``baseline``).
Each run is a fresh driver (the two halves swap order every run); the
figures are medians over the runs of each run's p50 and p99.

Run with ``make bench`` (part of it) or
``.venv/bin/python -m scripts.bench_calls [--runs N] [--node-type T]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import aiohttp

from scripts.answer_sets import NODE_TYPES
from scripts.bench_discovery import percentile, timed_async
from scripts.bench_http import answering
from scripts.consul_agents import (
    health_url,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import free_port, stopped_at_exit, wait_for
from scripts.rendering import RenderedPackage, render_and_install

SEQUENTIAL = 2_000
WARM_UP = 100  # each way, before any figure: first calls connect and fill caches
RATIO_GOAL = 1.3
REPO_ROOT = Path(__file__).resolve().parents[1]
DRIVER_TIMEOUT_S = 120.0
READY_S = 30.0
HEADERS = {"Content-Type": "application/json"}


def _node_class(package: str) -> type[Any]:
    """The node class of `package`, through its ``onex.nodes`` entry point."""
    (entry,) = (
        entry
        for entry in entry_points(group="onex.nodes")
        if entry.value.startswith(f"{package}.")
    )
    node_class: type[Any] = entry.load()
    return node_class


async def _drive(package: str, calls_first: bool) -> dict[str, float]:
    """In the render's venv: p50 and p99 (microseconds) of both ways."""
    node_class = _node_class(package)

    def managed(module: str) -> Any:
        return import_module(f"{package}.managed.{module}")

    settings = managed("settings.node_contract").settings_for(node_class, os.environ)
    consul = managed("consul.handlers.handler_consul_discovery")
    discovery = consul.HandlerConsulDiscovery(
        settings.consul, settings.check, settings.discovery
    )
    metrics = managed("metrics.node_metrics").NodeMetrics()
    resolver = managed("discovery.endpoint_resolver").EndpointResolver(
        discovery, settings, metrics
    )
    calls = managed("calling.handlers.handler_service_calls").HandlerServiceCalls(
        resolver, settings.calls, metrics
    )
    service = settings.service_name
    payload = node_class.input_model.model_json_schema()["examples"][0]
    body = json.dumps(payload).encode()
    endpoint = await resolver.resolve_endpoint(service)
    url = f"http://{endpoint.host_port}{settings.invoke_path}"
    async with aiohttp.ClientSession() as session:

        async def direct() -> None:
            async with session.post(url, data=body, headers=HEADERS) as response:
                answer = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"POST {url}: {response.status} {answer!r}")

        async def through_discovery() -> None:
            await calls.call(service, payload)

        ways: dict[str, Callable[[], Awaitable[None]]] = {
            "call": through_discovery,
            "call baseline": direct,
        }
        order = list(ways) if calls_first else list(reversed(ways))
        figures: dict[str, float] = {}
        for name in order:
            await timed_async(ways[name], WARM_UP)
            samples = await timed_async(ways[name], SEQUENTIAL)
            figures[f"{name} p50"] = statistics.median(samples)
            figures[f"{name} p99"] = percentile(samples, 0.99)
    await calls.aclose()
    await discovery.aclose()
    return figures


async def _driver_run(
    package: RenderedPackage, consul_address: str, calls_first: bool
) -> dict[str, float]:
    """One fresh driver process; its figures."""
    environ = package.env(
        {
            "CONSUL_HTTP_ADDR": consul_address,
            "CONSUL_HTTP_TOKEN": None,
            "ONEX_NODE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    args = ["-m", "scripts.bench_calls", "--driver", package.package_name]
    if not calls_first:
        args.append("--baseline-first")
    process = await asyncio.create_subprocess_exec(
        str(package.python),
        *args,
        env=environ,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(DRIVER_TIMEOUT_S):
        out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the call driver failed:\n{err.decode()[-3000:]}")
    figures: dict[str, float] = json.loads(out.decode().splitlines()[-1])
    return figures


def _passing(entries: list[dict[str, Any]]) -> bool:
    checks = [check for entry in entries for check in entry.get("Checks", ())]
    return bool(checks) and all(check["Status"] == "passing" for check in checks)


def report(samples: Mapping[str, list[float]]) -> list[str]:
    median = {name: statistics.median(values) for name, values in samples.items()}
    ratio = median["call p50"] / median["call baseline p50"]
    names = ("call p50", "call p99", "call baseline p50", "call baseline p99")
    return [
        *(f"{name} median: {median[name] / 1000:.3f} ms" for name in names),
        f"call_p50_ratio_to_baseline: {ratio:.2f} x",
        f"call_p50_ratio_to_baseline goal (at most): {RATIO_GOAL} x",
    ]


async def calls_benchmark(
    package: RenderedPackage, runs: int, workdir: Path
) -> list[str]:
    """The figures above, each the median over ``runs`` driver runs."""
    logs = workdir / "logs"
    double = start_agent_double(package, logs)
    with stopped_at_exit(double):
        agent = await asyncio.to_thread(wait_for_double, double)
        address = agent.address
        port = free_port()
        environ = node_env(
            package,
            consul_address=address,
            node_port=port,
            extra={"ONEX_NODE_LOG_LEVEL": "WARNING"},
        )
        node = start_node(package, environ, logs, as_module=True)
        with stopped_at_exit(node):
            async with aiohttp.ClientSession() as session:
                await answering(session, "GET", health_url(package, port), node)
            await asyncio.to_thread(
                wait_for,
                lambda: _passing(agent.health_service(package.service_name)),
                timeout=READY_S,
                what="the callee passing in the agent",
            )
            samples: dict[str, list[float]] = {}
            for run in range(runs):
                figures = await _driver_run(package, address, run % 2 == 0)
                for name, value in figures.items():
                    samples.setdefault(name, []).append(value)
            if node.terminate() != 0:
                raise RuntimeError("the callee node did not stop cleanly")
    return report(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--node-type", choices=NODE_TYPES, default="effect")
    parser.add_argument("--driver", metavar="PACKAGE", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-first", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        figures = asyncio.run(_drive(args.driver, not args.baseline_first))
        print(json.dumps(figures), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="onex-bench-calls-") as workdir:
        package = render_and_install(
            Path(workdir),
            {"service_name": "bench-node", "node_type": args.node_type},
        )
        for line in asyncio.run(calls_benchmark(package, args.runs, Path(workdir))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
