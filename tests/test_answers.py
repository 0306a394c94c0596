"""Answer validation in copier.yml: bad answers fail clearly, good ones render.

Renders a copy of the template's control files (copier.yml, includes/, hooks/)
with only the answers-file template and a probe file that dumps every answer
and computed value, so these tests do not depend on the rest of template/.
"""

from __future__ import annotations

import fcntl
import keyword
import multiprocessing
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
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
from package_checks import assert_flagged
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
# Bad answers: (test id, data, question, rule, fix, detail fragments).
# The message's first line is "<rule>; try <fix>" (or "<rule>" and the fix
# opening the second line, "Try <fix>.", when it does not fit 79 columns after
# copier's prefix); the details name the rule in full and the bad value.
# --------------------------------------------------------------------------
PG = {"service_name": "postgres-crud"}
DNS_DETAILS = "lowercase letters, digits and hyphens"
DURATION_DETAILS = "a number with a unit (ns, us, ms, s, m or h)"
TIMEOUT_DETAILS = "Lower check_timeout or raise check_interval"
TAG_DETAILS = "A Consul tag is 1-255 characters from letters, digits"
LIST_DETAILS = 'A YAML flow list of tags, such as ["blue", "team-payments"]'
CLASS_DETAILS = 'A PascalCase class name that starts with "Node"'
VERSION_DETAILS = 'no "v" prefix, no pre-release or build suffix'
PATH_DETAILS = 'A URL path that starts with "/"'
TEXT_DETAILS = "without double quotes or backslashes"
AUTHOR_DETAILS = "commas or angle brackets"

