"""Reading a submission without running it: notebook JSON -> code cells -> definitions.

The grader never executes a notebook through a kernel. It reads the JSON, takes the code
cells (IPython magics handled as below), and keeps only the top-level statements that
*define* things: imports, ``def``, ``class`` and assignments (and ``if``/``try`` blocks made
only of those, such as ``try: import numpy as np`` / ``except ImportError: np = None``).
Demonstrations, plots, prints and check cells are skipped, so a notebook's own check cells,
or a demo that runs for a minute, cost nothing. The same selection runs in the worker (to
execute) and in the grader (to analyse), so both see the same code.

Magics, as Jupyter runs them (IPython 9 checked):

* a cell magic whose body Jupyter runs as Python in the notebook's namespace (``%%time``,
  ``%%capture [name]``, ``%%prun [options]``): the magic line goes, the body stays;
* any other cell magic (``%%timeit``, whose body runs inside a function of its own and binds
  nothing; ``%%writefile``, ``%%bash``, ``%%html``...): the whole cell is dropped;
* the line magic ``%time <statement>`` (and ``name = %time <expression>``): the statement
  stays, as Jupyter runs it in the notebook's namespace;
* every other line magic or shell line (``%load_ext``, ``%autoreload``, ``%matplotlib``,
  ``%timeit``, ``!pip list``, ``files = !ls``, ``name?``): the line becomes ``pass``.

A cell magic is one on the cell's first line that is not blank, at column 0 (IPython
refuses an indented one: the cell is then a syntax error here too). Lines are only touched
when the cell is not valid Python as it stands; line numbers are always kept.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_CODE_CHARS = 200_000  # about 70x the largest solution: more is pasted in, not written
SUFFIXES = (".ipynb", ".py")

_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
         ast.Assign, ast.AnnAssign, ast.AugAssign)
# Cell magics whose body Jupyter runs as ordinary Python in the notebook's namespace.
_PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})
# "%time stmt" and "target = %time expr": Jupyter runs the Python after the magic.
_TIME_LINE = re.compile(r"%time\s+(?P<code>\S.*)$")
_TIME_VALUE = re.compile(r"(?P<target>[A-Za-z_][\w.,\[\]\s]*?)\s*=\s*%time\s+(?P<code>\S.*)$")


class SubmissionError(Exception):
    """The file is not a notebook we can read; the message says why, for the student."""


def printable(text: str, keep: str = "") -> str:
    """``text`` safe for any report: lone surrogates (undecodable file names) and control
    characters other than those in ``keep`` become backslash escapes, so a name or a message
    cannot break a line, a file's encoding or a terminal."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else
                   c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all the notebook's cells, as Jupyter shows them
    source: str


