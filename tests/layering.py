"""The layering rules of docs/ARCHITECTURE.md, checked on the source (every import statement,
including those inside functions and under ``TYPE_CHECKING``), and the package import graph.

    python -m tests.layering [ROOT]      print the package import graph and any violation

Packages: ``app.cli``, ``app.tui``, ``app.runtime``, ``app.core`` (with ``app.core.<concern>``
for the graph), ``widgets``, ``themes``. Rules:

1. ``app.core`` imports nothing from ``app.cli``, ``app.tui``, ``app.runtime``, ``widgets``,
   ``themes``.
2. ``app.runtime`` imports nothing from ``app.cli``, ``app.tui``, ``widgets``, ``themes``.
3. ``widgets`` import from ``app`` only core value types (dataclasses, enums, named tuples: events
   and snapshots) and the pure helpers in :data:`WIDGET_HELPERS`, never a service (a session, a
   provider, a manager) or anything of ``app.tui``/``app.runtime``/``app.cli``.
4. Only ``app.tui``, ``widgets`` and ``themes`` import Textual or Rich.
5. No import cycle between the packages above.
6. In ``app/``, only ``app/runtime/factory.py`` constructs a ``Session``.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("app.cli", "app.tui", "app.runtime", "app.core", "widgets", "themes")
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "app.core": ("app.cli", "app.tui", "app.runtime", "widgets", "themes"),
    "app.runtime": ("app.cli", "app.tui", "widgets", "themes"),
    "widgets": ("app.cli", "app.tui", "app.runtime", "themes"),
}
UI_LIBRARIES = ("textual", "rich")
UI_PACKAGES = ("app.tui", "widgets", "themes")
# Functions a widget may call: they format values and hold no state.
WIDGET_HELPERS = frozenset({"app.core.context.tokens.format_tokens"})
SESSION_FACTORY = "app/runtime/factory.py"


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root
    line: int
    module: str  # the importing module
    target: str  # the imported module
    names: tuple[str, ...]  # for ``from target import a, b``


def module_of(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> Iterator[Path]:
    for top in ("app", "widgets", "themes"):
        yield from sorted((root / top).rglob("*.py"))


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if not level:
        return name or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports(root: Path) -> list[Import]:
    out: list[Import] = []
    for path in source_files(root):
        module = module_of(root, path)
        rel = str(path.relative_to(root))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [Import(rel, node.lineno, module, a.name, ()) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, path.name == "__init__.py", node.level, node.module)
                out.append(Import(rel, node.lineno, module, target,
                                  tuple(a.name for a in node.names)))
    return out


def package_of(module: str) -> str:
    """The layer a module belongs to ("" for modules outside them, like ``app.__main__``)."""
    for layer in LAYERS:
        if module == layer or module.startswith(layer + "."):
            return layer
    return ""


def concern_of(module: str) -> str:
    """The package for the graph: ``app.core.<concern>`` inside the core, else the layer."""
    layer = package_of(module)
    if layer == "app.core":
        parts = module.split(".")
        return ".".join(parts[:3]) if len(parts) >= 3 else "app.core"
    return layer


def _is_value(obj: object) -> bool:
    if isinstance(obj, type):
        return (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)
                or (issubclass(obj, tuple) and hasattr(obj, "_fields")))
    return False


def _widget_name_problem(target: str, name: str) -> str:
    if f"{target}.{name}" in WIDGET_HELPERS:
        return ""
    try:
        obj = getattr(importlib.import_module(target), name)
    except (ImportError, AttributeError) as exc:
        return f"cannot check {target}.{name}: {exc}"
    if _is_value(obj):
        return ""
    kind = type(obj).__name__ if not isinstance(obj, type) else "class"
    return (f"{target}.{name} is a {kind}, not a value type: widgets render values and post "
            "messages, they never hold services")


def _session_constructions(root: Path) -> Iterator[tuple[str, int]]:
    for path in sorted((root / "app").rglob("*.py")):
        rel = str(path.relative_to(root))
        if rel == SESSION_FACTORY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) else "")
                if name == "Session":
                    yield rel, node.lineno


def package_graph(found: list[Import]) -> dict[str, dict[str, int]]:
    """Package → package it imports → how many import statements."""
    graph: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for imp in found:
        src, dst = concern_of(imp.module), concern_of(imp.target)
        if src and dst and src != dst:
            graph[src][dst] += 1
    return {k: dict(v) for k, v in graph.items()}


def _layer_cycles(found: list[Import]) -> list[list[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for imp in found:
        src, dst = package_of(imp.module), package_of(imp.target)
        if src and dst and src != dst:
            edges[src].add(dst)
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt in path:
                cycle = [*path[path.index(nxt):], nxt]
                if sorted(cycle[:-1]) not in [sorted(c[:-1]) for c in cycles]:
                    cycles.append(cycle)
            else:
                visit(nxt, [*path, nxt])

    for start in LAYERS:
        visit(start, [start])
    return cycles


def violations(root: Path) -> list[str]:
    found = imports(root)
    out: list[str] = []
    for imp in found:
        src, dst = package_of(imp.module), package_of(imp.target)
        where = f"{imp.path}:{imp.line}"
        if dst in FORBIDDEN.get(src, ()):
            out.append(f"{where}: {src} must not import {dst} ({imp.target})")
        top = imp.target.split(".")[0]
        if top in UI_LIBRARIES and src not in UI_PACKAGES:
            out.append(f"{where}: {imp.module} imports {top}; only {', '.join(UI_PACKAGES)} may")
        if src == "widgets" and dst == "app.core":
            out += [f"{where}: {p}" for n in imp.names if (p := _widget_name_problem(imp.target, n))]
        if src == "widgets" and not imp.names and imp.target.startswith("app."):
            out.append(f"{where}: widgets import names (value types), not the module {imp.target}")
    out += [f"import cycle between packages: {' → '.join(c)}" for c in _layer_cycles(found)]
    out += [f"{rel}:{line}: a Session is constructed outside {SESSION_FACTORY}"
            for rel, line in _session_constructions(root)]
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    graph = package_graph(imports(root))
    print("Package import graph (package -> imported package: import statements)")
    for src in sorted(graph):
        targets = ", ".join(f"{dst} ({n})" for dst, n in sorted(graph[src].items()))
        print(f"  {src} -> {targets}")
    problems = violations(root)
    print(f"\n{len(problems)} layering violation(s)")
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
