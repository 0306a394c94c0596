"""`copier update` across template versions, on packages owners have edited.

A module fixture builds a git history of the template in a temporary copy:

- 0.1.0: the template as it is on disk;
- 0.2.0: a changed template-owned pattern (managed/loops/backoff.py), a changed
  node shell (node.py), a changed question default (check_interval), and a
  moved template-owned module (managed/values/durations.py ->
  duration_parsing.py, with its `_migrations` entry);
- 0.3.0 (on a side branch of 0.2.0): a new question without a default.

Packages are rendered from 0.1.0, committed by the post-copy hook, edited the
way owners do, and updated.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from answers_support import (
    commit_all,
    git,
    release,
    released_template_copy,
    unresolved_after_update,
)
from package_checks import CHECKS, SHARED_BIN

from scripts.rendering import (
    ANSWERS_FILE,
    REPO_ROOT,
    RenderedPackage,
    git_identity,
    install,
    read_answers,
    render,
)

OLD, NEW, NEWEST = "0.1.0", "0.2.0", "0.3.0"
ANSWERS: Mapping[str, object] = {"service_name": "ledger-writer", "node_type": "effect"}
MANAGED = "template/src/{{package_name}}/managed"
PATTERN_FILE = f"{MANAGED}/loops/backoff.py"
PATTERN_CHANGE = (
    "\n\ndef retry_budget_s(attempts: int, initial_s: float, cap_s: float) -> float:\n"
    '    """Longest total wait of `attempts` retries (0.2.0 pattern)."""\n'
    "    steps = range(1, attempts + 1)\n"
    "    return sum(min(cap_s, initial_s * 2.0 ** (n - 1)) for n in steps)\n"
)
SHELL_FILE = (
    "template/src/{{package_name}}/nodes/{{node_dir}}/"
    "{% if node_type == 'effect' %}node.py{% endif %}.jinja"
)
SHELL_CHANGE = "\n\n# 0.2.0: the node shell changed (tests/test_update.py).\n"
MOVED_FROM = f"{MANAGED}/values/durations.py"
MOVED_TO = f"{MANAGED}/values/duration_parsing.py"
NEW_QUESTION = "owning_team"
TOOL_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}

# The entry copier.yml documents for a move, for 0.2.0.
MIGRATION_ENTRY = """_migrations:
  - version: "0.2.0"
    when: "{{ _stage == 'after' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/hooks/migrate.py"
      - move
      - "src/{{ package_name }}/managed/values/durations.py"
      - "src/{{ package_name }}/managed/values/duration_parsing.py"
      - "--template-path=template/src/{{ '{{' }}package_name{{ '}}' }}/managed/\
values/durations.py"
      - "--src={{ _copier_conf.src_path }}"
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` (tool caches aside) with its content's hash."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not TOOL_DIRS.intersection(path.relative_to(root).parts)
    }


@dataclass(frozen=True)
class TemplateHistory:
    root: Path

    def file_at(self, version: str, path: str) -> str:
        return git(self.root, "show", f"{version}:{path}")


def _make_version_0_2_0(root: Path) -> None:
    with (root / PATTERN_FILE).open("a", encoding="utf-8") as pattern:
        pattern.write(PATTERN_CHANGE)
    with (root / SHELL_FILE).open("a", encoding="utf-8") as shell:
        shell.write(SHELL_CHANGE)
    edit(root / "copier.yml", "  default: 10s\n", "  default: 15s\n")
    edit(root / "copier.yml", "_migrations: []\n", MIGRATION_ENTRY)
    git(root, "mv", MOVED_FROM, MOVED_TO)
    for path in (root / "template").rglob("*.py*"):
        text = path.read_text(encoding="utf-8")
        moved = text.replace("from .durations import", "from .duration_parsing import")
        moved = moved.replace(
            "values.durations import", "values.duration_parsing import"
        )
        if moved != text:
            path.write_text(moved, encoding="utf-8")


def _make_version_0_3_0(root: Path) -> None:
    question = textwrap.dedent(
        f"""\
        {NEW_QUESTION}:
          type: str
          help: Team that owns the node (asked of everyone, no default)

        """
    )
    edit(root / "copier.yml", "\nnode_type:\n", "\n" + question + "node_type:\n")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> TemplateHistory:
    root = tmp_path_factory.mktemp("history") / "onex-node-template"
    released_template_copy(root, OLD)
    _make_version_0_2_0(root)
    release(root, NEW)
    git(root, "checkout", "--quiet", "-b", "new-question")
    _make_version_0_3_0(root)
    release(root, NEWEST)
    git(root, "checkout", "--quiet", "main")
    # Work after the 0.2.0 release, not tagged yet.
    with (root / "CHANGELOG.md").open("a", encoding="utf-8") as changelog:
        changelog.write("\nUnreleased work.\n")
    commit_all(root, "after 0.2.0")
    return TemplateHistory(root)


def render_old(history: TemplateHistory, dst: Path) -> Path:
    project = render(dst, ANSWERS, src=history.root, vcs_ref=OLD)
    assert git(project, "status", "--porcelain") == "", "post-copy hook left changes"
    return project


def copier_update(
    project: Path, version: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The command the docs give owners, run the way they run it."""
    command = [
        str(SHARED_BIN / "copier"),
        *("update", "--trust", "--skip-answered", "--defaults"),
        *("--vcs-ref", version),
        *extra,
    ]
    with git_identity():
        return subprocess.run(
            command,
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ),
        )


# --- an owner's package, edited, then updated --------------------------------

OWNER_LOGIC = "# Owner: journal records carry the ledger's schema version.\n"
OWNER_DEPENDENCY = '    "packaging>=23",\n'
OWNER_TEST = textwrap.dedent(
    """\
    from ledger_writer.nodes.node_ledger_writer_effect.handlers import (
        handler_ledger_writer,
    )


    def test_owner_schema_version(ledger_schema_version: int) -> None:
        assert ledger_schema_version == handler_ledger_writer.LEDGER_SCHEMA_VERSION
    """
)
# Added to the owner's own conftest (user-owned); their test uses the fixture.
OWNER_CONFTEST = textwrap.dedent(
    """\


    @pytest.fixture
    def ledger_schema_version() -> int:
        return 3
    """
)
OWNER_MODEL = "\n\n# Owner: amounts are in minor units.\nCURRENCY_MINOR_UNITS = 2\n"
OWNER_HANDLER_TEST = textwrap.dedent(
    """\


    def test_amounts_are_in_minor_units() -> None:
        from ledger_writer.nodes.node_ledger_writer_effect.models import (
            model_ledger_writer_input,
        )

        assert model_ledger_writer_input.CURRENCY_MINOR_UNITS == 2
    """
)
OWNER_README = "\n## Ledger\n\nOwned by the payments team; pages #ledger-oncall.\n"
OWNER_DURATIONS_NOTE = "\n\n# Owner's note: Consul durations never exceed 24h here.\n"


@dataclass(frozen=True)
class UpdatedPackage:
    project: Path
    result: subprocess.CompletedProcess[str]
    handler: Path
    # The owner's places (handler, models, tests, conftest) as committed.
    owner_files: Mapping[str, str]


def owner_places(project: Path) -> dict[str, str]:
    """Hash of every file in the owner's places, by path."""
    node = project / "src" / "ledger_writer" / "nodes" / "node_ledger_writer_effect"
    places = [
        *sorted((node / "handlers").glob("*.py")),
        *sorted((node / "models").glob("*.py")),
        *sorted((project / "tests").glob("test_*.py")),
        project / "tests" / "conftest.py",
    ]
    return {
        path.relative_to(project).as_posix(): hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
        for path in places
    }


@pytest.fixture(scope="module")
def updated(
    history: TemplateHistory, tmp_path_factory: pytest.TempPathFactory
) -> UpdatedPackage:
    project = render_old(history, tmp_path_factory.mktemp("owner") / "ledger-writer")
    package = project / "src" / "ledger_writer"
    node = package / "nodes" / "node_ledger_writer_effect"
    handler = node / "handlers" / "handler_ledger_writer.py"
    with handler.open("a", encoding="utf-8") as logic:
        logic.write(f"\n\n{OWNER_LOGIC}LEDGER_SCHEMA_VERSION = 3\n")
    edit(
        project / "pyproject.toml",
        "    # Yours below: your dependencies (`copier update` keeps them).\n",
        "    # Yours below: your dependencies (`copier update` keeps them).\n"
        + OWNER_DEPENDENCY,
    )
    (project / "tests" / "test_owner_schema.py").write_text(OWNER_TEST, "utf-8")
    with (project / "tests" / "conftest.py").open("a", encoding="utf-8") as conftest:
        conftest.write(OWNER_CONFTEST)
    with (node / "models" / "model_ledger_writer_input.py").open(
        "a", encoding="utf-8"
    ) as model:
        model.write(OWNER_MODEL)
    with (project / "tests" / "test_handler_ledger_writer.py").open(
        "a", encoding="utf-8"
    ) as handler_tests:
        handler_tests.write(OWNER_HANDLER_TEST)
    with (project / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(OWNER_README)
    # Against the header's advice, but owners do it: the edit must survive the
    # file's move in 0.2.0.
    with (package / "managed" / "values" / "durations.py").open(
        "a", encoding="utf-8"
    ) as moved:
        moved.write(OWNER_DURATIONS_NOTE)
    commit_all(project, "Owner edits")
    owner_files = owner_places(project)
    # Bytecode of the module about to move, as any earlier run leaves it.
    subprocess.run(
        [
            str(SHARED_BIN / "python"),
            "-m",
            "compileall",
            "-q",
            str(package / "managed" / "values"),
        ],
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
    )
    result = copier_update(project, NEW)
    return UpdatedPackage(
        project=project, result=result, handler=handler, owner_files=owner_files
    )


def test_update_succeeds(updated: UpdatedPackage) -> None:
    assert updated.result.returncode == 0, updated.result.stderr
    # The post-copy task is for `copier copy` only, also in copier's temporary
    # renders of the old and new versions.
    output = updated.result.stdout + updated.result.stderr
    assert "git:" not in output
    assert "Next steps" not in output


def test_owner_edits_are_intact(updated: UpdatedPackage) -> None:
    project = updated.project
    assert OWNER_LOGIC in updated.handler.read_text(encoding="utf-8")
    assert OWNER_DEPENDENCY in (project / "pyproject.toml").read_text("utf-8")
    assert (project / "tests" / "test_owner_schema.py").read_text("utf-8") == OWNER_TEST
    assert (project / "README.md").read_text("utf-8").endswith(OWNER_README)


def test_owner_places_are_byte_identical_across_a_shell_change(
    updated: UpdatedPackage,
) -> None:
    shell = updated.project.joinpath(
        "src", "ledger_writer", "nodes", "node_ledger_writer_effect", "node.py"
    )
    assert shell.read_text("utf-8").endswith(SHELL_CHANGE)
    assert len(updated.owner_files) >= 7  # handler, 2 models, 3 tests, conftest
    assert owner_places(updated.project) == updated.owner_files
    porcelain = git(updated.project, "status", "--porcelain").splitlines()
    assert [line for line in porcelain if "U" in line[:2]] == []


def test_template_pattern_change_arrived(
    updated: UpdatedPackage, history: TemplateHistory
) -> None:
    backoff = (
        updated.project / "src" / "ledger_writer" / "managed" / "loops" / "backoff.py"
    )
    assert backoff.read_text("utf-8") == history.file_at(NEW, PATTERN_FILE)


def test_recorded_answers_win_over_new_defaults(updated: UpdatedPackage) -> None:
    answers = read_answers(updated.project)
    # The default moved to 15s; this node was generated with 10s and keeps it.
    assert answers["check_interval"] == "10s"
    assert (answers["_commit"], answers["_template_version"]) == (NEW, NEW)
    assert consul_meta_version(updated.project) == NEW


def test_no_conflicts_left(updated: UpdatedPackage) -> None:
    assert unresolved_after_update(updated.project) == []


def test_migration_moved_the_module(
    updated: UpdatedPackage, history: TemplateHistory
) -> None:
    values = updated.project / "src" / "ledger_writer" / "managed" / "values"
    assert not (values / "durations.py").exists()
    assert list(values.rglob("durations.*.pyc")) == []
    moved = (values / "duration_parsing.py").read_text("utf-8")
    # The template's new file, plus the owner's note carried over by the migration.
    assert moved == history.file_at(NEW, MOVED_TO) + OWNER_DURATIONS_NOTE
    assert "values.durations" not in "".join(
        path.read_text("utf-8") for path in updated.project.rglob("*.py")
    )


def test_migration_reported_what_it_did(updated: UpdatedPackage) -> None:
    output = updated.result.stdout + updated.result.stderr
    assert "durations.py -> " in output
    assert "your edits carried over" in output


@pytest.fixture(scope="module")
def updated_installed(
    updated: UpdatedPackage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RenderedPackage]:
    assert updated.result.returncode == 0, updated.result.stderr
    yield install(updated.project, tmp_path_factory.mktemp("updated-venv") / "venv")


@pytest.mark.parametrize("check", list(CHECKS))
def test_updated_package_passes(
    updated_installed: RenderedPackage, check: str, tmp_path: Path
) -> None:
    CHECKS[check](updated_installed, tmp_path)


# --- untouched packages ------------------------------------------------------


def test_update_equals_fresh_copy(history: TemplateHistory, tmp_path: Path) -> None:
    project = render_old(history, tmp_path / "updated" / "ledger-writer")
    result = copier_update(project, NEW)
    assert result.returncode == 0, result.stderr
    answers = {k: v for k, v in read_answers(project).items() if not k.startswith("_")}
    fresh = render(
        tmp_path / "fresh" / "ledger-writer", answers, src=history.root, vcs_ref=NEW
    )
    assert tree_digest(project) == tree_digest(fresh)


def test_new_question_without_default_fails_and_changes_nothing(
    history: TemplateHistory, tmp_path: Path
) -> None:
    project = render_old(history, tmp_path / "ledger-writer")
    head = git(project, "rev-parse", "HEAD")
    before = tree_digest(project)
    result = copier_update(project, NEWEST)
    assert result.returncode != 0
    assert f'Question "{NEW_QUESTION}" is required' in result.stderr
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain", "--ignored") == ""
    assert tree_digest(project) == before
    assert read_answers(project)["_commit"] == OLD


def test_answers_file_is_in_place_after_copy(
    history: TemplateHistory, tmp_path: Path
) -> None:
    project = render_old(history, tmp_path / "ledger-writer")
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text("utf-8"))
    assert answers["_src_path"] == str(history.root)
    assert (answers["_commit"], answers["_template_version"]) == (OLD, OLD)


def test_check_update_sees_the_newer_version(
    history: TemplateHistory, tmp_path: Path
) -> None:
    project = render_old(history, tmp_path / "ledger-writer")
    copier = str(SHARED_BIN / "copier")
    quiet = subprocess.run(
        [copier, "check-update", "--quiet"],
        cwd=project,
        capture_output=True,
        check=False,
    )
    assert quiet.returncode == 2, quiet.stderr
    assert check_update_report(project) == {
        "update_available": True,
        "current_version": OLD,
        "latest_version": NEWEST,
    }


def check_update_report(project: Path) -> dict[str, object]:
    """`copier check-update --output-format json`, run in the project."""
    report = subprocess.run(
        [str(SHARED_BIN / "copier"), "check-update", "--output-format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(report.stdout)
    assert isinstance(loaded, dict)
    return loaded


def consul_meta_version(project: Path) -> object:
    """The `template_version` the node registers in Consul meta."""
    contract = next(project.rglob("contract.yaml"))
    return yaml.safe_load(contract.read_text("utf-8"))["config"]["service"][
        "template_version"
    ]


@pytest.mark.parametrize(
    "ref", [OLD, "main"], ids=["tagged", "untagged-commit-after-a-tag"]
)
def test_one_version_story(history: TemplateHistory, tmp_path: Path, ref: str) -> None:
    # The answers file, Consul meta and copier itself name the same version.
    project = render(tmp_path / "ledger-writer", ANSWERS, src=history.root, vcs_ref=ref)
    answers = read_answers(project)
    if ref == OLD:
        assert answers["_commit"] == OLD
        expected = OLD
    else:
        short_hash = git(history.root, "rev-parse", "--short", "main").strip()
        assert answers["_commit"] == f"{NEW}-1-g{short_hash}"
        expected = f"{NEW}.post1.dev0+{short_hash}"
    assert answers["_template_version"] == expected
    assert consul_meta_version(project) == expected
    assert check_update_report(project)["current_version"] == expected


def test_renovate_config_is_valid() -> None:
    result = subprocess.run(
        [
            str(SHARED_BIN / "check-jsonschema"),
            *("--builtin-schema", "vendor.renovate"),
            str(REPO_ROOT / "template" / "renovate.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = json.loads((REPO_ROOT / "template" / "renovate.json").read_text("utf-8"))
    assert config["enabledManagers"] == ["copier"]
    assert config["ignoreScripts"] is False
