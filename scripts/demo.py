"""`make demo`: render a node, run it against Consul, watch it come and go.

Agent choice: the one at $CONSUL_HTTP_ADDR if set; else `consul agent -dev`
if a `consul` binary is on PATH; else the agent double shipped in the rendered
package. Everything runs in a temporary directory that is removed at the end.

Run from the repo root with the shared venv: ``.venv/bin/python -m scripts.demo``.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scripts.answer_sets import DEMO
from scripts.consul_agents import (
    AgentClient,
    consul_binary,
    health_url,
    node_env,
    parse_consul_address,
    start_agent_double,
    start_dev_agent,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    DeadlineExceeded,
    ManagedProcess,
    free_port,
    http_request,
    json_lines,
    wait_for,
)
from scripts.rendering import USER_ENV, RenderedPackage, render_and_install

TIMEOUT = 30.0
# Keys of an agent's service entry worth showing; the rest is noise here.
SERVICE_KEYS = ("ID", "Service", "Address", "Port", "Tags", "Meta")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="onex-node-demo-") as tmp:
        workdir = Path(tmp)
        try:
            package = _render(workdir)
            with _agent(package, workdir / "logs") as agent:
                _run_node(package, agent, workdir / "logs")
        except (DeadlineExceeded, RuntimeError) as error:
            print(f"\ndemo FAILED: {error}", file=sys.stderr)
            return 1
    print("\nTemporary directory removed. Demo finished.")
    return 0


def _render(workdir: Path) -> RenderedPackage:
    _step(f"1. Render a sample node from the template, answers: {dict(DEMO)}")
    # Quiet render: copier's next steps would name a folder the demo deletes.
    package = render_and_install(workdir, DEMO)
    _say(f"rendered into {package.root}")
    _say(f"installed into {package.venv} (console script: {package.project_name})")
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
        _stop_agent(process)


def _stop_agent(process: ManagedProcess) -> None:
    _step("8. Stop the agent")
    code = process.terminate()
    _say(f"agent stopped (exit code {code})")


def _run_node(package: RenderedPackage, agent: AgentClient, log_dir: Path) -> None:
    port = free_port()
    _step(f"3. Start the node: {package.project_name} (health port {port})")
    node = start_node(package, _node_env(package, agent, port), log_dir)
    try:
        registration = _show_registration(package, agent, node)
        _show_health(package, agent, node, registration["ID"], port)
        _call_it(registration)
        _stop_node(node)
        _show_deregistration(package, agent, registration["ID"])
    finally:
        node.kill()


def _node_env(
    package: RenderedPackage, agent: AgentClient, port: int
) -> dict[str, str]:
    user_address = USER_ENV.get("CONSUL_HTTP_ADDR")
    if not user_address:
        return node_env(package, consul_address=agent.address, node_port=port)
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
        },
    )


def _show_registration(
    package: RenderedPackage, agent: AgentClient, node: ManagedProcess
) -> dict[str, Any]:
    def registered() -> dict[str, Any] | None:
        if not node.running():
            raise RuntimeError(f"the node exited\n{node.output_tail()}")
        return agent.service_named(package.service_name)

    registration = wait_for(registered, timeout=TIMEOUT, what="registration")
    _step("4. The registration, as GET /v1/agent/services shows it")
    _show({key: registration.get(key) for key in SERVICE_KEYS})
    return registration


def _show_health(
    package: RenderedPackage,
    agent: AgentClient,
    node: ManagedProcess,
    service_id: str,
    port: int,
) -> None:
    def passing() -> list[dict[str, Any]] | None:
        if not node.running():
            raise RuntimeError(f"the node exited\n{node.output_tail()}")
        entries = agent.health_service(package.service_name)
        mine = [e for e in entries if e.get("Service", {}).get("ID") == service_id]
        statuses = [c.get("Status") for e in mine for c in e.get("Checks", [])]
        return mine if statuses and set(statuses) == {"passing"} else None

    entries = wait_for(passing, timeout=TIMEOUT, what="all checks passing")
    name = package.service_name
    _step(f"5. Its health, as GET /v1/health/service/{name} shows it")
    for entry in entries:
        for check in entry.get("Checks", []):
            output = str(check.get("Output", "")).strip()
            _say(f"{check.get('Status'):8} {check.get('Name')}")
            _say(textwrap.shorten(output, width=100, placeholder=" ..."), indent=13)
    response = http_request(health_url(package, port))
    if response is not None:
        _say(f"the node itself: GET {health_url(package, port)} -> {response.status}")
        _say(response.body.decode(errors="replace").strip(), indent=6)


def _call_it(registration: dict[str, Any]) -> None:
    """What a caller that discovered the node sees: its operation, described
    by its OpenAPI document, and its metrics, at the registered address."""
    address = str(registration["Address"])
    host = f"[{address}]" if ":" in address else address
    base = f"http://{host}:{registration['Port']}"
    meta = registration.get("Meta") or {}
    invoke_url = f"{base}{meta.get('invoke_path', '/invoke')}"
    _step(f"6. Call it where Consul says it is: {invoke_url}")
    document = http_request(f"{base}/openapi.json")
    if document is not None and document.status == 200:
        operation = document.json()["paths"][meta.get("invoke_path", "/invoke")]
        body = operation["post"]["requestBody"]["content"]["application/json"]
        _say(f"GET /openapi.json -> 200: POST takes {body['schema']['$ref']}")
    answer = http_request(
        invoke_url,
        method="POST",
        headers={"Content-Type": "application/json"},
        data=b"{}",
    )
    if answer is None:
        raise RuntimeError(f"nothing answered at {invoke_url}")
    _say(f"POST {{}} -> {answer.status}: the input model's rules, as JSON")
    _say(textwrap.shorten(answer.body.decode(errors="replace"), 300), indent=6)
    metrics_url = f"{base}{meta.get('metrics_path', '/metrics')}"
    scraped = http_request(metrics_url)
    if scraped is not None:
        _say(f"GET {metrics_url} -> {scraped.status}, among its series:")
        for line in scraped.body.decode(errors="replace").splitlines():
            if line.startswith(("onex_http_requests_total", "onex_consul_registered")):
                _say(line, indent=6)


def _stop_node(node: ManagedProcess) -> None:
    _step("7. Stop the node with SIGTERM")
    code = node.terminate()
    if code != 0:
        raise RuntimeError(f"node exited with {code}\n{node.output_tail()}")
    _say("node exited with code 0; its Consul events (JSON lines on stderr):")
    for record in json_lines(node.stderr()):
        context = record.get("context")
        event = context.get("event", "") if isinstance(context, dict) else ""
        if str(event).startswith("consul."):
            line = f"{record.get('level', '')} {event}: {record.get('message', '')}"
            _say(textwrap.shorten(line, width=110, placeholder=" ..."), indent=6)


def _show_deregistration(
    package: RenderedPackage, agent: AgentClient, service_id: str
) -> None:
    wait_for(
        lambda: service_id not in agent.services(),
        timeout=TIMEOUT,
        what="deregistration",
    )
    remaining = sorted(agent.services())
    _say(
        f"GET /v1/agent/services no longer lists {service_id!r}; ids left: {remaining}"
    )
    health = agent.health_service(package.service_name)
    _say(f"GET /v1/health/service/{package.service_name} -> {json.dumps(health)}")


def _step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def _say(text: str, indent: int = 3) -> None:
    print(textwrap.indent(text, " " * indent), flush=True)


def _show(value: object) -> None:
    _say(json.dumps(value, indent=2, sort_keys=False))


if __name__ == "__main__":
    sys.exit(main())
