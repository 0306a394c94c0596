"""Render the template with each answer set and hold the result to its own bar.

One test per check, so a failure names both the answer set and the check.
The rendered package is installed (non-editable) into a child venv by the
``renders`` fixture; everything here runs inside that venv.
"""

from __future__ import annotations

import subprocess
import sysconfig
from pathlib import Path

import pytest
import yaml

from scripts.answer_sets import ANSWER_SETS
from scripts.rendering import ANSWERS_FILE, REPO_ROOT, RenderCache, RenderedPackage

SHARED_BIN = Path(sysconfig.get_path("scripts"))
JINJA_MARKERS = ("{{", "{%")
# Produced by the checks below, not by copier: not part of the render.
TOOL_DIRS = {".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@pytest.fixture(params=list(ANSWER_SETS))
def case(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def package(renders: RenderCache, case: str) -> RenderedPackage:
    return renders.get(case)


def assert_succeeded(result: subprocess.CompletedProcess[str], what: str) -> None:
    output = "\n".join([result.stdout, result.stderr]).strip()
    tail = "\n".join(output.splitlines()[-80:])
    assert result.returncode == 0, f"{what} exited {result.returncode}:\n{tail}"


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


def test_package_tests_pass(package: RenderedPackage) -> None:
    # Its own basetemp: pytest prunes old numbered dirs under the shared one.
    basetemp = package.root.parent / "pytest-basetemp"
    command: list[str | Path] = [
        package.python,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider"),
        f"--basetemp={basetemp}",
    ]
    result = package.run(command)
    assert_succeeded(result, "the rendered package's pytest")


def test_ruff_check(package: RenderedPackage) -> None:
    command: list[str | Path] = [
        SHARED_BIN / "ruff",
        "check",
        "--output-format=concise",
        ".",
    ]
    assert_succeeded(package.run(command), "ruff check")


def test_ruff_format(package: RenderedPackage) -> None:
    result = package.run([SHARED_BIN / "ruff", "format", "--check", "."])
    assert_succeeded(result, "ruff format --check")


def test_mypy_strict(package: RenderedPackage, mypy_cache_dir: Path) -> None:
    result = package.run(
        [package.python, "-m", "mypy", "--strict", "src", "tests"],
        env={"MYPY_CACHE_DIR": str(mypy_cache_dir)},
    )
    assert_succeeded(result, "mypy --strict src tests")


def test_onex_validate_strict(package: RenderedPackage) -> None:
    # --verbose: without it a failure says how many issues, not which.
    command = package.console_command(
        "onex", "--verbose", "validate", "--strict", "src"
    )
    result = package.run(command)
    assert_succeeded(result, "onex validate --strict src")


def test_onex_compliance_check(package: RenderedPackage, tmp_path: Path) -> None:
    report = tmp_path / "report.yaml"
    command = package.console_command(
        "onex", "compliance", "check", "--repo-root", ".", "--output", report
    )
    result = package.run(command)
    assert_succeeded(result, "onex compliance check")
    # It also exits 0 when it finds nothing to check: count what it checked.
    summary = yaml.safe_load(report.read_text(encoding="utf-8"))
    assert (summary["total"], summary["failed"]) == (1, 0), summary
    nodes_dir = package.root / "src" / package.package_name / "nodes"
    contract = Path(summary["results"][0]["contract_path"])
    assert contract.parent.parent == nodes_dir
