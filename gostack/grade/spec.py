"""The machinery every exercise shares: reading answers, drawing cases, judging, explaining.

An exercise (one module of :mod:`gostack.grade.exercises`) is an :class:`Exercise`: the
functions the learner writes, gostack's reference for each, its aspects (one rule each, with
points), a case generator, how one case is run, and its bug zoo (:class:`Wrong` answers that
learners write, each breaking named rules, and :class:`Right` variants written differently).

Cases are plain data (``{"tags", "args", "size"}``) so they cross process boundaries as JSON.
Draws use ``random.Random.random()`` only (stable across Python versions). Every student gets
the same cases: the visible ones (the check cell's) and the hidden ones are both drawn from
seeds fixed per exercise, so the same code always gets the same score.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..arch import PAGE_SIZE
from ..i18n import N_
from ..stackalloc import ARENA_BASE

WORD = (1 << 64) - 1
HEAP = ARENA_BASE + (1 << 30)  # where generated heap objects live, far from any stack


class BadResult(Exception):
    """The learner's function returned something that is not the kind of value asked for."""


# ---------------------------------------------------------------------------
# Reading what a learner's function returned: plain values only
# ---------------------------------------------------------------------------


def typename(x: object) -> str:
    return type(x).__name__


def a_typename(x: object) -> str:
    """``typename`` with its English article: "an int", "a list"."""
    n = typename(x)
    return ("an " if n[:1].lower() in "aeiou" else "a ") + n


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
        raise BadResult(f"{what} is {a_typename(x)}, not an int")
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
    raise BadResult(f"{what} is {short(x)} ({a_typename(x)}); True or False was expected")


def as_opt_int(x: object, what: str = "the result") -> int | None:
    return None if x is None else as_int(x, what)


def as_str(x: object, what: str) -> str:
    if type(x) is not str:
        raise BadResult(f"{what} is {a_typename(x)}, not a str")
    return x[:200]


def as_words(x: object, what: str) -> list[list[int]]:
    """A dict of address -> value, as sorted [addr, value] pairs."""
    if not isinstance(x, dict):
        raise BadResult(f"{what} is {a_typename(x)}, not a dict of address -> value")
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
        raise BadResult(f"{what} is {a_typename(x)}, not a list")
    if len(items) > 100_000:
        raise BadResult(f"{what} has {len(items)} items, far more than expected")
    return items


def short(x: object) -> str:
    try:
        text = repr(x) if type(x) in (int, bool, str, float, type(None)) else f"a {typename(x)}"
    except Exception:  # anything can happen in a learner's __repr__
        text = "an unprintable object"
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------
# Version-stable draws
# ---------------------------------------------------------------------------


def draw(rng: random.Random, lo: int, hi: int) -> int:
    return lo + int(rng.random() * (hi - lo + 1))


