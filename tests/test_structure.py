"""The house rules of src/meflow, read from its source: no import circles, short functions,
short modules (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "meflow"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400
SHORT_FUNCTION_PACKAGES = ("features", "training", "models", "inference")


def modules(root: Path = SRC) -> dict[str, Path]:
    """{dotted module name: file} of every module of the package at ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules that module ``name`` imports anywhere (functions and
    TYPE_CHECKING blocks included)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".")
                base = parts[: len(parts) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                for candidate in (f"{target}.{alias.name}", target):
                    if candidate in known:
                        out.add(candidate)
                        break
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
    # a module's own package is run before it: not an arrow back up
    return {m for m in out if m != name and not name.startswith(m + ".")}


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """{module: the package's own modules it imports} of the package at ``root``."""
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more modules (each a circle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checker finds a circle closed by an import inside a function (guards the guard)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import a\n    return a\n")
    (pkg / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(pkg)) == [["pkg.a", "pkg.b"]]


def test_no_import_circles() -> None:
    found = cycles(import_graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_features_do_not_import_from_above() -> None:
    """features/ (and io/) sit below inference/: they import neither it nor the commands."""
    graph = import_graph()
    above = ("meflow.inference", "meflow.commands", "meflow.cli", "meflow.api")
    found = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.startswith(("meflow.features", "meflow.io"))
        for t in targets
        if t.startswith(above)
    )
    assert not found, "imports from above features/: " + "; ".join(found)


def long_functions(root: Path, limit: int) -> list[str]:
    """'file:line name (N lines)' of every function or method under ``root`` over ``limit``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                n = (node.end_lineno or node.lineno) - first + 1
                if n > limit:
                    rel = path.relative_to(root.parent)
                    out.append(f"{rel}:{node.lineno} {node.name} ({n} lines)")
    return out


@pytest.mark.parametrize("package", SHORT_FUNCTION_PACKAGES)
def test_no_long_functions(package: str) -> None:
    found = long_functions(SRC / package, MAX_FUNCTION_LINES)
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines: " + "; ".join(found)


def test_no_long_modules() -> None:
    sizes = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in SRC.rglob("*.py")}
    found = sorted(
        f"{p.relative_to(SRC.parent)} ({n} lines)" for p, n in sizes.items() if n > MAX_MODULE_LINES
    )
    assert not found, f"modules over {MAX_MODULE_LINES} lines: " + "; ".join(found)


def test_the_size_checks_count_what_they_name(tmp_path: Path) -> None:
    """An 81-line function is caught and an 80-line one is not (guards the guard)."""
    body = "".join(f"    x{i} = {i}\n" for i in range(79))
    (tmp_path / "m.py").write_text(f"def ok():\n{body}\n\ndef long():\n{body}    y = 0\n")
    names = [s.split()[1] for s in long_functions(tmp_path, MAX_FUNCTION_LINES)]
    assert names == ["long"]
