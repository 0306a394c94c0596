"""hooks/post_copy.py: first commit after `copier copy`, idempotent, never fatal."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from answers_support import (
    REDIRECTING_GIT_VARIABLES,
    REPO_ROOT,
    clean_git_env,
    git,
    make_template_repo,
)
from copier import run_copy, run_update
from plumbum import local

from scripts.rendering import render

HOOK = REPO_ROOT / "hooks" / "post_copy.py"
FALLBACK_IDENTITY = "ONEX node template <onex-node-template@localhost>"
DATA = {"service_name": "postgres-crud"}
TEMPLATE_FILES = {
    "README.md.jinja": "# {{ service_name }}\n",
    "src/{{ package_name }}/__init__.py.jinja": '"""{{ description }}"""\n',
}


@pytest.fixture(scope="module")
def template_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hook-template")
    return make_template_repo(root / "template", template_files=TEMPLATE_FILES)


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Isolate git from the machine's configuration: no identity configured.

    copier runs tasks (and git) with plumbum's ``local.env``, a copy of
    os.environ taken when plumbum was imported: patch both.
    """
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("", encoding="utf-8")
    settings = {
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    unset = (
        "EMAIL",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_DIR",
        "GIT_WORK_TREE",
    )
    saved = local.env.getdict()
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
        local.env[name] = value
    for name in unset:
        monkeypatch.delenv(name, raising=False)
        local.env.pop(name, "")
    try:
        yield home
    finally:
        local.env.clear()
        local.env.update(saved)


def copy(src: Path, dst: Path, *, quiet: bool = False) -> None:
    """`copier copy` with tasks (the hook) enabled, as a user runs it."""
    run_copy(
        str(src),
        str(dst),
        data=DATA,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=quiet,
    )


def run_hook(
    dst: Path, env: dict[str, str] | None = None, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, str(HOOK), "--dst", str(dst)),
            *("--package", "postgres_crud", *extra),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env if env is not None else clean_git_env(),
        timeout=60,
    )


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def commit_count(repo: Path) -> int:
    return int(git(repo, "rev-list", "--count", "HEAD"))


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def test_copy_makes_a_repository_with_one_clean_commit(
    template_src: Path,
    tmp_path: Path,
    git_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dst = tmp_path / "dst"
    copy(template_src, dst)
    assert (dst / ".git").is_dir()
    assert commit_count(dst) == 1
    assert status(dst) == ""
    tracked = set(git(dst, "ls-files").split())
    assert tracked == {
        ".copier-answers.yml",
        "README.md",
        "src/postgres_crud/__init__.py",
    }
    # No identity configured (isolated HOME): the fallback one is used.
    author = git(dst, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip()
    assert author == f"{FALLBACK_IDENTITY}|{FALLBACK_IDENTITY}"
    output = capfd.readouterr().out
    assert "git: new repository with a first commit" in output
    assert "Next steps:" in output
    assert "uv run python -m postgres_crud" in output
    assert "copier update" in output


def test_configured_identity_is_kept(
    template_src: Path, tmp_path: Path, git_home: Path
) -> None:
    (git_home / ".gitconfig").write_text(
        "[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n", encoding="utf-8"
    )
    dst = tmp_path / "dst"
    copy(template_src, dst)
    author = git(dst, "log", "-1", "--format=%an <%ae>").strip()
    assert author == "Ada Lovelace <ada@example.org>"


def test_running_the_hook_again_changes_nothing(
    template_src: Path, tmp_path: Path, git_home: Path
) -> None:
    dst = tmp_path / "dst"
    copy(template_src, dst)
    before = head(dst)
    files_before = sorted(p.relative_to(dst) for p in dst.rglob("*"))
    result = run_hook(dst, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert f"already inside the git work tree at {dst}" in result.stdout
    assert head(dst) == before
    assert commit_count(dst) == 1
    assert status(dst) == ""
    assert sorted(p.relative_to(dst) for p in dst.rglob("*")) == files_before


def test_destination_inside_an_existing_repository(
    template_src: Path,
    tmp_path: Path,
    git_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    outer = tmp_path / "monorepo"
    outer.mkdir()
    (outer / "README.md").write_text("monorepo\n", encoding="utf-8")
    git(outer, "init", "-q")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "monorepo")
    before = head(outer)
    dst = outer / "nodes" / "postgres-crud"
    copy(template_src, dst)
    assert f"already inside the git work tree at {outer}" in capfd.readouterr().out
    assert (dst / ".copier-answers.yml").is_file()
    assert not (dst / ".git").exists(), "no nested repository"
    assert head(outer) == before
    assert commit_count(outer) == 1
    # The new files wait, untracked, for the owner of the outer repository.
    assert git(outer, "diff", "--cached", "--name-only") == ""
    assert "?? nodes/postgres-crud/README.md" in status(outer).splitlines()


def test_missing_git_does_not_fail_the_hook(tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "README.md").write_text("x\n", encoding="utf-8")
    empty_path = tmp_path / "no-git-bin"
    empty_path.mkdir()
    result = run_hook(dst, env=clean_git_env({"PATH": str(empty_path)}))
    assert result.returncode == 0, result.stderr
    assert "note: git not found" in result.stdout
    assert "Next steps:" in result.stdout
    assert not (dst / ".git").exists()


def test_quiet_hook_still_reports_problems(tmp_path: Path) -> None:
    dst = tmp_path / "dst"
    dst.mkdir()
    empty_path = tmp_path / "no-git-bin"
    empty_path.mkdir()
    env = clean_git_env({"PATH": str(empty_path)})
    result = run_hook(dst, env, "--quiet=True")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("note: git not found")
    assert "Next steps:" not in result.stdout


def test_quiet_copy_commits_and_prints_nothing(
    template_src: Path,
    tmp_path: Path,
    git_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dst = tmp_path / "dst"
    copy(template_src, dst, quiet=True)
    assert commit_count(dst) == 1
    assert capfd.readouterr() == ("", "")


def test_render_helper_of_demo_and_bench_prints_nothing(
    template_src: Path,
    tmp_path: Path,
    git_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # scripts.rendering.render is the render step of `make demo`, `make bench`
    # and the tests; the demo prints what it means around it. The template has
    # no tag: copier's "No git tags found" warning must not show either.
    project = render(tmp_path / "dst", DATA, src=template_src)
    assert commit_count(project) == 1
    assert capfd.readouterr() == ("", "")


def test_missing_git_does_not_fail_the_copy(template_src: Path, tmp_path: Path) -> None:
    """Whole `copier copy` with no git on PATH (template as a plain directory)."""
    plain = tmp_path / "plain-template"
    shutil.copytree(template_src, plain, ignore=shutil.ignore_patterns(".git"))
    empty_path = tmp_path / "no-git-bin"
    empty_path.mkdir()
    dst = tmp_path / "dst"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults"),
            *("--data", "service_name=postgres-crud", str(plain), str(dst)),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=clean_git_env({"PATH": str(empty_path)}),
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "note: git not found" in result.stdout
    assert (dst / ".copier-answers.yml").is_file()
    assert not (dst / ".git").exists()


def test_hook_ignores_git_variables_pointing_elsewhere(
    tmp_path: Path, git_home: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "README.md").write_text("x\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(GIT_DIR=str(other / ".git"), GIT_WORK_TREE=str(other))
    result = run_hook(dst, env=env)
    assert result.returncode == 0, result.stderr
    assert commit_count(dst) == 1
    assert status(dst) == ""
    assert git(other, "rev-list", "--all") == "", "the other repository is untouched"


def test_update_does_not_run_the_hook(
    template_src: Path,
    tmp_path: Path,
    git_home: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dst = tmp_path / "dst"
    copy(template_src, dst)
    before = head(dst)
    capfd.readouterr()
    # Not quiet, so that the hook would be heard if it ran.
    run_update(str(dst), overwrite=True, unsafe=True, defaults=True, vcs_ref="HEAD")
    assert "Next steps:" not in capfd.readouterr().out
    assert head(dst) == before
    assert status(dst) == ""


def test_the_tests_drop_the_same_git_variables_as_the_hook() -> None:
    # The hook is standalone (not importable as a module): read its constant.
    tree = ast.parse(HOOK.read_text(encoding="utf-8"))
    (hook_set,) = [
        ast.literal_eval(node.value.args[0])
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and [getattr(target, "id", "") for target in node.targets]
        == ["_REDIRECTING_GIT_VARIABLES"]
    ]
    assert hook_set == REDIRECTING_GIT_VARIABLES
