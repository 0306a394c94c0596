"""Figures of a rendered package: who owns its lines, its tests, its largest module.

Renders the template at ``--template`` (default: this repository; a plain
directory, e.g. ``git archive`` of an older commit, works too) with one answer
set, then prints one line per figure, ``<name>: <value> <unit>``:

- lines of template-owned code per concern: each subpackage of ``managed/``
  (each top-level directory of the package in older layouts), the node shells,
  the rest of the package's Python, the template-owned tests and the other
  template-owned files;
- user-owned lines and their share of all rendered lines;
- the generated tests: count and wall time with ``-n 4``, template-owned and
  the owner's separately;
- the largest template-owned module (path and lines).

A file is template-owned when its first lines carry the "Managed by the ONEX
node template" header and user-owned when they say "Yours to edit", so the
figures do not depend on where a layout puts things.

Run with ``make loc`` (or ``.venv/bin/python -m scripts.loc [--template DIR]``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from scripts.rendering import REPO_ROOT, RenderedPackage, install, render

ANSWERS = {"service_name": "inventory-sync", "node_type": "effect"}
TEMPLATE_MARK = "Managed by the ONEX node template"
USER_MARK = "Yours to edit"
# The header sits in the first lines (after a shebang or `<!--` at most).
HEADER_LINES = 4
# Not part of what copier renders for the owner to read.
IGNORED_PARTS = {".git", "__pycache__"}


def owner_of(path: Path) -> str | None:
    """ "template", "user" or None (unmarked: copier's answers file, ...)."""
    try:
        head = path.read_text(encoding="utf-8").splitlines()[:HEADER_LINES]
    except (UnicodeDecodeError, OSError):
        return None
    text = "\n".join(head)
    if TEMPLATE_MARK in text:
        return "template"
    if USER_MARK in text:
        return "user"
    return None


def rendered_files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not IGNORED_PARTS & set(relative.parts):
            yield path


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


TESTS = "tests"
OTHER = "other files (docs, config, CI, Docker)"
NOT_CODE = {TESTS, OTHER}


def concern_of(relative: Path, package: str) -> str:
    """The concern a template-owned file belongs to, read off its path."""
    parts = relative.parts
    if parts[0] == "src" and len(parts) > 2 and parts[1] == package:
        inner = parts[2:]
        if inner[0] == "managed" and len(inner) > 1:
            return "managed/" + Path(inner[1]).stem
        if inner[0] == "nodes":
            return "node shells"
        if len(inner) > 1:
            return inner[0] + "/"
        return "package root (cli, __main__)"
    if parts[0] == "tests":
        return TESTS
    return OTHER


def print_figure(name: str, value: object, unit: str) -> None:
    print(f"{name}: {value} {unit}".rstrip(), flush=True)


def ownership_figures(package: RenderedPackage) -> list[Path]:
    """Print the line figures; return the test files that are the owner's."""
    lines: Counter[str] = Counter()
    user_lines = 0
    owner_tests: list[Path] = []
    largest: tuple[int, str] = (0, "")
    for path in rendered_files(package.root):
        relative = path.relative_to(package.root)
        owner = owner_of(path)
        if owner is None:
            continue
        count = line_count(path)
        if owner == "user":
            user_lines += count
            if relative.parts[0] == "tests" and path.suffix == ".py":
                owner_tests.append(relative)
            continue
        lines[concern_of(relative, package.package_name)] += count
        if relative.parts[0] == "src" and path.suffix == ".py":
            largest = max(largest, (count, relative.as_posix()))
    code = [key for key in lines if key not in NOT_CODE]
    for concern in [*sorted(code), *sorted(set(lines) - set(code))]:
        print_figure(f"template-owned lines, {concern}", lines[concern], "lines")
    print_figure(
        "template-owned lines, package code total",
        sum(lines[key] for key in code),
        "lines",
    )
    template_total = sum(lines.values())
    print_figure("template-owned lines, all files", template_total, "lines")
    print_figure("user-owned lines", user_lines, "lines")
    share = 100 * user_lines / (user_lines + template_total)
    print_figure("user-owned share", f"{share:.1f}", "%")
    print_figure(f"largest template-owned module ({largest[1]})", largest[0], "lines")
    return owner_tests


def run_tests(package: RenderedPackage, targets: list[str], label: str) -> None:
    """Run `targets` with -n 4; print how many tests ran and the wall time."""
    with tempfile.TemporaryDirectory(prefix="loc-junit-") as scratch:
        report = Path(scratch) / "junit.xml"
        command = [
            str(package.python),
            "-m",
            "pytest",
            "-q",
            "-n",
            "4",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            *targets,
        ]
        started = time.perf_counter()
        result = package.run(command, timeout=1200)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit(f"the {label} tests failed ({result.returncode})")
        cases = len(ElementTree.parse(report).getroot().findall(".//testcase"))
    print_figure(f"generated tests, {label}", cases, "tests")
    print_figure(f"generated tests wall time (-n 4), {label}", f"{elapsed:.1f}", "s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--template",
        type=Path,
        default=REPO_ROOT,
        help="template directory to render (default: this repository)",
    )
    args = parser.parse_args(argv)
    template = args.template.resolve()
    # A plain directory (git archive of an old commit) has no ref to render.
    vcs_ref = "HEAD" if (template / ".git").exists() else None
    with tempfile.TemporaryDirectory(prefix="loc-") as scratch:
        work = Path(scratch)
        project = render(work / "project", ANSWERS, src=template, vcs_ref=vcs_ref)
        package = install(project, work / "venv")
        print_figure("template", template, "")
        owner_tests = ownership_figures(package)
        owner = [
            path.as_posix() for path in owner_tests if path.name.startswith("test_")
        ]
        template_tests = [
            path.relative_to(package.root).as_posix()
            for path in rendered_files(package.root / "tests")
            if path.name.startswith("test_")
            and path.suffix == ".py"
            and owner_of(path) == "template"
        ]
        run_tests(package, template_tests, "template-owned")
        run_tests(package, owner, "owner's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
