"""Static signals for the instructor's integrity report. None of them changes a score.

* mentions of gostack's reference implementations in a submission's code;
* near-copies of the reference source (token similarity, comments included: a pasted
  function keeps the runtime's comments and names);
* identical submissions across students (same code once comments and docstrings are gone).

Code handed out with the exercise (the cells of ``exercises/NN-slug.ipynb``, the template) is
never evidence: a top-level statement that is, once parsed, one of the template's statements
is left out of the mentions, so the instructor's own solution notebook raises no signal.

Scores change only on evidence from the worker: a graded function that *called* a reference
implementation, or code that changed gostack while it was being graded.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import io
import threading
import tokenize
from difflib import SequenceMatcher
from pathlib import Path

from .catalog import Exercise, resolve
from .notebook import Parsed, SubmissionError, function_source, parse, read_code_cells

NEAR_COPY = 0.85  # token similarity from which a function counts as a near-copy

# The handed-out notebooks (exercises/NN-slug.ipynb) of the kit this package sits in; the
# command line's --templates replaces it. None found: nothing is excluded.
TEMPLATES: Path | None = Path(__file__).resolve().parents[2] / "exercises"
_TEMPLATE_STATEMENTS: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()


def template_statements(ex: Exercise) -> frozenset[str]:
    """The top-level statements of the exercise's template notebook, each as ``ast.dump``
    (layout and comments do not matter): code every student was given."""
    folder = TEMPLATES
    if folder is None:
        return frozenset()
    key = (str(folder), ex.id)
    with _lock:
        if key not in _TEMPLATE_STATEMENTS:
            found: set[str] = set()
            try:
                for p in parse(read_code_cells(folder / f"{ex.id}.ipynb")):
                    if p.tree is not None:
                        found.update(ast.dump(stmt) for stmt in p.tree.body)
            except (SubmissionError, RecursionError, MemoryError, ValueError):
                pass
            _TEMPLATE_STATEMENTS[key] = frozenset(found)
        return _TEMPLATE_STATEMENTS[key]


def reference_mentions(parsed: list[Parsed], ex: Exercise) -> list[str]:
    """``gs.newstack.new_size (cell 4)``: uses of a reference name through a gostack import."""
    targets = {d.rsplit(".", 1)[-1] for d in ex.tripwires} | {"REFERENCE"}
    found: list[str] = []
    aliases: set[str] = set()
    for p in parsed:
        if p.tree is not None:
            aliases |= _gostack_aliases(p.tree)
    template = template_statements(ex)
    for p in parsed:
        if p.tree is None:
            continue
        own = [stmt for stmt in p.tree.body if ast.dump(stmt) not in template]
        for node in (n for stmt in own for n in ast.walk(stmt)):
            text = None
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gostack"):
                hits = [a.name for a in node.names if a.name in targets]
                if hits:
                    text = f"from {node.module} import {', '.join(hits)}"
            elif isinstance(node, ast.Attribute) and node.attr in targets:
                chain = ast.unparse(node)
                if chain.split(".")[0] in aliases:
                    text = chain
            if text:
                entry = f"{text} (cell {p.cell.number})"
                if entry not in found:
                    found.append(entry)
    return found[:10]


def _gostack_aliases(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "gostack":
                    names.add(a.asname or "gostack")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gostack"):
            names.update(a.asname or a.name for a in node.names)
    return names


def _is_stub(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = _without_docstring(fn.body)
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    name = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(name, ast.Name) and name.id == "NotImplementedError"


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _last_defs(parsed: list[Parsed], names: tuple[str, ...]) -> dict[str, ast.AST]:
    defs: dict[str, ast.AST] = {}
    for p in parsed:
        if p.tree is None:
            continue
        for stmt in p.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in names:
                defs[stmt.name] = stmt
    return defs


def unsolved(parsed: list[Parsed], ex: Exercise) -> bool:
    """True when the exercise's functions are missing or all still the handed-out stubs."""
    defs = _last_defs(parsed, ex.names)
    return not defs or all(_is_stub(d) for d in defs.values())


def fingerprint(parsed: list[Parsed], ex: Exercise) -> str | None:
    """A digest of the exercise's functions without comments or docstrings, and their size
    in syntax nodes (``digest/nodes``: a short answer shared by many is weak evidence);
    None when they are missing or still the unsolved stubs (so unsolved notebooks never
    look 'identical')."""
    if unsolved(parsed, ex):
        return None
    defs = _last_defs(parsed, ex.names)
    h = hashlib.sha256()
    nodes = 0
    for name in ex.names:
        d = defs.get(name)
        if d is None:
            h.update(b"-")
            continue
        clone = ast.parse(ast.unparse(d)).body[0]
        clone.body = _without_docstring(clone.body) or [ast.Pass()]
        h.update(ast.dump(clone, annotate_fields=False).encode())
        nodes += sum(1 for _ in ast.walk(clone))
    return f"{h.hexdigest()[:16]}/{nodes}"


def fingerprint_size(fp: str) -> int | None:
    """The size part of a :func:`fingerprint` (None for one written by an older grader)."""
    _, _, n = fp.partition("/")
    return int(n) if n.isdigit() else None


def _tokens(source: str) -> list[str]:
    """Names, operators, literals and comment words; the docstring and layout dropped."""
    try:
        tree = ast.parse(source)
        fn = tree.body[0]
        if fn.body is not _without_docstring(fn.body):
            doc = fn.body[0]
            lines = source.split("\n")
            del lines[doc.lineno - 1: doc.end_lineno]
            source = "\n".join(lines)
    except (SyntaxError, IndexError, AttributeError):
        pass
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out += tok.string.lstrip("#").lower().split()
            elif tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING):
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


_REFERENCE_TOKENS: dict[str, list[str]] = {}


def reference_tokens(dotted: str) -> list[str]:
    if dotted not in _REFERENCE_TOKENS:
        try:
            src = inspect.getsource(resolve(dotted))
        except (OSError, TypeError, LookupError):
            src = ""
        _REFERENCE_TOKENS[dotted] = _tokens(inspect.cleandoc(src) if src else "")
    return _REFERENCE_TOKENS[dotted]


def similarity(source: str, dotted: str) -> float:
    a, b = _tokens(source), reference_tokens(dotted)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def near_copies(parsed: list[Parsed], ex: Exercise) -> list[tuple[str, str, float]]:
    """(function, reference, similarity) for each function at least NEAR_COPY similar."""
    out = []
    for name, dotted in ex.reference.items():
        src = function_source(parsed, name)
        if src is None:
            continue
        ratio = similarity(src, dotted)
        if ratio >= NEAR_COPY:
            out.append((name, dotted, round(ratio, 3)))
    return out
