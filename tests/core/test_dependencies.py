"""Dependencies run one way (DESIGN.md): no module of the project imports, at any depth and in any
place (a function's body too), a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

PACKAGES = ["config", "core", "accounts", "registry", "allocation", "trading", "compliance", "offsets", "reports", "surveillance",
            "carryover", "enforcement", "web", "demo"]


def import_graph() -> dict[str, set[str]]:
    root = Path(settings.BASE_DIR)
    files = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            files[name] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name] |= {target for target in targets if target in files and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                found.append(sorted([module, *group]))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_the_exchange_depends_one_way_from_the_matching_rules_up_to_the_tasks():
    graph = import_graph()
    assert "trading.services" not in graph["trading.matcher"] and "trading.tasks" not in graph["trading.matcher"]
    assert "trading.matcher" in graph["trading.services"] and "trading.matcher" in graph["trading.tasks"]
    assert graph["trading.matching"] == set()  # the pure rules import nothing of the project


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
