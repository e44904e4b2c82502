"""Imports point one way: ingest <- rag core <- rag.edges, ui, eval; and no module imports
itself through others (a cycle hidden in function-level imports still counts).

Walks every import statement (top-level, inside functions, under TYPE_CHECKING) with `ast`.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "rag", "ui", "eval", "bench")
EDGES = ("rag.edges", "ui", "eval", "bench")  # the users of the core


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path, name: str) -> set[str]:
    """The project modules `name` imports: `from a.b import c` is a.b.c when c is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {target for target in targets if target in MODULES and target != name}


GRAPH = {name: _imports(path, name) for name, path in MODULES.items()}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_core_imports_none_of_its_users() -> None:
    core = [name for name in GRAPH if _within(name, ("ingest", "rag")) and not _within(name, EDGES)]
    wrong = sorted(
        f"{name} imports {target}" for name in core for target in GRAPH[name] if _within(target, EDGES)
    )
    assert not wrong, wrong


def test_ingest_does_not_import_rag() -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name in GRAPH
        if _within(name, ("ingest",))
        for target in GRAPH[name]
        if not _within(target, ("ingest",))
    )
    assert not wrong, wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_the_walk_sees_the_imports_it_checks() -> None:
    # the checks above would pass vacuously if the walk found nothing
    assert "rag.engine" in GRAPH["rag.edges.cli"] or "rag.engine" in GRAPH["rag.edges.server"]
    assert "ui.app" in GRAPH["rag.edges.server"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
