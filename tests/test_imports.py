"""The package's imports run one way (DESIGN.md: errors → _backend → math → training →
files → estimators → command line and scikit-learn): no module imports, at its top or
inside a function, a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import xpnet

PACKAGE = Path(xpnet.__file__).parent


def _module_name(path: Path) -> str:
    """The dotted name under xpnet: "models", "data._npz", "data" for data/__init__.py."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The xpnet modules ``path`` imports anywhere in it (functions included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("xpnet.")):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module[len("xpnet."):]
            for alias in node.names:
                candidate = f"{prefix}.{alias.name}" if prefix else alias.name
                if candidate in modules:
                    found.add(candidate)  # from . import module
                elif prefix in modules:
                    found.add(prefix)  # from .module import name
                elif not prefix:
                    found.add("__init__")  # a name of the package itself
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name[len("xpnet."):] if alias.name.startswith("xpnet.") else ""
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target:
                    found.add(target)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*.py")]
    modules = {_module_name(p) for p in files}
    graph = {}
    for path in files:
        graph[_module_name(path)] = _imports(path, modules)
    graph.pop("__init__", None)
    return graph


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


def test_the_walk_sees_the_subpackages_and_their_relative_imports():
    graph = import_graph()
    assert "data._npz" in graph and "bench.cli" in graph
    assert "data._limits" in graph["data._npz"]  # from . import _limits, or from ._limits import
    assert "_backend" in graph["bench.options"]  # from .. import _backend
