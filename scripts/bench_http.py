"""HTTP benchmark: POST invoke of the sample effect beside a bare aiohttp route.

The node runs as ``python -m <package>``, registered with the Consul agent
double (its own process, the answers' check policy); the baseline is
``scripts/bench_http_baseline.py``, the same aiohttp server stack answering a
constant from one route, started the same way with the same interpreter. One
client, this process's aiohttp, talks to both over keep-alive connections and
sends both the same body. Each run starts fresh processes and gives:

- latency p50 and p99 of SEQUENTIAL requests, one at a time on one connection;
- requests per second with CONCURRENCY clients sharing CONCURRENT requests;
- the node's resident memory once it is ready and after MEMORY_AFTER requests.

The sample's own cost, appending one line to a file in a worker thread, is
measured apart: the handler alone, in this process, with the in-memory context.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import statistics
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp

from scripts.bench_discovery import import_from, percentile, timed_async
from scripts.consul_agents import (
    health_url,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    POLL_INTERVAL,
    ManagedProcess,
    free_port,
    resident_mib,
    start_process,
    stopped_at_exit,
)
from scripts.rendering import RenderedPackage, import_in_this_process

SEQUENTIAL = 2_000
WARM_UP = 100  # requests before any figure: first calls import and fill caches
CONCURRENCY = 16
CONCURRENT = 4_000
MEMORY_AFTER = 10_000
READY_S = 30.0
RATIO_GOAL = 1.5
GROWTH_GOAL_PERCENT = 10.0
BASELINE_SCRIPT = Path(__file__).with_name("bench_http_baseline.py")
REQUEST = {"journal": "bench", "record": {"id": "42"}}
BODY = json.dumps(REQUEST).encode()
HEADERS = {"Content-Type": "application/json"}


async def post(session: aiohttp.ClientSession, url: str) -> None:
    """One POST of BODY; anything but 200 ends the benchmark."""
    async with session.post(url, data=BODY, headers=HEADERS) as response:
        answer = await response.read()
        if response.status != 200:
            raise RuntimeError(f"POST {url}: {response.status} {answer[:300]!r}")


async def requests_per_second(
    session: aiohttp.ClientSession, url: str, total: int
) -> float:
    """``total`` requests shared by CONCURRENCY clients, each one at a time."""
    remaining = iter(range(total))

    async def client() -> None:
        for _ in remaining:
            await post(session, url)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return total / (time.perf_counter() - started)


async def answering(
    session: aiohttp.ClientSession, method: str, url: str, process: ManagedProcess
) -> None:
    """Poll ``url`` until it answers 200 (fails at once if ``process`` exits)."""
    deadline = time.monotonic() + READY_S
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            data = BODY if method == "POST" else None
            async with session.request(
                method, url, data=data, headers=HEADERS
            ) as response:
                if response.status == 200:
                    return
        if not process.running():
            raise RuntimeError(f"{process.name} exited\n{process.output_tail()}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{url} did not answer 200 within {READY_S:.0f} s")
        await asyncio.sleep(POLL_INTERVAL)


@dataclass(frozen=True)
class EffectSample:
    """The render's node class, its handler class and the handler's variable."""

    node_class: type[Any]
    handler_class: type[Any]
    journal_dir_variable: str

    @classmethod
    def of(cls, package: RenderedPackage) -> EffectSample:
        """Found through the ``onex.nodes`` entry point and ``handler.py``."""
        pyproject = tomllib.loads((package.root / "pyproject.toml").read_text("utf-8"))
        (target,) = pyproject["project"]["entry-points"]["onex.nodes"].values()
        module, _, name = str(target).partition(":")
        import_in_this_process(package)
        entry = importlib.import_module(module.rpartition(".")[0] + ".handler")
        handler_class = getattr(entry, entry.__all__[0])
        handler_module = importlib.import_module(handler_class.__module__)
        return cls(
            getattr(importlib.import_module(module), name),
            handler_class,
            handler_module.JOURNAL_DIR_VARIABLE,
        )


async def measure_once(
    package: RenderedPackage, path: str, double_address: str, workdir: Path
) -> dict[str, float]:
    """Fresh node and baseline processes; every figure of one run."""
    journal_dir_variable = EffectSample.of(package).journal_dir_variable
    node_port, baseline_port = free_port(), free_port()
    environ = node_env(
        package,
        consul_address=double_address,
        node_port=node_port,
        check_policy=None,
        extra={journal_dir_variable: str(workdir / "journals")},
    )
    node = start_node(package, environ, workdir / "logs", as_module=True)
    baseline = start_process(
        "invoke-baseline",
        [package.python, BASELINE_SCRIPT, str(baseline_port), path],
        env=package.env(),
        cwd=package.root,
        log_dir=workdir / "logs",
    )
    node_url = f"http://127.0.0.1:{node_port}{path}"
    baseline_url = f"http://127.0.0.1:{baseline_port}{path}"
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    with stopped_at_exit(node), stopped_at_exit(baseline):
        async with aiohttp.ClientSession(connector=connector) as session:
            await answering(session, "GET", health_url(package, node_port), node)
            await answering(session, "POST", baseline_url, baseline)
            figures = {"memory after start-up": resident_mib(node.pid)}
            for url in (node_url, baseline_url):
                for _ in range(WARM_UP):
                    await post(session, url)

            invoke = await timed_async(lambda: post(session, node_url), SEQUENTIAL)
            bare = await timed_async(lambda: post(session, baseline_url), SEQUENTIAL)
            figures |= {
                "invoke p50": statistics.median(invoke),
                "invoke p99": percentile(invoke, 0.99),
                "invoke baseline p50": statistics.median(bare),
                "invoke baseline p99": percentile(bare, 0.99),
                "invoke rps": await requests_per_second(session, node_url, CONCURRENT),
                "invoke baseline rps": await requests_per_second(
                    session, baseline_url, CONCURRENT
                ),
            }
            answered = WARM_UP + SEQUENTIAL + CONCURRENT
            await requests_per_second(session, node_url, MEMORY_AFTER - answered)
            figures["memory after requests"] = resident_mib(node.pid)
        for process in (node, baseline):
            if process.terminate() != 0:
                raise RuntimeError(f"{process.name} did not stop cleanly")
    return figures


async def handler_alone(
    package: RenderedPackage, settings: Any, workdir: Path
) -> list[float]:
    """Microseconds per handle() of SEQUENTIAL requests, in this process."""
    sample = EffectSample.of(package)
    context = import_from(package, "managed.context").ModelNodeContext
    journals = {sample.journal_dir_variable: str(workdir / "journals-in-process")}
    # The handler reads its directory when built, as in the node.
    with mock.patch.dict(os.environ, journals):
        handler = sample.handler_class(context.in_memory(settings=settings))
    request = sample.node_class.input_model.model_validate(REQUEST)
    return await timed_async(lambda: handler.handle(request), SEQUENTIAL)


def report(samples: Mapping[str, list[float]], handler_us: list[float]) -> list[str]:
    median = {name: statistics.median(values) for name, values in samples.items()}
    ratio = median["invoke p50"] / median["invoke baseline p50"]
    handler = statistics.median(handler_us)
    # What the node adds around the owner's work, the sample's I/O taken out.
    shell_ratio = (median["invoke p50"] - handler) / median["invoke baseline p50"]
    start, after = median["memory after start-up"], median["memory after requests"]
    growth = (after - start) / start * 100
    latencies = [f"invoke {p}" for p in ("p50", "p99", "baseline p50", "baseline p99")]
    rates = ("invoke rps", "invoke baseline rps")
    return [
        *(f"{name} median: {median[name] / 1000:.2f} ms" for name in latencies),
        # Goals on lines of their own: every line stays `<name>: <value> <unit>`.
        f"invoke_p50_ratio_to_baseline: {ratio:.2f} x",
        f"invoke_p50_ratio_to_baseline goal (at most): {RATIO_GOAL} x",
        *(
            f"{name} at {CONCURRENCY} clients median: {median[name]:.0f} req/s"
            for name in rates
        ),
        f"effect handler alone p50: {handler / 1000:.3f} ms",
        f"invoke_p50_less_handler_ratio_to_baseline: {shell_ratio:.2f} x",
        f"node resident memory after start-up median: {start:.1f} MiB",
        f"node resident memory after {MEMORY_AFTER} requests median: {after:.1f} MiB",
        f"node resident memory growth over {MEMORY_AFTER} requests: {growth:.1f} %",
        f"node resident memory growth goal (under): {GROWTH_GOAL_PERCENT:.0f} %",
    ]


async def http_benchmark(
    package: RenderedPackage, runs: int, workdir: Path
) -> list[str]:
    """The figures above, each the median over ``runs`` runs."""
    if package.answers["node_type"] != "effect":
        return ["invoke figures: measured for the effect sample only"]
    contract = import_from(package, "managed.settings.node_contract")
    settings = contract.settings_for(EffectSample.of(package).node_class, {})
    double = start_agent_double(package, workdir / "logs")
    with stopped_at_exit(double):
        address = (await asyncio.to_thread(wait_for_double, double)).address
        samples: dict[str, list[float]] = {}
        for run in range(runs):
            figures = await measure_once(
                package, settings.invoke_path, address, workdir / f"run-{run}"
            )
            for name, value in figures.items():
                samples.setdefault(name, []).append(value)
    return report(samples, await handler_alone(package, settings, workdir))
