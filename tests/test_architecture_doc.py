"""docs/architecture.md cannot drift silently from what the template renders.

Its tree of a rendered package (service `postgres-crud`, effect) is checked
against a render of that answer set: every path it lists exists, and every
template-owned module under `src/` is listed (a directory's `__init__.py`
aside). The failure names each path that is missing or extra.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path

from package_checks import assert_flagged
from pathspec import PathSpec
from template_config import copier_config

from scripts.rendering import REPO_ROOT, RenderCache

DOC = REPO_ROOT / "docs" / "architecture.md"
TREE_HEADING = "## A rendered package"
# The answer set the tree describes (scripts/answer_sets.py).
TREE_CASE = "effect"
# "<indent><path>[  <what it is>]": a path has no spaces; two or more end it.
ENTRY = re.compile(r"^(?P<indent> *)(?P<path>\S+)(?: {2,}.*)?$")


def listed_paths(markdown: str) -> list[str]:
    """Paths of the first code block after TREE_HEADING, directories with "/"."""
    section = markdown.split(TREE_HEADING, 1)[1]
    block = section.split("```", 2)[1]
    paths: list[str] = []
    parents: list[tuple[int, str]] = []  # (indent, directory path)
    for line in block.splitlines():
        match = ENTRY.match(line)
        if match is None:
            continue
        indent = len(match["indent"])
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (parents[-1][1] if parents else "") + match["path"]
        paths.append(path)
        if path.endswith("/"):
            parents.append((indent, path))
    return paths


def template_owned_modules(root: Path) -> list[str]:
    """`src/**/*.py` of a render that copier.yml does not hand to the owner."""
    yours = PathSpec.from_lines("gitignore", copier_config()["_skip_if_exists"])
    modules = (path.relative_to(root).as_posix() for path in root.glob("src/**/*.py"))
    return sorted(
        module
        for module in modules
        if not module.endswith("/__init__.py") and not yours.match_file(module)
    )


def tree_drift(root: Path, listed: list[str], modules: Iterable[str]) -> list[str]:
    """Listed paths a render lacks, and template-owned modules the tree lacks."""
    problems = [
        f"listed in the tree but not in a render: {path}"
        for path in listed
        if not any(root.glob(path.rstrip("/")))
    ]
    files = [path for path in listed if not path.endswith("/")]
    problems += [
        f"template-owned module missing from the tree: {module}"
        for module in modules
        if not any(fnmatch.fnmatchcase(module, pattern) for pattern in files)
    ]
    return problems


def test_the_tree_matches_a_render(renders: RenderCache) -> None:
    package = renders.get(TREE_CASE)
    listed = listed_paths(DOC.read_text(encoding="utf-8"))
    problems = tree_drift(package.root, listed, template_owned_modules(package.root))
    assert problems == [], (
        f"{DOC.relative_to(REPO_ROOT)} has drifted from a render of the "
        f"{TREE_CASE!r} answer set; fix the tree under {TREE_HEADING!r}:\n"
        + "\n".join(problems)
    )


SAMPLE_DOC = f"""{TREE_HEADING} (sample)

```
README.md                 yours
src/pkg/
  runtime/                template-owned
    kept.py               listed and rendered
    gone.py               listed, no longer rendered
  tests_*.py              a pattern
docs/
  missing.md
```
"""


def test_the_tree_parser_follows_indentation() -> None:
    assert listed_paths(SAMPLE_DOC) == [
        "README.md",
        "src/pkg/",
        "src/pkg/runtime/",
        "src/pkg/runtime/kept.py",
        "src/pkg/runtime/gone.py",
        "src/pkg/tests_*.py",
        "docs/",
        "docs/missing.md",
    ]


def test_drift_is_reported_path_by_path(tmp_path: Path) -> None:
    for relative in (
        "README.md",
        "src/pkg/runtime/kept.py",
        "src/pkg/runtime/added.py",
        "src/pkg/tests_a.py",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    problems = tree_drift(
        tmp_path, listed_paths(SAMPLE_DOC), template_owned_modules(tmp_path)
    )
    assert_flagged(
        problems,
        "not in a render: src/pkg/runtime/gone.py",
        "not in a render: docs/missing.md",
        "missing from the tree: src/pkg/runtime/added.py",
    )
    assert len(problems) == 3, problems
