"""Post-copy task of the ONEX node template (standard library only).

copier runs it in the new project after `copier copy` (see `_tasks` in
copier.yml). It

1. makes the project a git repository with a first commit, so that
   `copier update` works later (update needs a clean git work tree), unless the
   project already lies inside a git work tree (then git is left alone);
2. prints short next steps, unless copier runs quietly (`copier copy --quiet`,
   or `run_copy(quiet=True)` as the template's own demo, bench and tests do:
   they render into folders they delete). Problems are printed either way.

It never fails the copy: when git is missing or a git command fails it prints a
note and exits 0. Running it again changes nothing.

Usage: post_copy.py [--dst DIR] [--package NAME] [--port N] [--health-path PATH]
                    [--quiet=true|false]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

FALLBACK_NAME = "ONEX node template"
FALLBACK_EMAIL = "onex-node-template@localhost"
DEFAULT_BRANCH = "main"
COMMIT_MESSAGE = "Generate project from the ONEX node template"
GIT_TIMEOUT_SECONDS = 60

# Variables that would point git at another repository than the destination.
_REDIRECTING_GIT_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)


class GitError(Exception):
    """A git command failed; the message says which and why."""


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_GIT_VARIABLES}
    # Never wait for a credential or passphrase prompt on a terminal.
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    return env


def _git(
    git: str, dst: Path, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            [git, *args],
            cwd=dst,
            env=_git_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"git {' '.join(args)}: {error}") from error
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise GitError(f"git {' '.join(args)} failed: {detail}")
    return result


def _config_value(git: str, dst: Path, key: str) -> str:
    result = _git(git, dst, "config", "--get", key, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def inside_work_tree(git: str, dst: Path) -> bool:
    """True when ``dst`` already lies inside a git work tree (its own or a parent's)."""
    if (dst / ".git").exists():
        return True
    result = _git(git, dst, "rev-parse", "--is-inside-work-tree", check=False)
    return result.returncode == 0 and result.stdout.strip() == "true"


def identity_options(git: str, dst: Path) -> list[str]:
    """``-c user.name=...``/``-c user.email=...`` for what git has no value for."""
    options: list[str] = []
    name_in_env = os.environ.get("GIT_AUTHOR_NAME") and os.environ.get(
        "GIT_COMMITTER_NAME"
    )
    if not (_config_value(git, dst, "user.name") or name_in_env):
        options += ["-c", f"user.name={FALLBACK_NAME}"]
    email_in_env = os.environ.get("EMAIL") or (
        os.environ.get("GIT_AUTHOR_EMAIL") and os.environ.get("GIT_COMMITTER_EMAIL")
    )
    if not (_config_value(git, dst, "user.email") or email_in_env):
        options += ["-c", f"user.email={FALLBACK_EMAIL}"]
    return options


def init_repository(git: str, dst: Path) -> str:
    """``git init``, add everything, first commit. Returns the new commit's id."""
    init_options: list[str] = []
    if not _config_value(git, dst, "init.defaultBranch"):
        init_options = ["-c", f"init.defaultBranch={DEFAULT_BRANCH}"]
    _git(git, dst, *init_options, "init", "--quiet")
    _git(git, dst, "add", "--all")
    _git(
        git,
        dst,
        *identity_options(git, dst),
        "commit",
        "--quiet",
        "--no-verify",
        "--message",
        COMMIT_MESSAGE,
    )
    return _git(git, dst, "rev-parse", "--short", "HEAD").stdout.strip()


def set_up_git(dst: Path) -> tuple[bool, str]:
    """Do the git part; return (done as planned, one line saying what happened)."""
    git = shutil.which("git")
    if git is None:
        return False, (
            "note: git not found, so the project is not a git repository yet. "
            "`copier update` needs one: run `git init && git add -A && "
            "git commit -m 'Generate project'` once git is installed."
        )
    try:
        if inside_work_tree(git, dst):
            top = _git(git, dst, "rev-parse", "--show-toplevel", check=False)
            where = top.stdout.strip() or str(dst)
            return True, (
                f"git: already inside the git work tree at {where}; "
                "left as it is (commit the new files there)."
            )
        commit = init_repository(git, dst)
    except GitError as error:
        return False, (
            f"note: could not create the first commit ({error}). "
            "`copier update` needs a clean git work tree: commit the project "
            "yourself."
        )
    return True, f"git: new repository with a first commit ({commit})."


def next_steps(dst: Path, package: str, port: str, health_path: str) -> str:
    """Short next steps for the new project."""
    steps: list[tuple[str, str]] = [
        (f"cd {dst}", ""),
        ("uv sync", "install (or: pip install -e . plus the dev group)"),
    ]
    if package:
        url = f"http://localhost:{port or '<port>'}{health_path or '/health'}"
        steps.append((f"uv run python -m {package}", f"run; health check at {url}"))
    steps += [
        ("uv run pytest", "test"),
        (
            "copier update --trust --skip-answered --defaults",
            "later: newer template patterns",
        ),
    ]
    width = max(len(command) for command, comment in steps if comment)
    lines = ["Next steps:"]
    for command, comment in steps:
        lines.append(
            f"  {command.ljust(width)}  # {comment}" if comment else f"  {command}"
        )
    lines.append(
        "See docs/operations.md (configuration) and docs/template.md (updates)."
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dst", type=Path, default=Path.cwd(), help="project dir")
    parser.add_argument("--package", default="", help="import package name")
    parser.add_argument("--port", default="", help="health endpoint port")
    parser.add_argument("--health-path", default="", help="health endpoint path")
    # copier.yml passes copier's own quiet setting, rendered as True or False.
    parser.add_argument(
        "--quiet",
        type=lambda text: text.strip().lower() == "true",
        default=False,
        help="print problems only (true/false)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    dst = Path(args.dst).resolve()
    as_planned, report = set_up_git(dst)
    if not (as_planned and args.quiet):
        print(report)
    if not args.quiet:
        print(next_steps(dst, args.package, args.port, args.health_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
