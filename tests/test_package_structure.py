"""The template-owned code of a render keeps its structure: layers and one table.

Over a render of the `effect` answer set: the import graph between the
subpackages of `src/<pkg>/managed/` has no cycle and no import from a lower
layer into a higher one (docs/architecture.md, "Layers of managed/"); every
environment variable a module reads by name is in the settings' one list
(`ENVIRONMENT_VARIABLES`), which docs/operations.md documents row by row,
and the process environment itself is only ever handed to that table.
Negative samples prove each check can fail.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.rendering import REPO_ROOT, RenderCache, RenderedPackage

CASE = "effect"
# Lowest first; a subpackage may import its own layer's modules and any lower
# layer's, never a higher one, nor a sibling on the same layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("values",),
    ("metrics",),
    ("logs",),
    ("settings",),
    ("loops",),
    ("discovery", "registration"),
    ("calling", "consul"),
    ("context",),
    ("lifecycle",),
    ("serving",),
    ("process",),
)
ARCHITECTURE_DOC = REPO_ROOT / "docs" / "architecture.md"
OPERATIONS_DOC = REPO_ROOT / "template" / "docs" / "operations.md.jinja"
VARIABLE = re.compile(r"(?:ONEX_NODE|CONSUL)_[A-Z0-9_]+")


@dataclass(frozen=True)
class Import:
    """`module` (dotted, below managed/) imports `target` at `line`."""

    module: str
    target: str
    line: int

    @property
    def edge(self) -> tuple[str, str]:
        return unit(self.module), unit(self.target)

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def unit(dotted: str) -> str:
    """The subpackage (or top-level module) of managed/ holding `dotted`."""
    return dotted.split(".", 1)[0]


def managed_modules(managed: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(managed.rglob("*.py")):
        parts = list(path.relative_to(managed).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            yield ".".join(parts), path


def imported_names(node: ast.stmt, here: list[str], absolute: str) -> list[str]:
    """What an import statement in package `here` (below managed/) names.

    Relative imports resolve against `here`; absolute ones count when they
    name `<package>.managed.`; anything else is outside managed/ and dropped.
    """
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        names = [node.module or ""]
    elif isinstance(node, ast.ImportFrom):
        if node.level - 1 > len(here):
            return []  # above managed/
        base = here[: len(here) - node.level + 1]
        tail = node.module.split(".") if node.module else [node.names[0].name]
        return [".".join([*base, *tail])]
    else:
        return []
    return [name.removeprefix(absolute) for name in names if name.startswith(absolute)]


def imports_between_units(managed: Path, package: str) -> list[Import]:
    """Imports of one unit of managed/ by another: relative and absolute."""
    absolute = f"{package}.managed."
    found: list[Import] = []
    for module, path in managed_modules(managed):
        here = module.split(".")
        if path.name != "__init__.py":
            here.pop()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in imported_names(node, here, absolute):
                if unit(target) != unit(module):
                    found.append(Import(module, target, node.lineno))
    return found


def find_cycle(imports: list[Import]) -> list[Import] | None:
    """One cycle between units, as the imports that close it (None: acyclic)."""
    graph: dict[str, dict[str, Import]] = {}
    for made in imports:
        source, target = made.edge
        graph.setdefault(source, {}).setdefault(target, made)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[Import] | None:
        state[node] = 1
        path.append(node)
        for target in graph.get(node, {}):
            if state.get(target) == 1:
                ring = [*path[path.index(target) :], target]
                return [graph[a][b] for a, b in itertools.pairwise(ring)]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def layering_violations(imports: list[Import], units: set[str]) -> list[str]:
    rank = {name: level for level, names in enumerate(LAYERS) for name in names}
    problems = [
        f"{name}: not in any layer; add it to LAYERS here and to docs/architecture.md"
        for name in sorted(units - set(rank))
    ]
    for made in imports:
        source, target = made.edge
        if source in rank and target in rank and rank[target] >= rank[source]:
            relation = "a sibling" if rank[target] == rank[source] else "a higher"
            problems.append(f"{made}: {source} must not import {relation} layer")
    return problems


def structure_problems(managed: Path, package: str) -> list[str]:
    imports = imports_between_units(managed, package)
    units = {unit(module) for module, _ in managed_modules(managed)}
    problems = layering_violations(imports, units)
    cycle = find_cycle(imports)
    if cycle is not None:
        ring = " -> ".join([*(made.edge[0] for made in cycle), cycle[0].edge[0]])
        problems.append(f"import cycle {ring}: " + "; ".join(map(str, cycle)))
    return problems


@pytest.fixture(scope="module")
def rendered(renders: RenderCache) -> RenderedPackage:
    return renders.get(CASE)


def managed_dir(package: RenderedPackage) -> Path:
    return package.root / "src" / package.package_name / "managed"


def test_managed_subpackages_have_no_cycle_and_respect_the_layers(
    rendered: RenderedPackage,
) -> None:
    imports = imports_between_units(managed_dir(rendered), rendered.package_name)
    # The scan sees the imports that exist (the graph is not vacuously clean).
    assert ("process", "settings") in {made.edge for made in imports}
    assert structure_problems(managed_dir(rendered), rendered.package_name) == []


def test_an_injected_cycle_is_named_with_its_modules(
    rendered: RenderedPackage, tmp_path: Path
) -> None:
    managed = tmp_path / "managed"
    shutil.copytree(managed_dir(rendered), managed)
    durations = managed / "values" / "durations.py"
    durations.write_text(
        durations.read_text(encoding="utf-8")
        + "\nfrom ..process.entrypoint import serve_node  # noqa\n",
        encoding="utf-8",
    )

    problems = structure_problems(managed, rendered.package_name)

    [cycle] = [problem for problem in problems if problem.startswith("import cycle")]
    assert "values.durations (line" in cycle
    assert "imports process.entrypoint" in cycle
    assert "values must not import a higher layer" in " ".join(problems)


def write_modules(root: Path, modules: dict[str, str]) -> Path:
    for dotted, source in modules.items():
        path = root.joinpath(*dotted.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
        path.write_text(source, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (  # absolute import, no cycle: the order alone is broken
            {"values.a": "import pkg.managed.process.b\n", "process.b": ""},
            ["values.a (line 1) imports process.b: values must not import a higher"],
        ),
        (
            {"discovery.a": "from ..registration import b\n", "registration.b": ""},
            [
                "discovery.a (line 1) imports registration: discovery must not "
                "import a sibling"
            ],
        ),
        ({"widgets.a": ""}, ["widgets: not in any layer"]),
        (  # the same imports in the allowed direction
            {"process.b": "from ..values.a import x\n", "values.a": "x = 1\n"},
            [],
        ),
    ],
)
def test_layer_rules_fail_without_a_cycle(
    tmp_path: Path, modules: dict[str, str], expected: list[str]
) -> None:
    managed = write_modules(tmp_path / "managed", modules)

    problems = structure_problems(managed, "pkg")

    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problem


def test_the_architecture_doc_states_the_layers_the_test_enforces() -> None:
    stated = " < ".join(
        "{" + ", ".join(names) + "}" if len(names) > 1 else names[0] for names in LAYERS
    )
    assert f"`{stated}`" in ARCHITECTURE_DOC.read_text(encoding="utf-8")


def environment_reads(source: str) -> tuple[set[str], list[int]]:
    """Variable names read in `source`, and lines that read os.environ by name.

    A name counts as read when it is a subscript, the first argument of a call
    (`.get`, `getenv`) or the left side of `in`. The process environment
    (`os.environ`, `os.getenv`) may only be handed to a function (the table's
    readers), never read by name.
    """
    names: set[str] = set()
    direct: list[int] = []
    tree = ast.parse(source)
    handed_on = {
        id(argument)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]
    }
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            key = node.args[0]
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
            key = node.left
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and VARIABLE.fullmatch(key.value)
        ):
            names.add(key.value)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv", "environb"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and id(node) not in handed_on
        ):
            direct.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            direct.extend(node.lineno for alias in node.names if "env" in alias.name)
    return names, direct


def documented_variables() -> set[str]:
    """Names in the first cell of a table row of the package's operations.md."""
    names: set[str] = set()
    for line in OPERATIONS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            names.update(VARIABLE.findall(line.split("|")[1]))
    return names