BadAnswer = tuple[str, dict[str, Any], str, str, str, tuple[str, ...]]
BAD_ANSWERS: list[BadAnswer] = [
    # service_name
    ("service-uppercase", {"service_name": "PostgresCrud"}, "service_name",
     "bad DNS label", "postgrescrud", (DNS_DETAILS, 'Got "PostgresCrud"')),
    ("service-underscore", {"service_name": "postgres_crud"}, "service_name",
     "bad DNS label", "postgres-crud", (DNS_DETAILS,)),
    ("service-dots", {"service_name": "postgres.crud"}, "service_name",
     "bad DNS label", "postgres-crud", ()),
    ("service-space", {"service_name": "postgres crud"}, "service_name",
     "bad DNS label", "postgres-crud", ()),
    ("service-leading-hyphen", {"service_name": "-postgres"}, "service_name",
     "bad DNS label", "postgres", ("no hyphen first or last",)),
    ("service-trailing-hyphen", {"service_name": "postgres-"}, "service_name",
     "bad DNS label", "postgres", ("no hyphen first or last",)),
    ("service-64-chars", {"service_name": "a" * 64}, "service_name",
     "bad DNS label", "a" * 63, ("1-63 characters",)),
    ("service-only-symbols", {"service_name": "___"}, "service_name",
     "bad DNS label", "postgres-crud", ('Got "___"',)),
    ("service-empty", {"service_name": ""}, "service_name",
     "required", "postgres-crud", (DNS_DETAILS,)),
    ("service-consul", {"service_name": "consul"}, "service_name",
     "reserved", "consul-sync", ('Consul registers itself under the name "consul"',)),
    # port
    ("port-0", {**PG, "port": 0}, "port", "outside 1-65535", "8080", ("Got 0.",)),
    ("port-65536", {**PG, "port": 65536}, "port",
     "outside 1-65535", "8080", ("Got 65536.",)),
    ("port-negative", {**PG, "port": -1}, "port",
     "outside 1-65535", "8080", ("Got -1.",)),
    ("port-text", {**PG, "port": "abc"}, "port",
     "not a whole number", "8080", ('Got "abc".',)),
    ("port-float", {**PG, "port": 80.5}, "port",
     "not a whole number", "8080", ("Got 80.5.",)),
    ("port-bool", {**PG, "port": True}, "port",
     "not a whole number", "8080", ("Got true.",)),
    # domain
    ("domain-space-uppercase", {**PG, "domain": "My Domain"}, "domain",
     "bad DNS label", "my-domain", ("Consul tag and service meta value",)),
    ("domain-underscore", {**PG, "domain": "payments_eu"}, "domain",
     "bad DNS label", "payments-eu", ()),
    ("domain-too-long", {**PG, "domain": "d" * 64}, "domain",
     "bad DNS label", "d" * 63, ()),
    ("domain-empty", {**PG, "domain": ""}, "domain",
     "bad DNS label", "default", ('Got "".',)),
    # project_name
    ("project-space", {**PG, "project_name": "postgres crud"}, "project_name",
     "not PEP 508", "postgres-crud", ("The distribution name in pyproject.toml",)),
    ("project-trailing-dot", {**PG, "project_name": "pg."}, "project_name",
     "not PEP 508", "pg", ("starting and ending with a letter or digit",)),
    # package_name
    ("package-keyword-class", {**PG, "package_name": "class"}, "package_name",
     "a Python keyword", "class_node", ('"import class" would be a syntax error',)),
    ("package-keyword-def", {**PG, "package_name": "def"}, "package_name",
     "a Python keyword", "def_node", ()),
    ("package-stdlib-json", {**PG, "package_name": "json"}, "package_name",
     "shadows stdlib", "json_node", ('"json" is a standard-library module',)),
    ("package-stdlib-asyncio", {**PG, "package_name": "asyncio"}, "package_name",
     "shadows stdlib", "asyncio_node", ()),
    ("package-dependency-consul", {**PG, "package_name": "consul"}, "package_name",
     "shadows a dependency", "consul_node", ("omnibase-core, py-consul",)),
    ("package-dependency-aiohttp", {**PG, "package_name": "aiohttp"},
     "package_name", "shadows a dependency", "aiohttp_node", ()),
    ("package-dependency-pydantic", {**PG, "package_name": "pydantic"},
     "package_name", "shadows a dependency", "pydantic_node", ()),
    ("package-hyphen", {**PG, "package_name": "my-pkg"}, "package_name",
     "not snake_case", "my_pkg", ('"import postgres_crud"',)),
    ("package-leading-digit", {**PG, "package_name": "1abc"}, "package_name",
     "not snake_case", "node_1abc", ("starting with a letter",)),
    ("package-uppercase", {**PG, "package_name": "MyPkg"}, "package_name",
     "not snake_case", "mypkg", ()),
    ("package-only-symbols", {**PG, "package_name": "--"}, "package_name",
     "not snake_case", "node", ()),
    # node_class_name
    ("class-no-node-prefix", {**PG, "node_class_name": "PostgresCrudEffect"},
     "node_class_name", "not Node + PascalCase", "NodePostgresCrudEffect",
     (CLASS_DETAILS,)),
    ("class-snake-case", {**PG, "node_class_name": "Node_postgres_crud"},
     "node_class_name", "not Node + PascalCase", "NodePostgresCrudEffect", ()),
    ("class-lowercase-node", {**PG, "node_class_name": "nodePostgresCrudEffect"},
     "node_class_name", "not Node + PascalCase", "NodePostgresCrudEffect", ()),
    ("class-base-class-name", {**PG, "node_class_name": "NodeEffect"},
     "node_class_name", "an omnibase_core class", "NodePostgresCrudEffect",
     ("its omnibase_core base class",)),
    ("class-onex-anti-pattern", {**PG, "node_class_name": "NodeBillingServiceEffect"},
     "node_class_name", 'contains "service"', "NodePostgresCrudEffect",
     ("onex validate --strict rejects",)),
    # node_version
    ("version-two-parts", {**PG, "node_version": "1.0"}, "node_version",
     "not MAJOR.MINOR.PATCH", "1.0.0", (VERSION_DETAILS,)),
    ("version-v-prefix", {**PG, "node_version": "v1.0.0"}, "node_version",
     "not MAJOR.MINOR.PATCH", "1.0.0", (VERSION_DETAILS,)),
    ("version-prerelease", {**PG, "node_version": "1.2.0-beta.1"}, "node_version",
     "not MAJOR.MINOR.PATCH", "1.2.0", ()),
    ("version-leading-zero", {**PG, "node_version": "01.2.3"}, "node_version",
     "not MAJOR.MINOR.PATCH", "1.2.3", ("without leading zeros",)),
    ("version-word", {**PG, "node_version": "latest"}, "node_version",
     "not MAJOR.MINOR.PATCH", "1.0.0", ('Got "latest"',)),
    # health_path
    ("health-no-slash", {**PG, "health_path": "health"}, "health_path",
     "not a URL path", "/health", (PATH_DETAILS,)),
    ("health-query", {**PG, "health_path": "/health?full=1"}, "health_path",
     "not a URL path", "/health-full-1", ("no query string",)),
    ("health-empty", {**PG, "health_path": ""}, "health_path",
     "not a URL path", "/health", ()),
    # durations
    ("interval-no-unit", {**PG, "check_interval": "10"}, "check_interval",
     "not a Go duration", "10s", (DURATION_DETAILS, 'Got "10"')),
    ("interval-word", {**PG, "check_interval": "ten"}, "check_interval",
     "not a Go duration", "10s", ('Got "ten"',)),
    ("interval-sec", {**PG, "check_interval": "10sec"}, "check_interval",
     "not a Go duration", "10s", ()),
    ("interval-words", {**PG, "check_interval": "1.5 minutes"}, "check_interval",
     "not a Go duration", "1.5m", ()),
    ("interval-negative", {**PG, "check_interval": "-5s"}, "check_interval",
     "not above zero", "10s", ('Got "-5s"',)),
    ("interval-zero", {**PG, "check_interval": "0s"}, "check_interval",
     "not above zero", "10s", ('Got "0s"',)),
    ("interval-overflow", {**PG, "check_interval": "3000000h"}, "check_interval",
     "too long for Go", "10s", ("at most about 2562047h",)),
    ("timeout-no-unit", {**PG, "check_timeout": "5"}, "check_timeout",
     "not a Go duration", "5s", ()),
    ("timeout-zero", {**PG, "check_timeout": "0s"}, "check_timeout",
     "not above zero", "5s", ()),
    ("timeout-equals-interval", {**PG, "check_interval": "5s", "check_timeout": "5s"},
     "check_timeout", "not below check_interval", "2500ms",
     (TIMEOUT_DETAILS, 'check_timeout "5s" and check_interval "5s"')),
    ("timeout-above-interval-mixed-units",
     {**PG, "check_interval": "30s", "check_timeout": "1m"}, "check_timeout",
     "not below check_interval", "5s",
     ('check_timeout "1m" and check_interval "30s"',)),
    ("deregister-30s", {**PG, "deregister_critical_after": "30s"},
     "deregister_critical_after", "below 1m", "1m", ('got "30s"', "its minimum")),
    ("deregister-59s", {**PG, "deregister_critical_after": "59s"},
     "deregister_critical_after", "below 1m", "1m", ()),
    ("deregister-no-unit", {**PG, "deregister_critical_after": "60"},
     "deregister_critical_after", "not a Go duration", "60s", (DURATION_DETAILS,)),
    ("deregister-days", {**PG, "deregister_critical_after": "1d"},
     "deregister_critical_after", "not a Go duration", "1m", ()),
    # free text
    ("description-newline", {**PG, "description": "two\nlines"}, "description",
     'has " or \\ or a line break', '"two lines"', (TEXT_DETAILS,)),
    ("description-quote", {**PG, "description": 'the "best" node'}, "description",
     'has " or \\ or a line break', '"the \'best\' node"', ()),
    ("description-empty", {**PG, "description": "  "}, "description",
     "empty", "one line of up to 200 characters", (TEXT_DETAILS,)),
    ("description-too-long", {**PG, "description": "x" * 201}, "description",
     "over 200 characters", "a shorter line", ("Got 201 characters",)),
    ("author-comma", {**PG, "author": "Ada, Grace"}, "author",
     'has " , < > \\ or a line break', '"Ada Grace"', (AUTHOR_DETAILS,)),
    ("author-email", {**PG, "author": "Ada <ada@example.org>"}, "author",
     'has " , < > \\ or a line break', '"Ada ada@example.org"', ()),
    ("author-empty", {**PG, "author": ""}, "author",
     "empty", '"ONEX developers"', ()),
    ("author-too-long", {**PG, "author": "a" * 101}, "author",
     "over 100 characters", "a shorter name", ()),
    # extra_tags (given as text, the way --data and the prompt give it)
    ("tags-not-a-list", {**PG, "extra_tags": "blue"}, "extra_tags",
     "not a YAML list", '["blue"]', (LIST_DETAILS, 'Got "blue"')),
    ("tags-yaml-garbage", {**PG, "extra_tags": "[]blue"}, "extra_tags",
     "not a YAML list", '["blue"]', ('Got "[]blue"',)),
    ("tags-unclosed", {**PG, "extra_tags": "[blue"}, "extra_tags",
     "not a YAML list", '["blue"]', ()),
    ("tags-comma-separated", {**PG, "extra_tags": "blue, canary"}, "extra_tags",
     "not a YAML list", '["blue", "canary"]', ()),
    ("tags-mapping", {**PG, "extra_tags": "{team: payments}"}, "extra_tags",
     "not a YAML list", '["team", "payments"]', ()),
    ("tags-space", {**PG, "extra_tags": '["blue", "team payments"]'}, "extra_tags",
     "tag 2 is invalid", '"team-payments"', (TAG_DETAILS, 'item 2 "team payments"')),
    ("tags-comma", {**PG, "extra_tags": '["a,b"]'}, "extra_tags",
     "tag 1 is invalid", '"a-b"', ("no spaces or commas",)),
    ("tags-leading-symbol", {**PG, "extra_tags": "['@team']"}, "extra_tags",
     "tag 1 is invalid", '"team"', ("starting with a letter or digit",)),
    ("tags-empty-string", {**PG, "extra_tags": '[""]'}, "extra_tags",
     "tag 1 is invalid", "", ('item 1 ""',)),
    ("tags-number", {**PG, "extra_tags": "[5]"}, "extra_tags",
     "tag 1 is not text", '"5"', ("Quote numbers and booleans", "item 1 is 5")),
    ("tags-bool", {**PG, "extra_tags": "[blue, true]"}, "extra_tags",
     "tag 2 is not text", '"true"', ()),
]  # fmt: skip