def pick(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


def stack_base(rng: random.Random) -> int:
    return ARENA_BASE + PAGE_SIZE * draw(rng, 1, 1 << 16)


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
class Wrong:
    """A wrong answer learners write: its code (cell source, run after the solution's cells,
    so it may redefine one function only) and the aspects it must fail, no more, no fewer."""

    name: str
    breaks: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class Right:
    """A correct answer written differently from the solution: full marks everywhere."""

    name: str
    code: str


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
    zoo: tuple[Wrong, ...] = ()
    right: tuple[Right, ...] = ()
    # A statement the learner can paste to rerun one case, when call_text is not one.
    repro_text: Callable[[dict], str] | None = None

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

    @property
    def hidden_seed(self) -> int:
        return self.visible_seed + 10_000

    def hidden_cases(self) -> list[dict]:
        """The hidden cases: the same for every student (a seed fixed per exercise)."""
        return _finish(self._cases(random.Random(self.hidden_seed), False), "h")

    def varied_cases(self, seed: int) -> list[dict]:
        """Extra hidden cases from a per-student seed (``gostack grade --vary-per-student``):
        drawn like the hidden ones, so they fall in the classes those already cover."""
        return _finish(self._cases(random.Random(seed), False), "hv")

    def repro(self, case: dict) -> str:
        """Python the learner pastes to make exactly the calls this case makes."""
        return (self.repro_text or self.call_text)(case)

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


def same(case: dict, out: Any) -> Any:
    """The projection of an aspect that compares the whole output."""
    return out


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
    if err.get("type") == "a time limit":  # the worker's per-call alarm (--case-timeout)
        m = re.search(r"after ([\d.]+) s", str(err.get("message", "")))
        limit = f"{m.group(1)} s per call" if m else "the time a call may take"
        return f"ran out of time: no answer after {limit} (an endless loop?)"
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
    """What was tried, what was expected, what came back: a few plain lines. What the
    learner's code said (an exception's type and message, a refused answer) stays on its
    line, and no control character or terminal escape of it reaches a report."""
    from .notebook import printable  # the one escaping function of every report

    aspect = next(a for a in ex.aspects if a.tag == aspect_tag)
    lines = [f"tried:    {ex.call_text(failure.case)}"]
    if ex.repro_text is not None:
        lines.append(f"reproduce: {ex.repro(failure.case)}")
    if failure.error is not None:
        lines.append(f"expected: {fmt(failure.expected)}")
        lines.append(f"got:      {printable(failure.error)}")
    elif aspect.fmt is not None:
        try:
            lines.append(aspect.fmt(failure.expected, failure.got))
        except Exception:  # an answer of a shape the formatter does not know: show it plainly
            lines.append(f"expected: {fmt(failure.expected)}")
            lines.append(f"got:      {fmt(failure.got)}")
    else:
        lines.append(f"expected: {fmt(failure.expected)}")
        lines.append(f"got:      {fmt(failure.got)}")
    return printable("\n".join(relabel(lines)), keep="\n")


_LABEL = re.compile(r"^(tried|reproduce|expected|got):\s*")


def relabel(lines: list[str]) -> list[str]:
    """A failure's lines (``tried:``, ``expected:``, ``got:``...) with their labels, and the
    errors on them, in the language in use (English: unchanged)."""
    from ..i18n import _, language

    if language() == "en":
        return lines
    names = {"tried": _("tried:"), "reproduce": _("reproduce:"), "expected": _("expected:"),
             "got": _("got:")}
    out = []
    for line in "\n".join(lines).split("\n"):
        m = _LABEL.match(line)
        if m:
            label = names[m.group(1)]
            rest = line[m.end():]
            if m.group(1) == "got":
                rest = localize_error(rest)
            line = f"{label} {rest}"  # no column: how wide Hangul is drawn depends on fonts
        else:
            m = re.match(r"^\((\d+) of (\d+) (\w+) differ; this is the first\)$", line)
            if m:
                line = _("({n} of {total} differ; this is the first)").format(
                    n=m.group(1), total=m.group(2))
        out.append(line)
    return out


def fmt(x: Any) -> str:
    if isinstance(x, str):
        return x  # an aspect's own words ("keeps the stack")
    if isinstance(x, bool) or x is None:
        return repr(x)
    if isinstance(x, int):
        return f"{x:#x}" if x >= ARENA_BASE else f"{x:,}"
    if isinstance(x, dict) and set(x) == {"size"}:
        return fmt(x["size"])
    if isinstance(x, dict) and x.get("overflow"):
        return "raise gs.StackOverflow (fatal error: stack overflow)"
    if isinstance(x, dict) and "raises" in x:
        return f"raise gs.{x['raises']}"
    return _plain_text(x)  # whole: a learner cannot act on a cut-off value


def _plain_text(x: Any) -> str:
    """Lists and dicts as Python-like text, addresses in hex like everywhere else."""
    if isinstance(x, bool) or x is None:
        return repr(x)
    if isinstance(x, int):
        return f"{x:#x}" if x >= ARENA_BASE else str(x)
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_plain_text(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_plain_text(k)}: {_plain_text(v)}" for k, v in x.items()) + "}"
    return json.dumps(x)


def num(v: int | None) -> str:
    """A value as reports show it: addresses and other large values in hex, small in decimal."""
    if v is None:
        return "nothing"
    return f"{v:#x}" if abs(v) >= 0x10000 else str(v)


