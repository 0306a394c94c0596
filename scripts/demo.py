"""`make demo`: two nodes, one calling the other through Consul, one instance killed.

A compute node (the callee) runs as two instances and an orchestrator (the
caller) whose handler, owner code the demo writes, calls it with
``context.call``. Calls flow through the caller while one callee instance is
SIGKILLed: none may fail, Consul turns the instance critical and the caller's
cache drops it; then everything stops and the agent is left empty.

Agent choice: the one at $CONSUL_HTTP_ADDR if set; else `consul agent -dev`
if a `consul` binary is on PATH; else the agent double shipped in the rendered
package. Everything runs in a temporary directory that is removed at the end.
Any expectation not met ends the demo with exit code 1 and says which.

Run from the repo root with the shared venv: ``.venv/bin/python -m scripts.demo``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from scripts.answer_sets import DEMO_CALLEE, DEMO_CALLER
from scripts.consul_agents import (
    AgentClient,
    consul_binary,
    node_env,
    parse_consul_address,
    start_agent_double,
    start_dev_agent,
    start_node,
    wait_for_double,
)
from scripts.demo_owner_code import call_lines, write_caller_code
from scripts.demo_traffic import JSON_HEADERS, Traffic
from scripts.processes import (
    DeadlineExceeded,
    ManagedProcess,
    free_port,
    http_request,
    json_lines,
    wait_for,
)
from scripts.rendering import (
    USER_ENV,
    RenderedPackage,
    install,
    read_answers,
    render,
)

TIMEOUT = 30.0
RATE = 20.0  # calls a second through the caller
# Calls each callee instance must have served before the kill: spread shown.
SPREAD_MINIMUM = 10
# Calls that must still succeed after the caller's cache dropped the instance.
CALLS_AFTER_DROP = 40
INVOICE = {
    "amounts_cents": [1250, 899, 4100],
    "discount_percent": 10,
    "tax_percent": 20,
}
CORRELATION_HEADER = "X-Correlation-ID"


class DemoFailed(RuntimeError):
    """An expectation of the story was not met."""


@dataclass(frozen=True)
class Instance:
    """One running node and where Consul says it is."""

    package: RenderedPackage
    process: ManagedProcess
    service_id: str
    base_url: str
    invoke_path: str  # from its Consul meta, as callers read it

    @property
    def service(self) -> str:
        return self.package.service_name

    def invoke_total(self) -> float:
        """POST invoke answers it counted, any status (its GET /metrics)."""
        return _series_sum(self, "onex_http_requests", route="invoke")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onex-node-demo-") as tmp:
        workdir = Path(tmp)
        try:
            callee, caller = _render(workdir)
            with _agent(callee, workdir / "logs") as agent:
                _story(callee, caller, agent, workdir / "logs")
        except (DeadlineExceeded, RuntimeError) as error:
            print(f"\ndemo FAILED: {error}", file=sys.stderr)
            return 1
    print("\nTemporary directory removed. Demo finished.")
    return 0


def _render(workdir: Path) -> tuple[RenderedPackage, RenderedPackage]:
    _step("1. Render two nodes from the template: a callee and a caller")
    callee = _render_one(workdir / "callee", DEMO_CALLEE)
    project = render(workdir / "caller" / "project", DEMO_CALLER)
    package_name = str(read_answers(project)["package_name"])
    handler = write_caller_code(project, package_name, callee.service_name)
    caller = install(project, workdir / "caller" / "venv")
    _say(f"caller {dict(DEMO_CALLER)}")
    _say(f"rendered into {caller.root}; its handler is owner code the demo wrote:")
    _say(str(handler.relative_to(caller.root)), indent=6)
    for line in call_lines(handler):
        _say(line, indent=2)
    return callee, caller


def _render_one(where: Path, answers: Mapping[str, object]) -> RenderedPackage:
    package = install(render(where / "project", answers), where / "venv")
    _say(f"callee {dict(answers)}")
    _say(f"rendered into {package.root}, installed into {package.venv}")
    return package


@contextlib.contextmanager
def _agent(package: RenderedPackage, log_dir: Path) -> Iterator[AgentClient]:
    _step("2. Start a Consul agent")
    if address := USER_ENV.get("CONSUL_HTTP_ADDR"):
        scheme, host_port = parse_consul_address(address)
        _say(f"using the agent at CONSUL_HTTP_ADDR={address} (left running)")
        yield AgentClient(host_port, scheme, USER_ENV.get("CONSUL_HTTP_TOKEN"))
        return
    binary = consul_binary()
    if binary:
        process, client = start_dev_agent(binary, log_dir)
        _say(f"started `consul agent -dev` ({binary}) at {client.address}")
    else:
        process = start_agent_double(package, log_dir)
        client = wait_for_double(process)
        _say(
            f"no consul binary on PATH: started the package's agent double at "
            f"{client.address}"
        )
    try:
        yield client
    finally:
        _step("10. Stop the agent")
        _say(f"agent stopped (exit code {process.terminate()})")


def _story(
    callee: RenderedPackage,
    caller: RenderedPackage,
    agent: AgentClient,
    log_dir: Path,
) -> None:
    started: list[Instance] = []
    try:
        _step("3. Start two instances of the callee and one caller")
        callees = [
            _start(callee, agent, log_dir, started, {"ONEX_NODE_LOG_LEVEL": "DEBUG"})
            for _ in range(2)
        ]
        watching = {"ONEX_NODE_DISCOVERY_DEPENDENCIES": callee.service_name}
        front = _start(caller, agent, log_dir, started, watching)
        _wait_passing(agent, started)
        _show_agent_services(agent)
        _show_operation(callees[0])
        _one_call(front, callees)
        traffic = Traffic(_invoke_url(front), json.dumps(INVOICE).encode(), RATE)
        traffic.start()
        try:
            _show_spread(callees)
            killed = _kill_one(callees[0], front, agent, traffic)
        finally:
            traffic.stop()
        _show_no_failed_call(traffic, killed, callees, front)
        _stop_all(agent, front, callees)
    finally:
        for instance in started:
            instance.process.kill()
        for instance in started:
            # Never leave the demo's registrations in someone's agent.
            if instance.service_id in agent.services():
                agent.deregister(instance.service_id)


def _start(
    package: RenderedPackage,
    agent: AgentClient,
    log_dir: Path,
    started: list[Instance],
    extra: Mapping[str, str],
) -> Instance:
    port = free_port()
    process = start_node(package, _node_env(package, agent, port, extra), log_dir)

    def registered() -> dict[str, Any] | None:
        if not process.running():
            raise DemoFailed(f"{package.service_name} exited\n{process.output_tail()}")
        mine = [
            entry
            for entry in agent.services().values()
            if entry.get("Service") == package.service_name
            and entry.get("Port") == port
        ]
        return mine[0] if mine else None

    entry = wait_for(
        registered, timeout=TIMEOUT, what=f"{package.service_name} on port {port}"
    )
    address = str(entry["Address"])
    host = f"[{address}]" if ":" in address else address
    invoke_path = str((entry.get("Meta") or {}).get("invoke_path", "/invoke"))
    instance = Instance(
        package, process, str(entry["ID"]), f"http://{host}:{port}", invoke_path
    )
    started.append(instance)
    _say(f"{instance.service_id}: pid {process.pid}, registered")
    return instance


def _node_env(
    package: RenderedPackage,
    agent: AgentClient,
    port: int,
    extra: Mapping[str, str],
) -> dict[str, str]:
    user_address = USER_ENV.get("CONSUL_HTTP_ADDR")
    if not user_address:
        return node_env(
            package, consul_address=agent.address, node_port=port, extra=extra
        )
    # The user's agent, with all of the user's CONSUL_* settings (TLS, token
    # file...). It may not reach 127.0.0.1: let the node pick its address.
    user_consul = {k: v for k, v in USER_ENV.items() if k.startswith("CONSUL_")}
    return node_env(
        package,
        consul_address=user_address,
        node_port=port,
        token=agent.token,
        extra={
            **user_consul,
            "ONEX_NODE_ADVERTISE_ADDRESS": None,
            "ONEX_NODE_BIND_HOST": None,
            **extra,
        },
    )


def _wait_passing(agent: AgentClient, instances: list[Instance]) -> None:
    def all_passing() -> bool:
        for instance in instances:
            if not instance.process.running():
                raise DemoFailed(
                    f"{instance.service_id} exited\n{instance.process.output_tail()}"
                )
        statuses = {
            check.get("ServiceID"): check.get("Status")
            for check in agent.checks().values()
        }
        return all(statuses.get(i.service_id) == "passing" for i in instances)

    wait_for(all_passing, timeout=TIMEOUT, what="every instance's check passing")


def _show_agent_services(agent: AgentClient) -> None:
    _step("4. The agent's services (GET /v1/agent/services), every check passing")
    for entry in sorted(agent.services().values(), key=lambda e: str(e["ID"])):
        meta = entry.get("Meta") or {}
        _say(
            f"{entry['ID']:32} {entry['Address']}:{entry['Port']}  "
            f"tags {entry.get('Tags')}  invoke_path {meta.get('invoke_path')}  "
            f"idempotent {meta.get('idempotent')}"
        )


def _show_operation(instance: Instance) -> None:
    """What a caller reads at the registered address: the operation's input."""
    url = f"{instance.base_url}/openapi.json"
    document = http_request(url)
    if document is None or document.status != 200:
        raise DemoFailed(f"GET {url} did not answer 200")
    operation = document.json()["paths"][instance.invoke_path]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    _say(f"GET {url} -> 200: POST {instance.invoke_path} takes {schema['$ref']}")


