"""Check cells for the exercises: immediate, friendly feedback from the visible tests.

    from gostack import exercises as ex
    ex.check_newstack(new_size)          # prints a report, returns a Score

Each check calls your function on the exercise's visible cases (worked examples from the
lesson plus cases generated from a fixed seed), compares what it returns with gostack's
reference stages, and reports, for each aspect of the rule, what was tried, what was expected
and what came back, on the smallest failing input. An unsolved exercise (a function that still
raises ``NotImplementedError``) scores 0 points and raises nothing.

These checks run in your own kernel and are for practice. The grader (``gostack grade``) runs
the same visible cases plus hidden ones drawn for each student, in a separate process.
"""

from __future__ import annotations

import inspect
import os
import threading
import traceback
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FunctionType

from .grade import catalog
from .grade.catalog import AspectResult, BadResult, Exercise
from .grade.notebook import printable

CASE_SECONDS = 1.0  # per call: far more than any case needs; an endless loop stops here

__all__ = [
    "Score", "check", "check_adjust", "check_copystack", "check_growth_path", "check_newstack",
    "check_predict", "check_prologue", "check_shrink", "largest",
]


@dataclass(frozen=True)
class Score:
    """What a check cell found: points per aspect on the visible cases."""

    exercise: str
    points: float
    max_points: float
    aspects: tuple[AspectResult, ...] = ()
    message: str = ""

    def __repr__(self) -> str:
        return f"Score({self.exercise}: {self.points:g}/{self.max_points:g} points)"

    def _ipython_display_(self) -> None:
        """Nothing: a check cell has printed its report already, score included, and a
        second "Score(...)" echoed as the cell's value would only repeat it. The value
        itself is unchanged (``s = check(...)``, ``s.points``, ``repr(s)``)."""


class _CaseTimeout(BaseException):
    """A BaseException, so that neither the simulator nor a learner's `except Exception`
    mistakes it for a failure of the code under test."""


@contextmanager
def _time_limit(seconds: float):
    """SIGALRM-based limit, in the main thread only (where a kernel runs cells)."""
    import signal

    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _CaseTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _where(exc: BaseException) -> str:
    """The innermost line of the learner's own code in a traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(_PACKAGE + os.sep)]
    if not frames:
        return ""
    f = frames[-1]
    return f"in {f.name}, line {f.lineno}: {(f.line or '').strip()}"


def _problems_with(ex: Exercise, fns: dict[str, Callable]) -> str | None:
    """Friendly messages for what would stop every case: not callable, wrong signature, or
    gostack's own reference function passed in place of the learner's."""
    refs = ex.reference_functions()
    for name, params in ex.functions:
        fn = fns[name]
        if fn is refs.get(name):
            return (f"`{name}` is gostack's own {fn.__module__}.{fn.__qualname__}, the reference "
                    "this exercise asks you to write. Write your own version.")
        if (getattr(fn, "__module__", None) or "").startswith("gostack."):
            return (f"`{name}` is gostack's {fn.__module__}.{fn.__qualname__}, not a function "
                    "of yours. Write your own version.")
        if not callable(fn):
            return f"`{name}` is a {type(fn).__name__}, not a function."
        try:
            inspect.signature(fn).bind(*params)
        except TypeError:
            return (f"`{name}` cannot be called as {name}({', '.join(params)}): check its "
                    "parameters (the runtime passes exactly these, in this order).")
        except ValueError:
            pass  # no signature to inspect (a builtin): let the calls tell
    return None


def _run_cases(ex: Exercise, fns: dict[str, Callable], cases: list[dict]) -> list[dict] | str:
    outputs: list[dict] = []
    timed_out = False
    for case in cases:
        if timed_out:
            outputs.append({"error": {"type": "no result",
                                      "message": "not run: an earlier case ran out of time"}})
            continue
        try:
            with _time_limit(CASE_SECONDS):
                outputs.append({"ok": ex.run(fns, case)})
        except NotImplementedError:
            return "not implemented"
        except _CaseTimeout:
            timed_out = True
            outputs.append({"error": {"type": "a time limit",
                                      "message": f"no answer after {CASE_SECONDS:g} s "
                                                 "(an endless loop?)"}})
        except BadResult as e:
            outputs.append({"bad": str(e)})
        except Exception as e:  # a learner's function may raise anything
            outputs.append({"error": {"type": type(e).__name__, "message": str(e)[:200],
                                      "where": _where(e)}})
    return outputs


class ReferenceSwitchedOff(RuntimeError):
    """A gostack reference implementation was called while a check ran the learner's code."""


