"""The package's shape: no import cycles anywhere in gostack, and teaching modules a maintainer
can read in one sitting.

The import graph is read with ast from every gostack/**/*.py, function-level imports
included (a cycle through a lazy import still ties two modules together).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "gostack"
MAX_TEACHING_LINES = 450
# The teaching layer: the lessons package and the real-Go lesson programs beside realgo.
TEACHING = sorted((PKG / "lessons").glob("*.py")) + [PKG / "golessons.py"]


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The gostack modules ``path`` imports, at any depth of its code."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[:len(up) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # "from . import x" imports the module x when there is one, else a name of base.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = [p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts]
    modules = {_module(p) for p in paths}
    # A package's __init__ is imported with any of its modules; that edge is not a choice.
    return {_module(p): {m for m in _imports(p, modules) if not _module(p).startswith(m + ".")}
            for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "gostack.lessons.recorder" in graph["gostack.lessons.running"]
    assert "gostack.oscost" in graph["gostack.lessons.l01_thread_cost"] or any(
        m.startswith("gostack.oscost") for m in graph["gostack.lessons.l01_thread_cost"])


def test_gostack_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_teaching_modules_are_short():
    long = {p.relative_to(ROOT).as_posix(): n for p in TEACHING
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_TEACHING_LINES}
    assert long == {}, f"split these (at most {MAX_TEACHING_LINES} lines each): {long}"


def test_computations_import_without_widgets():
    """A lesson module imports without ipywidgets: widgets are built where they are asked for."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['ipywidgets'] = None\n"
            "import gostack.lessons.l00_welcome, gostack.lessons.l02_small_stacks, "
            "gostack.lessons.l03_prologue, gostack.lessons.l04_newstack, "
            "gostack.lessons.l06_stack_maps, gostack.lessons.l08_beyond, "
            "gostack.lessons.stepper, gostack.golessons\n"
            "from gostack.lessons import l04_newstack as l04\n"
            "assert l04.growth_run(160, 400).grows[0].call_index == 7\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=ROOT, check=False)
    assert r.returncode == 0, r.stderr
