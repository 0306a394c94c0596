"""Resident memory of a rendered node's watch holding one very large service.

Run with a rendered package's interpreter (its venv sees the package)::

    /tmp/r/venv/bin/python scripts/measure_watch_memory.py postgres_crud 20000

This process serves Consul-shaped answers for ``/v1/health/service/big`` (the
given number of passing instances, each with the node check and a service
check, about 780 bytes per instance as a real agent writes them) and starts a
second process that imports the package, watches ``big`` with the package's
own discovery handler and prints its RSS (VmRSS) before and after the first
answer, and its peak (VmHWM). A figure, not a test: nothing is asserted.
Linux only (it reads /proc/self/status).
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
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


async def _serve(instances: int, package: str) -> None:
    body = json.dumps([_entry(n) for n in range(instances)]).encode()

    async def health(request: web.Request) -> web.Response:
        if request.query.get("index") == str(_INDEX):
            await asyncio.sleep(3600)  # a blocking query with nothing new
        response = web.Response(body=body, content_type="application/json")
        response.headers["X-Consul-Index"] = str(_INDEX)
        return response

    app = web.Application()
    app.router.add_get("/v1/health/service/big", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--measure", package, str(port)
    )
    await child.wait()
    print(f"answer: {instances} instances, {len(body) / 1e6:.1f} MB")
    await runner.cleanup()


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


async def _measure(package: str, port: int) -> None:
    handler_module = importlib.import_module(
        f"{package}.handlers.handler_consul_discovery"
    )
    consul = importlib.import_module(f"{package}.runtime.model_consul_settings")
    check = importlib.import_module(f"{package}.runtime.model_check_settings")
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
    print(
        f"RSS before {before / 1024:.0f} MB, after {after / 1024:.0f} MB, "
        f"peak {peak / 1024:.0f} MB, {cached} instances cached"
    )


def main() -> None:
    if sys.argv[1] == "--measure":
        asyncio.run(_measure(sys.argv[2], int(sys.argv[3])))
        return
    instances = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    asyncio.run(_serve(instances, sys.argv[1]))


if __name__ == "__main__":
    main()
