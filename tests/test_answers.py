"""Answer validation in copier.yml: bad answers fail clearly, good ones render.

Renders a copy of the template's control files (copier.yml, includes/, hooks/)
with only the answers-file template and a probe file that dumps every answer
and computed value, so these tests do not depend on the rest of template/.
"""

from __future__ import annotations

import keyword
import multiprocessing
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import pytest
import yaml
from answers_support import (
    PROBE_FILE,
    PROBE_TEMPLATE,
    RESERVED_DEPENDENCIES,
    RESERVED_STDLIB,
    dependency_import_names,
    load_reserved_names,
    make_template_repo,
    read_probe,
)
from copier import run_copy
from template_config import copier_config, macros_environment


@pytest.fixture(scope="module")
def template_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's control files plus a probe, committed in a git repo."""
    root = tmp_path_factory.mktemp("answers-template")
    return make_template_repo(
        root / "template",
        template_files={PROBE_FILE + ".jinja": PROBE_TEMPLATE},
    )


def render(
    src: Path, dst: Path, data: Mapping[str, Any], *, defaults: bool = True
) -> dict[str, Any]:
    """Copy without tasks; return the probe (answers and computed values)."""
    run_copy(
        str(src),
        str(dst),
        data=dict(data),
        defaults=defaults,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
        skip_tasks=True,
    )
    return read_probe(dst)


# --------------------------------------------------------------------------
# Bad answers: (test id, data, question named in the error, text the message
# must contain: the rule and, where there is one, the suggested fix).
# --------------------------------------------------------------------------
PG = {"service_name": "postgres-crud"}
DNS_RULE = "must be a DNS label (lowercase letters, digits and hyphens"
DURATION_RULE = "must be a Consul duration: a number with a unit"
POSITIVE_RULE = "must be a duration greater than zero"
TIMEOUT_RULE = "check_timeout must be shorter than check_interval"
DEREGISTER_RULE = "deregister_critical_after must be at least 1m, Consul's minimum"
IDENTIFIER_RULE = "package_name must be a lowercase Python identifier"
KEYWORD_RULE = "package_name must not be a Python keyword"
STDLIB_RULE = "package_name must not shadow a standard-library module"
DEPENDENCY_RULE = "package_name must not shadow a dependency's module"
PORT_RANGE_RULE = "port must be between 1 and 65535"
PORT_TYPE_RULE = "port must be a whole number from 1 to 65535"
DOMAIN_RULE = "domain must be a lowercase DNS label"
CLASS_RULE = 'node_class_name must be a PascalCase class name that starts with "Node"'
VERSION_RULE = "node_version must be a semantic version MAJOR.MINOR.PATCH"
PATH_RULE = 'health_path must be a URL path that starts with "/"'
TAG_RULE = "is not a valid Consul tag: use 1-255 characters"

