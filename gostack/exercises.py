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
from .grade.spec import localize_error
from .i18n import N_, _, language, ngettext
from .i18n import text_width as _width

CASE_SECONDS = 1.0  # per call: far more than any case needs; an endless loop stops here

__all__ = [
    "Score", "check", "check_adjust", "check_copystack", "check_growth_path", "check_newstack",
    "check_predict", "check_prologue", "check_shrink", "largest", "line", "predict_first",
    "say",
]

# Lines the exercise notebooks print, named there (``ex.say("shrink-largest", ...)``): both
# editions run the same code cells, and each prints in its own language.
LINES = {
    "predict-first": N_("Predict first, then set SHOW_ANSWERS = True."),
    "compare-later": N_("Set SHOW_ANSWERS = True and run this cell again to compare."),
    "newstack-largest": N_("used = {used:>5,}: the largest frame given 8,192 bytes is "
                           "{frame:,}; {more:,} gets {size:,}"),
    "newstack-frame": N_("frame {frame:>6,} from 4 KiB with 88 bytes in use: {size:>7,} bytes"),
    "predict-grows": N_("  call {call} grows the stack: {old:,} -> {new:,} bytes"),
    "shrink-largest": N_("{size:>9,}-byte stack: halved with up to {used:>7,} bytes in use; "
                         "with {more:,}: {halved}"),
    "prologue-fires": N_("F = {frame:>5}: morestack while E - stackguard0 <= {d:>6,}   ({asm})"),
    "prologue-r12": N_("1. R12 = {r12:#x}, no borrow (0x1F00 >= 5,872); morestack called: "
                       "{called}"),
    "prologue-events": N_("2. F = {frame:>5}: events after the worker's call: {events} | "
                          "morestack called at SP 0xc000002000: {called}"),
    "copy-moved": N_("call {call} ({func}, frame {frame} B) did not fit: {old:,} -> {new:,} B, "
                     "{used:,} B in use"),
    "copy-stacks": N_("old stack [{old_lo:#x}, {old_hi:#x})   new stack [{new_lo:#x}, "
                      "{new_hi:#x})\n"),
    "copy-header": N_("frame                  old stack             new stack   new sp - old sp"),
    # The rows of exercise 03's reveal: the label column is 28 wide (Hangul counts 2).
    "free-as-copied": N_("bytes below, as copied       {right!s:>6}   yours: {yours!s:<6} "
                         "{verdict}"),
    "free-from-lo": N_("bytes below, kept from lo    {right!s:>6}   yours: {yours!s:<6} "
                       "{verdict}"),
    "free-fits": N_("{fits:<28} {right!s:>6}   yours: {yours!s:<6} {verdict}"),
    "fits-from-lo": N_("fits {need:,} B, kept from lo"),
    "not-answered": N_("not answered"),
    "right": N_("right"),
    "no": N_("no"),
    "steal-orders": N_("orders of case 2: {orders}"),
    "predict-steals": N_("Predict first, then set SHOW_STEALS = True."),
    "runq-printed": N_("spawn_{n}, go1.27.3 printed: {out}"),
    "runq-simulator": N_("  simulator: G{first} runs first (it was in runnext), then the ring "
                         "{ring}"),
    "global-take": N_("G{goid} from the global queue ({where}) at schedtick {tick}, then {left} "
                      "Gs queued locally"),
    "steal-count": N_("victim's ring {n:3}: {moved:3} moved to the thief, {stayed:3} stayed"),
}


def line(name: str, **values) -> str:
    """One of :data:`LINES` with ``values``, in the language in use."""
    return _(LINES[name]).format(**values)


def say(name: str, **values) -> None:
    """Print one of :data:`LINES` with ``values``, in the language in use."""
    print(line(name, **values))