_CALLED: list[str] = []


def _switched_off(dotted: str) -> None:
    """What a reference function does while a check runs (the grader's worker does the same:
    a call costs the exercise there, caught or not)."""
    if dotted not in _CALLED:
        _CALLED.append(dotted)
    raise ReferenceSwitchedOff(f"{dotted} is gostack's reference implementation; it is "
                               "switched off while your code is checked")


def _off_code(dotted: str, fn: Callable):
    src = (f"def _off(*args, **kwargs):\n"
           f"    __import__('gostack.exercises', fromlist=['_'])._switched_off({dotted!r})\n")
    code = next(c for c in compile(src, f"<{dotted}: switched off>", "exec").co_consts
                if hasattr(c, "co_code"))
    return code.replace(co_name=fn.__name__)


@contextmanager
def _references_off(ex: Exercise):
    """Switch gostack's reference implementations off while the learner's code runs, as the
    grader does, and collect the names of those it called (the list is yielded)."""
    from . import runtime

    patched = []
    inline = runtime.INLINE_REFERENCE_PROLOGUE
    _CALLED.clear()
    called: list[str] = []
    try:
        runtime.INLINE_REFERENCE_PROLOGUE = False  # the simulator's inline reference prologue
        for dotted in ex.tripwires:
            fn = catalog.resolve(dotted)
            if isinstance(fn, FunctionType) and not fn.__closure__:
                patched.append((fn, fn.__code__))
                fn.__code__ = _off_code(dotted, fn)
        yield called
    finally:
        for fn, code in patched:
            fn.__code__ = code
        runtime.INLINE_REFERENCE_PROLOGUE = inline
        called.extend(_CALLED)
        _CALLED.clear()


def check(exercise: str, **fns: Callable) -> Score:
    """Check the functions of an exercise ("02-newstack", "2" or "newstack") and print a report."""
    ex = catalog.find(exercise)
    missing = [n for n in ex.names if n not in fns]
    if missing:
        raise TypeError(f"check({ex.id!r}) needs: {', '.join(ex.names)} (missing {missing})")
    head = f"Exercise {ex.id[:2]} · {ex.title}"
    problem = _problems_with(ex, fns)
    if problem:
        print(f"{head}\n{problem}\nScore: 0/{ex.max_points:g} points.")
        return Score(ex.id, 0.0, ex.max_points, message=problem)
    cases = ex.visible_cases()
    expected = catalog.reference_outputs(ex, cases)  # before the references are switched off
    with _references_off(ex) as called:
        outputs = _run_cases(ex, fns, cases)
    if called:
        message = (f"your code calls gostack's reference implementation ({', '.join(called)}) "
                   "instead of its own. The grader switches it off and scores this exercise "
                   "0: write the function yourself.")
        print(f"{head}\n{message}\nScore: 0/{ex.max_points:g} points.")
        return Score(ex.id, 0.0, ex.max_points, message=message)
    if outputs == "not implemented":
        names = ", ".join(f"`{n}`" for n in ex.names)
        verb = "raises" if len(ex.names) == 1 else "still raise"
        print(f"{head}: not implemented yet ({names} {verb} NotImplementedError).\n"
              "Replace `raise NotImplementedError()` with your code, then run this cell "
              f"again.\nScore: 0/{ex.max_points:g} points.")
        return Score(ex.id, 0.0, ex.max_points, message="not implemented")
    results = catalog.judge(ex, cases, outputs, expected)
    print(report(ex, results, len(cases)))
    points = sum(r.points for r in results)
    return Score(ex.id, points, ex.max_points, tuple(results))