BAD_ANSWERS: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
    # service_name
    (
        "service-uppercase",
        {"service_name": "PostgresCrud"},
        "service_name",
        (DNS_RULE, 'got "PostgresCrud"', 'Try "postgrescrud"'),
    ),
    (
        "service-underscore",
        {"service_name": "postgres_crud"},
        "service_name",
        (DNS_RULE, 'Try "postgres-crud"'),
    ),
    (
        "service-dots",
        {"service_name": "postgres.crud"},
        "service_name",
        (DNS_RULE, 'Try "postgres-crud"'),
    ),
    (
        "service-space",
        {"service_name": "postgres crud"},
        "service_name",
        (DNS_RULE, 'Try "postgres-crud"'),
    ),
    (
        "service-leading-hyphen",
        {"service_name": "-postgres"},
        "service_name",
        ("not starting or ending with a hyphen", 'Try "postgres"'),
    ),
    (
        "service-trailing-hyphen",
        {"service_name": "postgres-"},
        "service_name",
        ("not starting or ending with a hyphen", 'Try "postgres"'),
    ),
    (
        "service-64-chars",
        {"service_name": "a" * 64},
        "service_name",
        ("1-63 characters", f'Try "{"a" * 63}"'),
    ),
    (
        "service-empty",
        {"service_name": ""},
        "service_name",
        ("service_name is required: a DNS label",),
    ),
    (
        "service-consul",
        {"service_name": "consul"},
        "service_name",
        ('service_name "consul" is reserved',),
    ),
    # node_type (copier's own choice check: it names the question and the values)
    (
        "node-type-unknown",
        {**PG, "node_type": "sink"},
        "node_type",
        ("'sink' is not in ['effect', 'compute', 'reducer', 'orchestrator']",),
    ),
    (
        "check-mode-unknown",
        {**PG, "check_mode": "grpc"},
        "check_mode",
        ("'grpc' is not in ['http', 'ttl', 'tcp']",),
    ),
    # port
    ("port-0", {**PG, "port": 0}, "port", (PORT_RANGE_RULE, "got 0")),
    ("port-65536", {**PG, "port": 65536}, "port", (PORT_RANGE_RULE, "got 65536")),
    ("port-negative", {**PG, "port": -1}, "port", (PORT_RANGE_RULE, "got -1")),
    ("port-text", {**PG, "port": "abc"}, "port", (PORT_TYPE_RULE, 'got "abc"')),
    ("port-float", {**PG, "port": 80.5}, "port", (PORT_TYPE_RULE, "got 80.5")),
    # domain
    (
        "domain-space-uppercase",
        {**PG, "domain": "My Domain"},
        "domain",
        (DOMAIN_RULE, "Consul tag and service meta value", 'Try "my-domain"'),
    ),
    (
        "domain-underscore",
        {**PG, "domain": "payments_eu"},
        "domain",
        (DOMAIN_RULE, 'Try "payments-eu"'),
    ),
    ("domain-too-long", {**PG, "domain": "d" * 64}, "domain", (DOMAIN_RULE,)),
    # project_name
    (
        "project-space",
        {**PG, "project_name": "postgres crud"},
        "project_name",
        ("must be a Python distribution name (PEP 508)", 'Try "postgres-crud"'),
    ),
    # package_name
    (
        "package-keyword-class",
        {**PG, "package_name": "class"},
        "package_name",
        (KEYWORD_RULE, 'Try "class_node"'),
    ),
    (
        "package-keyword-def",
        {**PG, "package_name": "def"},
        "package_name",
        (KEYWORD_RULE, 'Try "def_node"'),
    ),
    (
        "package-stdlib-json",
        {**PG, "package_name": "json"},
        "package_name",
        (STDLIB_RULE, 'Try "json_node"'),
    ),
    (
        "package-stdlib-asyncio",
        {**PG, "package_name": "asyncio"},
        "package_name",
        (STDLIB_RULE, 'Try "asyncio_node"'),
    ),
    (
        "package-dependency-consul",
        {**PG, "package_name": "consul"},
        "package_name",
        (DEPENDENCY_RULE, 'Try "consul_node"'),
    ),
    (
        "package-dependency-aiohttp",
        {**PG, "package_name": "aiohttp"},
        "package_name",
        (DEPENDENCY_RULE, 'Try "aiohttp_node"'),
    ),
    (
        "package-dependency-pydantic",
        {**PG, "package_name": "pydantic"},
        "package_name",
        (DEPENDENCY_RULE, 'Try "pydantic_node"'),
    ),
    (
        "package-hyphen",
        {**PG, "package_name": "my-pkg"},
        "package_name",
        (IDENTIFIER_RULE, 'Try "my_pkg"'),
    ),
    (
        "package-leading-digit",
        {**PG, "package_name": "1abc"},
        "package_name",
        (IDENTIFIER_RULE, 'Try "node_1abc"'),
    ),
    (
        "package-uppercase",
        {**PG, "package_name": "MyPkg"},
        "package_name",
        (IDENTIFIER_RULE, 'Try "mypkg"'),
    ),
    # node_class_name
    (
        "class-no-node-prefix",
        {**PG, "node_class_name": "PostgresCrudEffect"},
        "node_class_name",
        (CLASS_RULE, 'Try "NodePostgresCrudEffect"'),
    ),
    (
        "class-snake-case",
        {**PG, "node_class_name": "Node_postgres_crud"},
        "node_class_name",
        (CLASS_RULE, 'Try "NodePostgresCrudEffect"'),
    ),
    (
        "class-lowercase-node",
        {**PG, "node_class_name": "nodePostgresCrudEffect"},
        "node_class_name",
        (CLASS_RULE,),
    ),
    (
        "class-base-class-name",
        {**PG, "node_class_name": "NodeEffect"},
        "node_class_name",
        ("must not be the name of an omnibase_core base class",),
    ),
    (
        "class-onex-anti-pattern",
        {**PG, "node_class_name": "NodeBillingServiceEffect"},
        "node_class_name",
        ('must not contain "service"', "onex", 'Try "NodePostgresCrudEffect"'),
    ),
    # node_version
    (
        "version-two-parts",
        {**PG, "node_version": "1.0"},
        "node_version",
        (VERSION_RULE, 'Try "1.0.0"'),
    ),
    (
        "version-v-prefix",
        {**PG, "node_version": "v1.0.0"},
        "node_version",
        (VERSION_RULE, 'no "v" prefix', 'Try "1.0.0"'),
    ),
    (
        "version-prerelease",
        {**PG, "node_version": "1.2.0-beta.1"},
        "node_version",
        (VERSION_RULE, 'Try "1.2.0"'),
    ),
    (
        "version-word",
        {**PG, "node_version": "latest"},
        "node_version",
        (VERSION_RULE,),
    ),
    # health_path
    (
        "health-no-slash",
        {**PG, "health_path": "health"},
        "health_path",
        (PATH_RULE, 'Try "/health"'),
    ),
    (
        "health-query",
        {**PG, "health_path": "/health?full=1"},
        "health_path",
        (PATH_RULE, "no query string"),
    ),
    # durations
    (
        "interval-no-unit",
        {**PG, "check_interval": "10"},
        "check_interval",
        (DURATION_RULE, 'got "10"', 'Try "10s"'),
    ),
    (
        "interval-word",
        {**PG, "check_interval": "ten"},
        "check_interval",
        (DURATION_RULE, 'got "ten"'),
    ),
    (
        "interval-sec",
        {**PG, "check_interval": "10sec"},
        "check_interval",
        (DURATION_RULE, 'Try "10s"'),
    ),
    (
        "interval-negative",
        {**PG, "check_interval": "-5s"},
        "check_interval",
        (POSITIVE_RULE, 'got "-5s"'),
    ),
    (
        "interval-zero",
        {**PG, "check_interval": "0s"},
        "check_interval",
        (POSITIVE_RULE, 'got "0s"'),
    ),
    (
        "interval-overflow",
        {**PG, "check_interval": "3000000h"},
        "check_interval",
        ("longer than a Consul (Go) duration can be",),
    ),
    (
        "timeout-no-unit",
        {**PG, "check_timeout": "5"},
        "check_timeout",
        (DURATION_RULE, 'Try "5s"'),
    ),
    (
        "timeout-zero",
        {**PG, "check_timeout": "0s"},
        "check_timeout",
        (POSITIVE_RULE,),
    ),
    (
        "timeout-equals-interval",
        {**PG, "check_interval": "5s", "check_timeout": "5s"},
        "check_timeout",
        (TIMEOUT_RULE, 'check_timeout "5s" and check_interval "5s"'),
    ),
    (
        "timeout-above-interval-mixed-units",
        {**PG, "check_interval": "30s", "check_timeout": "1m"},
        "check_timeout",
        (TIMEOUT_RULE, 'check_timeout "1m" and check_interval "30s"'),
    ),
    (
        "deregister-30s",
        {**PG, "deregister_critical_after": "30s"},
        "deregister_critical_after",
        (DEREGISTER_RULE, 'got "30s"', 'Try "1m"'),
    ),
    (
        "deregister-59s",
        {**PG, "deregister_critical_after": "59s"},
        "deregister_critical_after",
        (DEREGISTER_RULE,),
    ),
    (
        "deregister-no-unit",
        {**PG, "deregister_critical_after": "60"},
        "deregister_critical_after",
        (DURATION_RULE, 'Try "60s"'),
    ),
    # free text
    (
        "description-newline",
        {**PG, "description": "two\nlines"},
        "description",
        ("description must be one line without double quotes or backslashes",),
    ),
    (
        "description-quote",
        {**PG, "description": 'the "best" node'},
        "description",
        ("description must be one line without double quotes or backslashes",),
    ),
    (
        "description-empty",
        {**PG, "description": "  "},
        "description",
        ("description must not be empty",),
    ),
    (
        "author-comma",
        {**PG, "author": "Ada, Grace"},
        "author",
        ("author must be a plain name", "commas"),
    ),
    # extra_tags
    (
        "tags-not-a-list",
        {**PG, "extra_tags": "blue"},
        "extra_tags",
        ("extra_tags must be a YAML list of strings", 'got "blue"'),
    ),
    (
        "tags-mapping",
        {**PG, "extra_tags": {"team": "payments"}},
        "extra_tags",
        ("extra_tags must be a YAML list of strings",),
    ),
    (
        "tags-space",
        {**PG, "extra_tags": ["blue", "team payments"]},
        "extra_tags",
        ('extra_tags item 2 "team payments"', TAG_RULE, 'Try "team-payments"'),
    ),
    (
        "tags-comma",
        {**PG, "extra_tags": ["a,b"]},
        "extra_tags",
        ('extra_tags item 1 "a,b"', TAG_RULE, 'Try "a-b"'),
    ),
    (
        "tags-empty-string",
        {**PG, "extra_tags": [""]},
        "extra_tags",
        ('extra_tags item 1 ""', TAG_RULE),
    ),
    (
        "tags-number",
        {**PG, "extra_tags": [5]},
        "extra_tags",
        ("extra_tags must hold only strings", "item 1 is 5"),
    ),
]