def _invoke_url(instance: Instance) -> str:
    return f"{instance.base_url}{instance.invoke_path}"


def _one_call(front: Instance, callees: list[Instance]) -> None:
    correlation_id = str(uuid.uuid4())
    url = _invoke_url(front)
    _step(f"5. One call: POST {url}, {CORRELATION_HEADER} {correlation_id}")
    answer = http_request(
        url,
        method="POST",
        headers={**JSON_HEADERS, CORRELATION_HEADER: correlation_id},
        data=json.dumps(INVOICE).encode(),
        timeout=10.0,
    )
    if answer is None or answer.status != 200:
        got = "nothing" if answer is None else f"{answer.status} {answer.body!r}"
        raise DemoFailed(f"POST {url} answered {got}, not 200")
    _say(f"{json.dumps(INVOICE)} -> 200 {answer.body.decode()}")
    _say("the same correlation ID on the caller's and the callee's log lines:")

    def lines_with_id() -> list[tuple[Instance, dict[str, Any]]] | None:
        found = [
            (instance, record)
            for instance in (front, *callees)
            for record in json_lines(instance.process.stderr())
            if _correlation(record) == correlation_id
        ]
        nodes = {instance.service for instance, _ in found}
        return found if nodes == {front.service, callees[0].service} else None

    found = wait_for(lines_with_id, timeout=TIMEOUT, what="the ID in both nodes' logs")
    for instance, record in found:
        line = f"{instance.service_id}: {record.get('message', '')}"
        _say(textwrap.shorten(line, width=110, placeholder=" ..."), indent=6)


