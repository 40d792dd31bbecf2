"""The exercises, as data: their functions, their cases, and how an answer is judged.

One catalogue serves three places:

* the learner's check cells (``gostack.exercises``), in the learner's own kernel, on the
  visible cases;
* the grader's worker, which only *calls* the learner's functions on cases it is given and
  turns what they return into plain JSON data (:meth:`Exercise.run`);
* the grader, which draws the cases (visible ones from a fixed seed, hidden ones from a
  per-student seed), computes the expected outputs with gostack's reference stages through
  the same :meth:`Exercise.run`, and compares them aspect by aspect (:func:`judge`).

Cases are plain data (``{"tags", "args", "size"}``) so they cross process boundaries as JSON.
Draws use ``random.Random.random()`` only (stable across Python versions).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..adjust import Adjusted, AdjustInfo, FrameRef
from ..arch import (
    MAX_STACK_CEILING,
    MAX_STACK_DEFAULT,
    MIN_LEGAL_POINTER,
    PAGE_SIZE,
    STACK_BIG,
    STACK_GUARD,
    STACK_NOSPLIT,
    STACK_PREEMPT,
)
from ..errors import InvalidPointer, RuntimeThrow, StackOverflow
from ..problems import Problem, generate
from ..runtime import Stages
from ..stackalloc import ARENA_BASE, Stack
from ..symtab import Func, Kind, Local
from ..trace import GC, Grow, Overflow, Shrink

WORD = (1 << 64) - 1
HEAP = ARENA_BASE + (1 << 30)  # where generated heap objects live, far from any stack


class BadResult(Exception):
    """The learner's function returned something that is not the kind of value asked for."""


# ---------------------------------------------------------------------------
# Reading what a learner's function returned: plain values only
# ---------------------------------------------------------------------------


def _typename(x: object) -> str:
    return type(x).__name__


def _is_numpy(x: object, kinds: str) -> bool:
    t = type(x)
    return getattr(t, "__module__", "") == "numpy" and any(k in t.__name__ for k in kinds.split())


def as_int(x: object, what: str = "the result") -> int:
    """An int, a numpy integer or an int subclass, read as a plain int (bool is refused)."""
    t = type(x)
    if t is int:
        v = x
    elif t is bool:
        raise BadResult(f"{what} is {x!r}, a bool; an int was expected")
    elif isinstance(x, int):
        v = int.__index__(x)  # the value of an int subclass, whatever its __eq__ says
    elif _is_numpy(x, "int"):
        v = int(x)
    else:
        raise BadResult(f"{what} is a {_typename(x)}, not an int")
    if v.bit_length() > 128:
        raise BadResult(f"{what} is an int of {v.bit_length()} bits, far outside any stack")
    return v


def as_bool(x: object, what: str = "the result") -> bool:
    t = type(x)
    if t is bool:
        return x
    if _is_numpy(x, "bool"):
        return bool(x)
    if t is int and x in (0, 1):
        return bool(x)
    raise BadResult(f"{what} is {_short(x)} (a {_typename(x)}); True or False was expected")


def as_opt_int(x: object, what: str = "the result") -> int | None:
    return None if x is None else as_int(x, what)


def as_str(x: object, what: str) -> str:
    if type(x) is not str:
        raise BadResult(f"{what} is a {_typename(x)}, not a str")
    return x[:200]


def as_words(x: object, what: str) -> list[list[int]]:
    """A dict of address -> value, as sorted [addr, value] pairs."""
    if not isinstance(x, dict):
        raise BadResult(f"{what} is a {_typename(x)}, not a dict of address -> value")
    if dict.__len__(x) > 100_000:
        raise BadResult(f"{what} holds {dict.__len__(x)} words, far more than any case writes")
    return sorted([as_int(a, f"an address in {what}"), as_int(v, f"a value in {what}")]
                  for a, v in list(dict.items(x)))


def as_list(x: object, what: str) -> list:
    if type(x) in (list, tuple):
        items = list(x)
    elif _is_numpy(x, "ndarray"):
        items = list(x.tolist())
    else:
        raise BadResult(f"{what} is a {_typename(x)}, not a list")
    if len(items) > 100_000:
        raise BadResult(f"{what} has {len(items)} items, far more than expected")
    return items


def _short(x: object) -> str:
    try:
        text = repr(x) if type(x) in (int, bool, str, float, type(None)) else f"a {_typename(x)}"
    except Exception:  # anything can happen in a learner's __repr__
        text = "an unprintable object"
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------
# Version-stable draws
# ---------------------------------------------------------------------------


