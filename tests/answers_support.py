"""Helpers shared by the template tests: answers, git, template copies.

Also the generator of ``includes/reserved_stdlib_modules.yml`` and
``includes/reserved_dependency_modules.yml``::

    .venv/bin/python tests/answers_support.py

It unions ``sys.stdlib_module_names`` of every Python in ``STDLIB_PYTHONS`` that
runs here, the top-level import names of the dependency closure of what a
rendered package needs (read from this interpreter's environment), and a few
names chosen by hand (``EXTRA_RESERVED``).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = REPO_ROOT / "copier.yml"
INCLUDES = REPO_ROOT / "includes"
RESERVED_STDLIB = INCLUDES / "reserved_stdlib_modules.yml"
RESERVED_DEPENDENCIES = INCLUDES / "reserved_dependency_modules.yml"
ANSWERS_TEMPLATE = "{{_copier_conf.answers_file}}.jinja"
# Variables that point git at another repository: the same set the post-copy
# hook drops (hooks/post_copy.py stays standalone, so it is not imported here).
REDIRECTING_GIT_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)

#: Distributions a rendered package needs at run time, in its checks, and to be
#: updated from the template. Their dependency closure is "the dependencies".
DEPENDENCY_ROOTS: tuple[tuple[str, frozenset[str]], ...] = (
    ("omnibase-core", frozenset()),
    ("py-consul", frozenset({"asyncio"})),
    ("aiohttp", frozenset()),
    ("pydantic", frozenset()),
    ("prometheus-client", frozenset()),
    ("pyyaml", frozenset()),
    ("hatchling", frozenset()),
    ("pytest", frozenset()),
    ("pytest-asyncio", frozenset()),
    ("ruff", frozenset()),
    ("mypy", frozenset()),
    ("types-pyyaml", frozenset()),
    ("copier", frozenset()),
)

#: Names that are not in the closure above but would still shadow something a
#: rendered package or its tooling imports.
EXTRA_RESERVED: tuple[str, ...] = (
    "omnibase_spi",  # OmniNode SPI, imported by some omnibase-core users
    "pip",
    "uv",
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils",  # removed from 3.12's stdlib, provided by setuptools
    "wheel",
    "tests",  # the rendered package's own test directory
    "conftest",  # pytest's per-directory plugin module
)

STDLIB_PYTHONS: tuple[str, ...] = ("python3.12", "python3.13")

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _top_level_names(dist: metadata.Distribution) -> set[str]:
    """Top-level importable names a distribution installs."""
    names: set[str] = set()
    for file in dist.files or []:
        parts = file.parts
        first = parts[0]
        if (
            first.startswith("..")
            or first.endswith((".dist-info", ".data", ".pth"))
            or first == "__pycache__"
        ):
            continue
        if len(parts) > 1:
            names.add(first)
        elif first.endswith(".py"):
            names.add(first[: -len(".py")])
        elif first.endswith((".so", ".pyd")):
            names.add(first.split(".", 1)[0])
    if not names:
        top_level = dist.read_text("top_level.txt") or ""
        names.update(line.strip() for line in top_level.splitlines())
    # Stub-only distributions ("yaml-stubs") and mypyc's hashed helper modules
    # are not importable names a package could shadow.
    return {name for name in names if IDENTIFIER.match(name)} - {
        name for name in names if name.endswith("__mypyc")
    }


def dependency_closure() -> dict[str, metadata.Distribution]:
    """Installed distributions reachable from DEPENDENCY_ROOTS (normalized names)."""
    installed = {_normalize(d.metadata["Name"]): d for d in metadata.distributions()}
    seen: dict[str, metadata.Distribution] = {}
    stack = [(_normalize(name), extras) for name, extras in DEPENDENCY_ROOTS]
    environment = {key: str(value) for key, value in default_environment().items()}
    while stack:
        name, extras = stack.pop()
        if name in seen or name not in installed:
            continue
        dist = installed[name]
        seen[name] = dist
        for raw in dist.requires or []:
            requirement = Requirement(raw)
            if requirement.marker is not None and not any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in (extras or {""})
            ):
                continue
            stack.append((_normalize(requirement.name), frozenset(requirement.extras)))
    return seen


def dependency_import_names() -> set[str]:
    """Top-level import names of the dependency closure installed here."""
    names: set[str] = set()
    for dist in dependency_closure().values():
        names |= _top_level_names(dist)
    return names


def stdlib_module_names(pythons: Iterable[str] = STDLIB_PYTHONS) -> set[str]:
    """Union of sys.stdlib_module_names of this and the given interpreters."""
    names = set(sys.stdlib_module_names)
    probe = "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))"
    for python in pythons:
        # A pyenv shim on PATH may exist and still exit 127: try each candidate.
        for candidate in _candidates(python):
            result = subprocess.run(
                [candidate, "-c", probe], capture_output=True, text=True, check=False
            )
            if result.returncode == 0:
                names.update(result.stdout.split())
                break
    return names


def _candidates(python: str) -> list[str]:
    found = [path] if (path := shutil.which(python)) else []
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    version = python.removeprefix("python")
    found += [str(path) for path in sorted(root.glob(f"{version}*/bin/{python}"))]
    return found


def load_reserved_names(path: Path) -> list[str]:
    """One include file as copier's ``!include`` sees it (all documents, flat)."""
    names: list[str] = []
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if document:
            names.extend(document)
    return names


