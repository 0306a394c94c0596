"""A new user's first contact: the generated README's commands, in order.

A temporary git copy of this template is tagged 0.1.0 (the template as it is
on disk) and 0.2.0 (a template change: a docs line and a new template-owned
file). A package rendered from 0.1.0 runs its README's commands as written,
with uv, and with pip alone (no uv on PATH), then the README's
`copier update` command, which must take 0.2.0 cleanly.

The commands are read from the rendered README itself: every fenced `sh`
block right after a `<!-- first-contact: NAME -->` comment, so the test
cannot drift from the docs. What the environment adds, and why:

- `PYTEST_ADDOPTS` points the README's `pytest` at the handler's tests only:
  the full suite of every render is run by test_rendered_packages.py, and
  here it would cost a minute per path.
- PATH starts with a directory holding `copier` (and `uv` for the uv path)
  from the shared venv, as `pipx install copier` / an installed uv would.

Nothing else: uv and pip reach the package index as they would for a user
(uv's cache is warm from the bootstrap, pip downloads).

Two cheap tests cover the interpreter traps of docs/operations.md ("Set it
up"): no Python 3.12 at all (uv names `uv python install 3.12` and downloads
nothing), and a pyenv shim that exits 127 (uv names it; `uv sync --python`
gets past it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from answers_support import (
    git,
    release,
    released_template_copy,
    unresolved_after_update,
)
from package_checks import SHARED_BIN, assert_succeeded

from scripts.rendering import USER_ENV, git_identity, render

OLD, NEW = "0.1.0", "0.2.0"
ANSWERS: Mapping[str, object] = {"service_name": "inventory-sync"}
HANDLER_TESTS = "tests/test_handler_inventory_sync.py"
# 0.2.0's change: a line in a template-owned doc and a new template-owned file.
DOCS_TEMPLATE = "template/docs/operations.md.jinja"
DOCS_LINE = "\nTemplate 0.2.0 was here.\n"
NEW_FILE = "docs/first-contact.md"
NEW_FILE_TEXT = (
    "<!-- Managed by the ONEX node template: `copier update` replaces this file.\n"
    "     Change the template, not this copy: docs/template.md says how. -->\n"
    "# Added by template 0.2.0\n"
)
STEP_BLOCK = re.compile(
    r"<!-- first-contact: (?P<name>[\w-]+) -->\n```sh\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)
GIT_NAMES = ("GIT_AUTHOR_", "GIT_COMMITTER_")
# What pyenv's shim does when no installed version provides the command.
PYENV_SHIM = '#!/bin/sh\necho "pyenv: python3.12: command not found" >&2\nexit 127\n'


def readme_steps(readme: str) -> dict[str, str]:
    """The README's marked `sh` blocks, by name."""
    return {match["name"]: match["body"] for match in STEP_BLOCK.finditer(readme)}


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("first-contact") / "onex-node-template"
    released_template_copy(root, OLD)
    with (root / DOCS_TEMPLATE).open("a", encoding="utf-8") as docs:
        docs.write(DOCS_LINE)
    (root / "template" / NEW_FILE).write_text(NEW_FILE_TEXT, encoding="utf-8")
    release(root, NEW)
    return root


@pytest.fixture
def project(template_repo: Path, tmp_path: Path) -> Path:
    """A fresh package from 0.1.0, committed by the post-copy hook."""
    dst = tmp_path / "inventory-sync"
    return render(dst, ANSWERS, src=template_repo, vcs_ref=OLD)


def tools_dir(where: Path, *tools: str) -> Path:
    """A directory of links to the shared venv's ``tools``, to put on PATH."""
    where.mkdir()
    for tool in tools:
        (where / tool).symlink_to(SHARED_BIN / tool)
    return where


def user_env(tools: Path) -> dict[str, str]:
    """The user's environment with ``tools`` first on PATH, outside any venv."""
    env = {
        key: value
        for key, value in USER_ENV.items()
        if not key.startswith("PYTEST_") and key not in {"VIRTUAL_ENV", "PYTHONHOME"}
    }
    env["PATH"] = f"{tools}:{env.get('PATH', '')}"
    env["PYTEST_ADDOPTS"] = HANDLER_TESTS
    return env