def _int(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


def _stack_base(rng: random.Random) -> int:
    return ARENA_BASE + PAGE_SIZE * _int(rng, 1, 1 << 16)


# ---------------------------------------------------------------------------
# The catalogue's structure
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Aspect:
    """One thing a solution must get right, worth ``points`` when every case tagged
    ``tag`` gives the expected ``project``-ion of the output."""

    tag: str
    title: str
    points: float
    project: Callable[[dict, Any], Any]
    fmt: Callable[[Any, Any], str] | None = None  # (expected, got) -> text of the difference


@dataclass(frozen=True)
class Exercise:
    id: str  # the notebook stem, "02-newstack"
    title: str
    lesson: str  # the lesson notebook stem, "04-newstack"
    functions: tuple[tuple[str, tuple[str, ...]], ...]  # (name, parameters) the learner writes
    reference: dict[str, str]  # learner function -> dotted name of gostack's reference
    aspects: tuple[Aspect, ...]
    _cases: Callable[[random.Random, bool], list[dict]]
    _run: Callable[[dict[str, Callable], dict], Any]
    call_text: Callable[[dict], str]
    visible_seed: int
    # Dotted names the worker switches off on top of the reference functions.
    extra_tripwires: tuple[str, ...] = ()
    notes: str = ""

    @property
    def number(self) -> int:
        return int(self.id[:2])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.functions)

    @property
    def max_points(self) -> float:
        return sum(a.points for a in self.aspects)

    def visible_cases(self) -> list[dict]:
        return _finish(self._cases(random.Random(self.visible_seed), True), "v")

    def hidden_cases(self, seed: int) -> list[dict]:
        return _finish(self._cases(random.Random(seed), False), "h")

    def run(self, fns: dict[str, Callable], case: dict) -> Any:
        """Call the functions on one case and return plain JSON data (may raise BadResult)."""
        return _plain(self._run(fns, case))

    def reference_functions(self) -> dict[str, Callable]:
        return {name: resolve(dotted) for name, dotted in self.reference.items()}

    @property
    def tripwires(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.reference.values(), *REFERENCE_STAGES,
                                    *self.extra_tripwires)))


def _finish(cases: list[dict], prefix: str) -> list[dict]:
    for i, c in enumerate(cases):
        c["id"] = f"{prefix}{i}"
        c.setdefault("size", 0)
    return cases


def _plain(x: Any) -> Any:
    """Round-trip through JSON so that both sides compare exactly the same kind of data."""
    return json.loads(json.dumps(x))


def resolve(dotted: str) -> Any:
    """``gostack.newstack.new_size`` or ``gostack.runtime.Runtime.go`` -> the object."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise LookupError(dotted)


REFERENCE_STAGES = (
    "gostack.prologue.morestack_needed",
    "gostack.newstack.new_size",
    "gostack.copystack.copystack",
    "gostack.adjust.adjustframe",
    "gostack.shrink.shrink_size",
)


# ---------------------------------------------------------------------------
# Judging: expected vs got, aspect by aspect
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    case: dict
    expected: Any  # the projection
    got: Any  # the projection, or None when the call failed
    error: str | None = None  # "raised ValueError: ..." or "returned a str ..."


@dataclass(frozen=True)
class AspectResult:
    tag: str
    title: str
    points: float
    max_points: float
    cases: int
    visible: int
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures and self.cases > 0

    def smallest(self, visible_only: bool = False) -> Failure | None:
        """The failure to show: the smallest input, preferring cases that actually ran."""
        pool = [f for f in self.failures if f.case["id"].startswith("v") or not visible_only]
        if not pool:
            return None
        # Cases that were never run (after a timeout or a crash) explain nothing.
        return min(pool, key=lambda f: (bool(f.error and "no result" in f.error),
                                        f.case.get("size", 0), f.case["id"]))


def outcome_error(out: dict) -> str | None:
    """The message for an output record that is not a value ({"error": ...} or {"bad": ...})."""
    if "ok" in out:
        return None
    if "bad" in out:
        return str(out["bad"])
    err = out.get("error") or {}
    text = f"raised {err.get('type', 'an exception')}"
    if err.get("message"):
        text += f": {err['message']}"
    if err.get("where"):
        text += f" ({err['where']})"
    return text


def judge(ex: Exercise, cases: Sequence[dict], outputs: Sequence[dict],
          expected: Sequence[Any]) -> list[AspectResult]:
    """Compare outputs (records {"ok": value} / {"error": ...} / {"bad": ...}) with the
    expected values, per aspect. All plain data: nothing here calls a learner's code."""
    results = []
    for aspect in ex.aspects:
        idx = [i for i, c in enumerate(cases) if aspect.tag in c["tags"]]
        failures = []
        for i in idx:
            want = aspect.project(cases[i], expected[i])
            err = outcome_error(outputs[i])
            if err is not None:
                failures.append(Failure(cases[i], want, None, err))
                continue
            got = aspect.project(cases[i], outputs[i]["ok"])
            if got != want:
                failures.append(Failure(cases[i], want, got))
        ok = not failures and bool(idx)
        results.append(AspectResult(
            aspect.tag, aspect.title, aspect.points if ok else 0.0, aspect.points, len(idx),
            sum(1 for i in idx if cases[i]["id"].startswith("v")), tuple(failures)))
    return results


def explain(ex: Exercise, aspect_tag: str, failure: Failure) -> str:
    """What was tried, what was expected, what came back: a few plain lines."""
    aspect = next(a for a in ex.aspects if a.tag == aspect_tag)
    lines = [f"tried:    {ex.call_text(failure.case)}"]
    if failure.error is not None:
        lines.append(f"expected: {_fmt(failure.expected)}")
        lines.append(f"got:      {failure.error}")
    elif aspect.fmt is not None:
        try:
            lines.append(aspect.fmt(failure.expected, failure.got))
        except Exception:  # an answer of a shape the formatter does not know: show it plainly
            lines.append(f"expected: {_fmt(failure.expected)}")
            lines.append(f"got:      {_fmt(failure.got)}")
    else:
        lines.append(f"expected: {_fmt(failure.expected)}")
        lines.append(f"got:      {_fmt(failure.got)}")
    return "\n".join(lines)


