"""Every Go-duration parser of the template against one table (go_duration_cases).

The copier validators' macro (includes/macros.jinja) and the rendered package's
parser (managed/values/durations.py: the node's settings and the agent double
use it) must agree with Go, so with each other.
"""

from __future__ import annotations

from types import ModuleType

import jinja2
import pytest
from go_duration_cases import INVALID, OUT_OF_RANGE, SECOND, VALID
from template_config import macros_environment


@pytest.fixture(scope="module")
def macros() -> jinja2.Environment:
    return macros_environment()


def call_macro(env: jinja2.Environment, macro: str, *args: str) -> str:
    names = ", ".join(f"a{number}" for number in range(len(args)))
    template = env.from_string(
        "{% from 'includes/macros.jinja' import " + macro + " %}"
        "{{ " + macro + "(" + names + ") }}"
    )
    return template.render({f"a{number}": arg for number, arg in enumerate(args)})


# --- includes/macros.jinja (copier's validators) ----------------------------


@pytest.mark.parametrize(("text", "nanoseconds"), VALID)
def test_macro_reads_what_go_reads(
    macros: jinja2.Environment, text: str, nanoseconds: int
) -> None:
    value = float(call_macro(macros, "duration_ns", text))
    assert value == pytest.approx(nanoseconds, rel=1e-12)


@pytest.mark.parametrize(("text", "nanoseconds"), VALID)
def test_macro_finds_no_problem_with_what_go_reads(
    macros: jinja2.Environment, text: str, nanoseconds: int
) -> None:
    problem = call_macro(macros, "duration_problem", "check_interval", text, "10s")
    # Zero and below are Go durations, but no answer may be one.
    assert (problem == "") == (nanoseconds > 0), problem


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_macro_rejects_what_go_rejects(
    macros: jinja2.Environment, text: str, message: str
) -> None:
    assert call_macro(macros, "duration_ns", text) == ""
    problem = call_macro(macros, "duration_problem", "check_interval", text, "10s")
    assert problem.startswith("not a Go duration"), problem


@pytest.mark.parametrize(("text", "message"), OUT_OF_RANGE)
def test_macro_rejects_what_go_cannot_hold(
    macros: jinja2.Environment, text: str, message: str
) -> None:
    problem = call_macro(macros, "duration_problem", "check_interval", text, "10s")
    assert problem.startswith("too long for Go"), problem


# --- the package's parser ---------------------------------------------------


@pytest.mark.parametrize(("text", "nanoseconds"), VALID)
def test_package_reads_what_go_reads(
    go_durations: ModuleType, text: str, nanoseconds: int
) -> None:
    assert go_durations.parse_go_duration_ns(text) == nanoseconds
    assert go_durations.parse_go_duration(text) == nanoseconds / SECOND


@pytest.mark.parametrize(("text", "message"), INVALID + OUT_OF_RANGE)
def test_package_rejects_what_go_rejects_with_gos_message(
    go_durations: ModuleType, text: str, message: str
) -> None:
    with pytest.raises(ValueError) as in_nanoseconds:
        go_durations.parse_go_duration_ns(text)
    assert str(in_nanoseconds.value) == message
    # In seconds (settings): Go's reason, and what to write instead.
    with pytest.raises(ValueError) as in_seconds:
        go_durations.parse_go_duration(text)
    assert message in str(in_seconds.value)
    assert '"1m30s"' in str(in_seconds.value)
