"""The grading worker's audit hook, called directly: what it lets through and what it refuses.

The corpus (test_grade_corpus.py) drives the hook through real submissions; these tests pin
the decisions whose inputs a submission cannot easily stage everywhere (a native module copied
into the scratch folder, a blocked module under a dotted name, symbolic links out of scratch).
"""

from __future__ import annotations

import _imp
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

import gostack
from gostack.grade import worker

LOAD, REF = worker.LOADER_EVENT, worker.REFERENCE_EVENT


@pytest.fixture
def hook(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    read_roots = tuple(sorted({os.path.realpath(p) for p in sys.path if p and any(
        os.path.realpath(p) == q or os.path.realpath(p).startswith(q + os.sep)
        for q in prefixes)}))
    state = {"guard": False, "refs": []}
    h = worker._make_hook(
        state, str(scratch), read_roots, (os.path.realpath(Path(gostack.__file__).parent),),
        frozenset({"gostack.newstack.new_size"}),
        {"builtin": _imp.create_builtin, "dynamic": _imp.create_dynamic},
        frozenset(n for n in sys.builtin_module_names if n in sys.modules))
    h.scratch, h.state = scratch, state
    return h


def _load(hook, kind, name, origin):
    box: list = []
    hook(LOAD, (kind, name, origin, box))
    return box


def _extension(name: str) -> str:
    mod = pytest.importorskip(name)
    origin = getattr(mod, "__file__", None)
    if not origin or not origin.endswith(".so"):
        pytest.skip(f"{name} is built into this Python")
    return origin


def test_an_installed_extension_loads_through_the_hook(hook):
    (module,) = _load(hook, "dynamic", "zlib", _extension("zlib"))
    assert module.__name__ == "zlib"


def test_native_code_from_the_scratch_folder_never_loads(hook):
    copy = hook.scratch / Path(_extension("zlib")).name
    shutil.copy(_extension("zlib"), copy)
    assert _load(hook, "dynamic", "zlib", str(copy)) == []
    link = hook.scratch / "zlib.so"
    link.symlink_to(copy)
    assert _load(hook, "dynamic", "zlib", str(link)) == []


def test_a_module_is_loaded_only_under_its_own_name(hook):
    zlib = _extension("zlib")
    assert _load(hook, "dynamic", "zlib_alias", zlib) == []
    assert _load(hook, "dynamic", "x.readline", _extension("readline")) == []  # PyInit_readline
    assert _load(hook, "dynamic", "zlib", os.path.relpath(zlib)) == []


def test_no_second_copy_of_a_loaded_builtin(hook):
    assert _load(hook, "builtin", "posix", None) == []
    assert _load(hook, "builtin", "x.posix", None) == []


def test_only_known_tripwires_are_recorded_once(hook):
    for name in ("gostack.newstack.new_size", "gostack.newstack.new_size", "x\n- **honest**"):
        hook(REF, (name,))
    assert hook.state["refs"] == ["gostack.newstack.new_size"]


def test_paths_are_judged_where_they_really_lead(hook):
    source = Path(gostack.__file__).parent / "newstack.py"
    (hook.scratch / "n.py").symlink_to(source)
    up = Path(hook.scratch, *[".."] * (len(hook.scratch.parts) - 1))  # back to /
    for path in (hook.scratch / "n.py", up / source.relative_to("/")):
        with pytest.raises(PermissionError, match="gostack's source is not available"):
            hook("open", (str(path), "r", 0))
    (hook.scratch / "out").symlink_to(hook.scratch.parent)
    with pytest.raises(PermissionError, match="only the scratch folder is writable"):
        hook("open", (str(hook.scratch / "out" / "planted"), "w", 0))


def test_files_written_in_scratch_are_capped(hook):
    for i in range(worker._MAX_WRITTEN_FILES):
        hook("open", (str(hook.scratch / f"f{i}"), "w", 0))
    with pytest.raises(PermissionError, match="more than 32 files"):
        hook("open", (str(hook.scratch / "one-more"), "w", 0))


def test_gostack_source_is_refused_in_the_same_words_where_the_kernel_cannot_look(tmp_path):
    """A uid that cannot reach the folder (a private clone) gets the same refusal as one
    that can: the words come from the path as written, the refusal from the kernel."""
    state = {"guard": False, "refs": []}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    private = tmp_path / "private" / "kit" / "gostack"  # not there: no kernel path to it
    h = worker._make_hook(state, str(scratch), (), (str(private),))
    for path in (private / "newstack.py", scratch / ".." / "private" / "kit" / "gostack" / "x",
                 Path("..", "private", "kit", "gostack", "newstack.py")):
        with pytest.raises(PermissionError, match="gostack's source is not available"):
            h("open", (str(path), "r", 0))
    with pytest.raises(PermissionError, match=r"reading .*/private/kit/other\.py$"):
        h("open", (str(private.parent / "other.py"), "r", 0))


def test_only_scratch_and_the_installation_can_be_listed(hook, tmp_path):
    classmates = tmp_path / "submissions"
    (classmates / "alice").mkdir(parents=True)
    (hook.scratch / "mine").mkdir()
    for event in ("os.listdir", "os.scandir"):
        for path in (classmates, str(classmates).encode(), hook.scratch / ".." / "submissions",
                     Path(gostack.__file__).parent):
            with pytest.raises(PermissionError, match="only the scratch folder and the Python"):
                hook(event, (path if isinstance(path, bytes) else str(path),))
        for path in (None, str(hook.scratch), str(hook.scratch / "mine"),
                     os.path.dirname(os.__file__)):
            hook(event, (path,))


# ---------------------------------------------------------------------------
# Magics: a cell is read as Jupyter runs it (notebook.strip_magics).

MAGIC_CELLS = [
    # (cell, what the grader runs: None for a cell Jupyter does not run as Python)
    ("%load_ext autoreload\n%autoreload 2\nx = 1", "pass\npass\nx = 1"),
    ("%time x = f()\ny = 2", "x = f()\ny = 2"),
    ("import m\nx = %time m.f()", "import m\nx = m.f()"),
    ("%timeit x = f()\ny = 2", "pass\ny = 2"),  # %timeit binds nothing in Jupyter
    ("%matplotlib inline\n!pip list\nfiles = !ls\nf?\nx = 1", "pass\npass\npass\npass\nx = 1"),
    ("%%time\nx = 1", "\nx = 1"),
    ("\n%%capture out\nx = 1\nprint(x)", "\n\nx = 1\nprint(x)"),
    ("%%prun -q\nx = 1", "\nx = 1"),
    ("%%timeit\nx = 1", None),  # its body runs inside a function of its own
    ("%%writefile a.py\nx = 1", None),
    ("%%bash\nls", None),
    ("%%time\n%time x = 1\n%load_ext m", "\nx = 1\npass"),
    ('s = """\n%not a magic\n"""', 's = """\n%not a magic\n"""'),  # valid Python: untouched
]


@pytest.mark.parametrize(("cell", "runs"), MAGIC_CELLS)
def test_magics_are_handled_as_jupyter_runs_them(cell, runs):
    from gostack.grade import notebook

    assert notebook.strip_magics(cell) == runs


def test_an_indented_cell_magic_is_a_syntax_error_as_in_jupyter():
    import ast

    from gostack.grade import notebook

    with pytest.raises(SyntaxError):
        ast.parse(notebook.strip_magics("  %%time\nx = 1"))


def test_magic_lines_and_optional_imports_are_kept_without_a_note():
    import ast

    from gostack.grade import notebook

    source = notebook.strip_magics("%load_ext autoreload\ntry:\n    import numpy as np\n"
                                   "except ImportError:\n    np = None\n%time k = 2\n")
    kept, skipped = notebook.select(ast.parse(source))
    assert [type(s).__name__ for s in kept] == ["Try", "Assign"]
    assert skipped == 0  # a dropped magic is not "a statement that was not run"


# ---------------------------------------------------------------------------
# Per-case limits: a case that runs out of time fails alone (real workers, short alarms).

LOOPS_ON_HUGE_FRAMES = """
import gostack as gs

def new_size(old_size, used, frame, max_stack):
    size = old_size * 2
    if used + frame + gs.STACK_GUARD > size:
        while True:
            pass
    limit = min(max_stack, 2_000_000_000)
    if size > limit:
        raise gs.StackOverflow(limit, new_size=size)
    return size
"""


def _newstack_cases():
    from gostack.grade import catalog

    ex = catalog.BY_ID["02-newstack"]
    cases = ex.visible_cases() + ex.hidden_cases()
    return ex, cases, catalog.reference_outputs(ex, cases)


def test_a_case_that_times_out_fails_alone_and_its_rule_is_skipped_after():
    import time

    from gostack.grade import catalog
    from gostack.grade.sandbox import Limits, run_exercise

    ex, cases, expected = _newstack_cases()
    begin = time.monotonic()
    run = run_exercise(ex.id, [(1, LOOPS_ON_HUGE_FRAMES)], cases, Limits(case_timeout=0.25))
    seconds = time.monotonic() - begin
    messages = [run.outputs[i].get("error", {}).get("message", "") for i in range(len(cases))]
    timed_out = [i for i, m in enumerate(messages) if m.startswith("no answer after")]
    skipped = [i for i, m in enumerate(messages)
               if m == "skipped: a case of the same rule already ran out of time"]
    assert timed_out and skipped and not run.crashes
    # Each timeout adds a rule; a skipped case's rules had all timed out before it.
    seen: set[str] = set()
    for i in sorted(timed_out + skipped):
        tags = set(cases[i]["tags"])
        assert (i in skipped) == (tags <= seen)
        if i in timed_out:
            seen |= tags
    assert len(timed_out) <= len({a.tag for a in ex.aspects})
    assert seconds < 0.25 * len(ex.aspects) + 3
    # The other cases ran, and the rules none of whose cases timed out keep their points.
    hit = {t for i in timed_out for t in cases[i]["tags"]}
    results = catalog.judge(ex, cases, [run.outputs[i] for i in range(len(cases))], expected)
    assert {r.tag for r in results if r.points == r.max_points} == {
        r.tag for r in results if r.tag not in hit} != set()


def test_top_level_statements_share_one_budget():
    from gostack.grade.sandbox import Limits, run_exercise

    ex, cases, _ = _newstack_cases()
    cells = [(1, "def spin():\n    while True:\n        pass")]
    cells += [(n, f"x{n} = spin()") for n in range(2, 30)]
    cells.append((30, LOOPS_ON_HUGE_FRAMES.replace("while True:\n            pass",
                                                    "size = 1 << 40")))
    limits = Limits(case_timeout=0.2)
    run = run_exercise(ex.id, cells, cases[:3], limits)
    assert run.errors[0] == "cell 2, line 1: stopped after 0.4 s"
    assert re.match(r"cell 3, line 1: stopped after 0\.[34]\d* s", run.errors[1])
    assert len(run.errors) == 3 and re.fullmatch(
        r"cell (4|5), line 1 and 2(7|6) more: not run, the top-level statements had used up "
        r"their 0\.8 s", run.errors[-1])
    assert run.fatal == ["no function named 'new_size'"]  # its cell came after the budget


def test_limits_make_room_for_one_timeout_per_rule():
    from gostack.grade.sandbox import Limits

    limits = Limits().for_rules(5)
    assert (limits.cpu, limits.wall) == (2.0 + 5 * 1.0, 10.0 + 5 * 1.0)
    assert Limits(case_timeout=0.5).definitions == 2.0


# ---------------------------------------------------------------------------
# Bounded analysis: code nested deeper than the grader's own recursion can follow.

def test_selecting_statements_never_recurses_into_a_deep_test():
    import ast

    from gostack.grade import notebook

    deep = "if " + " + ".join(["a"] * 700) + ":\n    x = 1\n"
    guard = "if (__name__) == '__main__':\n    y = 2\n"
    kept, skipped = notebook.select(ast.parse(deep + guard))
    assert [type(s).__name__ for s in kept] == ["If"] and skipped == 1
    assert notebook.bound_names(notebook.parse([notebook.Cell(1, deep)])) == {"x": 1}


def test_code_too_deep_to_read_is_a_note_in_parse():
    from gostack.grade import notebook

    cells = [notebook.Cell(1, "x = " + "(" * 10000 + "1" + ")" * 10000),
             notebook.Cell(2, "y = " + "+".join(["1"] * 5000))]
    errors = [p.error for p in notebook.parse(cells)]
    assert "SyntaxError: too many nested parentheses" in errors[0]
    assert "RecursionError" in errors[1] or "MemoryError" in errors[1]
