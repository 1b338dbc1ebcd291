"""The package's imports run one way (DESIGN.md: errors → _backend → math → training →
files → estimators → command line and scikit-learn): no module imports, at its top or
inside a function, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import xpnet

PACKAGE = Path(xpnet.__file__).parent


def _imports(path: Path) -> set[str]:
    """The xpnet modules ``path`` imports anywhere in it (functions included)."""
    module = path.stem
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xpnet."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("xpnet."))
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return {m: {d for d in deps if d in modules} for m, deps in graph.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_the_package_itself():
    # `from . import __version__` would run xpnet/__init__, which imports everything.
    assert {m for m, deps in import_graph().items() if "__init__" in deps} == set()


def test_the_imports_have_no_cycle():
    cycle = _cycle(import_graph())
    assert cycle is None, " → ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
