"""Rendered packages are tested in the shared venv: it must hold what they need.

A generated package's child venv sees the template repo's site-packages
(scripts/rendering.py) and installs nothing else, so a dependency a render
declares but the dev group lacks passes here only on a machine whose venv got
it by hand, and fails in CI's fresh one.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
# Answers only appear in the names, versions and paths of the project itself.
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}")


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(text).name) for text in requirements}


def _generated_requirements() -> set[str]:
    text = (REPO_ROOT / "template" / "pyproject.toml.jinja").read_text()
    generated = tomllib.loads(JINJA_EXPRESSION.sub("x", text))
    return _names(generated["project"]["dependencies"]) | _names(
        generated["dependency-groups"]["dev"]
    )


def _shared_requirements() -> set[str]:
    shared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return _names(shared["dependency-groups"]["dev"])


def _missing(generated: set[str], shared: set[str]) -> list[str]:
    return sorted(generated - shared)


def test_the_dev_group_holds_every_dependency_a_render_declares() -> None:
    missing = _missing(_generated_requirements(), _shared_requirements())
    assert not missing, f"add {missing} to [dependency-groups] dev of pyproject.toml"


def test_a_dependency_the_dev_group_lacks_is_named() -> None:
    shared = _shared_requirements() - {"openapi-spec-validator"}
    assert _missing(_generated_requirements(), shared) == ["openapi-spec-validator"]