def _try_bad_answer(job: tuple[str, str, dict[str, Any]]) -> tuple[str, str, bool]:
    """Run one copy expected to fail: (exception type, message, dst exists)."""
    src, dst, data = job
    try:
        render(Path(src), Path(dst), data)
    except Exception as error:  # reported by the test
        return type(error).__name__, str(error), Path(dst).exists()
    return "", "accepted", Path(dst).exists()


@pytest.fixture(scope="module")
def bad_answer_results(
    template_src: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str, bool]]:
    """Every BAD_ANSWERS copy, run through run_copy in a few forked workers.

    Each copy clones the template and compiles the questions' Jinja (about
    0.3 s on an idle machine); workers keep the whole set well under a minute.
    """
    root = tmp_path_factory.mktemp("bad-answers")
    jobs: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for case_id, data, _, _ in BAD_ANSWERS:
        (root / case_id).mkdir()
        jobs[case_id] = (str(template_src), str(root / case_id / "dst"), data)
    workers = max(2, min(4, os.cpu_count() or 1))
    # fork is quickest (copier is already imported) but unsafe once threads run,
    # which other test modules of the same session may have started.
    method = "fork" if threading.active_count() == 1 else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return dict(zip(jobs, pool.map(_try_bad_answer, jobs.values()), strict=True))


