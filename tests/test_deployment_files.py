"""Deployment files of every render: Dockerfile, .dockerignore, compose.yaml and
the package's CI workflow; and the template repository's own workflow.

Per render: hadolint (default rules) on the Dockerfile, check-jsonschema's
vendored compose-spec and github-workflows schemas, then what the schemas
cannot see, parsed from the files: the answered port and health path, a
non-root user, exec-form commands, a Consul service the node is wired to, the
real-Consul CI job. Each semantic check is a function returning problems, run
once on a deliberately broken sample so that a check that cannot fail is
caught, like a linter that passes everything.

There is no Docker engine here: the image is linted, not built; the template's
CI (compose-smoke job) builds and runs it.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from package_checks import SHARED_BIN, assert_flagged

from scripts.answer_sets import ANSWER_SETS
from scripts.consul_agents import start_agent_double, wait_for_double
from scripts.processes import free_port, start_process, stopped_at_exit, wait_for
from scripts.rendering import (
    REPO_ROOT,
    RenderCache,
    RenderedPackage,
    create_child_venv,
    read_answers,
    render,
)

HADOLINT = SHARED_BIN / "hadolint"
CHECK_JSONSCHEMA = SHARED_BIN / "check-jsonschema"

HEADER = (
    "# Managed by the ONEX node template: `copier update` replaces this file.",
    "# Change the template, not this copy: docs/template.md says how.",
)
DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE = "compose.yaml"
WORKFLOW = ".github/workflows/ci.yml"
TEMPLATE_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
# A `uv sync` line without --locked.
UNLOCKED_SYNC = re.compile(r"^(?!.*--locked).*\buv sync\b.*$", re.MULTILINE)

# python:3.12-slim pinned: a patch version (3.12.12-slim-bookworm), a digest, or both.
PYTHON_312_SLIM = re.compile(
    r"^(?:docker\.io/)?(?:library/)?python:3\.12"
    r"(?:\.\d+-slim(?:-[a-z]+)?(?:@sha256:[0-9a-f]{64})?"
    r"|-slim(?:-[a-z]+)?@sha256:[0-9a-f]{64})$"
)
CONSUL_IMAGE = re.compile(r"^hashicorp/consul:\d+\.\d+\.\d+$")


# --- tools -------------------------------------------------------------------


def run_tool(args: Sequence[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    # No user or site configuration of the tools may change their verdict.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def hadolint(dockerfile: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """hadolint with its default rules and failure threshold (info).

    An explicit, empty configuration: a .hadolint.yaml in the working
    directory or the user's config directory must not relax the rules.
    """
    config = workdir / "hadolint-defaults.yaml"
    config.write_text("ignored: []\n", encoding="utf-8")
    return run_tool(
        [HADOLINT, "--no-color", "--config", config, dockerfile], cwd=workdir
    )


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with a schema vendored in the package (no network)."""
    return run_tool(
        [CHECK_JSONSCHEMA, "--builtin-schema", schema, *files], cwd=files[0].parent
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join([result.stdout, result.stderr]).strip()


# --- Dockerfile parsing --------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: str  # the logical line after the keyword, continuations joined
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile: comments dropped, continuations joined."""
    instructions: list[Instruction] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].strip())
            continue
        parts.append(stripped)
        keyword, _, args = " ".join(part for part in parts if part).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
        parts = []
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped per build stage, each starting with its FROM."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            grouped.append([])
        if grouped:
            grouped[-1].append(instruction)
    return grouped


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form instruction, None for shell form."""
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, list) and parsed and all(isinstance(a, str) for a in parsed):
        return parsed
    return None


def healthcheck_command(args: str) -> list[str] | None:
    """The exec-form command of `HEALTHCHECK [--option=value ...] CMD [...]`."""
    match = re.fullmatch(r"(?:--[a-z-]+=\S+\s+)*CMD\s+(.+)", args, flags=re.DOTALL)
    return exec_form(match.group(1)) if match else None


