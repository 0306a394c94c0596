"""The agent service definition (deploy/consul) and the Nomad job (deploy/nomad)
of every render carry exactly the registration the node sends itself.

Per render, the node runs once as a process against the agent double and
registers itself (self mode, ttl renders with check mode http, as the files
do); it stops, deregistering, and the definition file, its address filled in,
is PUT on the same double. The catalog entry, the agent's view of the service
and its check must then be the same, field by field, but for the indexes, the
content hash and the per-process `node_id` meta. The Nomad job, parsed with
python-hcl2, must hold the stanzas a Nomad deployment of the node needs, with
the tags, meta and check the node registered. Each check is a function
returning problems, also run on a deliberately broken sample.
"""

from __future__ import annotations

import io
import json
import random
import re
import signal
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from types import ModuleType
from typing import Any

import hcl2
import pytest
import yaml
from hcl2.utils import SerializationOptions
from package_checks import assert_flagged

from scripts.consul_agents import (
    AgentClient,
    node_env,
    start_agent_double,
    start_node,
    wait_for_double,
)
from scripts.processes import http_request, stopped_at_exit, wait_for
from scripts.rendering import RenderedPackage

ADDRESS_PLACEHOLDER = "ONEX_NODE_ADVERTISE_ADDRESS"
NOMAD_CONSUL_ADDR = "${attr.unique.network.ip-address}:8500"
NOMAD_ADVERTISE_ADDRESS = "${NOMAD_IP_http}"
# A Nomad client caps kill_timeout at its max_kill_timeout, 30s by default.
NOMAD_MAX_KILL_TIMEOUT_S = 30.0
# Fields that say when, not what: they differ between any two registrations.
WHEN_FIELDS = frozenset({"CreateIndex", "ModifyIndex", "ContentHash"})
CHECK_STATE_FIELDS = frozenset({"Status", "Output"})
NODE_ONLY_META = "node_id"
# Blocks and labels as values, quotes stripped, no comments.
HCL_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)
# Generous: a loaded machine may take seconds to start Python and import.
NODE_START_S = 30.0


def consul_file(package: RenderedPackage) -> Path:
    return package.root / "deploy" / "consul" / f"{package.service_name}.json"


def nomad_file(package: RenderedPackage) -> Path:
    return package.root / "deploy" / "nomad" / f"{package.service_name}.nomad.hcl"


def definition_body(text: str, address: str) -> dict[str, Any]:
    """The PUT body of a definition file: filled in as envsubst does, unwrapped."""
    filled = Template(text).substitute({ADDRESS_PLACEHOLDER: address})
    service: dict[str, Any] = json.loads(filled)["Service"]
    return service


# --- what the agent shows ----------------------------------------------------


@dataclass(frozen=True)
class Entries:
    """One service instance as the agent shows it, when-fields dropped."""

    catalog: list[dict[str, Any]]  # GET /v1/catalog/service/<name>
    service: dict[str, Any]  # GET /v1/agent/service/<id>
    checks: list[dict[str, Any]]  # GET /v1/agent/checks, this service's


def without(record: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in fields}


def read_entries(agent: AgentClient, name: str, service_id: str) -> Entries:
    quoted_name = urllib.parse.quote(name, safe="")
    quoted_id = urllib.parse.quote(service_id, safe="")
    catalog = agent.get_json(f"/v1/catalog/service/{quoted_name}") or []
    service = agent.get_json(f"/v1/agent/service/{quoted_id}") or {}
    checks = [
        without(check, WHEN_FIELDS | CHECK_STATE_FIELDS)
        for check in agent.checks_of(service_id)
    ]
    return Entries(
        catalog=[without(entry, WHEN_FIELDS) for entry in catalog],
        service=without(service, WHEN_FIELDS),
        checks=checks,
    )


