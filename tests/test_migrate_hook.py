"""hooks/migrate.py on small git repositories, one situation per test.

The state each test starts from is what `copier update` leaves before its
"after" migrations: the new file rendered, the old file removed from the work
tree, the owner's last commit still holding the old file. test_update.py runs
the hook through copier itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from answers_support import git

from scripts.rendering import REPO_ROOT

HOOK = REPO_ROOT / "hooks" / "migrate.py"
TEMPLATE_OLD = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\n"
TEMPLATE_NEW = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 60\n"


def init_repo(path: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(content, encoding="utf-8")
    git(path, "init", "--quiet")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "--message", "start")
    return path


@dataclass(frozen=True)
class Situation:
    project: Path
    template: Path

    def run(self, *extra: str, src: bool = True) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(HOOK), "move", "pkg/old.py", "pkg/new.py"]
        command += ["--template-path", "template/pkg/old.py", *extra]
        if src:
            command.append(f"--src={self.template}")
        return subprocess.run(
            command,
            cwd=self.project,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "VERSION_FROM": "0.1.0"},
        )

    def new_file(self) -> str:
        return (self.project / "pkg" / "new.py").read_text(encoding="utf-8")


def after_copier_update(tmp_path: Path, owner_version: str) -> Situation:
    """The project as copier leaves it for the "after" migrations."""
    template = init_repo(tmp_path / "template", {"template/pkg/old.py": TEMPLATE_OLD})
    git(template, "tag", "0.1.0")
    files = {"pkg/old.py": owner_version, "pkg/other.py": "x = 1\n"}
    project = init_repo(tmp_path / "project", files)
    (project / "pkg" / "old.py").unlink()
    (project / "pkg" / "new.py").write_text(TEMPLATE_NEW, encoding="utf-8")
    return Situation(project=project, template=template)


def test_unedited_file_needs_nothing(tmp_path: Path) -> None:
    situation = after_copier_update(tmp_path, TEMPLATE_OLD)
    result = situation.run()
    assert result.returncode == 0, result.stderr
    assert "no edits of yours" in result.stdout
    assert situation.new_file() == TEMPLATE_NEW


def test_owner_edit_follows_the_file_and_a_second_run_changes_nothing(
    tmp_path: Path,
) -> None:
    situation = after_copier_update(tmp_path, TEMPLATE_OLD.replace("b = 2", "b = 20"))
    first = situation.run()
    assert first.returncode == 0, first.stderr
    assert "your edits carried over" in first.stdout
    merged = TEMPLATE_NEW.replace("b = 2", "b = 20")
    assert situation.new_file() == merged
    second = situation.run()
    assert second.returncode == 0, second.stderr
    assert situation.new_file() == merged


def test_clash_leaves_markers_and_says_where(tmp_path: Path) -> None:
    situation = after_copier_update(tmp_path, TEMPLATE_OLD.replace("f = 6", "f = 7"))
    result = situation.run()
    assert result.returncode == 0, result.stderr
    assert "resolve the conflict markers in pkg/new.py" in result.stdout
    text = situation.new_file()
    assert "<<<<<<< template (new)" in text
    assert ">>>>>>> yours (before the update)" in text


def test_unknown_base_points_at_the_owner_copy_in_git(tmp_path: Path) -> None:
    situation = after_copier_update(tmp_path, TEMPLATE_OLD.replace("b = 2", "b = 20"))
    result = situation.run(src=False)
    assert result.returncode == 0, result.stderr
    assert "git show HEAD:pkg/old.py" in result.stdout
    assert situation.new_file() == TEMPLATE_NEW


def test_leftovers_go_with_bytecode_and_emptied_directories(tmp_path: Path) -> None:
    template = init_repo(tmp_path / "template", {"template/pkg/old.py": TEMPLATE_OLD})
    git(template, "tag", "0.1.0")
    project = init_repo(
        tmp_path / "project", {"pkg/sub/old.py": TEMPLATE_OLD, "pkg/keep.py": ""}
    )
    cache = project / "pkg" / "sub" / "__pycache__"
    cache.mkdir()
    (cache / "old.cpython-312.pyc").write_bytes(b"\0")
    (project / "pkg" / "new.py").write_text(TEMPLATE_NEW, encoding="utf-8")
    command = [sys.executable, str(HOOK), "move", "pkg/sub/old.py", "pkg/new.py"]
    command += ["--template-path=template/pkg/old.py", f"--src={template}"]
    result = subprocess.run(
        command,
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VERSION_FROM": "0.1.0"},
    )
    assert result.returncode == 0, result.stderr
    assert not (project / "pkg" / "sub").exists()
    assert (project / "pkg" / "keep.py").exists()
    assert "removed: pkg/sub/old.py" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["/abs/old.py", "pkg/new.py"], "/abs/old.py must be relative"),
        (["pkg/old.py", "../new.py"], "../new.py must be relative"),
        (["pkg/old.py", "pkg/old.py"], "OLD and NEW are the same path"),
    ],
)
def test_bad_paths_are_refused(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    situation = after_copier_update(tmp_path, TEMPLATE_OLD)
    command = [sys.executable, str(HOOK), "move", *arguments, "--template-path=x"]
    result = subprocess.run(
        command, cwd=situation.project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert situation.new_file() == TEMPLATE_NEW


def test_outside_a_git_work_tree_is_refused(tmp_path: Path) -> None:
    command = [sys.executable, str(HOOK), "move", "a.py", "b.py", "--template-path=x"]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "is not a git work tree" in result.stderr
