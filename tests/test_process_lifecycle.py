"""A rendered node as a real process against the Consul agent double (also a
real process): registration, health check, graceful shutdown, degraded modes.

Observations come from the agent's HTTP API and the node's own health
endpoint, polled with deadlines; nothing waits a fixed time to synchronise.
"""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.consul_agents import (
    FAST_CHECKS,
    AgentClient,
    health_url,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import (
    DeadlineExceeded,
    HttpResponse,
    ManagedProcess,
    free_port,
    http_request,
    json_lines,
    wait_for,
)
from scripts.rendering import RenderCache, RenderedPackage

REGISTER_TIMEOUT = 20.0
# An agent runs a new check first after a random delay of up to one interval;
# the custom answer set keeps its 15 s interval.
PASSING_TIMEOUT = 40.0
EXIT_TIMEOUT = 15.0
# How long a node must keep answering while Consul is away: long enough for
# several registration retries (the runtime's backoff starts at 0.5 s), so a
# retry loop that warns on every attempt shows up as more than one warning.
DEGRADED_WINDOW = 4.0


@dataclass
class Run:
    """What one start-register-stop-restart cycle showed, for the tests below.

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
    health: HttpResponse | None = None
    exit_code: int | None = None
    deregistered: bool = False
    restart_registration: dict[str, Any] | None = None
    restart_exit_code: int | None = None
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
        _restart(observed, agent, env, log_dir, case.as_module)
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
        url = health_url(observed.package, observed.node_port)
        observed.health = http_request(url)
        observed.exit_code = node.terminate(EXIT_TIMEOUT)
        if service_id is not None:
            observed.deregistered = _poll_gone(observed, agent, service_id)
    finally:
        node.kill()
        observed.output += node.stdout() + node.stderr()


def _restart(
    observed: Run, agent: AgentClient, env: dict[str, str], log_dir: Path, module: bool
) -> None:
    node = start_node(observed.package, env, log_dir, as_module=module)
    try:
        observed.restart_registration = _poll(observed, node, agent, "re-registration")
        observed.restart_exit_code = node.terminate(EXIT_TIMEOUT)
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


def test_registers_routable_address_and_port(run: Run) -> None:
    registration = run.require(run.registration, "registration")
    assert registration["Address"] == "127.0.0.1"
    assert registration["Port"] == run.node_port


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


def test_service_id_is_stable_across_restarts(run: Run) -> None:
    first = run.require(run.registration, "registration")
    second = run.require(run.restart_registration, "registration after restart")
    assert second["ID"] == first["ID"]


# --- health check ----------------------------------------------------------


def test_http_check_uses_configured_policy(run: Run) -> None:
    run.require(run.registration, "registration")
    assert len(run.checks) == 1, run.checks
    check = run.checks[0]
    answers = run.package.answers
    interval, timeout = run.check_policy or (
        str(answers["check_interval"]),
        str(answers["check_timeout"]),
    )
    assert str(check.get("Type", "")).lower() == "http"
    # Compared as durations: an agent prints 60s as "1m0s".
    assert go_seconds(str(check.get("Interval"))) == go_seconds(interval), check
    assert go_seconds(str(check.get("Timeout"))) == go_seconds(timeout), check


def test_check_turns_passing(run: Run) -> None:
    check = run.require(run.check_passing, "passing check")
    # The agent probed the node's own health endpoint, not something else.
    target = f"127.0.0.1:{run.node_port}{run.package.answers['health_path']}"
    assert target in str(check.get("Output", "")), check


def test_health_endpoint_answers_200_with_small_json(run: Run) -> None:
    health = run.require(run.health, "answer from the health endpoint")
    assert health.status == 200
    assert len(health.body) < 1024
    assert health.json()["status"] == "passing"


# --- shutdown ----------------------------------------------------------------


def test_sigterm_exits_zero(run: Run) -> None:
    assert run.exit_code == 0, run.problems
    assert run.restart_exit_code == 0, run.problems


def test_sigterm_deregisters(run: Run) -> None:
    run.require(run.registration, "registration")
    assert run.deregistered, run.problems


def test_lifecycle_events_logged(run: Run) -> None:
    events = {_event(record) for record in json_lines(run.output)}
    assert {"consul.registered", "consul.deregistered"} <= events


def test_every_line_the_node_writes_is_one_json_object(run: Run) -> None:
    # Console script and `python -m`, omnibase-core's start-up lines included:
    # a log shipper must be able to parse every line.
    lines = run.output.splitlines()
    assert lines, "the node printed nothing at all"
    plain = [line for line in lines if len(json_lines(line)) != 1]
    assert plain == []


def test_token_never_in_output(run: Run) -> None:
    assert run.output, "the node printed nothing at all"
    assert run.token not in run.output


# --- degraded modes: Consul unreachable, Consul disabled ---------------------


@dataclass
class DegradedRun:
    """A node run while Consul is away or switched off."""

    token: str
    healthy_problem: str | None = None  # why the health endpoint was not 200
    exit_code: int | None = None
    stderr_before_stop: str = ""  # stderr just before SIGTERM
    stderr: str = ""
    stdout: str = ""
    consul_connections: int = 0


def _degraded_run(
    package: RenderedPackage,
    log_dir: Path,
    consul_address: str,
    extra: dict[str, str | None] | None = None,
) -> DegradedRun:
    observed = DegradedRun(token=f"tok-{secrets.token_hex(12)}")
    node_port = free_port()
    env = node_env(
        package,
        consul_address=consul_address,
        node_port=node_port,
        token=observed.token,
        extra=extra,
    )
    node = start_node(package, env, log_dir)
    try:
        url = health_url(package, node_port)
        try:
            _wait_healthy(node, url)
            _assert_stays_healthy(node, url, DEGRADED_WINDOW)
        except AssertionError as error:
            observed.healthy_problem = str(error)
        observed.stderr_before_stop = node.stderr()
        observed.exit_code = node.terminate(EXIT_TIMEOUT)
    finally:
        node.kill()
    observed.stderr, observed.stdout = node.stderr(), node.stdout()
    return observed


@pytest.fixture(scope="module")
def unreachable(
    renders: RenderCache, tmp_path_factory: pytest.TempPathFactory
) -> DegradedRun:
    log_dir = tmp_path_factory.mktemp("consul-unreachable")
    # Free a moment ago, and nobody listens there now.
    return _degraded_run(renders.get("effect"), log_dir, f"127.0.0.1:{free_port()}")


@pytest.fixture(scope="module")
def disabled(
    renders: RenderCache, tmp_path_factory: pytest.TempPathFactory
) -> DegradedRun:
    log_dir = tmp_path_factory.mktemp("consul-disabled")
    extra: dict[str, str | None] = {"ONEX_NODE_CONSUL_ENABLED": "false"}
    with _ConnectionCounter() as counter:
        observed = _degraded_run(renders.get("effect"), log_dir, counter.address, extra)
        # Read after the node exited: a deregistration attempt would count too.
        observed.consul_connections = counter.accepted
    return observed


def test_unreachable_consul_health_stays_200(unreachable: DegradedRun) -> None:
    assert unreachable.healthy_problem is None, unreachable.healthy_problem


def test_unreachable_consul_warns_once(unreachable: DegradedRun) -> None:
    warnings = _consul_warnings(unreachable.stderr_before_stop)
    assert [_event(w) for w in warnings] == ["consul.register_failed"], warnings


def test_unreachable_consul_quiet_shutdown(unreachable: DegradedRun) -> None:
    # Never registered, so nothing to deregister and nothing to warn about.
    before = len(_consul_warnings(unreachable.stderr_before_stop))
    at_shutdown = _consul_warnings(unreachable.stderr)[before:]
    assert at_shutdown == []


def test_unreachable_consul_sigterm_exits_zero(unreachable: DegradedRun) -> None:
    assert unreachable.exit_code == 0, unreachable.stderr[-3000:]
    assert "Traceback" not in unreachable.stderr, unreachable.stderr[-3000:]


def test_unreachable_consul_token_never_in_output(unreachable: DegradedRun) -> None:
    assert unreachable.token not in unreachable.stderr + unreachable.stdout


def test_consul_disabled_health_stays_200(disabled: DegradedRun) -> None:
    assert disabled.healthy_problem is None, disabled.healthy_problem


def test_consul_disabled_never_contacts_consul(disabled: DegradedRun) -> None:
    assert disabled.consul_connections == 0
    assert _consul_warnings(disabled.stderr) == []


def test_consul_disabled_sigterm_exits_zero(disabled: DegradedRun) -> None:
    assert disabled.exit_code == 0, disabled.stderr[-3000:]


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def go_seconds(text: str) -> float:
    """Seconds in a Go duration string such as "1m30s" or "500ms"."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|ns|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text}"
    return sum(float(number) * _GO_UNITS[unit] for number, unit in parts)


def _wait_healthy(node: ManagedProcess, url: str) -> None:
    def healthy() -> bool:
        if not node.running():
            raise AssertionError(f"node exited early\n{node.output_tail()}")
        response = http_request(url)
        return response is not None and response.status == 200

    wait_for(healthy, timeout=REGISTER_TIMEOUT, what=f"200 from {url}")


def _assert_stays_healthy(node: ManagedProcess, url: str, seconds: float) -> None:
    """Probe the health endpoint for ``seconds``: every answer must be 200."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        response = http_request(url)
        status = None if response is None else response.status
        assert status == 200, f"health answered {status}\n{node.output_tail()}"
        time.sleep(0.2)  # probe rate, not synchronisation


def _event(record: dict[str, Any]) -> str:
    """The event name of a structured log record (message or context.event)."""
    context = record.get("context")
    if isinstance(context, dict) and isinstance(context.get("event"), str):
        return str(context["event"])
    return str(record.get("message", ""))


def _consul_warnings(stderr: str) -> list[dict[str, Any]]:
    """Structured WARNING+ records that mention Consul, in order."""
    levels = {"WARNING", "WARN", "ERROR", "CRITICAL"}
    return [
        record
        for record in json_lines(stderr)
        if str(record.get("level", "")).upper() in levels
        and "consul" in str(record).lower()
    ]


class _ConnectionCounter:
    """A TCP listener that only counts connections (then closes them)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.accepted = 0

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def __enter__(self) -> _ConnectionCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()
