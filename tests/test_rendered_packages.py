"""Render the template with each answer set and hold the result to its own bar.

One test per check, so a failure names both the answer set and the check.
The rendered package is installed (non-editable) into a child venv by the
``renders`` fixture; everything here runs inside that venv.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from package_checks import CHECKS, assert_succeeded
from pathspec import PathSpec
from template_config import copier_config

from scripts.answer_sets import ANSWER_SETS
from scripts.rendering import ANSWERS_FILE, REPO_ROOT, RenderedPackage

JINJA_MARKERS = ("{{", "{%")
# Produced by the checks below, not by copier: not part of the render.
TOOL_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def rendered_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if not TOOL_DIRS.intersection(path.relative_to(root).parts)
    )


# --- structure -------------------------------------------------------------


def test_answers_file_records_template_source(package: RenderedPackage) -> None:
    # `copier update` needs both; a relative _src_path breaks it.
    assert package.answers.get("_src_path") == str(REPO_ROOT)
    assert package.answers.get("_commit"), f"no _commit in {ANSWERS_FILE}"


def test_answers_commit_exists_in_template_repo(package: RenderedPackage) -> None:
    # copier renders a dirty work tree from a throwaway commit of its own;
    # only a clean tree (as in CI) records a commit `copier update` can find.
    status = _git("status", "--porcelain")
    if status.stdout.strip():
        pytest.skip("template work tree is dirty: _commit is copier's own")
    commit = str(package.answers.get("_commit"))
    assert _git("rev-parse", "--verify", f"{commit}^{{commit}}").returncode == 0


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_answers_file_keeps_given_answers(package: RenderedPackage, case: str) -> None:
    given = ANSWER_SETS[case]
    saved = {key: package.answers.get(key) for key in given}
    assert saved == dict(given)


def test_no_jinja_left_in_file_names(package: RenderedPackage) -> None:
    leftovers = [
        str(path.relative_to(package.root))
        for path in rendered_files(package.root)
        if path.name.endswith(".jinja") or any(m in path.name for m in JINJA_MARKERS)
    ]
    assert leftovers == []


def test_no_jinja_left_in_file_contents(package: RenderedPackage) -> None:
    leftovers = []
    for path in rendered_files(package.root):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if any(marker in line for marker in JINJA_MARKERS):
                leftovers.append(f"{path.relative_to(package.root)}:{number}: {line}")
    assert leftovers == []


TEMPLATE_OWNED = "Managed by the ONEX node template"
USER_OWNED = ("Yours to edit", "This README is yours")
# Template-owned files that cannot carry the header: the agent service
# definition is JSON (no comments) and Consul refuses unknown keys in it, in
# an agent's config directory and in the register API alike. deploy/README.md,
# which has the header, names each of them as the template's instead.
HEADERLESS = PathSpec.from_lines("gitignore", ["deploy/consul/*.json"])
HEADERLESS_OWNERSHIP = "deploy/README.md"


def test_every_file_has_exactly_one_owner(package: RenderedPackage) -> None:
    # User-owned: in _skip_if_exists (never touched by `copier update`) and
    # saying so; everything else carries the template-owned header.
    yours = PathSpec.from_lines("gitignore", copier_config()["_skip_if_exists"])
    wrong = []
    for path in rendered_files(package.root):
        relative = path.relative_to(package.root).as_posix()
        if not path.is_file() or relative == ANSWERS_FILE:
            continue
        head = path.read_text(encoding="utf-8")[:1000]
        if yours.match_file(relative):
            if not any(marker in head for marker in USER_OWNED):
                wrong.append(f"{relative}: user-owned but does not say so")
        elif HEADERLESS.match_file(relative):
            ownership = (package.root / HEADERLESS_OWNERSHIP).read_text("utf-8")
            if Path(relative).relative_to("deploy").as_posix() not in ownership:
                wrong.append(f"{relative}: headerless, not in {HEADERLESS_OWNERSHIP}")
        elif TEMPLATE_OWNED not in head:
            wrong.append(f"{relative}: template-owned but has no header")
    assert wrong == []


def test_user_owned_files_exist(package: RenderedPackage) -> None:
    # A pattern that matches nothing would silently hand a user file to updates.
    rendered = [
        p.relative_to(package.root).as_posix() for p in rendered_files(package.root)
    ]
    for pattern in copier_config()["_skip_if_exists"]:
        spec = PathSpec.from_lines("gitignore", [pattern])
        assert any(spec.match_file(path) for path in rendered), pattern


def test_package_installed_non_editable(package: RenderedPackage) -> None:
    # Run from outside the project so ./src cannot shadow the installed copy.
    code = f"import {package.package_name} as p; print(p.__file__)"
    result = subprocess.run(
        [str(package.python), "-c", code],
        cwd=package.venv,
        env=package.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert_succeeded(result, "importing the installed package")
    assert Path(result.stdout.strip()).is_relative_to(package.venv)
    assert package.console_script.is_file()


# --- the package's own checks ---------------------------------------------


@pytest.mark.parametrize("check", list(CHECKS))
def test_package_check(package: RenderedPackage, check: str, tmp_path: Path) -> None:
    CHECKS[check](package, tmp_path)
