"""Fixtures shared by the template's tests: rendered, installed packages.

Each answer set from ``scripts/answer_sets.py`` is rendered and installed once
per test session (lazily, on first use) and shared by every test module.

Some tests use code a package ships in this process: the render of
``RENDER_UNDER_TEST`` goes on ``sys.path`` (for the modules in
``IMPORTS_A_RENDER``, before pytest imports them), so ``tests.managed.*`` (the
double, its fixtures, the helpers) and the package import as in the package's
own tests; ``go_durations`` is the package's Go-duration parser.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from agent_http_support import Agent, agent_session

if TYPE_CHECKING:
    from tests.managed.agent_handle import ConsulAgentHandle

REPO_ROOT = Path(__file__).resolve().parent.parent
# The helpers live in scripts/ so that `make demo` runs the very same code.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.answer_sets import ANSWER_SETS  # noqa: E402
from scripts.rendering import (  # noqa: E402
    RenderCache,
    RenderedPackage,
    import_in_this_process,
)

RENDER_UNDER_TEST = "effect"
IMPORTS_A_RENDER = frozenset(
    {
        "test_consul_agent_double.py",
        "test_consul_double_agent.py",
        "test_consul_double_catalog.py",
        "test_consul_double_mesh.py",
    }
)
_RENDERS = pytest.StashKey[RenderCache]()


def _render_cache(config: pytest.Config) -> RenderCache:
    """The session's one cache (created on first use, collection included)."""
    if _RENDERS not in config.stash:
        factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
        config.stash[_RENDERS] = RenderCache(factory.mktemp("renders"), ANSWER_SETS)
    return config.stash[_RENDERS]


@pytest.fixture(scope="session")
def renders(pytestconfig: pytest.Config) -> RenderCache:
    return _render_cache(pytestconfig)


@pytest.fixture(scope="session")
def package_under_test(pytestconfig: pytest.Config) -> RenderedPackage:
    """The render whose package and tests.managed this process imports."""
    return _render_cache(pytestconfig).get(RENDER_UNDER_TEST)


@pytest.fixture(scope="session")
def go_durations(package_under_test: RenderedPackage) -> ModuleType:
    """The package's Go-duration parser (managed/values/durations.py), imported here."""
    import_in_this_process(package_under_test)
    name = f"{package_under_test.package_name}.managed.values.durations"
    return importlib.import_module(name)


@pytest.fixture
async def agent(consul_agent: ConsulAgentHandle) -> AsyncIterator[Agent]:
    """Raw HTTP to the tests' agent (the double, or a real one), for the tests
    of the double (IMPORTS_A_RENDER); the services it registered removed after."""
    async for one in agent_session(consul_agent):
        yield one


@pytest.fixture
def name() -> str:
    """A unique service name (tests may share a real agent)."""
    return f"svc-{uuid.uuid4().hex[:8]}"


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> None:
    if module_path.name in IMPORTS_A_RENDER:
        import_in_this_process(_render_cache(parent.config).get(RENDER_UNDER_TEST))


@pytest.fixture(params=list(ANSWER_SETS))
def case(request: pytest.FixtureRequest) -> str:
    """The id of an answer set: tests taking it run once per set."""
    name: str = request.param
    return name


@pytest.fixture
def package(renders: RenderCache, case: str) -> RenderedPackage:
    """The answer set ``case`` rendered and installed (once per session)."""
    return renders.get(case)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    cache = terminalreporter.config.stash.get(_RENDERS, None)
    timings = cache.timings if cache is not None else []
    if timings:
        terminalreporter.section("render timings")
        for what, seconds in timings:
            terminalreporter.write_line(f"{seconds:7.2f} s  {what}")