def _correlation(record: dict[str, Any]) -> object:
    context = record.get("context")
    return context.get("correlation_id") if isinstance(context, dict) else None


def _event(record: dict[str, Any]) -> str:
    context = record.get("context")
    return str(context.get("event", "")) if isinstance(context, dict) else ""


def _show_spread(callees: list[Instance]) -> None:
    _step(f"6. Calls at {RATE:.0f}/s through the caller, spread over both instances")
    baseline = {i.service_id: i.invoke_total() for i in callees}
    served: dict[str, float] = {}

    def spread() -> bool:
        served.update(
            {i.service_id: i.invoke_total() - baseline[i.service_id] for i in callees}
        )
        return min(served.values()) >= SPREAD_MINIMUM

    try:
        wait_for(spread, timeout=TIMEOUT, what="calls reaching both instances")
    except DeadlineExceeded:
        raise DemoFailed(
            f"calls did not spread over both instances within {TIMEOUT:.0f} s "
            f"(invokes each served: {served})"
        ) from None
    for service_id, count in served.items():
        _say(f"{service_id}: {count:.0f} invokes (its GET /metrics)")


def _kill_one(
    victim: Instance, front: Instance, agent: AgentClient, traffic: Traffic
) -> float:
    """SIGKILL ``victim``, watch Consul and the caller notice; when it died."""
    _step(f"7. SIGKILL {victim.service_id} (pid {victim.process.pid}) mid-traffic")
    victim.process.kill()
    killed = time.monotonic()
    _say(f"killed; {len(traffic.outcomes)} calls so far")

    def critical() -> dict[str, Any] | None:
        checks = agent.checks_of(victim.service_id)
        return next((c for c in checks if c.get("Status") == "critical"), None)

    check = wait_for(critical, timeout=TIMEOUT, what="Consul marking it critical")
    output = textwrap.shorten(str(check.get("Output", "")), 80, placeholder=" ...")
    _say(f"+{time.monotonic() - killed:.1f} s Consul: check critical ({output})")
    service = victim.service

    def dropped() -> float | None:
        healthy = _series_sum(
            front, "onex_discovery_healthy_instances", service=service
        )
        return healthy if healthy == 1 else None

    wait_for(dropped, timeout=TIMEOUT, what="the caller's cache dropping it")
    _say(
        f"+{time.monotonic() - killed:.1f} s the caller's cache: "
        f'onex_discovery_healthy_instances{{service="{service}"}} 1'
    )
    after = len(traffic.outcomes) + CALLS_AFTER_DROP
    wait_for(
        lambda: len(traffic.outcomes) >= after,
        timeout=TIMEOUT,
        what=f"{CALLS_AFTER_DROP} more calls",
    )
    return killed