# copier's own check of `choices` questions, before any validator: it names
# the question and the values (a message the template does not control).
CHOICE_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("node-type-unknown", {**PG, "node_type": "sink"},
     "Invalid choice for 'node_type': 'sink' is not in ['effect', 'compute',"
     " 'reducer', 'orchestrator']"),
    ("check-mode-unknown", {**PG, "check_mode": "grpc"},
     "Invalid choice for 'check_mode': 'grpc' is not in ['http', 'ttl', 'tcp']"),
]  # fmt: skip


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
    cases = [(c[0], c[1]) for c in BAD_ANSWERS] + [(c[0], c[1]) for c in CHOICE_ERRORS]
    for case_id, data in cases:
        (root / case_id).mkdir()
        jobs[case_id] = (str(template_src), str(root / case_id / "dst"), data)
    workers = max(2, min(4, os.cpu_count() or 1))
    # fork is quickest (copier is already imported) but unsafe once threads run,
    # which other test modules of the same session may have started.
    method = "fork" if threading.active_count() == 1 else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return dict(zip(jobs, pool.map(_try_bad_answer, jobs.values()), strict=True))


#: What copier prints before a validator's text, interactively and in the
#: traceback of --data/--defaults (there after "ValueError: ").
COPIER_PREFIX = "Validation error for question '{}': "
#: An 80-column terminal: the interactive prompt shows the first line only.
COLUMNS = 79