@pytest.mark.parametrize(
    ("case_id", "question", "fragments"),
    [pytest.param(i, q, f, id=i) for i, _, q, f in BAD_ANSWERS],
)
def test_bad_answer_is_rejected_with_a_clear_message(
    bad_answer_results: dict[str, tuple[str, str, bool]],
    case_id: str,
    question: str,
    fragments: tuple[str, ...],
) -> None:
    error_type, message, dst_exists = bad_answer_results[case_id]
    assert error_type == "ValueError", (error_type, message)
    if question in ("node_type", "check_mode"):
        assert message.startswith(f"Invalid choice for '{question}': ")
    else:
        prefix = f"Validation error for question '{question}': "
        assert message.startswith(prefix), message
        # The text the template controls names the question itself too.
        assert question in message.removeprefix(prefix), message
        assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not dst_exists, "a failed copy must not leave a destination behind"


def test_one_bad_answer_in_this_process(template_src: Path, tmp_path: Path) -> None:
    """The same check without worker processes, for a plain traceback."""
    dst = tmp_path / "dst"
    with pytest.raises(ValueError, match='Try "postgres-crud"'):
        render(template_src, dst, {"service_name": "postgres_crud"})
    assert not dst.exists()


def test_at_least_25_bad_answers() -> None:
    assert len(BAD_ANSWERS) >= 25
    assert len({case_id for case_id, *_ in BAD_ANSWERS}) == len(BAD_ANSWERS)


# --------------------------------------------------------------------------
# The same through the CLI: exit code 1, message on stderr, nothing left.
# --------------------------------------------------------------------------
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "service-underscore": (
        ["service_name=postgres_crud"],
        "Validation error for question 'service_name': service_name must be a DNS"
        " label (lowercase letters, digits and hyphens, 1-63 characters, not"
        " starting or ending with a hyphen)",
    ),
    "port-text": (
        ["service_name=postgres-crud", "port=abc"],
        "Validation error for question 'port': " + PORT_TYPE_RULE,
    ),
    "package-stdlib": (
        ["service_name=postgres-crud", "package_name=asyncio"],
        "Validation error for question 'package_name': " + STDLIB_RULE,
    ),
    "timeout-above-interval": (
        ["service_name=postgres-crud", "check_interval=30s", "check_timeout=1m"],
        "Validation error for question 'check_timeout': " + TIMEOUT_RULE,
    ),
    "deregister-short": (
        ["service_name=postgres-crud", "deregister_critical_after=59s"],
        "Validation error for question 'deregister_critical_after': " + DEREGISTER_RULE,
    ),
    "tags-bad": (
        ["service_name=postgres-crud", 'extra_tags=["ok", "not ok"]'],
        "Validation error for question 'extra_tags': extra_tags item 2",
    ),
}