def _show_no_failed_call(
    traffic: Traffic, killed: float, callees: list[Instance], front: Instance
) -> None:
    outcomes = traffic.outcomes
    failed = traffic.failed()
    _step(f"8. {len(outcomes)} calls, {len(failed)} failed (goal 0)")
    since_kill = [o.seconds for o in outcomes if o.started >= killed]
    before = sorted(o.seconds for o in outcomes if o.started < killed)
    _say(
        f"call latency: median {before[len(before) // 2] * 1000:.0f} ms before the "
        f"kill, first call after it {since_kill[0] * 1000:.0f} ms, slowest after it "
        f"{max(since_kill) * 1000:.0f} ms"
    )
    survivor = callees[1]
    _say(f"{survivor.service_id} served {survivor.invoke_total():.0f} invokes in all")
    series = [
        line
        for line in _scrape(front).splitlines()
        if line.startswith("onex_call")
        and "_bucket" not in line
        and float(line.rpartition(" ")[2]) != 0
    ]
    _say("the caller's outgoing-call series, those not 0 (its GET /metrics):")
    for line in series:
        _say(line, indent=6)
    records = json_lines(front.process.stderr())
    calls = [record for record in records if _event(record).startswith("call.")]
    if calls:
        _say("the caller's call.* log lines (outlier ejection):")
    for record in calls:
        line = f"{record.get('level', '')} {_event(record)}: {record.get('message')}"
        _say(textwrap.shorten(line, width=110, placeholder=" ..."), indent=6)
    if failed:
        shown = "; ".join(
            f"{o.status or 'no answer'} {o.body[:160]!r}" for o in failed[:3]
        )
        raise DemoFailed(f"{len(failed)} of {len(outcomes)} calls failed: {shown}")


def _stop_all(agent: AgentClient, front: Instance, callees: list[Instance]) -> None:
    _step("9. SIGTERM the caller and the surviving callee; empty the agent")
    for instance in (front, callees[1]):
        code = instance.process.terminate()
        if code != 0:
            raise DemoFailed(
                f"{instance.service_id} exited with {code}\n"
                f"{instance.process.output_tail()}"
            )
        _wait_gone(agent, {instance.service_id}, "deregistering itself")
        _say(f"{instance.service_id}: exit code 0, deregistered itself")
    victim = callees[0]
    _say(
        f"{victim.service_id} was killed: Consul removes it only after "
        "deregister_critical_after (1m at least, then its reaper); an operator "
        "does it at once:"
    )
    status = agent.deregister(victim.service_id)
    _say(f"PUT /v1/agent/service/deregister/{victim.service_id} -> {status}", indent=6)
    if status != 200:
        raise DemoFailed(f"deregistering {victim.service_id} answered {status}")
    _wait_gone(agent, {i.service_id for i in (front, *callees)}, "gone")
    _say(f"GET /v1/agent/services -> {json.dumps(agent.services())}")


def _wait_gone(agent: AgentClient, service_ids: set[str], what: str) -> None:
    """Until the agent lists none of ``service_ids``."""
    wait_for(
        lambda: not service_ids & set(agent.services()),
        timeout=TIMEOUT,
        what=f"{', '.join(sorted(service_ids))} {what}",
    )


def _scrape(instance: Instance) -> str:
    response = http_request(f"{instance.base_url}/metrics")
    if response is None or response.status != 200:
        raise DemoFailed(f"GET {instance.base_url}/metrics did not answer 200")
    return response.body.decode()


def _series_sum(instance: Instance, family: str, **labels: str) -> float:
    """The sum of the family's samples carrying ``labels`` (counters' _total)."""
    return sum(
        sample.value
        for metric in text_string_to_metric_families(_scrape(instance))
        if metric.name == family
        for sample in metric.samples
        if sample.name in (family, f"{family}_total")
        and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _say(text: str, indent: int = 3) -> None:
    print(textwrap.indent(text, " " * indent), flush=True)


if __name__ == "__main__":
    sys.exit(main())