def message_problems(message: str, question: str, rule: str, fix: str) -> list[str]:
    """What is wrong with one validator message, by the rules of `problem`."""
    prefix = COPIER_PREFIX.format(question)
    if not message.startswith(prefix):
        return [f"does not start with {prefix!r}"]
    first, *rest = message.splitlines()
    problems = []
    if len(first) > COLUMNS:
        problems.append(f"first line has {len(first)} > {COLUMNS} characters")
    if not first.removeprefix(prefix).startswith(rule):
        problems.append(f"first line does not open with the rule {rule!r}")
    on_first = first.endswith(f"; try {fix}")
    on_second = bool(rest) and rest[0] == f"Try {fix}."
    if fix and not (on_first or on_second):
        problems.append(f"fix {fix!r} neither ends the first line nor opens the second")
    if not rest:
        problems.append("no details after the first line")
    return problems


@pytest.mark.parametrize(
    ("case_id", "question", "rule", "fix", "details"),
    [pytest.param(i, q, r, f, d, id=i) for i, _, q, r, f, d in BAD_ANSWERS],
)
def test_bad_answer_is_rejected_with_a_clear_message(
    bad_answer_results: dict[str, tuple[str, str, bool]],
    case_id: str,
    question: str,
    rule: str,
    fix: str,
    details: tuple[str, ...],
) -> None:
    error_type, message, dst_exists = bad_answer_results[case_id]
    assert error_type == "ValueError", (error_type, message)
    assert message_problems(message, question, rule, fix) == [], message
    unwrapped = " ".join(message.split())  # details are wrapped at 79 columns
    for fragment in details:
        assert fragment in unwrapped, f"{fragment!r} not in {message!r}"
    assert not dst_exists, "a failed copy must not leave a destination behind"


