"""Failover benchmark: calls through HandlerServiceCalls while an instance dies.

Each run starts the Consul agent double and two instances of a rendered
compute node (its own processes, checks every second), then the driver
(``scripts/bench_failover_driver.py``, the render's interpreter) that calls
the service back to back through the package's own client, SIGKILLs one
instance and keeps calling for AFTER_S seconds. Figures, medians over runs:

- ``failover_failed_calls_10s``: calls that failed in the AFTER_S seconds
  after the kill (goal 0);
- ``failover_first_call_added_latency``: latency of the first call that sent a
  request to the dead instance, minus the median call before the kill;
- the same for every call that met it (median), and how many did: the calls
  the client sent there before the cache dropped it or ejected it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.consul_agents import (
    AgentClient,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import ManagedProcess, free_port, stopped_at_exit, wait_for
from scripts.rendering import RenderedPackage, render_and_install

AFTER_S = 10.0
BEFORE = 300  # timed calls before the kill
READY_S = 30.0
DRIVER = Path(__file__).with_name("bench_failover_driver.py")
# An idempotent callee: a compute node (contract descriptor.idempotent true).
CALLEE = {"service_name": "bench-callee", "node_type": "compute"}


def _start_callee(
    package: RenderedPackage, agent: AgentClient, log_dir: Path
) -> tuple[ManagedProcess, int]:
    port = free_port()
    environ = node_env(
        package,
        consul_address=agent.address,
        node_port=port,
        extra={"ONEX_NODE_LOG_LEVEL": "WARNING"},
    )
    return start_node(package, environ, log_dir, as_module=True), port


def _passing(
    agent: AgentClient, ports: list[int], processes: list[ManagedProcess]
) -> Callable[[], bool]:
    """A probe: both instances registered, their checks passing."""

    def probe() -> bool:
        for process in processes:
            if not process.running():
                raise RuntimeError(f"{process.name} exited\n{process.output_tail()}")
        ours = {
            entry["ID"]
            for entry in agent.services().values()
            if entry.get("Port") in ports
        }
        checks = agent.checks().values()
        statuses = [c.get("Status") for c in checks if c.get("ServiceID") in ours]
        return len(ours) == len(ports) and statuses == ["passing"] * len(ports)

    return probe


def measure_once(package: RenderedPackage, workdir: Path) -> dict[str, Any]:
    """One run: the driver's JSON (latencies before, every call after the kill)."""
    logs = workdir / "logs"
    double = start_agent_double(package, logs)
    with stopped_at_exit(double):
        agent = wait_for_double(double)
        (victim, victim_port), (survivor, survivor_port) = (
            _start_callee(package, agent, logs) for _ in range(2)
        )
        with stopped_at_exit(victim), stopped_at_exit(survivor):
            wait_for(
                _passing(agent, [victim_port, survivor_port], [victim, survivor]),
                timeout=READY_S,
                what="both callee instances passing",
            )
            driver = subprocess.run(
                [
                    str(package.python),
                    str(DRIVER),
                    package.package_name,
                    package.service_name,
                    str(victim.pid),
                    str(victim_port),
                    str(BEFORE),
                    str(AFTER_S),
                ],
                env=node_env(
                    package, consul_address=agent.address, node_port=free_port()
                ),
                cwd=package.root,
                capture_output=True,
                text=True,
                timeout=READY_S + AFTER_S + 60,
                check=False,
            )
            if driver.returncode != 0:
                raise RuntimeError(f"the failover driver failed:\n{driver.stderr}")
            survivor.terminate()
    result: dict[str, Any] = json.loads(driver.stdout)
    return result


def figures(result: dict[str, Any]) -> dict[str, float]:
    """One run's figures (latencies in seconds) from the driver's JSON."""
    after = result["after"]
    before = statistics.median(result["before"])
    met = [seconds for _, seconds, sent, _ in after if sent]
    if not met:
        raise RuntimeError("no call after the kill sent a request to the dead instance")
    return {
        "failed": sum(1 for *_, error in after if error is not None),
        "first added": met[0] - before,
        "met added": statistics.median(met) - before,
        "met": len(met),
        "calls": len(after),
    }


async def failover_benchmark(runs: int, workdir: Path) -> list[str]:
    """The figures above, medians over ``runs`` runs."""
    package = render_and_install(workdir / "callee", CALLEE)
    samples: dict[str, list[float]] = {}
    for run in range(runs):
        result = await asyncio.to_thread(measure_once, package, workdir / f"run-{run}")
        for name, value in figures(result).items():
            samples.setdefault(name, []).append(value)
    median = {name: statistics.median(values) for name, values in samples.items()}
    return [
        f"failover_failed_calls_10s: {median['failed']:.0f} calls",
        "failover_failed_calls_10s goal (at most): 0 calls",
        f"failover_failed_calls_10s max: {max(samples['failed']):.0f} calls",
        # Sent right after the kill: it waits while the kernel tears the dead
        # process down (its sockets close then), which later calls do not.
        f"failover_first_call_added_latency: {median['first added'] * 1000:.1f} ms",
        f"failover calls meeting the dead instance added latency median: "
        f"{median['met added'] * 1000:.2f} ms",
        f"failover calls meeting the dead instance in {AFTER_S:.0f} s median: "
        f"{median['met']:.0f} calls",
        f"failover calls in {AFTER_S:.0f} s after the kill median: "
        f"{median['calls']:.0f} calls",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onex-bench-failover-") as workdir:
        for line in asyncio.run(failover_benchmark(args.runs, Path(workdir))):
            print(line, flush=True)


if __name__ == "__main__":
    main()