def env_pairs(instructions: list[Instruction]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for token in shlex.split(instruction.args):
                key, sep, value = token.partition("=")
                if sep:
                    pairs[key] = value
    return pairs


def dockerfile_problems(text: str, answers: Mapping[str, object]) -> list[str]:
    """What is wrong with a node's Dockerfile for these answers ([] = nothing)."""
    port, health_path = str(answers["port"]), str(answers["health_path"])
    package_name = str(answers["package_name"])
    grouped = stages(parse_dockerfile(text))
    if not grouped:
        return ["no FROM instruction"]
    problems: list[str] = []
    stage_names = set()
    bases = set()
    for stage in grouped:
        image, _, alias = stage[0].args.partition(" AS ")
        image = image.split()[-1]  # after --platform=...
        if image not in stage_names:
            bases.add(image)
            if not PYTHON_312_SLIM.match(image):
                problems.append(f"base image {image} is not a pinned python 3.12 slim")
        stage_names.add(alias.strip())
    if len(bases) > 1:
        # Wheels built on one Python and installed on another may not fit.
        problems.append(f"the stages use different base images: {sorted(bases)}")
    if len(grouped) < 2:
        problems.append("not a multi-stage build (no builder stage)")
    builder, final = grouped[:-1], grouped[-1]
    builder_runs = " ".join(i.args for s in builder for i in s if i.keyword == "RUN")
    if "wheel" not in builder_runs:
        problems.append("the builder stage builds no wheel")
    final_runs = " ".join(i.args for i in final if i.keyword == "RUN")
    if not re.search(r"pip install [^&;]*\.whl", final_runs):
        problems.append("the final stage does not install wheels")
    for marker in ("--group", " dev", "pytest", "ruff", "mypy", " -e ", "--editable"):
        if marker in final_runs:
            problems.append(f"the final stage installs development tools ({marker!r})")
    if any(i.keyword == "COPY" and "src" in i.args.split() for i in final):
        problems.append("the final stage copies the sources instead of a wheel")

    def last(keyword: str) -> Instruction | None:
        found = [i for i in final if i.keyword == keyword]
        return found[-1] if found else None

    exposed = [i.args for i in final if i.keyword == "EXPOSE"]
    if exposed != [port]:
        problems.append(f"EXPOSE {exposed} is not the node's port [{port}]")
    user = last("USER")
    if user is None or user.args.split(":")[0] in ("root", "0"):
        problems.append(f"the node runs as root (USER {user.args if user else '-'})")
    healthcheck = last("HEALTHCHECK")
    command = healthcheck_command(healthcheck.args) if healthcheck else None
    if command is None:
        problems.append("no exec-form HEALTHCHECK CMD")
    else:
        joined = " ".join(command)
        for wanted in (f"'{port}'", f"'{health_path}'", "127.0.0.1"):
            if wanted not in joined:
                problems.append(f"HEALTHCHECK does not ask {wanted}: {joined}")
    entrypoint, cmd = last("ENTRYPOINT"), last("CMD")
    for instruction in (entrypoint, cmd):
        if instruction is not None and exec_form(instruction.args) is None:
            problems.append(
                f"{instruction.keyword} is in shell form: {instruction.args}"
            )
    started = (exec_form(entrypoint.args) if entrypoint else None) or []
    started += (exec_form(cmd.args) if cmd else None) or []
    if started[-2:] != ["-m", package_name]:
        problems.append(f"the container does not run `python -m {package_name}`")
    stopsignal = last("STOPSIGNAL")
    if stopsignal is None or stopsignal.args != "SIGTERM":
        problems.append("STOPSIGNAL is not SIGTERM")
    env = env_pairs(final)
    if env.get("PYTHONUNBUFFERED") != "1":
        problems.append("PYTHONUNBUFFERED=1 is not set")
    if env.get("ONEX_NODE_BIND_HOST", "0.0.0.0") != "0.0.0.0":
        problems.append("the node does not bind every interface")
    if "ONEX_NODE_ADVERTISE_ADDRESS" in env or "CONSUL_HTTP_ADDR" in env:
        problems.append("the image fixes what the orchestrator must set")
    return problems


# --- .dockerignore -------------------------------------------------------------


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether Docker leaves ``path`` out of the build context.

    Docker's rules, as far as the template uses them: the last matching
    pattern wins, ``!`` re-includes, ``*`` stays within one path element,
    ``**`` spans any number, and a pattern matching a directory matches
    everything below it.
    """
    excluded = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        pattern = pattern.strip().strip("/")
        wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        regex = "".join(
            wildcards.get(token, re.escape(token))
            for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
        )
        if re.fullmatch(rf"{regex}(?:/.*)?", path):
            excluded = not negated
    return excluded


def dockerignore_patterns(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def dockerignore_problems(text: str, package_name: str) -> list[str]:
    patterns = dockerignore_patterns(text)
    needed = ["pyproject.toml", "README.md", f"src/{package_name}/__init__.py"]
    unwanted = [
        ".venv/bin/python",
        ".git/HEAD",
        "tests/conftest.py",
        f"src/{package_name}/__pycache__/cli.cpython-312.pyc",
        ".env",
    ]
    problems = [
        f"{p} is left out" for p in needed if dockerignore_excludes(patterns, p)
    ]
    problems += [
        f"{p} reaches the build context"
        for p in unwanted
        if not dockerignore_excludes(patterns, p)
    ]
    return problems


# --- compose.yaml and the workflow ------------------------------------------------


def load_yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path} is not a mapping"
    return loaded


def compose_problems(
    doc: Mapping[str, Any], answers: Mapping[str, object]
) -> list[str]:
    port = answers["port"]
    services: Mapping[str, Any] = doc.get("services") or {}
    consul, node = services.get("consul"), services.get("node")
    if not consul or not node:
        return [f"services consul and node wanted, got {sorted(services)}"]
    problems: list[str] = []
    if not CONSUL_IMAGE.match(str(consul.get("image", ""))):
        problems.append(
            f"consul image {consul.get('image')!r} is not a pinned hashicorp/consul"
        )
    if "-dev" not in " ".join(map(str, consul.get("command") or [])):
        problems.append("consul does not run a dev agent")
    if "test" not in (consul.get("healthcheck") or {}):
        problems.append("consul has no healthcheck")
    consul_ports = [str(p) for p in consul.get("ports") or []]
    if not any(p.endswith(":8500") for p in consul_ports):
        problems.append("the Consul UI (8500) is not published")
    if node.get("build") not in (".", {"context": "."}):
        problems.append("node is not built from the package")
    env = node.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    addr_host, _, addr_port = str(env.get("CONSUL_HTTP_ADDR", "")).partition(":")
    if addr_host not in services or addr_host != "consul" or addr_port != "8500":
        problems.append(
            f"CONSUL_HTTP_ADDR {env.get('CONSUL_HTTP_ADDR')!r} is not consul:8500"
        )
    if env.get("ONEX_NODE_ADVERTISE_ADDRESS") not in services:
        problems.append("the node does not advertise an address the agent can resolve")
    if f"{port}:{port}" not in [str(p) for p in node.get("ports") or []]:
        problems.append(f"the node's port {port} is not published")
    host_ports = [
        str(p).rsplit(":", 1)[0]
        for s in services.values()
        for p in s.get("ports") or []
    ]
    if len(host_ports) != len(set(host_ports)):
        problems.append(f"two services publish the same host port: {host_ports}")
    depends_on = node.get("depends_on") or {}
    condition = (
        (depends_on.get("consul") or {}).get("condition")
        if isinstance(depends_on, dict)
        else None  # the short (list) form waits for nothing but the start
    )
    if condition != "service_healthy":
        problems.append("the node does not wait for a healthy Consul")
    return problems


def workflow_runs(job: Mapping[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps") or [])


def workflow_problems(doc: Mapping[str, Any]) -> list[str]:
    jobs: Mapping[str, Any] = doc.get("jobs") or {}
    everything = "\n".join(workflow_runs(job) for job in jobs.values())
    problems = [
        f"no job runs `{command}`"
        for command in (
            "ruff check",
            "ruff format --check",
            "mypy --strict src tests",
            "onex validate --strict src",
            "onex compliance check --repo-root . --output .onex_state/compliance.yaml",
            "pytest",
            "docker build",
        )
        if command not in everything
    ]
    problems += [
        f"job {name} has no timeout-minutes (a hung agent would hold it for 6 h)"
        for name, job in jobs.items()
        if "timeout-minutes" not in job
    ]
    # uv.lock is committed (docs/operations.md): CI installs exactly it.
    problems += [
        f"job {name} runs `uv sync` without --locked"
        for name, job in jobs.items()
        if UNLOCKED_SYNC.search(workflow_runs(job))
    ]
    hermetic = [
        name
        for name, job in jobs.items()
        if "pytest" in workflow_runs(job) and "CONSUL_HTTP_ADDR" not in str(job)
    ]
    if not hermetic:
        problems.append("no job runs the hermetic tests (without CONSUL_HTTP_ADDR)")
    real = [
        job
        for job in jobs.values()
        if "pytest" in workflow_runs(job) and "consul" in (job.get("services") or {})
    ]
    if not real:
        return [*problems, "no job runs the tests beside a Consul service container"]
    service = real[0]["services"]["consul"]
    if not CONSUL_IMAGE.match(str(service.get("image", ""))):
        problems.append(f"Consul service image {service.get('image')!r} is not pinned")
    published = [str(p) for p in service.get("ports") or []]
    addr = str((real[0].get("env") or {}).get("CONSUL_HTTP_ADDR", ""))
    if addr.rpartition(":")[2] + ":8500" not in published or not addr:
        problems.append(
            f"CONSUL_HTTP_ADDR {addr!r} is not the service's port {published}"
        )
    if "--health-cmd" not in str(service.get("options", "")):
        problems.append("the job does not wait for Consul's health")
    return problems


# --- per render: tools ----------------------------------------------------------


def test_dockerfile_passes_hadolint(package: RenderedPackage) -> None:
    result = hadolint(package.root / DOCKERFILE, package.root.parent)
    assert (result.returncode, output_of(result)) == (0, "")


def test_compose_and_workflow_match_their_schemas(package: RenderedPackage) -> None:
    checks = [
        ("vendor.compose-spec", package.root / COMPOSE),
        ("vendor.github-workflows", package.root / WORKFLOW),
    ]
    # Side by side: each call is mostly check-jsonschema's ~0.6 s start-up.
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = list(pool.map(lambda check: check_jsonschema(*check), checks))
    for (_, path), result in zip(checks, results, strict=True):
        assert result.returncode == 0, f"{path.name}: {output_of(result)}"


# --- per render: what the files say ---------------------------------------------


def test_files_start_with_the_template_header(package: RenderedPackage) -> None:
    for name in (DOCKERFILE, DOCKERIGNORE, COMPOSE, WORKFLOW):
        lines = (package.root / name).read_text(encoding="utf-8").splitlines()
        assert tuple(lines[:2]) == HEADER, name


def test_dockerfile_semantics(package: RenderedPackage) -> None:
    text = (package.root / DOCKERFILE).read_text(encoding="utf-8")
    assert dockerfile_problems(text, package.answers) == []


def test_dockerignore_keeps_only_build_inputs(package: RenderedPackage) -> None:
    text = (package.root / DOCKERIGNORE).read_text(encoding="utf-8")
    assert dockerignore_problems(text, package.package_name) == []


def test_compose_semantics(package: RenderedPackage) -> None:
    doc = load_yaml(package.root / COMPOSE)
    assert compose_problems(doc, package.answers) == []


def test_workflow_semantics(package: RenderedPackage) -> None:
    assert workflow_problems(load_yaml(package.root / WORKFLOW)) == []


def test_consul_pinned_alike_in_compose_and_workflow(package: RenderedPackage) -> None:
    compose_image = load_yaml(package.root / COMPOSE)["services"]["consul"]["image"]
    workflow = load_yaml(package.root / WORKFLOW)
    images = {
        job["services"]["consul"]["image"]
        for job in workflow["jobs"].values()
        if "consul" in (job.get("services") or {})
    }
    assert images == {compose_image}


def test_healthcheck_command_answers_health_endpoint(package: RenderedPackage) -> None:
    """Run the HEALTHCHECK's command against a stand-in of the node.

    Exit 0 on 200 at the answered path; non-zero on 503 (starting or
    stopping) and on a wrong path. The port comes from ONEX_NODE_PORT, as
    it would when the orchestrator moves the node; the path is the default
    baked into the command.
    """
    text = (package.root / DOCKERFILE).read_text(encoding="utf-8")
    healthchecks = [i for i in parse_dockerfile(text) if i.keyword == "HEALTHCHECK"]
    command = healthcheck_command(healthchecks[-1].args)
    assert command is not None and command[:2] == ["python", "-c"]
    health_path = str(package.answers["health_path"])
    for status, wanted_ok in ((200, True), (503, False)):
        with health_stub(health_path, status) as port:
            result = subprocess.run(
                # -S: the command needs the standard library only.
                [sys.executable, "-I", "-S", "-c", command[2]],
                env={**os.environ, "ONEX_NODE_PORT": str(port)},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        assert (result.returncode == 0) is wanted_ok, (status, result.stderr)


class _HealthHandler(http.server.BaseHTTPRequestHandler):
    """Answers ``status`` at ``path_ok``, 404 elsewhere (set per stub)."""

    path_ok = "/health"
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == self.path_ok else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def health_stub(health_path: str, status: int) -> Iterator[int]:
    """A stand-in of the node's health endpoint on a free port; yields the port."""
    handler = type(
        "Handler", (_HealthHandler,), {"path_ok": health_path, "status": status}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the checks can fail ------------------------------------------------------

BAD_DOCKERFILE = """\
FROM python:3.12-slim AS builder
FROM python:latest
RUN apt-get update && apt-get install -y curl
RUN pip install .
USER root
EXPOSE 9999
HEALTHCHECK CMD curl -f http://localhost/
CMD python -m something_else
"""

BAD_ANSWERS = {"port": 8080, "health_path": "/health", "package_name": "demo_node"}


def test_hadolint_flags_a_bad_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(BAD_DOCKERFILE, encoding="utf-8")
    result = hadolint(dockerfile, tmp_path)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3042", "DL3025", "DL3002"):
        assert rule in output_of(result), output_of(result)


def test_hadolint_ignores_a_local_config(tmp_path: Path) -> None:
    # A .hadolint.yaml next to the files must not silence the default rules.
    (tmp_path / ".hadolint.yaml").write_text(
        "ignored: [DL3007, DL3008, DL3013, DL3025, DL3002, DL3009, DL3015, DL3042]\n"
        "failure-threshold: none\n",
        encoding="utf-8",
    )
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(BAD_DOCKERFILE, encoding="utf-8")
    assert hadolint(dockerfile, tmp_path).returncode != 0


def test_check_jsonschema_flags_bad_files(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  node:\n    imagee: x\n", encoding="utf-8")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(
        "on: push\njobs:\n  test:\n    steps:\n      - run: pytest\n",
        encoding="utf-8",
    )
    bad_compose = check_jsonschema("vendor.compose-spec", compose)
    assert bad_compose.returncode == 1, output_of(bad_compose)
    assert "imagee" in output_of(bad_compose)
    bad_workflow = check_jsonschema("vendor.github-workflows", workflow)
    assert bad_workflow.returncode == 1, output_of(bad_workflow)


def test_dockerfile_checks_flag_a_bad_dockerfile() -> None:
    assert_flagged(
        dockerfile_problems(BAD_DOCKERFILE, BAD_ANSWERS),
        "base image python:latest",
        "base image python:3.12-slim is not a pinned",
        "different base images",
        "builds no wheel",
        "does not install wheels",
        "EXPOSE ['9999']",
        "runs as root",
        "no exec-form HEALTHCHECK",
        "CMD is in shell form",
        "python -m demo_node",
        "STOPSIGNAL",
        "PYTHONUNBUFFERED",
    )


def test_dockerfile_checks_flag_a_single_stage_build() -> None:
    single = "FROM python:3.12.12-slim-bookworm\nRUN pip install --no-cache-dir x.whl\n"
    problems = dockerfile_problems(single, BAD_ANSWERS)
    assert "not a multi-stage build (no builder stage)" in problems
    assert not [p for p in problems if "base image" in p], problems


def test_parse_dockerfile_joins_continuations_and_drops_comments() -> None:
    text = "# c\nFROM a AS b\nRUN x \\\n  # inside\n  && y\nUSER 1:1\n"
    parsed = [(i.keyword, i.args, i.line) for i in parse_dockerfile(text)]
    assert parsed == [("FROM", "a AS b", 2), ("RUN", "x && y", 3), ("USER", "1:1", 6)]


def test_dockerignore_checks_flag_a_permissive_file() -> None:
    problems = dockerignore_problems("# nothing ignored\n", "demo_node")
    assert ".venv/bin/python reaches the build context" in problems
    assert ".git/HEAD reaches the build context" in problems
    problems = dockerignore_problems("*\n!src/\n", "demo_node")
    assert "pyproject.toml is left out" in problems


def test_dockerignore_matching_follows_docker() -> None:
    assert dockerignore_excludes(["src/**/__pycache__"], "src/__pycache__/a.pyc")
    assert dockerignore_excludes(["src/**/__pycache__"], "src/p/q/__pycache__/a")
    assert not dockerignore_excludes(["*.md"], "docs/operations.md")  # one level
    assert not dockerignore_excludes(["*", "!README.md"], "README.md")
    assert dockerignore_excludes(["!README.md", "*"], "README.md")  # last wins


def test_compose_checks_flag_a_bad_compose() -> None:
    bad = {
        "services": {
            "consul": {"image": "hashicorp/consul:latest", "ports": ["8080:8300"]},
            "node": {
                "build": ".",
                "environment": {"CONSUL_HTTP_ADDR": "127.0.0.1:8500"},
                "ports": ["8080:9090"],
                "depends_on": ["consul"],
            },
        }
    }
    assert_flagged(
        compose_problems(bad, BAD_ANSWERS),
        "not a pinned hashicorp/consul",
        "dev agent",
        "no healthcheck",
        "Consul UI",
        "is not consul:8500",
        "does not advertise",
        "port 8080 is not published",
        "same host port",
        "healthy Consul",
    )


def test_workflow_checks_flag_a_workflow_without_real_consul() -> None:
    steps = [{"run": "uv sync"}, {"run": "pytest"}, {"run": "ruff check ."}]
    bad = {"jobs": {"test": {"steps": steps}}}
    assert_flagged(
        workflow_problems(bad),
        "job test runs `uv sync` without --locked",
        "mypy --strict src tests",
        "onex validate --strict src",
        "Consul service container",
        "job test has no timeout-minutes",
    )
    unpinned = {
        "jobs": {
            "real": {
                "services": {"consul": {"image": "hashicorp/consul", "ports": []}},
                "env": {"CONSUL_HTTP_ADDR": "127.0.0.1:8501"},
                "steps": [{"run": "pytest"}],
            }
        }
    }
    assert_flagged(
        workflow_problems(unpinned),
        "is not pinned",
        "is not the service's port",
        "health",
        "hermetic",
    )


# --- the template repository's own workflow --------------------------------------


def test_template_workflow_matches_schema() -> None:
    result = check_jsonschema("vendor.github-workflows", TEMPLATE_WORKFLOW)
    assert result.returncode == 0, output_of(result)


def test_template_workflow_renders_every_answer_set() -> None:
    jobs = load_yaml(TEMPLATE_WORKFLOW)["jobs"]
    matrices = [
        job["strategy"]["matrix"]["case"]
        for job in jobs.values()
        if "case" in ((job.get("strategy") or {}).get("matrix") or {})
    ]
    assert matrices == [list(ANSWER_SETS)]
    render_job = next(
        job
        for job in jobs.values()
        if "strategy" in job and "matrix" in job["strategy"]
    )
    runs = workflow_runs(render_job)
    assert "tests/test_rendered_packages.py" in runs
    assert "tests/test_deployment_files.py" in runs
    assert "[${{ matrix.case }}]" in runs


def test_template_workflow_lints_and_runs_the_suite() -> None:
    jobs = load_yaml(TEMPLATE_WORKFLOW)["jobs"]
    runs = {name: workflow_runs(job) for name, job in jobs.items()}
    assert any("make lint" in run for run in runs.values()), runs
    assert any("bash .ci/run" in run for run in runs.values()), runs


def test_node_on_consuls_port_moves_the_consul_ui(tmp_path: Path) -> None:
    # port 8500 is a valid answer: compose must not publish it twice.
    answers = {"service_name": "on-consul-port", "port": 8500}
    project = render(tmp_path / "project", answers)
    doc = load_yaml(project / COMPOSE)
    assert compose_problems(doc, read_answers(project)) == []
    assert doc["services"]["consul"]["ports"] == ["8501:8500"]
    docs = (project / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "http://localhost:8501/ui" in docs
    result = check_jsonschema("vendor.compose-spec", project / COMPOSE)
    assert result.returncode == 0, output_of(result)


# --- the image's recipe, run without Docker ----------------------------------------


def build_context(project: Path, dest: Path) -> list[str]:
    """Copy what .dockerignore lets into the build context; the relative paths."""
    patterns = dockerignore_patterns(
        (project / DOCKERIGNORE).read_text(encoding="utf-8")
    )
    kept = []
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project).as_posix()
        if path.is_file() and not dockerignore_excludes(patterns, relative):
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / relative)
            kept.append(relative)
    return kept


def test_image_recipe_runs_without_docker(renders: RenderCache, tmp_path: Path) -> None:
    """What the image does, step by step, on this machine (no Docker engine).

    The build context .dockerignore admits; the builder's `pip wheel` (offline:
    dependencies come from the shared venv, not the wheel dir); the wheel
    installed into a fresh venv; the ENTRYPOINT's argv with the final stage's
    ENV and compose's environment (the agent double standing in for Consul,
    loopback for the `node` name); the HEALTHCHECK's argv until healthy; the
    STOPSIGNAL: deregistered and exit 0 within `docker stop`'s 10 s.
    """
    package = renders.get("custom")  # non-default port, health path, names
    context = tmp_path / "context"
    kept = build_context(package.root, context)
    assert "pyproject.toml" in kept
    assert not [p for p in kept if p.startswith(("tests/", ".git/", "docs/"))], kept

    text = (package.root / DOCKERFILE).read_text(encoding="utf-8")
    builder, final = stages(parse_dockerfile(text))
    wheel_run = next(i.args for i in builder if i.keyword == "RUN")
    assert wheel_run.startswith("pip wheel")
    wheels = tmp_path / "wheels"
    built = run_tool(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", wheels, context),
        ],
        cwd=context,
    )
    assert built.returncode == 0, output_of(built)
    (wheel,) = wheels.glob("*.whl")

    image_venv = create_child_venv(tmp_path / "opt-venv")
    installed = run_tool(
        [
            *(SHARED_BIN / "uv", "pip", "install", "--quiet", "--no-deps"),
            *("--python", image_venv / "bin" / "python", wheel),
        ],
        cwd=tmp_path,
    )
    assert installed.returncode == 0, output_of(installed)

    entrypoint = exec_form(next(i.args for i in final if i.keyword == "ENTRYPOINT"))
    healthcheck = healthcheck_command(
        next(i.args for i in final if i.keyword == "HEALTHCHECK")
    )
    stopsignal = next(i.args for i in final if i.keyword == "STOPSIGNAL")
    assert entrypoint is not None and entrypoint[0] == "python"
    assert healthcheck is not None and healthcheck[0] == "python"
    python = str(image_venv / "bin" / "python")

    compose_env = load_yaml(package.root / COMPOSE)["services"]["node"]["environment"]
    node_port = free_port()
    workdir = tmp_path / "home-onex"  # WORKDIR: empty, nothing of the project
    workdir.mkdir()
    with stopped_at_exit(start_agent_double(package, tmp_path / "logs")) as double:
        agent = wait_for_double(double)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ONEX_NODE_", "CONSUL_", "PYTHON"))
        }
        env.update(env_pairs(final))
        env["PATH"] = f"{image_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        env["VIRTUAL_ENV"] = str(image_venv)
        env.update({key: str(value) for key, value in compose_env.items()})
        # Compose's names, as this machine reaches them.
        env["CONSUL_HTTP_ADDR"] = agent.address
        env["ONEX_NODE_ADVERTISE_ADDRESS"] = "127.0.0.1"
        env["ONEX_NODE_PORT"] = str(node_port)
        node = start_process(
            "image-node",
            [python, *entrypoint[1:]],
            env=env,
            cwd=workdir,
            log_dir=tmp_path / "logs",
        )
        with stopped_at_exit(node):

            def healthy() -> bool:
                if not node.running():
                    raise AssertionError(f"the node exited\n{node.output_tail()}")
                probe = subprocess.run(
                    [python, *healthcheck[1:]],
                    env=env,
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
                return probe.returncode == 0

            def registered() -> bool:
                names = {s["Service"] for s in agent.services().values()}
                return package.service_name in names

            wait_for(healthy, timeout=30, what="HEALTHCHECK command passing")
            wait_for(registered, timeout=15, what="the node registered")
            node.popen.send_signal(getattr(signal, stopsignal))
            assert node.popen.wait(timeout=10) == 0, node.output_tail()
            assert not registered(), agent.services()