def run(
    command: list[str], project: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``project`` with exactly ``env`` (exit codes not checked)."""
    return subprocess.run(
        command,
        cwd=project,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run_step(
    project: Path, name: str, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run the README's block ``name`` in ``project`` as one bash script."""
    steps = readme_steps((project / "README.md").read_text(encoding="utf-8"))
    assert name in steps, f"README.md has no `first-contact: {name}` block"
    # The README commits; git_identity() supplies an identity if none is set.
    with git_identity():
        identity = {k: v for k, v in os.environ.items() if k.startswith(GIT_NAMES)}
    script = ["bash", "-euo", "pipefail", "-c", steps[name]]
    return run(script, project, {**env, **identity})


def assert_updated_cleanly(project: Path) -> None:
    """`copier update` took 0.2.0 and left nothing to resolve."""
    assert unresolved_after_update(project) == []
    docs = (project / "docs" / "operations.md").read_text(encoding="utf-8")
    assert docs.endswith(DOCS_LINE)
    assert (project / NEW_FILE).read_text(encoding="utf-8") == NEW_FILE_TEXT
    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert f"_commit: {NEW}\n" in answers


def follow_readme(project: Path, path: str, env: Mapping[str, str]) -> None:
    setup = run_step(project, path, env)
    assert_succeeded(setup, f"the README's {path} commands")
    # The lock is committed; .venv and tool caches are ignored: the work tree
    # is clean, or `copier update` would refuse to run.
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "ls-files", "uv.lock") == "uv.lock\n"
    assert re.search(r"\b\d+ passed\b", setup.stdout), setup.stdout
    update = run_step(project, "update", env)
    assert_succeeded(update, "the README's copier update")
    assert "dirty" not in update.stderr
    assert_updated_cleanly(project)


def test_readme_with_uv_then_update(project: Path, tmp_path: Path) -> None:
    # The README's update command is the one of docs/template.md's routine.
    readme = readme_steps((project / "README.md").read_text(encoding="utf-8"))
    routine = (project / "docs" / "template.md").read_text(encoding="utf-8")
    assert all(f"\n{line}" in routine for line in readme["update"].splitlines())
    env = user_env(tools_dir(tmp_path / "tools", "uv", "copier"))
    follow_readme(project, "uv", env)


def test_readme_with_pip_alone_then_update(project: Path, tmp_path: Path) -> None:
    env = user_env(tools_dir(tmp_path / "tools", "copier"))
    no_uv = run(["bash", "-c", "command -v uv"], project, env)
    assert no_uv.returncode == 1, "uv is on PATH: this would not be the pip path"
    follow_readme(project, "pip", env)


def test_uv_without_python_312_says_how_to_get_one(
    project: Path, tmp_path: Path
) -> None:
    # No Python on PATH and none managed by uv: uv must stop and name the
    # command that installs 3.12 (.python-version), never download one itself.
    managed = tmp_path / "uv-pythons"
    env = {
        "HOME": str(tmp_path),
        "PATH": str(tools_dir(tmp_path / "tools", "uv")),
        "UV_PYTHON_INSTALL_DIR": str(managed),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
    }
    result = run(["uv", "sync"], project, env)
    assert result.returncode != 0, result.stdout
    assert "No interpreter found for Python 3.12" in result.stderr, result.stderr
    assert "`uv python install 3.12`" in result.stderr, result.stderr
    assert not managed.exists() or not any(managed.iterdir())
    assert not (project / ".venv").exists()


def test_broken_pyenv_shim_is_named_and_python_option_gets_past_it(
    project: Path, tmp_path: Path
) -> None:
    # The trap of issue 11: the only python3.12 on PATH is a pyenv shim that
    # exits 127. uv must name it (not download a Python), and the documented
    # `uv sync --python /path/to/python3.12` must get past it for good.
    tools = tools_dir(tmp_path / "tools", "uv")
    shim = tools / "python3.12"
    shim.write_text(PYENV_SHIM, encoding="utf-8")
    shim.chmod(0o755)
    env = {**user_env(tools), "PATH": str(tools)}
    stuck = run(["uv", "sync"], project, env)
    assert stuck.returncode != 0, stuck.stdout
    assert "Failed to inspect Python interpreter" in stuck.stderr, stuck.stderr
    assert str(shim) in stuck.stderr and "command not found" in stuck.stderr
    python = Path(sys.base_prefix) / "bin" / "python3.12"
    synced = run(["uv", "sync", "--python", str(python)], project, env)
    assert_succeeded(synced, "uv sync --python")
    # Later commands keep that interpreter: .venv satisfies .python-version.
    version = "import sys; print(sys.version_info[:2])"
    again = run(["uv", "run", "python", "-c", version], project, env)
    assert_succeeded(again, "uv run python")
    assert again.stdout.strip() == "(3, 12)"


def test_unresolved_after_update_flags_markers_and_rejects(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    (tmp_path / ".gitignore").write_text(".venv/\n", encoding="utf-8")
    conflict = "<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after\n"
    (tmp_path / "pyproject.toml").write_text(conflict, encoding="utf-8")
    (tmp_path / "README.md.rej").write_text("@@ -1 +1 @@\n", encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "ignored.txt").write_text(conflict, encoding="utf-8")
    assert unresolved_after_update(tmp_path) == [
        "README.md.rej: rejected hunks",
        "pyproject.toml: conflict markers",
    ]