@pytest.fixture(scope="module")
def cli_runs(
    template_src: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[subprocess.CompletedProcess[str], Path]]]:
    """Run every CLI case at once (each process pays copier's import time)."""
    root = tmp_path_factory.mktemp("cli")
    started: dict[str, tuple[subprocess.Popen[str], Path]] = {}
    for case_id, (assignments, _) in CLI_CASES.items():
        dst = root / case_id / "dst"
        command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults"]
        command += ["--vcs-ref", "HEAD"]
        for assignment in assignments:
            command += ["--data", assignment]
        command += [str(template_src), str(dst)]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        started[case_id] = (process, dst)
    results: dict[str, tuple[subprocess.CompletedProcess[str], Path]] = {}
    try:
        for case_id, (process, dst) in started.items():
            stdout, stderr = process.communicate(timeout=120)
            completed = subprocess.CompletedProcess(
                process.args, process.returncode, stdout, stderr
            )
            results[case_id] = (completed, dst)
        yield results
    finally:
        for process, _ in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("case_id", list(CLI_CASES))
def test_cli_rejects_bad_answer(
    cli_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path]], case_id: str
) -> None:
    completed, dst = cli_runs[case_id]
    expected = CLI_CASES[case_id][1]
    assert completed.returncode == 1, completed.stderr
    # copier prints a traceback; its last line is the validation error.
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: "), completed.stderr
    assert expected in last_line, completed.stderr
    assert not dst.exists()


# --------------------------------------------------------------------------
# Good answers
# --------------------------------------------------------------------------
def test_defaults_render(template_src: Path, tmp_path: Path) -> None:
    probe = render(template_src, tmp_path / "dst", PG)
    assert probe == {
        "service_name": "postgres-crud",
        "node_type": "effect",
        "port": 8080,
        "domain": "default",
        "project_name": "postgres-crud",
        "package_name": "postgres_crud",
        "node_class_name": "NodePostgresCrudEffect",
        "node_version": "1.0.0",
        "description": "ONEX effect node postgres-crud, registered with Consul",
        "author": "ONEX developers",
        "health_path": "/health",
        "check_mode": "http",
        "check_interval": "10s",
        "check_timeout": "5s",
        "deregister_critical_after": "1m",
        "extra_tags": [],
        "node_slug": "postgres_crud",
        "name_camel": "PostgresCrud",
        "node_dir": "node_postgres_crud_effect",
    }