@pytest.mark.parametrize(
    ("case_id", "expected"), [pytest.param(i, e, id=i) for i, _, e in CHOICE_ERRORS]
)
def test_bad_choice_is_rejected_by_copier(
    bad_answer_results: dict[str, tuple[str, str, bool]], case_id: str, expected: str
) -> None:
    error_type, message, dst_exists = bad_answer_results[case_id]
    assert (error_type, message) == ("ValueError", expected)
    assert not dst_exists


def test_message_rules_flag_a_bad_message() -> None:
    prefix = COPIER_PREFIX.format("port")
    rule, fix = "outside 1-65535", "8080"
    for good in (f"{rule}; try {fix}\nA port.", f"{rule}\nTry {fix}.\nA port."):
        assert message_problems(prefix + good, "port", rule, fix) == [], good
    assert_flagged(
        message_problems(prefix + "x" * 60 + "; try 80", "port", rule, fix),
        "first line has 106 > 79 characters",
        f"does not open with the rule {rule!r}",
        f"fix {fix!r} neither ends the first line",
        "no details",
    )
    assert message_problems("port is bad", "port", rule, fix) == [
        f"does not start with {prefix!r}"
    ]


@pytest.mark.parametrize(
    ("fix", "first", "second"),
    [
        ("8080", "outside 1-65535; try 8080", "The rule."),
        ("9" * 40, "outside 1-65535", f"Try {'9' * 40}."),
    ],
)
def test_problem_macro_moves_a_long_fix_to_the_second_line(
    macros: jinja2.Environment, fix: str, first: str, second: str
) -> None:
    template = macros.from_string(
        "{% from 'includes/macros.jinja' import problem %}"
        "{{ problem('port', 'outside 1-65535', fix, 'The rule.') }}"
    )
    lines = template.render(fix=fix).splitlines()
    assert lines[:2] == [first, second]
    assert all(len(line) <= COLUMNS for line in lines)