def _fmt(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return repr(x)
    if isinstance(x, int):
        return f"{x:#x}" if x >= ARENA_BASE else f"{x:,}"
    if isinstance(x, dict) and set(x) == {"size"}:
        return _fmt(x["size"])
    if isinstance(x, dict) and x.get("overflow"):
        return "raise gs.StackOverflow (fatal error: stack overflow)"
    if isinstance(x, dict) and "raises" in x:
        return f"raise gs.{x['raises']}"
    text = json.dumps(x)
    return text if len(text) <= 300 else text[:297] + "..."


def _word(v: int | None) -> str:
    return "(nothing)" if v is None else f"{v:#x}"


def _word_diff(expected: Any, got: Any, limit: int = 4) -> str:
    """Differences between two lists of [addr, value] pairs."""
    want, have = dict(map(tuple, expected)), dict(map(tuple, got))
    lines = []
    for addr in sorted(set(want) | set(have)):
        a, b = want.get(addr), have.get(addr)
        if a != b:
            lines.append(f"  word at {addr:#x}: expected {_word(a)}, got {_word(b)}")
    more = len(lines) - limit
    lines = lines[:limit] + ([f"  ... and {more} more"] if more > 0 else [])
    return "differences:\n" + "\n".join(lines) if lines else "the same words, in another form"


# ===========================================================================
# 01 · the prologue check
# ===========================================================================


def _prologue_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tags: str, sp: int, frame: int, guard: int) -> None:
        cases.append({"tags": tags.split(), "args": [sp, frame, guard], "size": frame})

    lo = _stack_base(rng)
    guard = lo + STACK_GUARD
    if visible:  # the worked examples of lesson 03
        add("small", guard, 56, guard)
        add("small", guard + 8, 56, guard)
        add("small", guard + 8, 128, guard)
        add("medium", guard + 168 - 128, 168, guard)
        add("medium", guard + 168 - 128 + 8, 168, guard)
        add("medium", guard + STACK_BIG - 128 + 8, STACK_BIG, guard)
        add("huge", guard + 10280 - 128, 10280, guard)
        add("huge", guard + 10280 - 128 + 8, 10280, guard)
        add("underflow", 0x800, 100_000, 0x400)
        add("preempt", guard + 4096, 56, STACK_PREEMPT)
    n = 6 if visible else 10
    below, above = (-64, -2, -1, 0, 0), (1, 1, 2, 64)  # in words from the boundary
    for i in range(n):  # alternate sides, so that no constant answer passes
        d = 8 * _pick(rng, below if i % 2 else above)
        add("small", guard + d, 8 * _int(rng, 0, 16), guard)
        f = 8 * _int(rng, 17, 512)
        add("medium", guard + f - 128 + d, f, guard)
        f = 8 * _int(rng, 513, 25_000)
        add("huge underflow", guard + f - 128 + d, f, guard)
    for _ in range(n):  # SP below frame-128: SUBQ borrows, JCS goes to morestack
        f = 8 * _int(rng, 513, 25_000)
        g = 8 * _int(rng, 0, 512)
        add("underflow", 8 * _int(rng, 0, (f - 128) // 8 - 1), f, g)
        add("underflow", f - 128 + g + 8 * _int(rng, 1, 64), f, g)  # no borrow, and above
    for _ in range(n // 2 + 1):  # preempt: every checked prologue fails, whatever SP is
        f = _pick(rng, (8 * _int(rng, 0, 16), 8 * _int(rng, 17, 512), 8 * _int(rng, 513, 9000)))
        add("preempt", guard + 8 * _int(rng, 0, 4000) + f, f, STACK_PREEMPT)
        f = 8 * _int(rng, 0, 512)
        add("preempt", guard + max(0, f - 128) + 8 * _int(rng, 1, 64), f, guard)
    return cases


def _prologue_run(fns: dict[str, Callable], case: dict) -> bool:
    sp, frame, guard = case["args"]
    return as_bool(fns["morestack_needed"](sp, frame, guard), "morestack_needed's result")


def _prologue_call(case: dict) -> str:
    sp, frame, guard = case["args"]
    g = "stackPreempt" if guard == STACK_PREEMPT else f"{guard:#x}"
    return f"morestack_needed(sp={sp:#x}, frame={frame}, stackguard0={g})"


def _same(case: dict, out: Any) -> Any:
    return out


PROLOGUE = Exercise(
    id="01-prologue",
    title="The prologue check",
    lesson="03-prologue",
    functions=(("morestack_needed", ("sp", "frame", "stackguard0")),),
    reference={"morestack_needed": "gostack.prologue.morestack_needed"},
    aspects=(
        Aspect("small", "small frames (<= 128 bytes): SP <= stackguard0", 2, _same),
        Aspect("medium", "medium frames (129..4096): SP - (frame - 128) <= stackguard0", 2,
               _same),
        Aspect("huge", "huge frames (> 4096): the same compare after SUBQ", 2, _same),
        Aspect("underflow", "huge frames: when SUBQ would borrow, go to morestack (JCS)", 2,
               _same),
        Aspect("preempt", "unsigned compare: stackguard0 = stackPreempt fails every check", 2,
               _same),
    ),
    _cases=_prologue_cases,
    _run=_prologue_run,
    call_text=_prologue_call,
    visible_seed=103,
)


# ===========================================================================
# 02 · newstack's new size
# ===========================================================================


def _newstack_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []

    def add(tag: str, old: int, used: int, frame: int, limit: int = MAX_STACK_DEFAULT) -> None:
        cases.append({"tags": [tag], "args": [old, used, frame, limit],
                      "size": old.bit_length() + frame.bit_length()})

    if visible:
        add("double", 2048, 1144, 168)  # lesson 04: the 7th call of the 168-byte recursion
        add("double", 4096, 3160, 168)
        add("fit", 2048, 1144, 10280)  # a huge frame: 2048 -> 16384 in one newstack
        add("boundary", 2048, 2048 + 2048 - 928 - 1000, 1000)
        add("boundary", 2048, 2048 + 2048 - 928 - 1000, 1008)
        add("overflow", 16384, 15000, 168, 32768)
        add("overflow", 32768, 31000, 168, 32768)
        add("overflow", 1 << 29, (1 << 29) - 1000, 168)
        add("ceiling", 1 << 30, (1 << 30) - 1000, 168, 4_000_000_000)
    n = 5 if visible else 8
    for _ in range(n):
        old = 2048 << _int(rng, 1, 12)
        frame = 8 * _int(rng, 0, 64)
        add("double", old, old - 8 * _int(rng, 1, 200), frame)
    for _ in range(n):
        old = 2048 << _int(rng, 0, 8)
        frame = 8 * _int(rng, old // 8, 4 * old // 8)
        add("fit", old, old - 8 * _int(rng, 1, 100), frame)
    for _ in range(n - 2):
        old = 2048 << _int(rng, 0, 6)
        used = old - 8 * _int(rng, 1, 100)
        fit = 2 * old - used - STACK_GUARD  # the largest frame one doubling takes
        if fit >= 0:
            add("boundary", old, used, fit)
            add("boundary", old, used, fit + 8)
    for _ in range(n):
        k = _int(rng, 3, 12)
        limit = _pick(rng, (2048 << k, (2048 << k) + 8 * _int(rng, 1, 1000), MAX_STACK_DEFAULT))
        old = 1 << (limit.bit_length() - 1) if limit < MAX_STACK_DEFAULT else 1 << 29
        if _int(rng, 0, 1):
            old //= 2  # one doubling to exactly the limit (or under it): allowed
        add("overflow", old, old - 8 * _int(rng, 1, 100), 8 * _int(rng, 0, 64), limit)
    for _ in range(n // 2):
        old = _pick(rng, (1 << 29, 1 << 30))
        add("ceiling", old, old - 8 * _int(rng, 1, 100), 8 * _int(rng, 0, 64),
            _pick(rng, (3_000_000_000, 4_000_000_000, 1 << 40)))
    return cases


def _newstack_run(fns: dict[str, Callable], case: dict) -> dict:
    old, used, frame, limit = case["args"]
    try:
        size = fns["new_size"](old, used, frame, limit)
    except StackOverflow:
        return {"overflow": True}
    return {"size": as_int(size, "new_size's result")}


def _newstack_call(case: dict) -> str:
    old, used, frame, limit = case["args"]
    return f"new_size(old_size={old}, used={used}, frame={frame}, max_stack={limit})"


NEWSTACK = Exercise(
    id="02-newstack",
    title="newstack's new size",
    lesson="04-newstack",
    functions=(("new_size", ("old_size", "used", "frame", "max_stack")),),
    reference={"new_size": "gostack.newstack.new_size"},
    aspects=(
        Aspect("double", "doubles the stack when the frame fits", 2, _same),
        Aspect("fit", "keeps doubling until used + frame + 928 fits (huge frames)", 3, _same),
        Aspect("boundary", "the fit test: size - used >= frame + 928 is enough", 1, _same),
        Aspect("overflow", "raises StackOverflow past max_stack; exactly max_stack is allowed",
               3, _same),
        Aspect("ceiling", "raises StackOverflow past the 2,000,000,000-byte ceiling", 1, _same),
    ),
    _cases=_newstack_cases,
    _run=_newstack_run,
    call_text=_newstack_call,
    visible_seed=104,
    notes=f"maxstackceiling = {MAX_STACK_CEILING:,}",
)


# ===========================================================================
# 03 · copystack
# ===========================================================================


def _copystack_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []
    n = 4 if visible else 8
    for k in range(n * 2):
        old_size = 2048 << _int(rng, 0, 2)
        shrink = k % 4 == 3
        new_size = old_size // 2 if shrink and old_size > 2048 else old_size * 2
        old_lo = _stack_base(rng)
        new_lo = _stack_base(rng)
        while abs(new_lo - old_lo) < 4 * old_size:
            new_lo = _stack_base(rng)
        old_hi, new_hi = old_lo + old_size, new_lo + new_size
        used = 8 * _int(rng, 3, min(old_size, new_size) // 8 - 16)
        old_words = {}
        for _ in range(_int(rng, 6, 24)):
            if rng.random() < 0.75:  # mostly in the used part, some stale ones below it
                addr = old_hi - 8 * _int(rng, 1, used // 8)
            else:
                addr = old_lo + 8 * _int(rng, 0, (old_size - used) // 8 - 1)
            old_words[addr] = _value(rng, old_lo, old_hi)
        new_words = {}
        stale = k % 2 == 1
        if stale:  # memory reused from an earlier stack: old contents in the destination
            for _ in range(_int(rng, 2, 8)):
                new_words[new_hi - 8 * _int(rng, 1, used // 8)] = _value(rng, new_lo, new_hi)
        for _ in range(_int(rng, 0, 4)):
            new_words[new_lo + 8 * _int(rng, 0, (new_size - used) // 8 - 1)] = _int(rng, 1, 999)
        tags = ["delta", "copy", "old"] + (["stale"] if stale else [])
        cases.append({"tags": tags, "size": len(old_words) + len(new_words),
                      "args": {"old": [old_lo, old_hi, sorted(old_words.items())],
                               "new": [new_lo, new_hi, sorted(new_words.items())],
                               "used": used}})
    return cases


def _value(rng: random.Random, lo: int, hi: int) -> int:
    if rng.random() < 0.3:
        return lo + 8 * _int(rng, 0, (hi - lo) // 8 - 1)  # an address in the same stack
    return _int(rng, 0, WORD)


def _copystack_run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    old = Stack(a["old"][0], a["old"][1], {k: v for k, v in a["old"][2]})
    new = Stack(a["new"][0], a["new"][1], {k: v for k, v in a["new"][2]})
    delta = fns["copystack"](old, new, a["used"])
    return {"delta": as_int(delta, "copystack's result (the delta)"),
            "new": as_words(new.words, "new.words"), "old": as_words(old.words, "old.words")}


def _copystack_call(case: dict) -> str:
    a = case["args"]
    (olo, ohi, ow), (nlo, nhi, nw) = a["old"], a["new"]
    return (f"copystack(old=Stack({olo:#x}, {ohi:#x}, {len(ow)} words), "
            f"new=Stack({nlo:#x}, {nhi:#x}, {len(nw)} words), used={a['used']})")


def _dst(case: dict) -> tuple[int, int, int]:
    a = case["args"]
    return a["new"][1] - a["used"], a["new"][1], a["new"][1] - a["old"][1]


def _copied(case: dict, out: dict) -> list:
    lo, hi, delta = _dst(case)
    src = {addr + delta for addr, _ in case["args"]["old"][2]}
    return [w for w in out["new"] if lo <= w[0] < hi and w[0] in src]


COPYSTACK = Exercise(
    id="03-copystack",
    title="copystack",
    lesson="05-copystack",
    functions=(("copystack", ("old", "new", "used")),),
    reference={"copystack": "gostack.copystack.copystack"},
    aspects=(
        Aspect("delta", "returns delta = new.hi - old.hi (negative when the new stack is lower)",
               2, lambda c, o: o["delta"]),
        Aspect("copy", "copies each used word to the same distance from hi", 4, _copied,
               _word_diff),
        Aspect("stale", "memmove: stale words in the destination go; nothing from below "
               "hi - used comes along", 2, lambda c, o: o["new"], _word_diff),
        Aspect("old", "copies without changing the old stack", 2,
               lambda c, o: [o["old"], _copied(c, o)],
               lambda e, g: _word_diff(e[0] + e[1], g[0] + g[1])),
    ),
    _cases=_copystack_cases,
    _run=_copystack_run,
    call_text=_copystack_call,
    visible_seed=105,
)


# ===========================================================================
# 04 · adjustframe: pointers, uintptrs and heap pointers
# ===========================================================================

_KINDS = (Kind.POINTER, Kind.UINTPTR, Kind.SCALAR)


def _adjust_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases = []
    n = 10 if visible else 14
    for k in range(n):
        old_size = 2048 << _int(rng, 0, 3)
        old_lo = _stack_base(rng)
        new_lo = _stack_base(rng)
        while abs(new_lo - old_lo) < 4 * old_size:
            new_lo = _stack_base(rng)
        old_hi, new_hi = old_lo + old_size, new_lo + 2 * old_size
        nlocals = _int(rng, 3, 8)
        kinds = [Kind.POINTER, _pick(rng, (Kind.UINTPTR, Kind.SCALAR))]
        kinds += [_pick(rng, _KINDS) for _ in range(nlocals - 2)]
        order = list(range(nlocals))
        for i in range(nlocals - 1, 0, -1):  # shuffle with random() only
            j = int(rng.random() * (i + 1))
            order[i], order[j] = order[j], order[i]
        local_list = [[f"v{i}", kinds[i].value, 8 * order[i]] for i in range(nlocals)]
        frame = 8 * (nlocals + 1 + _int(rng, 0, 4))
        sp = new_hi - 8 * _int(rng, 2, 64) - frame
        words = {}
        tags = {"move", "records"}
        invalid = k == n - 1 or (not visible and k == n - 2)
        for _, kind, off in local_list:
            addr = sp + off
            r = rng.random()
            if kind != "pointer":
                v = old_lo + 8 * _int(rng, 0, old_size // 8 - 1) if r < 0.6 else _int(rng, 1, WORD)
                tags.add("nonptr")
            elif r < 0.55:
                v = old_lo + 8 * _int(rng, 0, old_size // 8 - 1)
            elif r < 0.65:
                v = _pick(rng, (old_lo, old_hi - 8))
            else:
                v = _pick(rng, (0, old_hi, HEAP + 8 * _int(rng, 0, 1 << 20), new_hi - 8))
                tags.add("outside")
            if v or rng.random() < 0.5:
                words[addr] = v
        if invalid:
            ptr = next(off for _, kind, off in local_list if kind == "pointer")
            words[sp + ptr] = 8 * _int(rng, 1, MIN_LEGAL_POINTER // 8 - 1)
            tags = {"invalid"}
        for _ in range(_int(rng, 1, 4)):  # other frames' words: not this frame's business
            words[sp + frame + 8 * _int(rng, 1, 30)] = old_lo + 8 * _int(rng, 0, 255)
        cases.append({"tags": sorted(tags), "size": nlocals, "args": {
            "words": sorted(words.items()),
            "func": [f"main.f{k}", frame, local_list], "sp": sp,
            "adj": [old_lo, old_hi, new_hi - old_hi]}})
    return cases


def _adjust_objects(case: dict) -> tuple[dict, FrameRef, AdjustInfo]:
    a = case["args"]
    name, frame, local_list = a["func"]
    func = Func(name, frame, tuple(Local(n, Kind(k), off) for n, k, off in local_list))
    return {k: v for k, v in a["words"]}, FrameRef(func, a["sp"]), AdjustInfo(*a["adj"])


def _record(r: object) -> list:
    if type(r) is Adjusted:
        return [r.func, r.local, r.addr, r.old, r.new]
    items = as_list(r, "an Adjusted record")
    if len(items) != 5:
        raise BadResult("each record must be a gs.Adjusted(func, local, addr, old, new)")
    return [as_str(items[0], "Adjusted.func"), as_str(items[1], "Adjusted.local"),
            *(as_int(v, "an Adjusted field") for v in items[2:])]


def _adjust_run(fns: dict[str, Callable], case: dict) -> dict:
    words, frame, adj = _adjust_objects(case)
    try:
        done = fns["adjustframe"](words, frame, adj)
    except InvalidPointer:
        return {"raises": "InvalidPointer"}
    except RuntimeThrow as e:
        if getattr(e, "throw_message", "") == "invalid pointer found on stack":
            return {"raises": "InvalidPointer"}
        raise
    records = sorted(_record(r) for r in as_list(done, "adjustframe's result"))
    return {"words": as_words(words, "words"), "adjusted": records}


def _adjust_call(case: dict) -> str:
    a = case["args"]
    name, frame, local_list = a["func"]
    locs = ", ".join(f"{n}:{k}@{off}" for n, k, off in sorted(local_list, key=lambda x: x[2]))
    lo, hi, delta = a["adj"]
    return (f"adjustframe(words, FrameRef({name} frame={frame} [{locs}], sp={a['sp']:#x}), "
            f"AdjustInfo(old_lo={lo:#x}, old_hi={hi:#x}, delta={delta:+#x}))")


def _slots(case: dict, out: dict, kinds: set[str], moved: bool | None) -> list:
    if "words" not in out:
        return [out]
    a = case["args"]
    lo, hi, _ = a["adj"]
    before = dict(map(tuple, a["words"]))
    have = dict(map(tuple, out["words"]))
    want = []
    for _, kind, off in a["func"][2]:
        addr = a["sp"] + off
        inside = lo <= before.get(addr, 0) < hi
        if kind in kinds and (moved is None or inside == moved):
            want.append([addr, have.get(addr, 0)])
    return want


ADJUST = Exercise(
    id="04-adjust",
    title="Pointer adjustment from stack maps",
    lesson="06-stack-maps",
    functions=(("adjustframe", ("words", "frame", "adj")),),
    reference={"adjustframe": "gostack.adjust.adjustframe"},
    aspects=(
        Aspect("move", "moves each pointer into [old.lo, old.hi) by delta", 3,
               lambda c, o: _slots(c, o, {"pointer"}, True), _word_diff),
        Aspect("nonptr", "leaves uintptr and scalar words alone, even holding stack addresses",
               2, lambda c, o: o.get("words", o), _word_diff),
        Aspect("outside", "leaves nil and heap pointers alone; old.hi itself is outside", 2,
               lambda c, o: _slots(c, o, {"pointer"}, None), _word_diff),
        Aspect("records", "returns one gs.Adjusted record per moved slot", 2,
               lambda c, o: o.get("adjusted", o)),
        Aspect("invalid", "0 < p < 4096 in a pointer slot raises gs.InvalidPointer", 1, _same),
    ),
    _cases=_adjust_cases,
    _run=_adjust_run,
    call_text=_adjust_call,
    visible_seed=106,
)


# ===========================================================================
# 07 · the shrink rule
# ===========================================================================


def _shrink_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases = []

    def add(tag: str, size: int, used: int) -> None:
        cases.append({"tags": [tag], "args": [size, used], "size": size.bit_length()})

    if visible:
        add("halve", 131072, 120)  # lesson 08: 128 KiB halves after the recursion returned
        add("keep", 8192, 8192 // 4 - STACK_NOSPLIT)
        add("keep", 8192, 8192 // 4 - STACK_NOSPLIT - 8)
        add("floor", 4096, 40)
        add("floor", 2048, 40)
    n = 4 if visible else 8
    for _ in range(n):
        size = 2048 << _int(rng, 1, 14)
        add("halve", size, 8 * _int(rng, 0, max(0, (size // 4 - STACK_NOSPLIT) // 8 - 1)))
    for _ in range(n):
        size = 2048 << _int(rng, 1, 14)
        edge = size // 4 - STACK_NOSPLIT
        add("keep", size, max(0, edge + 8 * _pick(rng, (-1, 0, 0, 1, 50))))
        add("keep", size, 8 * _int(rng, max(0, edge // 8), size // 8))
    for _ in range(n // 2):
        add("floor", 2048, 8 * _int(rng, 0, 60))
        add("floor", 4096, 8 * _int(rng, 0, 200))
        add("floor", 4096, 8 * _int(rng, 0, 20))
    return cases


def _shrink_run(fns: dict[str, Callable], case: dict) -> int | None:
    size, used = case["args"]
    return as_opt_int(fns["shrink_size"](size, used), "shrink_size's result")


SHRINK = Exercise(
    id="07-shrink",
    title="The shrink rule",
    lesson="08-beyond-growth",
    functions=(("shrink_size", ("size", "used")),),
    reference={"shrink_size": "gostack.shrink.shrink_size"},
    aspects=(
        Aspect("halve", "halves when used + 800 is under a quarter of the stack", 4, _same),
        Aspect("keep", "keeps the stack otherwise (exactly a quarter keeps it)", 3, _same),
        Aspect("floor", "never below 2 KiB: a 4 KiB stack may halve, a 2 KiB one never", 3,
               _same),
    ),
    _cases=_shrink_cases,
    _run=_shrink_run,
    call_text=lambda c: f"shrink_size(size={c['args'][0]}, used={c['args'][1]})",
    visible_seed=108,
)


# ===========================================================================
# 05 · the whole growth path: the learner's five stages in the simulator
# ===========================================================================

_WHOLE_PROBLEMS = {"grow": 2, "huge": 1, "shrink": 2, "overflow": 1}


def _problem_cases(kind: str, per_category: dict[str, int]):
    def make(rng: random.Random, visible: bool) -> list[dict]:
        cases = []
        for cat, count in per_category.items():
            for _ in range(count):
                p = generate(_int(rng, 0, 2**31 - 1), kind, cat)
                cases.append({"tags": _problem_tags(kind, cat), "args": p.to_dict(),
                              "size": len(p.steps)})
        return cases
    return make


def _problem_tags(kind: str, cat: str) -> list[str]:
    if kind == "predict":
        return [cat]
    return {"grow": ["grow", "copy", "pointers"], "huge": ["grow", "copy", "pointers"],
            "shrink": ["shrink", "pointers"], "overflow": ["overflow"]}[cat]


def _event(e: Any) -> list:
    adjusted = sorted([a.func, a.local, a.addr, a.old, a.new] for a in getattr(e, "adjusted", ()))
    if isinstance(e, Grow):
        return ["grow", e.call_index, e.old_size, e.new_size, e.used, e.delta,
                e.old_lo, e.old_hi, e.new_lo, e.new_hi, adjusted]
    if isinstance(e, Shrink):
        return ["shrink", e.gc, e.old_size, e.new_size, e.used, e.delta,
                e.old_lo, e.old_hi, e.new_lo, e.new_hi, adjusted]
    if isinstance(e, GC):
        return ["gc", e.gc, e.used, e.size, e.call_index]
    if isinstance(e, Overflow):
        return ["overflow", e.call_index, e.old_size, e.used, e.limit]
    raise TypeError(e)


_STAGE_OF = {"morestack_needed": "prologue", "new_size": "newsize", "copystack": "copystack",
             "adjustframe": "adjustframe", "shrink_size": "shrink"}


def _whole_run(fns: dict[str, Callable], case: dict) -> dict:
    # Each stage is called through a counter: how often the runtime called it is part of
    # the output, so a run that skipped a stage (the simulator has an inline reference
    # prologue, for speed) cannot pass for one that used it.
    counts = dict.fromkeys(_STAGE_OF.values(), 0)

    def counted(stage: str, fn: Callable) -> Callable:
        def call(*args):
            counts[stage] += 1
            return fn(*args)
        return call

    stages = Stages(**{stage: counted(stage, fns[name]) for name, stage in _STAGE_OF.items()})
    run = Problem.from_dict(case["args"]).run(stages)
    if run.error and run.error.startswith("NotImplementedError"):
        raise NotImplementedError(run.error)
    return {"events": [_event(e) for e in run.events],
            "checks": [[[c.frame, c.p, c.u] for c in cs] for cs in run.checks],
            "error": run.error, "calls": counts}


def _problem_call(case: dict) -> str:
    p = Problem.from_dict(case["args"])
    steps = "; ".join(" ".join(step.split()) for step in p.describe_steps())
    if len(steps) > 240:
        steps = steps[:237] + "..."
    limit = "" if p.max_stack == MAX_STACK_DEFAULT else f", max_stack={p.max_stack:,}"
    return (f"problem seed {p.seed} ({p.category}{limit}): {p.entry.name} "
            f"(frame {p.entry.frame}); {steps}")


# Every aspect also compares how often the runtime called the prologue and newstack
# stages: the simulator has an inline copy of the reference prologue (its fast path), and a
# run that slipped onto it would otherwise pass for one that used the learner's check.
_ALWAYS_COUNTED = ("prologue", "newsize")


def _events_of(kinds: set[str], fields: slice | None = None, stages: tuple[str, ...] = ()):
    def project(case: dict, out: dict) -> list:
        ev = [e if fields is None else e[:1] + e[fields] for e in out["events"] if e[0] in kinds]
        ev += [["calls", s, out["calls"][s]] for s in (*_ALWAYS_COUNTED, *stages)]
        return ([["error", out["error"]]] if out.get("error") else []) + ev  # errors first
    return project


def _show_event(e: list | None) -> str:
    """One serialised event (or a projection of one: a prefix of its fields) as text."""
    if e is None:
        return "(nothing)"
    kind, f = e[0], e[1:]
    if kind == "error":
        return f"the run stopped: {f[0]}"
    if kind == "grow":
        text = f"grow at call {f[0]}"
        if len(f) >= 3:
            text += f": {f[1]:,} -> {f[2]:,} bytes"
        if len(f) >= 5:
            text += f", used {f[3]:,}, delta {f[4]:+#x}"
        return text
    if kind == "shrink" and len(f) >= 4:
        return f"shrink at GC {f[0]}: {f[1]:,} -> {f[2]:,} bytes (used {f[3]:,})"
    if kind == "gc" and len(f) >= 3:
        return f"GC {f[0]} scanned a {f[2]:,}-byte stack with {f[1]:,} bytes in use"
    if kind == "overflow":
        return f"stack overflow at call {f[0]}" + (f" (limit {f[3]:,})" if len(f) >= 4 else "")
    if kind == "check" and len(f) >= 3:
        return f"frame {f[0]}: p = {f[1]:#x}, u = {f[2]:#x}"
    if kind == "calls":
        return f"the runtime called your {f[0]} stage {f[1]:,} times"
    return json.dumps(e)


def _first_difference(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (f"first difference at event {i + 1}:\n"
                    f"  expected: {_show_event(a)}\n  got:      {_show_event(b)}")
    return "the same events"


def _pointer_view(case: dict, out: dict) -> list:
    view = []
    for e in out["events"]:
        if e[0] in ("grow", "shrink"):
            view.append([e[0], e[1], e[-1]])
    for k, cs in enumerate(out["checks"]):
        view += [["check", c[0], c[1], c[2]] for c in cs] or [["check", k, 0, 0]]
    view += [["calls", s, out["calls"][s]] for s in (*_ALWAYS_COUNTED, "adjustframe")]
    return ([["error", out["error"]]] if out.get("error") else []) + view


def _pointer_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            if a and b and a[0] == b[0] and a[0] in ("grow", "shrink"):
                return (f"at the {a[0]} of call/GC {a[1]}, the adjusted slots differ:\n"
                        f"  expected {len(a[2])} records: {_fmt(a[2][:3])}\n"
                        f"  got      {len(b[2])} records: {_fmt(b[2][:3])}")
            return f"expected: {_show_event(a)}\ngot:      {_show_event(b)}"
    return "the same"


WHOLE = Exercise(
    id="05-growth-path",
    title="The whole growth path",
    lesson="07-whole-newstack",
    functions=(
        ("morestack_needed", ("sp", "frame", "stackguard0")),
        ("new_size", ("old_size", "used", "frame", "max_stack")),
        ("copystack", ("old", "new", "used")),
        ("adjustframe", ("words", "frame", "adj")),
        ("shrink_size", ("size", "used")),
    ),
    reference={
        "morestack_needed": "gostack.prologue.morestack_needed",
        "new_size": "gostack.newstack.new_size",
        "copystack": "gostack.copystack.copystack",
        "adjustframe": "gostack.adjust.adjustframe",
        "shrink_size": "gostack.shrink.shrink_size",
    },
    aspects=(
        Aspect("grow", "grows at the same calls, to the same sizes", 3,
               _events_of({"grow", "overflow"}, slice(1, 2)), _first_difference),
        Aspect("copy", "moves the same bytes: used, delta and the new bounds", 2,
               _events_of({"grow"}, slice(1, 10), ("copystack",)), _first_difference),
        Aspect("pointers", "pointers follow every move; uintptrs do not", 2, _pointer_view,
               _pointer_diff),
        Aspect("shrink", "shrinks at the same GCs, to the same sizes", 2,
               _events_of({"grow", "shrink", "gc"}, slice(1, 6), ("shrink", "copystack")),
               _first_difference),
        Aspect("overflow", "stops with a stack overflow at the same call", 1,
               _events_of({"grow", "overflow"}, slice(1, 5)), _first_difference),
    ),
    _cases=_problem_cases("whole", _WHOLE_PROBLEMS),
    _run=_whole_run,
    call_text=_problem_call,
    visible_seed=107,
)


# ===========================================================================
# 06 · predict the trace
# ===========================================================================


def _predict_run(fns: dict[str, Callable], case: dict) -> list:
    got = fns["predict"](Problem.from_dict(case["args"]))
    pairs = []
    for item in as_list(got, "predict's result"):
        pair = as_list(item, "each item of predict's result")
        if len(pair) != 2:
            raise BadResult("each item must be a pair (call_index, new_size)")
        pairs.append([as_int(pair[0], "a call index"), as_int(pair[1], "a new size")])
    return pairs


def _growth(p: list | None) -> str:
    return "(no more growths)" if p is None else f"call {p[0]} grows to {p[1]:,} bytes"


def _pairs_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (f"expected: {_fmt(expected)}\ngot:      {_fmt(got)}\n"
                    f"first difference, growth {i + 1}: expected {_growth(a)}, "
                    f"got {_growth(b)}")
    return "the same"


PREDICT = Exercise(
    id="06-predict-the-trace",
    title="Predict the trace",
    lesson="04-newstack",
    functions=(("predict", ("problem",)),),
    reference={"predict": "gostack.problems.Problem.answer"},
    aspects=(
        Aspect("recursion", "one function calling itself", 3, _same, _pairs_diff),
        Aspect("mixed", "several functions, and returns in between", 3, _same, _pairs_diff),
        Aspect("huge", "huge frames: more than one doubling in one growth", 2, _same,
               _pairs_diff),
        Aspect("entry", "a big entry frame: growth at call 0", 2, _same, _pairs_diff),
    ),
    _cases=_problem_cases("predict", {"recursion": 2, "mixed": 2, "huge": 2, "entry": 2}),
    _run=_predict_run,
    call_text=_problem_call,
    visible_seed=109,
    extra_tripwires=(
        "gostack.problems.Problem.run",
        "gostack.runtime.Runtime.go",
        "gostack.runtime.Goroutine.call",
    ),
)

EXERCISES: tuple[Exercise, ...] = (PROLOGUE, NEWSTACK, COPYSTACK, ADJUST, WHOLE, PREDICT, SHRINK)
BY_ID = {e.id: e for e in EXERCISES}


def find(key: str) -> Exercise:
    """An exercise by id ("02-newstack"), number ("2", "02") or slug ("newstack")."""
    key = key.strip()
    for e in EXERCISES:
        if key in (e.id, e.id[:2], e.id[3:]) or (key.isdigit() and int(key) == e.number):
            return e
    raise KeyError(f"no exercise {key!r} (known: {', '.join(BY_ID)})")


def reference_outputs(ex: Exercise, cases: Sequence[dict]) -> list[Any]:
    """The expected output of each case: the reference stages through the same run()."""
    fns = ex.reference_functions()
    return [ex.run(fns, c) for c in cases]