def test_answers_file_keeps_questions_not_computed_values(
    template_src: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "dst"
    render(template_src, dst, PG)
    text = (dst / ".copier-answers.yml").read_text(encoding="utf-8")
    assert text.startswith(
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
    )
    answers = yaml.safe_load(text)
    assert answers["_src_path"] == str(template_src)
    assert answers["_commit"]
    assert answers["service_name"] == "postgres-crud"
    assert answers["port"] == 8080
    assert answers["extra_tags"] == []
    computed = {
        "node_slug",
        "name_camel",
        "node_dir",
        "reserved_module_names",
        "python_keywords",
    }
    assert not computed & set(answers)


def test_service_name_defaults_to_the_folder_name(
    template_src: Path, tmp_path: Path
) -> None:
    probe = render(template_src, tmp_path / "Billing_Ledger", {})
    assert probe["service_name"] == "billing-ledger"
    assert probe["package_name"] == "billing_ledger"


def test_service_starting_with_a_digit(template_src: Path, tmp_path: Path) -> None:
    probe = render(template_src, tmp_path / "dst", {"service_name": "3d-render"})
    assert probe["node_slug"] == "3d_render"
    assert probe["package_name"] == "node_3d_render"
    assert probe["package_name"].isidentifier()
    assert probe["name_camel"] == "3dRender"
    assert probe["node_class_name"] == "Node3dRenderEffect"
    assert probe["node_dir"] == "node_3d_render_effect"


@pytest.mark.parametrize(
    ("service_name", "package_name"),
    [("json", "json_node"), ("consul-sync", "consul_sync"), ("class", "class_node")],
)
def test_default_package_name_avoids_reserved_names(
    template_src: Path, tmp_path: Path, service_name: str, package_name: str
) -> None:
    probe = render(template_src, tmp_path / "dst", {"service_name": service_name})
    assert probe["package_name"] == package_name


def test_class_name_leaves_out_words_onex_rejects(
    template_src: Path, tmp_path: Path
) -> None:
    data = {"service_name": "user-service", "node_type": "reducer"}
    probe = render(template_src, tmp_path / "dst", data)
    assert probe["name_camel"] == "User"
    assert probe["node_class_name"] == "NodeUserReducer"
    assert probe["package_name"] == "user_service"


def test_non_default_values_are_accepted(template_src: Path, tmp_path: Path) -> None:
    data = {
        "service_name": "billing-ledger",
        "node_type": "orchestrator",
        "port": "9100",
        "domain": "payments",
        "project_name": "onex-billing-ledger",
        "package_name": "billing_ledger_node",
        "node_class_name": "NodeLedgerOrchestrator",
        "node_version": "2.10.3",
        "description": "Keeps the billing ledger in step (v2)",
        "author": "Payments Team",
        "health_path": "/api/v1/healthz",
        "check_mode": "ttl",
        "check_interval": "1m30s",
        "check_timeout": "1.5s",
        "deregister_critical_after": "90m",
        "extra_tags": ["blue", "team-payments", "urlprefix-/billing", "v=2"],
    }
    probe = render(template_src, tmp_path / "dst", data)
    assert probe == {
        **data,
        "port": 9100,
        "node_slug": "billing_ledger",
        "name_camel": "BillingLedger",
        "node_dir": "node_billing_ledger_orchestrator",
    }


@pytest.mark.parametrize("value", ["1m", "90s", "1h", "60000ms"])
def test_deregister_at_or_above_one_minute_is_accepted(
    template_src: Path, tmp_path: Path, value: str
) -> None:
    data = {**PG, "deregister_critical_after": value}
    probe = render(template_src, tmp_path / "dst", data)
    assert probe["deregister_critical_after"] == value


@pytest.mark.parametrize(
    ("interval", "timeout"),
    [("1m", "30s"), ("10s", "9999ms"), ("2s", "1.5s"), ("1h", "59m59s")],
)
def test_timeout_below_interval_is_accepted(
    template_src: Path, tmp_path: Path, interval: str, timeout: str
) -> None:
    data = {**PG, "check_interval": interval, "check_timeout": timeout}
    probe = render(template_src, tmp_path / "dst", data)
    assert (probe["check_interval"], probe["check_timeout"]) == (interval, timeout)


@pytest.mark.parametrize(
    ("interval", "default_timeout"), [("3s", "1500ms"), ("30s", "5s")]
)
def test_default_timeout_stays_below_a_short_interval(
    template_src: Path, tmp_path: Path, interval: str, default_timeout: str
) -> None:
    probe = render(template_src, tmp_path / "dst", {**PG, "check_interval": interval})
    assert probe["check_timeout"] == default_timeout


def copy_in_a_terminal(
    src: Path, dst: Path, data: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """`copier copy` as a person runs it: stdin is a terminal, no --defaults.

    Computed (`when: false`) questions then go through copier's prompt path,
    which needs a terminal even though it asks nothing; CI has no stdin.
    """
    primary, secondary = pty.openpty()
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--skip-tasks"]
    command += ["--vcs-ref", "HEAD", "--quiet"]
    for key, value in data.items():
        command += ["--data", f"{key}={value}"]
    command += [str(src), str(dst)]
    try:
        return subprocess.run(
            command, stdin=secondary, capture_output=True, text=True, timeout=120
        )
    finally:
        os.close(primary)
        os.close(secondary)


def test_validators_see_reserved_names_without_defaults(
    template_src: Path, tmp_path: Path
) -> None:
    """Without --defaults computed values take copier's prompt path: still there."""
    data = {
        "service_name": "postgres-crud",
        "node_type": "effect",
        "port": "8080",
        "domain": "default",
        "project_name": "postgres-crud",
        "package_name": "pydantic",
        "node_class_name": "NodePostgresCrudEffect",
        "node_version": "1.0.0",
        "description": "d",
        "author": "a",
        "health_path": "/health",
        "check_mode": "http",
        "check_interval": "10s",
        "check_timeout": "5s",
        "deregister_critical_after": "1m",
        "extra_tags": "[]",
    }
    dst = tmp_path / "dst"
    rejected = copy_in_a_terminal(template_src, dst, data)
    assert rejected.returncode == 1
    assert DEPENDENCY_RULE in rejected.stderr, rejected.stderr
    assert not dst.exists()
    accepted = copy_in_a_terminal(template_src, dst, {**data, "package_name": "pg"})
    assert accepted.returncode == 0, accepted.stderr
    probe = read_probe(dst)
    assert probe["package_name"] == "pg"
    assert probe["node_dir"] == "node_postgres_crud_effect"


# --------------------------------------------------------------------------
# The reserved module names (includes/*.yml)
# --------------------------------------------------------------------------
def test_reserved_names_cover_this_interpreters_stdlib() -> None:
    stdlib = set(load_reserved_names(RESERVED_STDLIB))
    assert sorted(set(sys.stdlib_module_names) - stdlib) == []


def test_reserved_names_cover_the_installed_dependencies() -> None:
    reserved = set(load_reserved_names(RESERVED_STDLIB))
    reserved |= set(load_reserved_names(RESERVED_DEPENDENCIES))
    assert sorted(dependency_import_names() - reserved) == []
    named_in_the_issue = {
        "omnibase_core",
        "omnibase_spi",
        "consul",
        "aiohttp",
        "pydantic",
        "pydantic_core",
        "yaml",
        "multidict",
        "yarl",
        "pytest",
        "mypy",
        "ruff",
        "hatchling",
        "copier",
    }
    assert sorted(named_in_the_issue - reserved) == []


def test_reserved_names_are_plain_sorted_top_level_names() -> None:
    for path in (RESERVED_STDLIB, RESERVED_DEPENDENCIES):
        names = load_reserved_names(path)
        assert names == sorted(set(names)), path
        assert all(isinstance(n, str) and n.isidentifier() for n in names), path


def test_keyword_list_matches_python() -> None:
    config = copier_config()
    assert config["python_keywords"]["default"] == keyword.kwlist


# --------------------------------------------------------------------------
# includes/macros.jinja: Go duration parsing, checked directly (no copy).
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def macros() -> jinja2.Environment:
    return macros_environment()


def _call(env: jinja2.Environment, macro: str, value: str) -> str:
    template = env.from_string(
        "{% from 'includes/macros.jinja' import " + macro + " %}"
        "{{ " + macro + "(value) }}"
    )
    return template.render(value=value)


SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("value", "nanoseconds"),
    [
        ("10s", 10 * SECOND),
        ("1m30s", 90 * SECOND),
        ("1h", 3600 * SECOND),
        ("250ms", SECOND // 4),
        ("1.5s", 3 * SECOND // 2),
        (".5s", SECOND // 2),
        ("5.s", 5 * SECOND),
        ("300us", 300_000),
        ("300µs", 300_000),  # U+00B5 micro sign
        ("300μs", 300_000),  # U+03BC greek mu
        ("42ns", 42),
        ("1h2m3s4ms", (3723 * SECOND) + 4_000_000),
        ("+1m", 60 * SECOND),
        ("-5s", -5 * SECOND),
        ("0", 0),
        ("0s", 0),
    ],
)
def test_duration_ns_parses_go_durations(
    macros: jinja2.Environment, value: str, nanoseconds: int
) -> None:
    assert float(_call(macros, "duration_ns", value)) == nanoseconds


@pytest.mark.parametrize(
    "value",
    ["", "10", "ten", "10sec", "1d", "s", "1 s", "1m 30s", ".s", "1e3s", "--1s"],
)
def test_duration_ns_rejects_what_go_rejects(
    macros: jinja2.Environment, value: str
) -> None:
    assert _call(macros, "duration_ns", value) == ""


@pytest.mark.parametrize(
    ("value", "hint"),
    [("10", "10s"), ("10sec", "10s"), ("2 minutes", "2m"), ("10S", "10s"),
     ("1.5 hours", "1.5h"), ("ten", ""), ("0", "")],
)  # fmt: skip
def test_duration_hint(macros: jinja2.Environment, value: str, hint: str) -> None:
    assert _call(macros, "duration_hint", value) == hint