def test_problem_macro_wraps_details_at_79_columns(macros: jinja2.Environment) -> None:
    details = " ".join(["postgres-crud"] * 20)
    template = macros.from_string(
        "{% from 'includes/macros.jinja' import problem %}"
        "{{ problem('port', 'rule', '', details) }}"
    )
    lines = template.render(details=details).splitlines()
    assert lines[0] == "rule"
    assert len(lines) > 3
    assert all(len(line) <= COLUMNS for line in lines)
    # Words with hyphens stay whole: a fix or value is never split.
    assert " ".join(lines[1:]) == details


def test_one_bad_answer_in_this_process(template_src: Path, tmp_path: Path) -> None:
    """The same check without worker processes, for a plain traceback."""
    dst = tmp_path / "dst"
    with pytest.raises(ValueError, match="bad DNS label; try postgres-crud"):
        render(template_src, dst, {"service_name": "postgres_crud"})
    assert not dst.exists()


def test_every_validator_has_bad_answers() -> None:
    validated = {
        name
        for name, question in copier_config().items()
        if isinstance(question, dict) and "validator" in question
    }
    assert validated - {question for _, _, question, *_ in BAD_ANSWERS} == set()


def test_at_least_80_bad_answers() -> None:
    assert len(BAD_ANSWERS) >= 80
    assert len({case_id for case_id, *_ in BAD_ANSWERS}) == len(BAD_ANSWERS)


# --------------------------------------------------------------------------
# The same through the CLI: exit code 1, message on stderr, nothing left.
# --------------------------------------------------------------------------
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "service-underscore": (
        ["service_name=postgres_crud"],
        "Validation error for question 'service_name': bad DNS label;"
        " try postgres-crud",
    ),
    "port-text": (
        ["service_name=postgres-crud", "port=abc"],
        "Validation error for question 'port': not a whole number; try 8080",
    ),
    "package-stdlib": (
        ["service_name=postgres-crud", "package_name=asyncio"],
        "Validation error for question 'package_name': shadows stdlib;"
        " try asyncio_node",
    ),
    "timeout-above-interval": (
        ["service_name=postgres-crud", "check_interval=30s", "check_timeout=1m"],
        "Validation error for question 'check_timeout': not below check_interval;"
        " try 5s",
    ),
    "deregister-short": (
        ["service_name=postgres-crud", "deregister_critical_after=59s"],
        "Validation error for question 'deregister_critical_after': below 1m; try 1m",
    ),
    "tags-bad": (
        ["service_name=postgres-crud", 'extra_tags=["ok", "not ok"]'],
        "Validation error for question 'extra_tags': tag 2 is invalid; try \"not-ok\"",
    ),
    # copier's YAML parse used to reject it first, naming neither question nor rule.
    "tags-not-yaml": (
        ["service_name=postgres-crud", "extra_tags=[]blue"],
        "Validation error for question 'extra_tags': not a YAML list; try [\"blue\"]",
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
    # copier prints a traceback ending in "ValueError: " and the message.
    assert "\nValueError: " + expected + "\n" in completed.stderr, completed.stderr
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
        "extra_tags": "[]",
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
    assert answers["extra_tags"] == "[]"  # a YAML list, as text
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
        "extra_tags": "[blue, 'team-payments', \"urlprefix-/billing\", v=2]",
    }
    probe = render(template_src, tmp_path / "dst", data)
    assert probe == {
        **data,
        "port": 9100,
        "node_slug": "billing_ledger",
        "name_camel": "BillingLedger",
        "node_dir": "node_billing_ledger_orchestrator",
    }