def read_code_cells(path: Path) -> list[Cell]:
    """The code cells of a notebook (or one cell for a .py file), magics removed."""
    try:
        size = path.stat().st_size  # before reading: a sparse file can claim terabytes
        if size > MAX_FILE_BYTES:
            raise SubmissionError(f"{path.name} is {size:,} bytes; the limit is "
                                  f"{MAX_FILE_BYTES:,} (clear the outputs and submit again)")
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise SubmissionError(f"cannot read {path.name}: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(f"{path.name} grew past {MAX_FILE_BYTES:,} bytes while read")
    if not data.strip():
        raise SubmissionError(f"{path.name} is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SubmissionError(
            f"{path.name} is not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start}): "
            "save the notebook from Jupyter and submit again") from None
    if path.suffix == ".py":
        cells = [Cell(1, text)]
    else:
        cells = _notebook_cells(path.name, text)
    out = []
    for cell in cells:
        source = strip_magics(cell.source)
        if source is not None:
            out.append(Cell(cell.number, source))
    if sum(len(c.source) for c in out) > MAX_CODE_CHARS:
        raise SubmissionError(f"{path.name} holds more than {MAX_CODE_CHARS:,} characters of code")
    return out


def _notebook_cells(name: str, text: str) -> list[Cell]:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise SubmissionError(
            f"{name} is not a notebook: its JSON is broken at line {e.lineno}, column "
            f"{e.colno} ({e.msg}). Was it saved completely?") from None
    except RecursionError:
        raise SubmissionError(f"{name} is not a notebook: its JSON is nested too deeply "
                              "to read") from None
    if not isinstance(nb, dict):
        raise SubmissionError(f"{name} is not a notebook (the JSON is not an object)")
    if isinstance(nb.get("cells"), list):
        raw, key = nb["cells"], "source"
    elif isinstance(nb.get("worksheets"), list) and nb["worksheets"]:  # nbformat 3
        raw, key = [c for ws in nb["worksheets"] if isinstance(ws, dict)
                    and isinstance(ws.get("cells"), list) for c in ws["cells"]], "input"
    else:
        raise SubmissionError(f"{name} is not a notebook (no cells)")
    cells = []
    for i, cell in enumerate(raw, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get(key, "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if isinstance(source, str):
            cells.append(Cell(i, source))
    return cells


def strip_magics(source: str) -> str | None:
    """The cell as Jupyter would run it (see the module docstring): None for a cell Jupyter
    would not run as Python; otherwise IPython-only lines become ``pass`` (line numbers kept).

    Lines are only touched when the cell is not valid Python as it stands, so a docstring
    line that ends in "?" or an expression continued on a line starting with "%" stay intact.
    """
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        words = lines[first][2:].split(maxsplit=1)
        if not words or words[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[first] = ""
        source = "\n".join(lines)
    try:
        ast.parse(source)
        return source
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        timed = _TIME_LINE.match(stripped)
        valued = _TIME_VALUE.match(stripped)
        if timed:
            out.append(indent + timed["code"])
        elif valued:
            out.append(f"{indent}{valued['target']} = {valued['code']}")
        elif stripped.startswith(("%", "!")) or "= !" in stripped or "= %" in stripped or (
                stripped.endswith("?") and "#" not in stripped):
            out.append(indent + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def cell_filename(number: int) -> str:
    return f"<cell {number}>"


@dataclass(frozen=True)
class Parsed:
    cell: Cell
    tree: ast.Module | None
    error: str | None  # the syntax error, for the feedback


def parse(cells: list[Cell]) -> list[Parsed]:
    out = []
    for cell in cells:
        try:
            out.append(Parsed(cell, ast.parse(cell.source, cell_filename(cell.number)), None))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            line = getattr(e, "lineno", None)
            where = f"cell {cell.number}" + (f", line {line}" if line else "")
            msg = getattr(e, "msg", str(e))
            out.append(Parsed(cell, None, f"{where}: {type(e).__name__}: {msg}"))
    return out


def _is_check_call(node: ast.AST) -> bool:
    """A call of a check cell function (ex.check_newstack(...), check(...)), or a display."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) \
                else ""
            if name.startswith("check") or name in ("show", "print", "display", "input"):
                return True
    return False


def _is_main_guard(test: ast.expr) -> bool:
    """``if __name__ == "__main__":`` and its variants. ast.walk is iterative: a test nested
    thousands deep cannot make this recurse (ast.unparse would)."""
    names = consts = False
    for node in ast.walk(test):
        names = names or (isinstance(node, ast.Name) and node.id == "__name__")
        consts = consts or (isinstance(node, ast.Constant) and node.value == "__main__")
    return names and consts


def _kept(stmt: ast.stmt) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                         ast.ImportFrom)):
        return True
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return not _is_check_call(stmt)
    if isinstance(stmt, ast.If):
        if _is_main_guard(stmt.test):
            return False
        return all(map(_kept, stmt.body + stmt.orelse))
    if isinstance(stmt, ast.Try):
        blocks = stmt.body + stmt.orelse + stmt.finalbody
        blocks += [s for h in stmt.handlers for s in h.body]
        return all(_kept(s) or isinstance(s, ast.Pass) for s in blocks)
    return False


def select(tree: ast.Module) -> tuple[list[ast.stmt], int]:
    """The statements the grader runs, and how many it skipped besides expressions (the
    check calls and displays every notebook has: not worth a note)."""
    kept = [s for s in tree.body if _kept(s)]
    skipped = [s for s in tree.body if not _kept(s) and not isinstance(s, (ast.Expr, ast.Pass))]
    return kept, len(skipped)


def bound_names(parsed: list[Parsed]) -> dict[str, int]:
    """Top-level names the kept statements bind (name -> cell number of the last binding)."""
    names: dict[str, int] = {}
    for p in parsed:
        if p.tree is None:
            continue
        for stmt in select(p.tree)[0]:
            for node in ast.walk(stmt) if isinstance(stmt, (ast.If, ast.Try)) else [stmt]:
                for name in _binds(node):
                    names[name] = p.cell.number
    return names


def _binds(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.Assign):
        return [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def imported_modules(parsed: list[Parsed]) -> set[str]:
    """Top-level package names the kept code imports (for the worker's preloading)."""
    mods: set[str] = set()
    for p in parsed:
        if p.tree is None:
            continue
        for node in ast.walk(p.tree):
            if isinstance(node, ast.Import):
                mods.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                mods.add(node.module.split(".")[0])
    return mods


def function_source(parsed: list[Parsed], name: str) -> str | None:
    """The source of the last top-level ``def name`` (for the integrity report)."""
    found = None
    for p in parsed:
        if p.tree is None:
            continue
        for stmt in p.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                found = ast.get_source_segment(p.cell.source, stmt)
    return found