def first_difference(expected: list[str], got: list[str], noun: str = "lines") -> str:
    """Two equally long lists of report lines: the first that differs, whole, and how many
    do (a learner acts on one difference, never on a truncated dump)."""
    diffs = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    e, g = diffs[0]
    lines = [f"expected: {e}", f"got:      {g}"]
    if len(diffs) > 1:
        lines.append(f"({len(diffs)} of {len(expected)} {noun} differ; this is the first)")
    return "\n".join(lines)


def localize_error(text: str) -> str:
    """An error as the data says it (English, which the grader's summary reads), in the
    language in use: the known openings are translated, what the code said is kept."""
    from ..i18n import _, language

    if language() == "en" or not text:
        return text
    m = re.match(r"^ran out of time: no answer after ([\d.]+) s per call \(an endless loop\?\)"
                 r"(.*)$", text, re.S)
    if m:
        return _("ran out of time: no answer after {seconds} s per call (an endless "
                 "loop?)").format(seconds=m.group(1)) + m.group(2)
    m = re.match(r"^ran out of time: no answer after (.+?) \(an endless loop\?\)(.*)$", text,
                 re.S)
    if m:
        return _("ran out of time: no answer after {limit} (an endless loop?)").format(
            limit=m.group(1)) + m.group(2)
    m = re.match(r"^(?:raised no result: )?not run: an earlier case ran out of time$", text)
    if m:
        return _("not run: an earlier case ran out of time")
    m = re.match(r"^raised NotImplementedError(.*)$", text, re.S)
    if m and "every case" in text:
        n = re.search(r"×(\d+)", text)
        return _("raised NotImplementedError (not implemented) in every case: ×{n}").format(
            n=n.group(1) if n else "?")
    m = re.match(r"^raised ([\w. ]+?)(: .*)?$", text, re.S)
    if m:
        rest = m.group(2) or ""
        where = re.search(r" \(in ([\w.<>]+), line (\d+): (.*)\)$", rest, re.S)
        if where:  # _where's "(in f, line 3: code)" at the end
            rest = rest[:where.start()] + " (" + _("in {name}, line {line}: {code}").format(
                name=where.group(1), line=where.group(2), code=where.group(3)) + ")"
        return _("raised {error}").format(error=m.group(1)) + rest
    return localize_lines(text, REFUSED)


#: How an answer of the wrong shape is refused (BadResult above), for :func:`localize_lines`.
REFUSED = (
    N_("{what} is a {kind}, not an int"),
    N_("{what} is a {kind}, not a list"),
    N_("{what} is a {kind}, not a str"),
    N_("{what} is {value}, a bool; an int was expected"),
    N_("{what} is {value} (a {kind}); True or False was expected"),
    # the same with "an" (a_typename: "an int", "an ndarray")
    N_("{what} is an {kind}, not an int"),
    N_("{what} is an {kind}, not a list"),
    N_("{what} is an {kind}, not a str"),
    N_("{what} is {value} (an {kind}); True or False was expected"),
    N_("{fn}'s result"),
)


def localize_lines(text: str, templates: Sequence[str]) -> str:
    """``text``, whose lines an exercise made in English from ``templates`` (``N_``-marked
    format strings, compared as such by the grader), in the language in use: a line, or the
    text after its ``expected:``/``got:`` label, that one template makes is made again from
    that template's translation, its fields localized the same way. English: unchanged."""
    from ..i18n import _, language

    if language() == "en":
        return text

    def one(s: str, depth: int = 0) -> str:
        for t in templates:
            m = _template_regex(t).fullmatch(s)
            if m:
                fields = {k: one(v, depth + 1) if depth < 3 else v
                          for k, v in m.groupdict().items()}
                return _(t).format(**fields)
        return s

    out = []
    for line in text.split("\n"):
        m = re.match(r"^((?:expected|got):\s*)(.*)$", line)
        out.append(m.group(1) + one(m.group(2)) if m else one(line))
    return "\n".join(out)


_REGEXES: dict[str, re.Pattern] = {}


def _template_regex(template: str) -> re.Pattern:
    """A format string's text as a regex, each ``{field}`` a named group."""
    if template not in _REGEXES:
        parts = re.split(r"\{(\w+)\}", template)
        _REGEXES[template] = re.compile("".join(
            f"(?P<{p}>.*?)" if i % 2 else re.escape(p) for i, p in enumerate(parts)), re.S)
    return _REGEXES[template]
