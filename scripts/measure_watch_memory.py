"""Resident memory of a rendered node's watch holding one very large service.

`make bench` prints these figures (``watch_memory_figures``). This process
serves Consul-shaped answers for ``/v1/health/service/big`` (the given number
of passing instances, each with the node check and a service check, about 780
bytes per instance as a real agent writes them) and starts a second process,
with the package's interpreter, that watches ``big`` with the package's own
discovery handler and reports its RSS (VmRSS) before and after the first
answer, and its peak (VmHWM). Linux only (it reads /proc/self/status).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

_INDEX = 5


def _entry(number: int) -> dict[str, Any]:
    node = f"node-{number % 500}"
    service_id = f"big-10.0.{number // 250}.{number % 250}-8080"
    return {
        "Node": {
            "Node": node,
            "Address": f"10.1.{number // 250}.{number % 250}",
            "Datacenter": "dc1",
            "CreateIndex": 4,
            "ModifyIndex": 4,
        },
        "Service": {
            "ID": service_id,
            "Service": "big",
            "Tags": ["onex", "effect", "default"],
            "Address": f"10.0.{number // 250}.{number % 250}",
            "Meta": {"node_type": "effect", "onex_version": "0.47.57"},
            "Port": 8080,
            "Weights": {"Passing": 1, "Warning": 1},
            "EnableTagOverride": False,
            "CreateIndex": 5,
            "ModifyIndex": 5,
        },
        "Checks": [
            {
                "Node": node,
                "CheckID": "serfHealth",
                "Name": "Serf Health Status",
                "Status": "passing",
                "Output": "Agent alive and reachable",
                "ServiceID": "",
                "Type": "",
            },
            {
                "Node": node,
                "CheckID": f"service:{service_id}",
                "Name": "Service 'big' check",
                "Status": "passing",
                "Output": "",
                "ServiceID": service_id,
                "Type": "http",
            },
        ],
    }


async def _measure_in_child(
    python: Path, package: str, instances: int
) -> tuple[dict[str, float], int]:
    """One child's figures (MiB), and the size of the answer it was sent."""
    body = json.dumps([_entry(n) for n in range(instances)]).encode()

    async def health(request: web.Request) -> web.Response:
        if request.query.get("index") == str(_INDEX):
            await asyncio.sleep(3600)  # a blocking query with nothing new
        response = web.Response(body=body, content_type="application/json")
        response.headers["X-Consul-Index"] = str(_INDEX)
        return response

    app = web.Application()
    app.router.add_get("/v1/health/service/big", health)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        child = await asyncio.create_subprocess_exec(
            str(python),
            __file__,
            "--measure",
            package,
            str(port),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
    finally:
        await runner.cleanup()
    if child.returncode != 0:
        raise RuntimeError(f"the watch-memory child exited {child.returncode}")
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    if figures.pop("cached") != instances:
        raise RuntimeError("the watch did not cache every instance")
    return figures, len(body)


async def watch_memory_figures(
    python: Path, package: str, runs: int, instances: int = 20_000
) -> list[str]:
    """Bench lines: RSS growth and peak of one watch of `instances` (medians)."""
    samples: list[dict[str, float]] = []
    size = 0
    for _ in range(runs):
        figures, size = await _measure_in_child(python, package, instances)
        samples.append(figures)
    growth = statistics.median(s["after"] - s["before"] for s in samples)
    peak = statistics.median(s["peak"] for s in samples)
    before = statistics.median(s["before"] for s in samples)
    where = f"{instances} instances, {size / 2**20:.1f} MiB answer"
    return [
        f"watch memory baseline (before the answer) median: {before:.1f} MiB",
        f"watch memory growth ({where}) median: {growth:.1f} MiB",
        f"watch memory peak ({where}) median: {peak:.1f} MiB",
    ]


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


async def _measure(package: str, port: int) -> None:
    handler_module = importlib.import_module(
        f"{package}.managed.consul.handlers.handler_consul_discovery"
    )
    consul = importlib.import_module(
        f"{package}.managed.settings.model_consul_settings"
    )
    check = importlib.import_module(f"{package}.managed.settings.model_check_settings")
    handler = handler_module.HandlerConsulDiscovery(
        consul.ModelConsulSettings(port=port), check.ModelCheckSettings()
    )
    gc.collect()
    before = _status_kib("VmRSS")
    await handler.instances.ready("big", 120.0)
    cached = len(handler.instances.endpoints("big"))
    gc.collect()
    after = _status_kib("VmRSS")
    peak = _status_kib("VmHWM")
    await handler.aclose()
    figures = {"before": before / 1024, "after": after / 1024, "peak": peak / 1024}
    print(json.dumps({**figures, "cached": cached}))


if __name__ == "__main__":
    asyncio.run(_measure(sys.argv[2], int(sys.argv[3])))