def predict_first() -> None:
    """What an answer cell prints while SHOW_ANSWERS is False."""
    say("predict-first")


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
            return _("`{name}` is gostack's own {where}, the reference this exercise asks you "
                     "to write. Write your own version.").format(
                name=name, where=f"{fn.__module__}.{fn.__qualname__}")
        if (getattr(fn, "__module__", None) or "").startswith("gostack."):
            return _("`{name}` is gostack's {where}, not a function of yours. Write your own "
                     "version.").format(name=name, where=f"{fn.__module__}.{fn.__qualname__}")
        if not callable(fn):
            return _("`{name}` is a {kind}, not a function.").format(
                name=name, kind=type(fn).__name__)
        try:
            inspect.signature(fn).bind(*params)
        except TypeError:
            return _("`{name}` cannot be called as {call}: check its parameters (the runtime "
                     "passes exactly these, in this order).").format(
                name=name, call=f"{name}({', '.join(params)})")
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
    head = _("Exercise {number} · {title}").format(number=ex.id[:2], title=_(ex.title))
    score0 = _("Score: 0/{max} points.").format(max=f"{ex.max_points:g}")
    problem = _problems_with(ex, fns)
    if problem:
        print(f"{head}\n{problem}\n{score0}")
        return Score(ex.id, 0.0, ex.max_points, message=problem)
    cases = ex.visible_cases()
    expected = catalog.reference_outputs(ex, cases)  # before the references are switched off
    with _references_off(ex) as called:
        outputs = _run_cases(ex, fns, cases)
    if called:
        message = _("your code calls gostack's reference implementation ({names}) instead "
                    "of its own. The grader switches it off and scores this exercise 0: write "
                    "the function yourself.").format(names=", ".join(called))
        print(f"{head}\n{message}\n{score0}")
        return Score(ex.id, 0.0, ex.max_points, message=message)
    if outputs == "not implemented":
        names = ", ".join(f"`{n}`" for n in ex.names)
        said = ngettext("{head}: not implemented yet ({names} raises NotImplementedError).",
                        "{head}: not implemented yet ({names} still raise "
                        "NotImplementedError).", len(ex.names)).format(head=head, names=names)
        again = _("Replace `raise NotImplementedError()` with your code, then run this cell "
                  "again.")
        print(f"{said}\n{again}\n{score0}")
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
    points = [r.points for r in results] if points is None else list(points)
    if not ncases:
        ran = _("no case was run")
    elif hidden:
        ran = ngettext("{n} visible and hidden case", "{n} visible and hidden cases",
                       ncases).format(n=ncases)
    else:
        ran = ngettext("{n} visible case", "{n} visible cases", ncases).format(n=ncases)
    head = _("Exercise {number} · {title}").format(number=ex.id[:2], title=_(ex.title))
    lines = [f"{head}: {ran}"]
    if zeroed:
        lines.append(_("0 points for this exercise: {why}").format(
            why=printable(localize_error(zeroed))))
    titles = [_(r.title) for r in results]
    width = max(_width(t) for t in titles) + 2
    # English: the title, then the points in a column. Other languages: the points first, in
    # a column of ASCII, since how wide a browser draws Hangul depends on its fonts.
    scores = [f"{pts:g}/{r.max_points:g}" for r, pts in zip(results, points, strict=True)]
    first = language() != "en"
    swidth = max(len(x) for x in scores)
    for r, title, pts, score in zip(results, titles, points, scores, strict=True):
        mark = "✔" if r.passed and pts == r.max_points else "✘"
        pad = " " * (width - _width(title))
        row = (f"  {mark} {score:<{swidth}}  {title}" if first
               else f"  {mark} {title}{pad} {score}")
        lines.append(row + (_("  (its cases gave {points}: 0 for this exercise, see above)").format(
                         points=f"{r.points:g}") if zeroed and r.points > pts else ""))
        if not zeroed:  # else the cases do not count: their details would only confuse
            lines += ["      " + line for line in failing_cases(ex, r, hide_hidden_inputs)]
    total = sum(points)
    score = (_("Score: {points}/{max} points on the visible and hidden tests.") if hidden
             else _("Score: {points}/{max} points on the visible tests."))
    lines.append(score.format(points=f"{total:g}", max=f"{ex.max_points:g}"))
    if not hidden:
        lines.append(_("The grader runs these cases and hidden ones, the same for every "
                       "student."))
    return printable("\n".join(lines), keep="\n")


def _fail_count(n: int, kind: str, too: bool = False) -> str:
    if kind == "visible":
        text = (ngettext("{n} visible case fails too", "{n} visible cases fail too", n) if too
                else ngettext("{n} visible case fails", "{n} visible cases fail", n))
    else:
        text = (ngettext("{n} hidden case fails too", "{n} hidden cases fail too", n) if too
                else ngettext("{n} hidden case fails", "{n} hidden cases fail", n))
    return text.format(n=n)


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
        first = (_("smallest failing visible input") if kind == "visible"
                 else _("smallest failing hidden input"))
        lines.append(first + (_(" (of {n}):").format(n=n) if n > 1 else ":"))
        lines += catalog.explain(ex, r.tag, worst).splitlines()
    too = bool(kind)
    if visible and kind != "visible":
        lines.append(_fail_count(visible, "visible", too))
    if hidden and kind != "hidden":
        shown = "" if not hide_hidden_inputs else _(" (inputs not shown)")
        lines.append(_fail_count(hidden, "hidden", too) + shown)
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
