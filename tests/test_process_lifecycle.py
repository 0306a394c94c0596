"""A rendered node, started as its users start it, against the Consul agent
double (also a real process): what the answers put into its registration.

The template's part only: the console script (and `python -m` of another
answer set) the render installs, the service name, tags, meta and check policy
the answers set, the check turning passing, SIGTERM through the console script
deregistering with exit 0, every line JSON. How the node behaves otherwise
(retries, Consul away or disabled, the token, restarts, signals) is the
package's own: tests/managed/test_node_process.py, run in every render.

Observations come from the agent's HTTP API, polled with deadlines; nothing
waits a fixed time to synchronise.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from scripts.consul_agents import (
    FAST_CHECKS,
    AgentClient,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    DeadlineExceeded,
    ManagedProcess,
    free_port,
    json_lines,
    wait_for,
)
from scripts.rendering import RenderCache, RenderedPackage

REGISTER_TIMEOUT = 20.0
# An agent runs a new check first after a random delay of up to one interval;
# the custom answer set keeps its 15 s interval.
PASSING_TIMEOUT = 40.0
EXIT_TIMEOUT = 15.0


@dataclass
class Run:
    """What one start-register-stop cycle showed, for the tests below.

    Recorded rather than asserted on the spot, so each property is its own
    test and one failure does not hide the others.
    """

    package: RenderedPackage
    node_port: int
    token: str
    check_policy: tuple[str, str] | None
    problems: list[str] = field(default_factory=list)
    registration: dict[str, Any] | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    check_passing: dict[str, Any] | None = None
    exit_code: int | None = None
    deregistered: bool = False
    output: str = ""

    def require(self, value: Any, what: str) -> Any:
        assert value is not None, f"no {what}; problems seen: {self.problems}"
        return value


@dataclass(frozen=True)
class RunCase:
    answer_set: str
    as_module: bool  # `python -m <package>` instead of the console script
    # (interval, timeout) from the environment; None: from the answers.
    check_policy: tuple[str, str] | None


RUN_CASES = {
    "effect-console-script": RunCase("effect", False, FAST_CHECKS),
    "custom-module-answers-policy": RunCase("custom", True, None),
}


@pytest.fixture(scope="module", params=list(RUN_CASES))
def run(
    request: pytest.FixtureRequest,
    renders: RenderCache,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    case = RUN_CASES[request.param]
    package = renders.get(case.answer_set)
    log_dir = tmp_path_factory.mktemp(f"lifecycle-{request.param}")
    token = f"tok-{secrets.token_hex(12)}"
    observed = Run(package, free_port(), token, case.check_policy)
    agent_process = start_agent_double(package, log_dir)
    try:
        agent = wait_for_double(agent_process)
        env = node_env(
            package,
            consul_address=agent.address,
            node_port=observed.node_port,
            token=observed.token,
            check_policy=case.check_policy,
        )
        _first_start(observed, agent, env, log_dir, case.as_module)
        yield observed
    finally:
        agent_process.kill()


def _first_start(
    observed: Run, agent: AgentClient, env: dict[str, str], log_dir: Path, module: bool
) -> None:
    node = start_node(observed.package, env, log_dir, as_module=module)
    try:
        observed.registration = _poll(observed, node, agent, "registration")
        service_id = (observed.registration or {}).get("ID")
        if service_id is not None:
            observed.check_passing = _poll_passing(observed, node, agent, service_id)
            observed.checks = agent.checks_of(service_id)
        observed.exit_code = node.terminate(EXIT_TIMEOUT)
        if service_id is not None:
            observed.deregistered = _poll_gone(observed, agent, service_id)
    finally:
        node.kill()
        observed.output += node.stdout() + node.stderr()


def _poll(
    observed: Run, node: ManagedProcess, agent: AgentClient, what: str
) -> dict[str, Any] | None:
    name = observed.package.service_name

    def registered() -> dict[str, Any] | None:
        _fail_if_exited(node)
        return agent.service_named(name)

    return _recording(
        observed,
        node,
        what,
        lambda: wait_for(
            registered, timeout=REGISTER_TIMEOUT, what=f"{what} of {name!r}"
        ),
    )


def _poll_passing(
    observed: Run, node: ManagedProcess, agent: AgentClient, service_id: str
) -> dict[str, Any] | None:
    def passing() -> dict[str, Any] | None:
        _fail_if_exited(node)
        checks = agent.checks_of(service_id)
        ok = [check for check in checks if check.get("Status") == "passing"]
        return ok[0] if ok else None

    return _recording(
        observed,
        node,
        "passing check",
        lambda: wait_for(
            passing, timeout=PASSING_TIMEOUT, what=f"a passing check for {service_id!r}"
        ),
    )


def _poll_gone(observed: Run, agent: AgentClient, service_id: str) -> bool:
    def gone() -> bool:
        return service_id not in agent.services()

    try:
        return wait_for(gone, timeout=EXIT_TIMEOUT, what="deregistration")
    except DeadlineExceeded as error:
        observed.problems.append(str(error))
        return False


def _recording(
    observed: Run,
    node: ManagedProcess,
    what: str,
    wait: Callable[[], dict[str, Any]],
) -> dict[str, Any] | None:
    """Run a wait; on failure note why (with the node's stderr) and go on."""
    try:
        return wait()
    except (DeadlineExceeded, RuntimeError) as error:
        observed.problems.append(f"{what}: {error}\n{node.output_tail()}")
        return None


def _fail_if_exited(node: ManagedProcess) -> None:
    if not node.running():
        raise RuntimeError(f"node exited with {node.popen.returncode}")


# --- registration ----------------------------------------------------------


def test_registers_under_service_name(run: Run) -> None:
    registration = run.require(run.registration, "registration")
    assert registration["Service"] == run.package.service_name


def test_registration_tags(run: Run) -> None:
    registration = run.require(run.registration, "registration")
    answers = run.package.answers
    # Recorded as copier was given it: a YAML list as text.
    extra_tags = yaml.safe_load(str(answers.get("extra_tags", "[]")))
    assert isinstance(extra_tags, list)
    expected = {"onex", answers["node_type"], answers["domain"], *extra_tags}
    assert expected <= set(registration["Tags"])


def test_registration_meta(run: Run) -> None:
    meta = run.require(run.registration, "registration")["Meta"]
    answers = run.package.answers
    assert meta["node_type"] == answers["node_type"]
    assert meta["node_version"] == answers["node_version"]
    assert meta["domain"] == answers["domain"]
    assert meta.get("node_id")
    # The template version the package was rendered from, as its answers file
    # records it (PEP 440), so a fleet's template versions can be read from Consul.
    assert meta["template_version"] == answers["_template_version"]


# --- health check ----------------------------------------------------------


def test_http_check_uses_configured_policy(run: Run, go_durations: ModuleType) -> None:
    run.require(run.registration, "registration")
    assert len(run.checks) == 1, run.checks
    check = run.checks[0]
    answers = run.package.answers
    interval, timeout = run.check_policy or (
        str(answers["check_interval"]),
        str(answers["check_timeout"]),
    )
    assert str(check.get("Type", "")).lower() == "http"
    # Compared as durations (the package's parser): an agent prints 60s as "1m0s".
    seconds = go_durations.parse_go_duration
    assert seconds(str(check.get("Interval"))) == seconds(interval), check
    assert seconds(str(check.get("Timeout"))) == seconds(timeout), check


def test_check_turns_passing(run: Run) -> None:
    check = run.require(run.check_passing, "passing check")
    # The agent probed the node's own health endpoint, not something else.
    target = f"127.0.0.1:{run.node_port}{run.package.answers['health_path']}"
    assert target in str(check.get("Output", "")), check


# --- shutdown ----------------------------------------------------------------


def test_sigterm_exits_zero(run: Run) -> None:
    assert run.exit_code == 0, run.problems


def test_sigterm_deregisters(run: Run) -> None:
    run.require(run.registration, "registration")
    assert run.deregistered, run.problems


def test_every_line_the_node_writes_is_one_json_object(run: Run) -> None:
    # Console script and `python -m`, omnibase-core's start-up lines included:
    # a log shipper must be able to parse every line.
    lines = run.output.splitlines()
    assert lines, "the node printed nothing at all"
    plain = [line for line in lines if len(json_lines(line)) != 1]
    assert plain == []