def meta_of(record: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = record.get("Meta", record.get("ServiceMeta")) or {}
    return meta


def entry_differences(node: Entries, definition: Entries) -> list[str]:
    """Where the definition's entries differ from the node's ([] = nowhere).

    Only `node_id` meta may differ, and only on the node's side: omnibase-core
    draws it afresh in each process, so no file can carry it.
    """
    problems: list[str] = []
    if len(node.catalog) != 1 or len(definition.catalog) != 1:
        problems.append(
            f"catalog entries: node {len(node.catalog)}, "
            f"definition {len(definition.catalog)} (one each wanted)"
        )
    pairs = [
        ("catalog", a, b)
        for a, b in zip(node.catalog, definition.catalog, strict=False)
    ]
    pairs.append(("agent service", node.service, definition.service))
    problems += [
        f"agent service: none on the {side}'s side"
        for side, entries in (("node", node), ("definition", definition))
        if not entries.service
    ]
    if len(node.checks) != 1 or len(definition.checks) != 1:
        problems.append(
            f"checks: node {len(node.checks)}, definition {len(definition.checks)} "
            "(one each wanted)"
        )
    pairs += [
        ("check", a, b) for a, b in zip(node.checks, definition.checks, strict=False)
    ]
    for what, of_node, of_definition in pairs:
        for record, side in ((of_node, "node"), (of_definition, "definition")):
            has_node_id = NODE_ONLY_META in meta_of(record)
            if what != "check" and has_node_id != (side == "node"):
                problems.append(
                    f"{what}: meta {NODE_ONLY_META} "
                    f"{'missing from' if side == 'node' else 'in'} the {side}'s"
                )
        for field in sorted(set(of_node) | set(of_definition)):
            mine, theirs = of_node.get(field), of_definition.get(field)
            if field in ("Meta", "ServiceMeta"):
                mine = without(mine or {}, frozenset({NODE_ONLY_META}))
                theirs = without(theirs or {}, frozenset({NODE_ONLY_META}))
            if mine != theirs:
                problems.append(f"{what} {field}: node {mine!r}, definition {theirs!r}")
    return problems


@dataclass(frozen=True)
class Observed:
    """A render's node registered by itself, and its definition file by the agent."""

    node: Entries
    definition: Entries


_OBSERVED: dict[Path, Observed] = {}


def loopback_with_free_port(port: int) -> str:
    """A loopback address where `port` is free to listen on.

    The answered port is fixed in the file, so the node must listen on it:
    first at a random address of 127/8 (Linux routes all of it to lo), where
    nothing else on the machine holds it, then at 127.0.0.1 (macOS has only
    that one).
    """
    random_address = "127." + ".".join(str(random.randint(1, 254)) for _ in range(3))
    for address in (random_address, "127.0.0.1"):
        with socket.socket() as probe:
            try:
                probe.bind((address, port))
            except OSError:
                continue
        return address
    raise AssertionError(f"port {port} is taken on every loopback address tried")


def register_both(package: RenderedPackage, log_dir: Path) -> Observed:
    """The node self-registering, then its definition file, on one double."""
    port = int(str(package.answers["port"]))
    address = loopback_with_free_port(port)
    body = definition_body(consul_file(package).read_text(encoding="utf-8"), address)
    name, service_id = body["Name"], body["ID"]
    extra: dict[str, str | None] = {
        "ONEX_NODE_ADVERTISE_ADDRESS": address,
        "ONEX_NODE_BIND_HOST": address,
    }
    if package.answers["check_mode"] == "ttl":
        extra["ONEX_NODE_CHECK_MODE"] = "http"  # what the files register
    with stopped_at_exit(start_agent_double(package, log_dir)) as double:
        agent = wait_for_double(double)
        env = node_env(
            package,
            consul_address=agent.address,
            node_port=port,
            check_policy=None,  # the answered interval and timeout
            extra=extra,
        )
        with stopped_at_exit(start_node(package, env, log_dir)) as node:

            def registered() -> bool:
                if not node.running():
                    raise AssertionError(f"the node exited\n{node.output_tail()}")
                return bool(agent.checks_of(service_id))

            wait_for(registered, timeout=NODE_START_S, what="the node registered")
            of_node = read_entries(agent, name, service_id)
            node.popen.send_signal(signal.SIGTERM)
            assert node.popen.wait(timeout=15) == 0, node.output_tail()
        assert agent.services() == {}, "the node left its registration behind"
        response = http_request(
            f"{agent.base_url}/v1/agent/service/register",
            method="PUT",
            data=json.dumps(body).encode(),
        )
        assert response is not None, "the double did not answer"
        assert (response.status, response.body) == (200, b""), response
        return Observed(of_node, read_entries(agent, name, service_id))


@pytest.fixture
def observed(
    package: RenderedPackage, tmp_path_factory: pytest.TempPathFactory
) -> Observed:
    """One node start per render, shared by the tests that compare with it."""
    if package.root not in _OBSERVED:
        log_dir = tmp_path_factory.mktemp(f"registrations-{package.service_name}")
        _OBSERVED[package.root] = register_both(package, log_dir)
    return _OBSERVED[package.root]


# --- the Nomad job -------------------------------------------------------------


@dataclass(frozen=True)
class NomadExpectations:
    """What a render's Nomad job must say, from the node's own registration."""

    service_name: str
    port: int
    image: str
    tags: list[str]
    meta: dict[str, str]
    check_type: str  # "http" or "tcp", as Nomad spells them
    health_path: str
    interval: str
    timeout: str
    drain_timeout_s: float
    check_mode: str  # the contract's: ttl renders must switch the node to http


def load_hcl(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = hcl2.load(
        io.StringIO(text), serialization_options=HCL_OPTIONS
    )
    return loaded


def one_block(parent: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """The single `kind` block of `parent` (None for none or several)."""
    blocks = parent.get(kind) or []
    return blocks[0] if len(blocks) == 1 else None


def labelled(block: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]] | None:
    """A labelled block as python-hcl2 gives it, {label: body}: the pair."""
    if block is None or len(block) != 1:
        return None
    ((label, body),) = block.items()
    return (label, body) if isinstance(body, dict) else None


def nomad_problems(
    doc: Mapping[str, Any],
    expected: NomadExpectations,
    seconds: Callable[[str], float],
) -> list[str]:
    """What is wrong with a render's Nomad job ([] = nothing)."""
    job = labelled(one_block(doc, "job"))
    if job is None:
        return ["not one labelled job block"]
    problems: list[str] = []
    label, body = job
    if label != expected.service_name:
        problems.append(f"job {label!r} is not named {expected.service_name!r}")
    if body.get("type") != "service":
        problems.append(f"job type {body.get('type')!r} is not 'service'")
    group_pair = labelled(one_block(body, "group"))
    if group_pair is None:
        return [*problems, "not one labelled group"]
    group = group_pair[1]
    count = group.get("count")
    if not isinstance(count, int) or count < 1:
        problems.append(f"group count {count!r} is not a whole number above 0")
    problems += _network_problems(group, expected)
    problems += _service_problems(group, expected)
    delay = str(group.get("shutdown_delay", "0s"))
    if seconds(delay) <= 0:
        problems.append(
            "no group shutdown_delay: Consul would still route to a stopping node"
        )
    task_pair = labelled(one_block(group, "task"))
    if task_pair is None:
        return [*problems, "not one labelled task"]
    return problems + _task_problems(task_pair[1], expected, seconds)


def _network_problems(
    group: Mapping[str, Any], expected: NomadExpectations
) -> list[str]:
    network = one_block(group, "network") or {}
    ports = dict(
        pair
        for pair in (labelled(port) for port in network.get("port") or [])
        if pair is not None
    )
    if (ports.get("http") or {}).get("to") != expected.port:
        return [f'no network port "http" mapped to {expected.port}: {ports}']
    return []


def _service_problems(
    group: Mapping[str, Any], expected: NomadExpectations
) -> list[str]:
    service = one_block(group, "service")
    if service is None:
        return ["not one group service block"]
    wanted = {
        "provider": "consul",
        "name": expected.service_name,
        "port": "http",
        "tags": expected.tags,
    }
    problems = [
        f"service {key} {service.get(key)!r} is not {value!r}"
        for key, value in wanted.items()
        if service.get(key) != value
    ]
    meta = one_block(service, "meta")
    if meta != expected.meta:
        problems.append(f"service meta {meta!r} is not the node's {expected.meta!r}")
    check = one_block(service, "check")
    if check is None:
        return [*problems, "not one service check"]
    wanted_check: dict[str, Any] = {
        "type": expected.check_type,
        "interval": expected.interval,
        "timeout": expected.timeout,
    }
    if expected.check_type == "http":
        wanted_check["path"] = expected.health_path
    problems += [
        f"check {key} {check.get(key)!r} is not {value!r}"
        for key, value in wanted_check.items()
        if check.get(key) != value
    ]
    return problems


def _task_problems(
    task: Mapping[str, Any],
    expected: NomadExpectations,
    seconds: Callable[[str], float],
) -> list[str]:
    problems: list[str] = []
    if task.get("driver") != "docker":
        problems.append(f"task driver {task.get('driver')!r} is not docker")
    config = one_block(task, "config") or {}
    if config.get("image") != expected.image:
        problems.append(f"image {config.get('image')!r} is not {expected.image!r}")
    if config.get("ports") != ["http"]:
        problems.append(f"task ports {config.get('ports')!r} are not ['http']")
    if task.get("kill_signal") != "SIGTERM":
        problems.append(f"kill_signal {task.get('kill_signal')!r} is not SIGTERM")
    kill_timeout = seconds(str(task.get("kill_timeout", "5s")))  # Nomad's default
    if kill_timeout <= expected.drain_timeout_s:
        problems.append(
            f"kill_timeout {kill_timeout:g}s is not above the node's drain "
            f"{expected.drain_timeout_s:g}s: SIGKILL would cut requests short"
        )
    if kill_timeout > NOMAD_MAX_KILL_TIMEOUT_S:
        problems.append(
            f"kill_timeout {kill_timeout:g}s is above Nomad's default "
            f"max_kill_timeout {NOMAD_MAX_KILL_TIMEOUT_S:g}s (it would be capped)"
        )
    env = one_block(task, "env") or {}
    wanted_env = {
        "ONEX_NODE_CONSUL_REGISTRATION": "external",
        "CONSUL_HTTP_ADDR": NOMAD_CONSUL_ADDR,
        "ONEX_NODE_ADVERTISE_ADDRESS": NOMAD_ADVERTISE_ADDRESS,
        # External mode refuses ttl at start-up.
        "ONEX_NODE_CHECK_MODE": "http" if expected.check_mode == "ttl" else None,
    }
    problems += [
        f"env {key} {env.get(key)!r} is not {value!r}"
        for key, value in wanted_env.items()
        if env.get(key) != value
    ]
    problems += [
        f"env {key} puts a secret into the job file"
        for key in env
        if "TOKEN" in key and "FILE" not in key
    ]
    resources = one_block(task, "resources") or {}
    for key in ("cpu", "memory"):
        value = resources.get(key)
        if not isinstance(value, int) or value < 1:
            problems.append(f"resources {key} {value!r} is not a whole number above 0")
    return problems


def contract_config(package: RenderedPackage) -> dict[str, Any]:
    (contract,) = package.root.glob("src/*/nodes/*/contract.yaml")
    config: dict[str, Any] = yaml.safe_load(contract.read_text(encoding="utf-8"))[
        "config"
    ]
    return config


def docker_build_tag(package: RenderedPackage) -> str:
    """The image docs/operations.md tells to build."""
    docs = (package.root / "docs" / "operations.md").read_text(encoding="utf-8")
    match = re.search(r"^docker build -t (\S+) \.$", docs, flags=re.MULTILINE)
    assert match, "docs/operations.md has no `docker build -t IMAGE .` line"
    return match.group(1)


def nomad_expectations(
    package: RenderedPackage, registered: Entries, seconds: Callable[[str], float]
) -> NomadExpectations:
    """The Nomad job's values: the node's registration, the docs' image tag and
    the contract's drain timeout."""
    (check,) = registered.checks
    definition = check["Definition"]
    target = definition.get("HTTP") or ""
    config = contract_config(package)
    return NomadExpectations(
        service_name=registered.service["Service"],
        port=registered.service["Port"],
        image=docker_build_tag(package),
        tags=registered.service["Tags"],
        meta=without(registered.service["Meta"], frozenset({NODE_ONLY_META})),
        check_type=str(check["Type"]),
        health_path=urllib.parse.urlsplit(target).path,
        interval=str(definition["Interval"]),
        timeout=str(definition["Timeout"]),
        drain_timeout_s=seconds(str(config["service"]["drain_timeout"])),
        check_mode=str(config["check"]["mode"]),
    )


# --- per render ------------------------------------------------------------------


def test_definition_registers_as_the_node_does(observed: Observed) -> None:
    assert entry_differences(observed.node, observed.definition) == []


def test_definition_file_is_headerless_json_with_one_placeholder(
    package: RenderedPackage,
) -> None:
    text = consul_file(package).read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{?(\w+)", text))
    assert placeholders == {ADDRESS_PLACEHOLDER}
    body = definition_body(text, "10.0.0.7")
    assert body["Address"] == "10.0.0.7"
    assert body["ID"] == f"{package.service_name}-10.0.0.7-{package.answers['port']}"


def test_nomad_job_carries_the_node_registration(
    package: RenderedPackage, observed: Observed, go_durations: ModuleType
) -> None:
    seconds = go_durations.parse_go_duration
    doc = load_hcl(nomad_file(package).read_text(encoding="utf-8"))
    expected = nomad_expectations(package, observed.node, seconds)
    assert nomad_problems(doc, expected, seconds) == []


# --- the checks can fail --------------------------------------------------------

GOOD_NOMAD = """\
job "demo-node" {
  type = "service"
  group "node" {
    count          = 2
    shutdown_delay = "5s"
    network {
      port "http" {
        to = 8080
      }
    }
    service {
      provider = "consul"
      name     = "demo-node"
      port     = "http"
      tags     = ["onex", "effect", "default"]
      meta {
        node_type  = "effect"
        idempotent = "false"
      }
      check {
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "5s"
      }
    }
    task "node" {
      driver = "docker"
      config {
        image = "demo-node:1.0.0"
        ports = ["http"]
      }
      kill_signal  = "SIGTERM"
      kill_timeout = "10s"
      env {
        ONEX_NODE_CONSUL_REGISTRATION = "external"
        CONSUL_HTTP_ADDR              = "${attr.unique.network.ip-address}:8500"
        ONEX_NODE_ADVERTISE_ADDRESS   = "${NOMAD_IP_http}"
      }
      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
"""
GOOD_EXPECTATIONS = NomadExpectations(
    service_name="demo-node",
    port=8080,
    image="demo-node:1.0.0",
    tags=["onex", "effect", "default"],
    meta={"node_type": "effect", "idempotent": "false"},
    check_type="http",
    health_path="/health",
    interval="10s",
    timeout="5s",
    drain_timeout_s=5.0,
    check_mode="http",
)


def broken(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_nomad_checks_pass_the_good_sample(go_durations: ModuleType) -> None:
    doc = load_hcl(GOOD_NOMAD)
    assert nomad_problems(doc, GOOD_EXPECTATIONS, go_durations.parse_go_duration) == []


def test_nomad_checks_flag_a_broken_job(go_durations: ModuleType) -> None:
    text = broken(
        GOOD_NOMAD,
        ('type = "service"', 'type = "batch"'),
        ("count          = 2", "count          = 0"),
        ('shutdown_delay = "5s"\n', ""),
        ("to = 8080", "to = 9090"),
        ('provider = "consul"', 'provider = "nomad"'),
        ('"onex", "effect"', '"onex", "effekt"'),
        ('idempotent = "false"', 'idempotent = "true"'),
        ('path     = "/health"', 'path     = "/healthz"'),
        ('interval = "10s"', 'interval = "30s"'),
        ("demo-node:1.0.0", "demo-node:latest"),
        ('kill_signal  = "SIGTERM"', 'kill_signal  = "SIGINT"'),
        ('kill_timeout = "10s"', 'kill_timeout = "5s"'),
        ('= "external"', '= "self"'),
        ("${NOMAD_IP_http}", "127.0.0.1"),
        ("memory = 256", "memory = 0"),
        (
            'ONEX_NODE_CONSUL_REGISTRATION = "self"',
            'ONEX_NODE_CONSUL_REGISTRATION = "self"\n        CONSUL_HTTP_TOKEN = "x"',
        ),
    )
    problems = nomad_problems(
        load_hcl(text), GOOD_EXPECTATIONS, go_durations.parse_go_duration
    )
    assert_flagged(
        problems,
        "job type 'batch'",
        "group count 0",
        "no group shutdown_delay",
        'no network port "http" mapped to 8080',
        "service provider 'nomad'",
        "service tags",
        "service meta",
        "check path '/healthz'",
        "check interval '30s'",
        "image 'demo-node:latest'",
        "kill_signal 'SIGINT'",
        "kill_timeout 5s is not above the node's drain 5s",
        "env ONEX_NODE_CONSUL_REGISTRATION 'self'",
        "env ONEX_NODE_ADVERTISE_ADDRESS '127.0.0.1'",
        "env CONSUL_HTTP_TOKEN puts a secret",
        "resources memory 0",
    )


def test_nomad_checks_flag_a_ttl_node_left_in_ttl(go_durations: ModuleType) -> None:
    ttl = replace(GOOD_EXPECTATIONS, check_mode="ttl")
    too_long = broken(GOOD_NOMAD, ('kill_timeout = "10s"', 'kill_timeout = "45s"'))
    problems = nomad_problems(load_hcl(too_long), ttl, go_durations.parse_go_duration)
    assert_flagged(
        problems, "env ONEX_NODE_CHECK_MODE None is not 'http'", "max_kill_timeout"
    )


def test_nomad_checks_flag_a_job_without_group(go_durations: ModuleType) -> None:
    problems = nomad_problems(
        load_hcl('job "demo-node" {\n  type = "service"\n}\n'),
        GOOD_EXPECTATIONS,
        go_durations.parse_go_duration,
    )
    assert problems == ["not one labelled group"]
    assert nomad_problems({}, GOOD_EXPECTATIONS, go_durations.parse_go_duration) == [
        "not one labelled job block"
    ]


SAMPLE_SERVICE: dict[str, Any] = {
    "ID": "demo-node-127.0.0.9-8080",
    "Service": "demo-node",
    "Tags": ["onex", "effect", "default"],
    "Meta": {"node_type": "effect", NODE_ONLY_META: "0d0c"},
    "Port": 8080,
    "Address": "127.0.0.9",
}
SAMPLE_CHECK: dict[str, Any] = {
    "CheckID": "service:demo-node-127.0.0.9-8080",
    "Type": "http",
    "Interval": "10s",
    "Timeout": "5s",
    "Definition": {
        "HTTP": "http://127.0.0.9:8080/health",
        "DeregisterCriticalServiceAfter": "1m0s",
    },
}


def sample_entries(meta: dict[str, str], **service: Any) -> Entries:
    record = {**SAMPLE_SERVICE, "Meta": meta, **service}
    catalog = {"ServiceID": record["ID"], "ServiceMeta": meta, "ServicePort": 8080}
    return Entries(catalog=[catalog], service=record, checks=[dict(SAMPLE_CHECK)])


def test_entry_comparison_allows_only_the_node_id() -> None:
    node = sample_entries(SAMPLE_SERVICE["Meta"])
    definition = sample_entries({"node_type": "effect"})
    assert entry_differences(node, definition) == []


def test_entry_comparison_flags_one_differing_field() -> None:
    node = sample_entries(SAMPLE_SERVICE["Meta"])
    definition = sample_entries(
        {"node_type": "effect", NODE_ONLY_META: "0d0c"}, Tags=["onex", "effect"]
    )
    reaped_sooner = {
        **SAMPLE_CHECK,
        "Definition": {
            **SAMPLE_CHECK["Definition"],
            "DeregisterCriticalServiceAfter": "2m0s",
        },
    }
    definition = replace(definition, checks=[reaped_sooner], catalog=[])
    assert_flagged(
        entry_differences(node, definition),
        "agent service Tags",
        f"agent service: meta {NODE_ONLY_META} in the definition's",
        "check Definition",
        "catalog entries: node 1, definition 0",
    )
    without_id = sample_entries({"node_type": "effect"})
    assert_flagged(
        entry_differences(without_id, without_id),
        f"meta {NODE_ONLY_META} missing from the node's",
    )
    nothing = Entries(catalog=[], service={}, checks=[])
    assert_flagged(
        entry_differences(nothing, nothing),
        "catalog entries: node 0, definition 0",
        "agent service: none on the node's side",
        "agent service: none on the definition's side",
        "checks: node 0, definition 0",
    )


def test_definition_body_fills_only_the_address() -> None:
    text = json.dumps({"Service": {"Address": "${ONEX_NODE_ADVERTISE_ADDRESS}"}})
    assert definition_body(text, "10.1.2.3") == {"Address": "10.1.2.3"}
    with pytest.raises(KeyError):
        definition_body(json.dumps({"Service": {"Address": "${HOST_IP}"}}), "x")
