"""Two renders with different answers, one calling the other through Consul.

The callee is the compute render (answer set ``custom``), started with its
console script; the caller is the orchestrator render (``digit-first``): its
console script's ``call`` and its calling test-support node
(``tests/managed/calling_node.py``, whose handler calls first) reach the
callee through the agent double. The answer validates against the callee's
own output model, and the caller's correlation ID is in the callee's lines.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.consul_agents import (
    AgentClient,
    health_url,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    ManagedProcess,
    free_port,
    http_request,
    json_lines,
    start_process,
    stopped_at_exit,
    wait_for,
)
from scripts.rendering import RenderCache, RenderedPackage

CALLEE_CASE = "custom"
CALLER_CASE = "digit-first"
START_TIMEOUT = 30.0
# Run in a render's interpreter: its node's models, found as the package has them.
_MODELS = """
import importlib, json, pkgutil, sys
nodes = importlib.import_module(sys.argv[1] + ".nodes")
[found] = pkgutil.iter_modules(nodes.__path__)
module = importlib.import_module(f"{nodes.__name__}.{found.name}.node")
[node] = [
    value for value in vars(module).values()
    if getattr(value, "__module__", "") == module.__name__
    and hasattr(value, "output_model")
]
if sys.argv[2] == "example":
    print(json.dumps(node.input_model.model_json_schema()["examples"][0]))
else:
    print(node.output_model.model_validate_json(sys.stdin.read()).model_dump_json())
"""


def models(package: RenderedPackage, action: str, text: str = "") -> str:
    """The input model's example, or `text` validated by the output model
    (its JSON dump; the render's own interpreter and models)."""
    done = subprocess.run(
        [package.python, "-c", _MODELS, package.package_name, action],
        input=text,
        capture_output=True,
        text=True,
        env=package.env(),
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Chain:
    agent: AgentClient
    callee: RenderedPackage
    callee_node: ManagedProcess
    caller: RenderedPackage
    workdir: Path


def ready(package: RenderedPackage, process: ManagedProcess, port: int) -> bool:
    if not process.running():
        raise AssertionError(f"the node exited\n{process.output_tail()}")
    response = http_request(health_url(package, port))
    return response is not None and response.status == 200


@pytest.fixture(scope="module")
def chain(
    renders: RenderCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Chain]:
    callee, caller = renders.get(CALLEE_CASE), renders.get(CALLER_CASE)
    workdir = tmp_path_factory.mktemp("calls")
    with stopped_at_exit(start_agent_double(callee, workdir)) as agent_process:
        agent = wait_for_double(agent_process)
        port = free_port()
        # DEBUG: the compute sample's handler logs its line at debug.
        env = node_env(
            callee,
            consul_address=agent.address,
            node_port=port,
            extra={"ONEX_NODE_LOG_LEVEL": "DEBUG"},
        )
        with stopped_at_exit(start_node(callee, env, workdir)) as callee_node:
            wait_for(
                lambda: ready(callee, callee_node, port),
                timeout=START_TIMEOUT,
                what="the callee ready",
            )
            wait_for(
                lambda: (
                    agent.health_service(callee.service_name)
                    and all(
                        check["Status"] == "passing"
                        for entry in agent.health_service(callee.service_name)
                        for check in entry["Checks"]
                    )
                ),
                timeout=START_TIMEOUT,
                what="the callee passing in the agent",
            )
            yield Chain(agent, callee, callee_node, caller, workdir)


def caller_env(chain: Chain, port: int, **extra: str) -> dict[str, str]:
    return node_env(
        chain.caller, consul_address=chain.agent.address, node_port=port, extra=extra
    )


def test_the_callers_console_script_calls_the_callee(chain: Chain) -> None:
    example = models(chain.callee, "example")

    done = subprocess.run(
        [chain.caller.console_script, "call", chain.callee.service_name, example],
        capture_output=True,
        text=True,
        env=caller_env(chain, free_port()),
        cwd=chain.workdir,
        check=False,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert json.loads(models(chain.callee, "validate", done.stdout)) == answer


def test_a_callers_handler_calls_the_callee_with_its_correlation_id(
    chain: Chain,
) -> None:
    report = chain.workdir / "calls.jsonl"
    port = free_port()
    env = caller_env(
        chain,
        port,
        ONEX_TEST_CALL_SERVICE=chain.callee.service_name,
        ONEX_TEST_CALL_PAYLOAD=models(chain.callee, "example"),
        ONEX_TEST_CALL_REPORT=str(report),
    )
    given = str(uuid.uuid4())
    with stopped_at_exit(
        start_process(
            "calling-node",
            [chain.caller.python, "-m", "tests.managed.calling_node"],
            env=env,
            cwd=chain.caller.root,
            log_dir=chain.workdir,
        )
    ) as caller_node:
        wait_for(
            lambda: ready(chain.caller, caller_node, port),
            timeout=START_TIMEOUT,
            what="the calling node ready",
        )
        answer = http_request(
            f"http://127.0.0.1:{port}/invoke",
            method="POST",
            headers={"Content-Type": "application/json", "X-Correlation-ID": given},
            data=models(chain.caller, "example").encode(),
            timeout=30,
        )

    assert answer is not None and answer.status == 200, answer
    [called] = [json.loads(line) for line in report.read_text().splitlines()]
    assert called["correlation_id"] == given
    answered: dict[str, Any] = called["answer"]
    valid = models(chain.callee, "validate", json.dumps(answered))
    assert json.loads(valid) == answered
    callee_lines = json_lines(chain.callee_node.stderr())
    assert any(
        line.get("context", {}).get("correlation_id") == given for line in callee_lines
    ), "the callee logged nothing with the caller's correlation ID"
