"""One node process of a render for the benchmarks, against an in-process double.

Not ``bench_node.py``: that is the bench render's package name, and a script
run from ``scripts/`` (measure_watch_memory.py) would import this file instead.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from scripts.consul_agents import FAST_CHECKS, node_env
from scripts.processes import free_port, resident_mib
from scripts.rendering import RenderedPackage

DEADLINE_S = 30.0


class NodeRun:
    """One node process and the instants the double saw things happen."""

    def __init__(
        self,
        package: RenderedPackage,
        double: Any,
        extra: Mapping[str, str],
        check_policy: tuple[str, str] | None = FAST_CHECKS,
    ) -> None:
        """`extra`: environment variables; `check_policy` None keeps the
        rendered answers' check interval and timeout."""
        self.package = package
        self.double = double
        self.port = free_port()
        self.service_id = f"{package.service_name}-127.0.0.1-{self.port}"
        self.environ = node_env(
            package,
            consul_address=double.address,
            node_port=self.port,
            check_policy=check_policy,
            extra={"ONEX_NODE_LOG_LEVEL": "WARNING", **extra},
        )
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        started = time.perf_counter()
        self.process = await asyncio.create_subprocess_exec(
            str(self.package.python),
            "-m",
            self.package.package_name,
            env=self.environ,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return started

    async def until(self, predicate: Callable[[], bool]) -> float:
        await self.double.wait_for(predicate, DEADLINE_S)
        return time.perf_counter()

    def registered(self) -> bool:
        return self.service_id in self.double.services()

    def passing(self) -> bool:
        checks = self.double.checks()
        check = checks.get(f"service:{self.service_id}")
        return check is not None and check["Status"] == "passing"

    def resident_mib(self) -> float:
        assert self.process is not None
        return resident_mib(self.process.pid)

    async def stop(self) -> float:
        """SIGTERM; seconds until the double no longer holds the registration."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        signalled = time.perf_counter()
        deregistered = await self.until(lambda: not self.registered())
        await self.process.wait()
        return deregistered - signalled
