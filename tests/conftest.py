"""Fixtures shared by the template's tests: rendered, installed packages.

Each answer set from ``scripts/answer_sets.py`` is rendered and installed once
per test session (lazily, on first use) and shared by every test module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The helpers live in scripts/ so that `make demo` runs the very same code.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts.answer_sets import ANSWER_SETS  # noqa: E402
from scripts.rendering import RenderCache, RenderedPackage  # noqa: E402

_CACHES: list[RenderCache] = []


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> RenderCache:
    cache = RenderCache(tmp_path_factory.mktemp("renders"), ANSWER_SETS)
    _CACHES.append(cache)
    return cache


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
    timings = [timing for cache in _CACHES for timing in cache.timings]
    if timings:
        terminalreporter.section("render timings")
        for what, seconds in timings:
            terminalreporter.write_line(f"{seconds:7.2f} s  {what}")