_HEADER = """\
# {what}
# package_name must not be one of these top-level module names: the package
# would shadow the module or be shadowed by it. copier.yml includes this file
# into the computed value `reserved_module_names` (when: false), which
# package_name's default and validator read.
#
# Generated by: .venv/bin/python tests/answers_support.py
# tests/test_answers.py checks that it is complete for the running interpreter
# and the installed dependencies.
"""


def render_reserved_files() -> dict[Path, str]:
    """Text of both include files, by path."""
    stdlib = sorted(stdlib_module_names())
    others = sorted((dependency_import_names() | set(EXTRA_RESERVED)) - set(stdlib))
    stdlib_text = _HEADER.format(
        what="Python 3.12 and 3.13 standard library (sys.stdlib_module_names, union)."
    ) + "".join(f"- {name}\n" for name in stdlib)
    others_text = _HEADER.format(
        what="Import names of the dependencies of a rendered package and its tools"
        "\n# (omnibase-core, py-consul[asyncio], aiohttp, pydantic, pyyaml, hatchling,"
        "\n# pytest, pytest-asyncio, ruff, mypy, copier and what they need), plus"
        "\n# packaging tools, pytest's conftest, the tests directory, omnibase_spi."
    ) + "".join(f"- {name}\n" for name in others)
    return {RESERVED_STDLIB: stdlib_text, RESERVED_DEPENDENCIES: others_text}


def make_template_repo(
    dest: Path,
    *,
    template_files: Mapping[str, str] | None = None,
) -> Path:
    """Copy the template's control files into ``dest`` and commit them.

    Copies copier.yml, includes/ and hooks/. ``template/`` gets only the
    answers-file template plus ``template_files`` (relative path -> text).
    Returns ``dest``, a git repository with one commit (copier renders HEAD).
    """
    dest.mkdir(parents=True)
    shutil.copy2(COPIER_YML, dest / "copier.yml")
    shutil.copytree(INCLUDES, dest / "includes")
    shutil.copytree(REPO_ROOT / "hooks", dest / "hooks")
    template_dir = dest / "template"
    template_dir.mkdir()
    shutil.copy2(
        REPO_ROOT / "template" / ANSWERS_TEMPLATE, template_dir / ANSWERS_TEMPLATE
    )
    for relative, text in (template_files or {}).items():
        target = template_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "--no-verify", "-m", "template under test")
    return dest


GIT_IDENTITY = (
    "-c",
    "user.name=Template Tests",
    "-c",
    "user.email=template-tests@localhost",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
)


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; return stdout (raises on failure)."""
    result = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env=clean_git_env(),
    )
    return result.stdout


def commit_all(cwd: Path, message: str) -> None:
    git(cwd, "add", "--all")
    git(cwd, "commit", "--quiet", "--no-verify", "--message", message)


def copy_work_tree(dst: Path) -> None:
    """The template as it is on disk: tracked and new files, not ignored ones."""
    listed = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard")
    for relative in listed.splitlines():
        source = REPO_ROOT / relative
        if source.is_file():
            target = dst / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def release(root: Path, version: str) -> None:
    """Commit everything in the template copy ``root`` and tag it ``version``."""
    commit_all(root, version)
    git(root, "tag", version)


def released_template_copy(root: Path, version: str) -> Path:
    """A git copy of the template as it is on disk at ``root``, tagged ``version``."""
    copy_work_tree(root)
    git(root, "init", "--quiet", "--initial-branch=main")
    release(root, version)
    return root


CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")


def unresolved_after_update(project: Path) -> list[str]:
    """What a `copier update` left to resolve: unmerged paths, .rej files, markers.

    Scans what git sees (tracked and untracked, not ignored: no .venv).
    """
    unmerged = git(project, "ls-files", "--unmerged").splitlines()
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard")
    files = [project / relative for relative in listed.splitlines()]
    return [
        *(f"unmerged: {line}" for line in unmerged),
        *(
            f"{path.relative_to(project).as_posix()}: "
            + ("rejected hunks" if path.suffix == ".rej" else "conflict markers")
            for path in files
            if path.is_file()
            and (
                path.suffix == ".rej"
                or any(marker in path.read_bytes() for marker in CONFLICT_MARKERS)
            )
        ),
    ]


def clean_git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without GIT_* variables that redirect git elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in REDIRECTING_GIT_VARIABLES
    }
    env.update(extra or {})
    return env


#: A template file that dumps every answer and computed value as JSON, so tests
#: can check values copier never saves (when: false).
PROBE_FILE = "answers_probe.json"
PROBE_NAMES: tuple[str, ...] = (
    "service_name",
    "node_type",
    "port",
    "domain",
    "project_name",
    "package_name",
    "node_class_name",
    "node_version",
    "description",
    "author",
    "health_path",
    "check_mode",
    "check_interval",
    "check_timeout",
    "deregister_critical_after",
    "extra_tags",
    "node_slug",
    "name_camel",
    "node_dir",
)
PROBE_TEMPLATE = (
    "{{ {" + ", ".join(f"'{name}': {name}" for name in PROBE_NAMES) + "} | to_json }}\n"
)


def read_probe(dst: Path) -> dict[str, Any]:
    """Values the probe file captured in a rendered destination."""
    data = json.loads((dst / PROBE_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


if __name__ == "__main__":
    for target, text in render_reserved_files().items():
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(REPO_ROOT)}")