def largest(holds: Callable[[int], bool], lo: int, hi: int, step: int = 8) -> int:
    """The largest multiple of ``step`` in [lo, hi] at which ``holds`` is true, for a
    ``holds`` that is true at ``lo`` and stays false above some value: the boundary an
    exercise's experiment looks for, found by bisection (each call is one simulator run)."""
    a, b = -(-lo // step), hi // step
    if not holds(a * step):
        raise ValueError(f"the condition does not hold at the lower end {a * step}")
    while a < b:
        mid = (a + b + 1) // 2
        a, b = (mid, b) if holds(mid * step) else (a, mid - 1)
    return a * step


def report(ex: Exercise, results: list[AspectResult], ncases: int, hidden: bool = False,
           hide_hidden_inputs: bool = False, points: Sequence[float] | None = None,
           zeroed: str | None = None) -> str:
    """The per-aspect report shared by the check cells and the grader's feedback.

    Each failing case it explains or counts is labelled visible or hidden.
    ``hide_hidden_inputs``: explain only failing *visible* cases; failing hidden ones are
    counted, and neither their inputs nor what the code said on them is shown.
    ``points``: each aspect's points as the grader scores them (default: what its cases
    gave); ``zeroed``: why the whole exercise scores 0. Learner text is escaped: the report
    is plain lines, with no control character or terminal escape in them."""
    which = "visible and hidden" if hidden else "visible"
    points = [r.points for r in results] if points is None else list(points)
    ran = f"{ncases} {which} cases" if ncases else "no case was run"
    lines = [f"Exercise {ex.id[:2]} · {ex.title}: {ran}"]
    if zeroed:
        lines.append(f"0 points for this exercise: {printable(zeroed)}")
    width = max(len(r.title) for r in results) + 2
    for r, pts in zip(results, points, strict=True):
        mark = "✔" if r.passed and pts == r.max_points else "✘"
        lines.append(f"  {mark} {r.title:<{width}} {pts:g}/{r.max_points:g}"
                     + (f"  (its cases gave {r.points:g}: 0 for this exercise, see above)"
                        if zeroed and r.points > pts else ""))
        if not zeroed:  # else the cases do not count: their details would only confuse
            lines += ["      " + line for line in failing_cases(ex, r, hide_hidden_inputs)]
    total = sum(points)
    lines.append(f"Score: {total:g}/{ex.max_points:g} points on the {which} tests.")
    if not hidden:
        lines.append("The grader runs these cases and hidden ones, the same for every student.")
    return printable("\n".join(lines), keep="\n")


def _fail_count(n: int, kind: str) -> str:
    return f"1 {kind} case fails" if n == 1 else f"{n} {kind} cases fail"


def failing_cases(ex: Exercise, r: AspectResult, hide_hidden_inputs: bool) -> list[str]:
    """The smallest failing case explained (a visible one only, when hidden inputs are
    hidden) and the others counted, each labelled visible or hidden."""
    visible = sum(1 for f in r.failures if f.case["id"].startswith("v"))
    hidden = len(r.failures) - visible
    worst = r.smallest(visible_only=hide_hidden_inputs)
    lines = []
    kind = None
    if worst is not None:
        kind = "visible" if worst.case["id"].startswith("v") else "hidden"
        n = visible if kind == "visible" else hidden
        lines.append(f"smallest failing {kind} input" + (f" (of {n}):" if n > 1 else ":"))
        lines += catalog.explain(ex, r.tag, worst).splitlines()
    too = " too" if kind else ""
    if visible and kind != "visible":
        lines.append(_fail_count(visible, "visible") + too)
    if hidden and kind != "hidden":
        shown = "" if not hide_hidden_inputs else " (inputs not shown)"
        lines.append(_fail_count(hidden, "hidden") + too + shown)
    return lines


def check_prologue(morestack_needed: Callable) -> Score:
    """Exercise 01: ``morestack_needed(sp, frame, stackguard0) -> bool``."""
    return check("01-prologue", morestack_needed=morestack_needed)


def check_newstack(new_size: Callable) -> Score:
    """Exercise 02: ``new_size(old_size, used, frame, max_stack) -> int``."""
    return check("02-newstack", new_size=new_size)


def check_copystack(copystack: Callable) -> Score:
    """Exercise 03: ``copystack(old, new, used) -> delta``."""
    return check("03-copystack", copystack=copystack)


def check_adjust(adjustframe: Callable) -> Score:
    """Exercise 04: ``adjustframe(words, frame, adj) -> list[gs.Adjusted]``."""
    return check("04-adjust", adjustframe=adjustframe)


def check_growth_path(morestack_needed: Callable, new_size: Callable, copystack: Callable,
                      adjustframe: Callable, shrink_size: Callable,
                      broken_stage: Callable) -> Score:
    """Exercise 05: the five stages plugged into ``gs.Runtime(stages=...)`` together, and
    ``broken_stage(reference, observed)``, which names the wrong stage of a runtime."""
    return check("05-growth-path", morestack_needed=morestack_needed, new_size=new_size,
                 copystack=copystack, adjustframe=adjustframe, shrink_size=shrink_size,
                 broken_stage=broken_stage)


def check_predict(predict: Callable) -> Score:
    """Exercise 06: ``predict(problem) -> [(call_index, new_size), ...]``."""
    return check("06-predict-the-trace", predict=predict)


def check_shrink(shrink_size: Callable) -> Score:
    """Exercise 07: ``shrink_size(size, used) -> int | None``."""
    return check("07-shrink", shrink_size=shrink_size)
