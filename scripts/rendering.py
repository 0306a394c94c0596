"""Render packages from this template and install each into a throwaway venv.

Every heavy dependency of a rendered package (omnibase-core, py-consul, aiohttp,
ruff, mypy, pytest, hatchling) lives once in the shared ``.venv``. A render gets
a tiny child venv whose ``.pth`` file adds the shared site-packages to its
``sys.path``; only the rendered package itself is installed into the child,
non-editable and without build isolation. That proves the package builds and
installs (its wheel must carry ``contract.yaml`` and friends) at a cost of about
a second instead of a full dependency install.

Must run under the shared venv's interpreter (``.venv/bin/python``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import sysconfig
import time
import venv
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
ANSWERS_FILE = ".copier-answers.yml"
# Named so nobody mistakes it for something the package installed.
SHARED_PTH = "_onex_template_shared_venv.pth"

# Environment variables that belong to the outer pytest run; a nested run of a
# rendered package's tests must not see them (xdist would think it is a worker).
_OUTER_ONLY_ENV_PREFIXES = ("PYTEST_XDIST_", "PYTEST_CURRENT_TEST")

# copier commits dirty template changes into its temporary clone, and the
# post-copy task commits the rendered project: both fail on a machine without
# a git identity, so supply one (for the render only) if none is configured.
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "onex-template-tests",
    "GIT_AUTHOR_EMAIL": "onex-template-tests@localhost",
    "GIT_COMMITTER_NAME": "onex-template-tests",
    "GIT_COMMITTER_EMAIL": "onex-template-tests@localhost",
}

# Snapshot taken at import, before any test or fixture touches os.environ:
# what "the user's environment" means for processes started in a render.
USER_ENV: Mapping[str, str] = dict(os.environ)


@dataclass(frozen=True)
class RenderedPackage:
    """A rendered project directory plus the child venv it is installed in."""

    root: Path
    venv: Path
    answers: Mapping[str, object]

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin_dir / "python"

    @property
    def package_name(self) -> str:
        return str(self.answers["package_name"])

    @property
    def project_name(self) -> str:
        return str(self.answers["project_name"])

    @property
    def service_name(self) -> str:
        return str(self.answers["service_name"])

    @property
    def console_script(self) -> Path:
        return self.bin_dir / self.project_name

    def env(self, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """The user's environment, activated for the child venv.

        ``overrides`` sets variables; a ``None`` value removes one.
        """
        env = {
            key: value
            for key, value in USER_ENV.items()
            if not key.startswith(_OUTER_ONLY_ENV_PREFIXES)
        }
        env.pop("PYTHONHOME", None)
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        for key, value in (overrides or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(
        self,
        args: Sequence[str | Path],
        *,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project directory; never raises on exit codes."""
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=self.root,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def console_command(self, script: str, *args: str | Path) -> list[str]:
        """Command running a console script from the shared venv with our python.

        The shared venv's wrapper scripts (``onex`` ...) hard-code the shared
        interpreter, which cannot import the rendered package; resolving the
        entry point in the child keeps the package importable.
        """
        launcher = (
            "import sys; from importlib.metadata import entry_points; "
            "ep = next(iter(entry_points(group='console_scripts', name=sys.argv[1]))); "
            "sys.argv = sys.argv[1:]; sys.exit(ep.load()())"
        )
        return [str(self.python), "-c", launcher, script, *map(str, args)]


def import_in_this_process(package: RenderedPackage) -> None:
    """Make a render importable here as its own tests see it, ahead of all else.

    Its package from ``src/`` (the dependencies are this venv's) and its
    ``tests`` package from the project root: ``tests.managed.consul_agent_double``
    and the rest of the template's test support.
    """
    for path in (package.root / "src", package.root):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def render(
    dst: Path,
    answers: Mapping[str, object],
    *,
    src: Path = REPO_ROOT,
    vcs_ref: str | None = "HEAD",
) -> Path:
    """Render the template at ``src`` (this repository) into ``dst``.

    ``vcs_ref="HEAD"`` on a dirty work tree makes copier commit the uncommitted
    (not ignored) changes in its temporary clone, so a render always shows the
    template as it is on disk; an explicit ref also keeps copier from warning
    "No git tags found" while the template has no tag. ``quiet=True`` keeps
    copier's progress and the post-copy hook's next steps (for a folder the
    demo, the bench and the tests delete) out of their output.
    """
    # ~0.3 s to import: only paid by processes that render.
    from copier import run_copy
    from copier.errors import DirtyLocalWarning

    with git_identity(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DirtyLocalWarning)
        run_copy(
            str(src),
            dst,
            data=dict(answers),
            defaults=True,
            unsafe=True,
            vcs_ref=vcs_ref,
            quiet=True,
        )
    return dst