def extra_tags_problem(macros: jinja2.Environment, text: str) -> str:
    """extra_tags' validator from copier.yml, rendered the way copier does."""
    validator = copier_config()["extra_tags"]["validator"]
    return macros.from_string(validator).render(extra_tags=text).strip()


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("[]", []),
        ("[ ]", []),
        ('["blue", "team-payments"]', ["blue", "team-payments"]),
        ("[blue, canary,]", ["blue", "canary"]),
        ("['blue', 'canary']", ["blue", "canary"]),  # str() of a Python list
        ("[urlprefix-/billing, v=2, a@b, x~y:z]", ["urlprefix-/billing", "v=2",
                                                  "a@b", "x~y:z"]),
    ],
)  # fmt: skip
def test_extra_tags_accepts_yaml_lists(
    macros: jinja2.Environment, text: str, tags: list[str]
) -> None:
    assert extra_tags_problem(macros, text) == ""
    assert yaml.safe_load(text) == tags


@pytest.mark.parametrize(
    "text",
    ["[- a]", "[a: b]", "[:]", "[a, [b]]", '["a\\"b"]', "['it''s']", "[a #c]",
     "[&a x]", "[*a]", "[!!str 5]", "[?a]", "[|]", "[a b]", "[%a]", "[`a]",
     "[a]]", "[[a]", "[a,,b]", "", "  ", "null", "~", "- a\n- b"],
)  # fmt: skip
def test_extra_tags_validator_never_fails_itself(
    macros: jinja2.Environment, text: str
) -> None:
    # Whatever the text, the validator either reports a problem (and does not
    # raise on YAML it cannot parse) or the text is a list of valid tags.
    problem = extra_tags_problem(macros, text)
    if not problem:
        tags = yaml.safe_load(text)
        assert isinstance(tags, list), text
        assert all(isinstance(tag, str) and tag for tag in tags), text


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


class Terminal:
    """A process on an 80x24 pseudo-terminal; reads what it draws."""

    def __init__(self, command: list[str]) -> None:
        self.primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            command, stdin=secondary, stdout=secondary, stderr=secondary,
            start_new_session=True,
        )  # fmt: skip
        os.close(secondary)
        self.screen = b""

    def wait_for(self, pattern: bytes, timeout: float = 60) -> re.Match[bytes]:
        """Read until ``pattern`` matches what was drawn, or fail at the deadline."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.screen)) is None:
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} never drawn:\n{self.screen[-2000:]!r}"
            ready, _, _ = select.select([self.primary], [], [], min(left, 1.0))
            if ready:
                self.screen += os.read(self.primary, 65536)
        return found

    def type(self, keys: bytes) -> None:
        os.write(self.primary, keys)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self.primary)


def test_interactive_prompt_shows_the_whole_first_line(
    template_src: Path, tmp_path: Path
) -> None:
    # copier shows a validator's message in prompt_toolkit's one-line toolbar,
    # cut at the terminal's width: the rule and the fix must both be drawn.
    terminal = Terminal(
        [sys.executable, "-m", "copier", "copy", "--trust", "--skip-tasks",
         "--vcs-ref", "HEAD", str(template_src), str(tmp_path / "dst")]
    )  # fmt: skip
    try:
        terminal.wait_for(b"Consul service name")
        terminal.type(b"\x15Postgres_Crud\r")  # Ctrl-U clears the default first
        toolbar = terminal.wait_for(rb"(Validation error for question [^\x1b\r\n]*)")
    finally:
        terminal.close()
    line = toolbar[1].decode()
    assert line == (
        "Validation error for question 'service_name': bad DNS label; try postgres-crud"
    )
    assert len(line) <= COLUMNS


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
    assert "shadows a dependency" in rejected.stderr, rejected.stderr
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
# includes/macros.jinja: the fix offered for a near-miss duration (parsing
# itself: test_go_durations.py, against the one table of cases).
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


@pytest.mark.parametrize(
    ("value", "hint"),
    [("10", "10s"), ("10sec", "10s"), ("2 minutes", "2m"), ("10S", "10s"),
     ("1.5 hours", "1.5h"), ("ten", ""), ("0", "")],
)  # fmt: skip
def test_duration_hint(macros: jinja2.Environment, value: str, hint: str) -> None:
    assert _call(macros, "duration_hint", value) == hint
