"""Migrations of the ONEX node template (standard library only).

copier runs this from `_migrations` in copier.yml during `copier update`, in
the project, once per migration whose version lies between the project's old
template version and the new one. It is quick and idempotent: running it again
changes nothing.

Operation:

  migrate.py move OLD NEW --template-path TPATH [--src TEMPLATE_DIR]

    A template-owned file moved from OLD to NEW (paths relative to the project).
    Run it in the "after" stage: copier has already rendered NEW and removed
    OLD, but it drops any edit the owner had made to OLD. This carries such an
    edit over: it 3-way merges the owner's last committed OLD (HEAD, since
    `copier update` needs a clean work tree) into NEW, with the template's OLD
    at the old version (TPATH in TEMPLATE_DIR at $VERSION_FROM) as the base.
    A clash leaves git conflict markers in NEW and says so. Then it removes
    what is left of OLD: the file if it is still there, its cached bytecode,
    and directories left empty.

Exit status: 0 when the project is migrated (conflict markers included, like
copier's own conflicts), 2 on bad arguments or when the project is not a git
work tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT_SECONDS = 60
MERGE_LABELS = ("template (new)", "template (old)", "yours (before the update)")


class MigrationError(Exception):
    """The migration cannot run; the message says why."""


def _git_output(cwd: Path, *args: str) -> bytes | None:
    """stdout of a git command, or None when it fails (missing path or ref)."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def committed_content(project: Path, relative: str) -> bytes | None:
    """The owner's last committed version of a project file."""
    return _git_output(project, "show", f"HEAD:{relative}")


def template_content(template: Path | None, version: str, path: str) -> bytes | None:
    """A template file as it was at ``version`` (None when unknown)."""
    if template is None or not version:
        return None
    return _git_output(template, "show", f"{version}:{path}")


def merge_owner_edit(target: Path, base: bytes, yours: bytes) -> bool:
    """Apply the owner's change (base -> yours) to ``target``; False on a clash."""
    with tempfile.TemporaryDirectory(prefix="onex-migrate-") as scratch:
        base_file = Path(scratch, "base")
        yours_file = Path(scratch, "yours")
        base_file.write_bytes(base)
        yours_file.write_bytes(yours)
        labels = [option for label in MERGE_LABELS for option in ("-L", label)]
        files = [str(target), str(base_file), str(yours_file)]
        result = subprocess.run(
            ["git", "merge-file", *labels, *files],
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    if result.returncode < 0 or result.returncode > 127:
        raise MigrationError(f"git merge-file failed on {target}: {result.stderr!r}")
    return result.returncode == 0


def remove_leftovers(project: Path, old: Path) -> list[str]:
    """Remove OLD, its cached bytecode and directories it leaves empty."""
    removed: list[str] = []
    target = project / old
    if target.is_file() or target.is_symlink():
        target.unlink()
        removed.append(str(old))
    cache = target.parent / "__pycache__"
    if target.suffix == ".py" and cache.is_dir():
        for compiled in cache.glob(f"{target.stem}.*.pyc"):
            compiled.unlink()
            removed.append(str(compiled.relative_to(project)))
        if not any(cache.iterdir()):
            cache.rmdir()
    directory = target.parent
    # A directory holding only bytecode would still import as a namespace
    # package and hide the move: it goes as well.
    while directory != project and directory.is_dir():
        entries = list(directory.iterdir())
        if any(entry.name != "__pycache__" for entry in entries):
            break
        shutil.rmtree(directory)
        removed.append(str(directory.relative_to(project)) + "/")
        directory = directory.parent
    return removed


def move(
    project: Path, old: Path, new: Path, template: Path | None, template_path: str
) -> str:
    """Carry the owner's edit of OLD into NEW and remove OLD; return a report."""
    if (project / new).resolve() == (project / old).resolve():
        raise MigrationError(f"move: OLD and NEW are the same path ({old})")
    lines: list[str] = []
    yours = committed_content(project, old.as_posix())
    version_from = os.environ.get("VERSION_FROM", "")
    base = template_content(template, version_from, template_path)
    target = project / new
    if yours is None:
        lines.append(f"{old}: not in the last commit, nothing of yours to carry over")
    elif not target.is_file():
        raise MigrationError(f"move: {new} does not exist; run in the 'after' stage")
    elif base is None:
        lines.append(
            f"{old}: could not read the template's {template_path} at "
            f"{version_from or '(no VERSION_FROM)'}; if you had edited it, your "
            f"version is in git: git show HEAD:{old.as_posix()}"
        )
    elif yours == base or yours == target.read_bytes():
        lines.append(f"{old} -> {new}: moved (no edits of yours)")
    elif merge_owner_edit(target, base, yours):
        lines.append(f"{old} -> {new}: moved, your edits carried over")
    else:
        lines.append(
            f"{old} -> {new}: moved; your edits clash with the template's, "
            f"resolve the conflict markers in {new}"
        )
    removed = remove_leftovers(project, old)
    if removed:
        lines.append("removed: " + ", ".join(removed))
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    move_parser = commands.add_parser("move", help="a template-owned file moved")
    move_parser.add_argument("old", type=Path, help="old path, relative to the project")
    move_parser.add_argument("new", type=Path, help="new path, relative to the project")
    move_parser.add_argument(
        "--template-path",
        required=True,
        help="the file's path in the template repository at the old version",
    )
    move_parser.add_argument(
        "--src", type=Path, default=None, help="template repository (git)"
    )
    move_parser.add_argument(
        "--dst", type=Path, default=Path.cwd(), help="project directory"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    project = Path(args.dst).resolve()
    try:
        for path in (args.old, args.new):
            if path.is_absolute() or ".." in path.parts:
                raise MigrationError(f"move: {path} must be relative to the project")
        if _git_output(project, "rev-parse", "--is-inside-work-tree") is None:
            raise MigrationError(f"{project} is not a git work tree")
        print(move(project, args.old, args.new, args.src, args.template_path))
    except MigrationError as error:
        print(f"migrate.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