def table_of(package: RenderedPackage) -> set[str]:
    module = f"{package.package_name}.managed.settings.settings_loader"
    shown = package.run(
        [
            package.python,
            "-c",
            f"import json, {module} as m; print(json.dumps(m.ENVIRONMENT_VARIABLES))",
        ]
    )
    assert shown.returncode == 0, shown.stderr
    variables: list[str] = json.loads(shown.stdout)
    assert len(variables) == len(set(variables)), variables
    return set(variables)


def test_every_variable_read_is_in_the_one_table_and_documented(
    rendered: RenderedPackage,
) -> None:
    table = table_of(rendered)
    read: dict[str, set[str]] = {}
    direct: list[str] = []
    source_root = rendered.root / "src"
    for path in sorted(source_root.rglob("*.py")):
        names, lines = environment_reads(path.read_text(encoding="utf-8"))
        where = path.relative_to(source_root).as_posix()
        for name in names:
            read.setdefault(name, set()).add(where)
        direct.extend(f"{where}:{line}" for line in lines)

    assert direct == [], "the process environment read outside the table"
    assert {name: read[name] for name in set(read) - table} == {}
    assert documented_variables() == table


@pytest.mark.parametrize(
    ("source", "names", "direct"),
    [
        (
            'import os\nlevel = os.environ.get("ONEX_NODE_LOG_LEVEL")\n',
            {"ONEX_NODE_LOG_LEVEL"},
            [2],
        ),
        (
            'import os\nx = os.getenv("CONSUL_GRPC_ADDR", "")\n',
            {"CONSUL_GRPC_ADDR"},
            [2],
        ),
        ('from os import environ\nx = environ["ONEX_NODE_X"]\n', {"ONEX_NODE_X"}, [1]),
        (
            'def f(environ):\n    return "CONSUL_HTTP_SSL" in environ\n',
            {"CONSUL_HTTP_SSL"},
            [],
        ),
        ("import os\nsettings = load(os.environ)\n", set(), []),
    ],
)
def test_reads_outside_the_table_are_found(
    source: str, names: set[str], direct: list[int]
) -> None:
    assert environment_reads(source) == (names, direct)
