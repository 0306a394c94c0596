"""The bar every rendered package is held to, as commands run in its venv.

Shared by the render matrix (test_rendered_packages.py) and the update tests
(test_update.py): a package updated by `copier update` must pass exactly what
a fresh render passes.
"""

from __future__ import annotations

import subprocess
import sysconfig
from collections.abc import Callable
from pathlib import Path

import yaml

from scripts.rendering import RenderedPackage

SHARED_BIN = Path(sysconfig.get_path("scripts"))


def assert_succeeded(result: subprocess.CompletedProcess[str], what: str) -> None:
    output = "\n".join([result.stdout, result.stderr]).strip()
    tail = "\n".join(output.splitlines()[-80:])
    assert result.returncode == 0, f"{what} exited {result.returncode}:\n{tail}"


def assert_flagged(problems: list[str], *wanted: str) -> None:
    """Every `wanted` text appears in some problem; all misses reported at once."""
    missed = [text for text in wanted if not any(text in p for p in problems)]
    assert missed == [], f"not flagged: {missed} in:\n" + "\n".join(problems)


def run_package_tests(package: RenderedPackage, scratch: Path) -> None:
    # Its own basetemp: pytest prunes old numbered dirs under a shared one.
    # Four workers on two cores: the slow tests wait on node processes and
    # polls, not on the CPU (58 s serial, 41 s with -n 4 for one render).
    command: list[str | Path] = [
        package.python,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "4"),
        f"--basetemp={scratch / 'pytest-basetemp'}",
    ]
    assert_succeeded(package.run(command), "the rendered package's pytest")


def run_ruff_check(package: RenderedPackage, scratch: Path) -> None:
    command: list[str | Path] = [
        SHARED_BIN / "ruff",
        *("check", "--output-format=concise", "."),
    ]
    assert_succeeded(package.run(command), "ruff check")


def run_ruff_format(package: RenderedPackage, scratch: Path) -> None:
    result = package.run([SHARED_BIN / "ruff", "format", "--check", "."])
    assert_succeeded(result, "ruff format --check")


def run_mypy_strict(package: RenderedPackage, scratch: Path) -> None:
    result = package.run(
        [package.python, "-m", "mypy", "--strict", "src", "tests"],
        env={"MYPY_CACHE_DIR": str(mypy_cache_dir())},
    )
    assert_succeeded(result, "mypy --strict src tests")


def run_onex_validate(package: RenderedPackage, scratch: Path) -> None:
    # --verbose: without it a failure says how many issues, not which.
    command = package.console_command(
        "onex", "--verbose", "validate", "--strict", "src"
    )
    assert_succeeded(package.run(command), "onex validate --strict src")


def run_onex_compliance(package: RenderedPackage, scratch: Path) -> None:
    report = scratch / "compliance.yaml"
    command = package.console_command(
        "onex", "compliance", "check", "--repo-root", ".", "--output", report
    )
    assert_succeeded(package.run(command), "onex compliance check")
    # It also exits 0 when it finds nothing to check: count what it checked.
    summary = yaml.safe_load(report.read_text(encoding="utf-8"))
    assert (summary["total"], summary["failed"]) == (1, 0), summary
    nodes_dir = package.root / "src" / package.package_name / "nodes"
    contract = Path(summary["results"][0]["contract_path"])
    assert contract.parent.parent == nodes_dir


def mypy_cache_dir() -> Path:
    """One mypy cache for all renders, kept between runs (inside .venv).

    The third-party modules (omnibase-core, pydantic, aiohttp) are the same
    files in every render and make a cold run cost ~45 s instead of ~3 s;
    mypy still rechecks every module whose source differs. Living in .venv,
    it goes away with the dependencies it describes.
    """
    path = Path(sysconfig.get_path("data")) / "cache" / "mypy-renders"
    path.mkdir(parents=True, exist_ok=True)
    return path


CHECKS: dict[str, Callable[[RenderedPackage, Path], None]] = {
    "pytest": run_package_tests,
    "ruff-check": run_ruff_check,
    "ruff-format": run_ruff_format,
    "mypy-strict": run_mypy_strict,
    "onex-validate": run_onex_validate,
    "onex-compliance": run_onex_compliance,
}