def read_answers(project: Path) -> dict[str, object]:
    loaded = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ValueError(f"{project / ANSWERS_FILE} is not a mapping: {loaded!r}")
    return {str(key): value for key, value in loaded.items()}


def shared_site_packages() -> list[Path]:
    """site-packages of the shared venv (the interpreter running this code)."""
    if sys.prefix == sys.base_prefix:
        shared_python = REPO_ROOT / ".venv" / "bin" / "python"
        raise RuntimeError(f"{sys.executable} is not a venv; use {shared_python}")
    paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    return sorted(Path(path) for path in paths)


def create_child_venv(path: Path) -> Path:
    """Create an empty venv at ``path`` that sees the shared site-packages."""
    venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(path)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = path / "lib" / version / "site-packages"
    lines = "".join(f"{shared}\n" for shared in shared_site_packages())
    (site_packages / SHARED_PTH).write_text(lines, encoding="utf-8")
    return path


def install_package(child_venv: Path, project: Path) -> None:
    """Build and install ``project`` into ``child_venv`` (no deps, no isolation)."""
    uv = Path(sysconfig.get_path("scripts")) / "uv"
    command = [
        str(uv),
        "pip",
        "install",
        "--quiet",
        "--no-cache",  # a fresh path every render: caching the wheel only piles up
        "--python",
        str(child_venv / "bin" / "python"),
        "--no-deps",
        "--no-build-isolation",
        # PYTHONDONTWRITEBYTECODE=1 is common here: compile once, not per start.
        "--compile-bytecode",
        str(project),
    ]
    env = {**os.environ, "UV_LINK_MODE": "copy"}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"installing {project} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def render_and_install(workdir: Path, answers: Mapping[str, object]) -> RenderedPackage:
    """Render into ``workdir/project`` and install it into ``workdir/venv``.

    The venv sits beside the project, not inside, so ruff, mypy and pytest run
    in the project never see it.
    """
    return install(render(workdir / "project", answers), workdir / "venv")


def install(project: Path, venv_path: Path) -> RenderedPackage:
    """Install ``project`` into a new child venv at ``venv_path``."""
    child = create_child_venv(venv_path)
    install_package(child, project)
    return RenderedPackage(root=project, venv=child, answers=read_answers(project))


class RenderCache:
    """Render + install each answer set at most once (per test session).

    A failure is remembered too: the tests of a broken answer set then fail
    fast with the same error instead of rendering again for every test.
    """

    def __init__(self, base: Path, answer_sets: Mapping[str, Mapping[str, object]]):
        self._base = base
        self._answer_sets = answer_sets
        self._done: dict[str, RenderedPackage | Exception] = {}
        # (what, seconds), for a summary of where the time goes.
        self.timings: list[tuple[str, float]] = []

    def get(self, case: str) -> RenderedPackage:
        if case not in self._done:
            self._done[case] = self._build(case)
        outcome = self._done[case]
        if isinstance(outcome, Exception):
            raise RuntimeError(f"answer set {case!r}: {outcome}") from outcome
        return outcome

    def _build(self, case: str) -> RenderedPackage | Exception:
        started = time.perf_counter()
        try:
            return render_and_install(self._base / case, self._answer_sets[case])
        except Exception as error:  # re-raised by get(), for every test
            return error
        finally:
            elapsed = time.perf_counter() - started
            self.timings.append((f"render+install {case}", elapsed))


@contextlib.contextmanager
def git_identity() -> Iterator[None]:
    if _git_has_identity():
        missing: dict[str, str] = {}
    else:
        missing = {k: v for k, v in _GIT_IDENTITY.items() if k not in os.environ}
    os.environ.update(missing)
    try:
        yield
    finally:
        for key in missing:
            os.environ.pop(key, None)


def _git_has_identity() -> bool:
    result = subprocess.run(
        ["git", "config", "user.email"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and bool(result.stdout.strip())
