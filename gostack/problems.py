"""Predict the trace: seeded stack-growth problems, in the style of the OSTEP homework.

    import gostack.problems as pb
    pb.show(7)                        # the question, answers as "?"
    pb.show(7, show_answers=True)     # the same question with its answer key
    python -m gostack.problems -s 7 -c

A :class:`Problem` is one goroutine's program: an entry function, then steps (calls of
functions with given frames, returns, ``runtime.GC()`` and checkpoints). The question and
the answer come from the same code path: :meth:`Problem.run` drives :class:`gostack.Runtime`,
so an answer key cannot drift from the simulator. The grader runs the same method with a
learner's stages plugged in (exercise 05) and calls the learner's ``predict`` on problems
drawn from a per-student seed (exercise 06).

Randomness uses ``random.Random(seed).random()`` only: Python keeps that stream stable across
versions, unlike ``randint`` and ``choice``.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass

from .arch import ENTRY_USED, MAX_STACK_DEFAULT
from .errors import StackOverflow
from .i18n import N_, _, text_width
from .runtime import REFERENCE, Runtime, Stages
from .symtab import POINTER, SCALAR, UINTPTR, Func, Kind, Local
from .trace import GC, Grow, Overflow, Shrink

KINDS = ("predict", "whole")
# Categories: what a problem exercises. Each kind draws from its own list.
PREDICT_CATEGORIES = ("recursion", "mixed", "huge", "entry")
WHOLE_CATEGORIES = ("grow", "huge", "shrink", "overflow")
# Categories only made when named (a seed alone never picks them, so that every seed keeps
# the problem it always had): "returns" goes deep, returns almost to the entry, then calls
# again, not quite as deep (exercise 06's returns rule).
EXTRA_CATEGORIES = {"predict": ("returns",), "whole": ()}
# Where a function's pointer local p points after the call (exercise 05 programs).
TARGETS = ("caller", "entry", "heap", "nil")

_NAMES = ("walk", "visit", "parse", "scan", "fold", "merge", "split", "eval", "find",
          "sum", "sort", "emit", "lex", "draw", "load", "hash")


# ---------------------------------------------------------------------------
# Version-stable draws: everything goes through rng.random()
# ---------------------------------------------------------------------------


def _int(rng: random.Random, lo: int, hi: int) -> int:
    """A whole number in [lo, hi]."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


def _frame(rng: random.Random, lo: int, hi: int) -> int:
    """A frame size (a multiple of 8) in [lo, hi]."""
    return 8 * _int(rng, -(-lo // 8), hi // 8)


# ---------------------------------------------------------------------------
# The description
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One action of the goroutine: ``call`` (of ``func``), ``ret``, ``gc`` or ``check``.

    ``target`` (calls only, exercise 05 programs) says where the callee's pointer local
    ``p`` points: its caller's ``x``, the entry's ``x``, a heap object, or nil.
    """

    op: str
    func: Func | None = None
    target: str = "caller"


@dataclass(frozen=True)
class Check:
    """At a checkpoint, for one frame with a pointer local: what p and u hold."""

    frame: int  # frame index, 0 = entry
    p: int  # the pointer local: adjusted when the stack moves
    u: int  # the uintptr copy of the same address, taken at the call: never adjusted
    x: int = 0  # the scalar local: the frame's index, written at the call, never adjusted


@dataclass(frozen=True)
class Run:
    """What one run of a problem produced: the stack events, the checkpoints, any error."""

    events: tuple  # Grow, Shrink, GC and Overflow events, in order
    checks: tuple[tuple[Check, ...], ...]
    error: str | None = None  # "Type: message" if the run stopped on an exception

    def growth_points(self) -> list[tuple[int, int]]:
        return [(e.call_index, e.new_size) for e in self.events if isinstance(e, Grow)]


@dataclass(frozen=True)
class Problem:
    """A goroutine's program: ``entry`` (call index 0), then ``steps``; ``max_stack`` is
    what debug.SetMaxStack set (the default is 1,000,000,000)."""

    seed: int
    kind: str
    category: str
    entry: Func
    steps: tuple[Step, ...]
    max_stack: int = MAX_STACK_DEFAULT

    @property
    def calls(self) -> tuple[Func, ...]:
        """The function called at each call index 1, 2, ... in order."""
        return tuple(s.func for s in self.steps if s.op == "call")

    # ---- running ---------------------------------------------------------------
    def run(self, stages: Stages = REFERENCE) -> Run:
        """Run the program on a fresh runtime with ``stages`` (the reference by default)."""
        rt = Runtime(max_stack=self.max_stack, trace=False, stages=stages)
        checks: list[tuple[Check, ...]] = []
        g = None
        error = None
        # (hi - SP, func) of each live frame: the locals' addresses without walking the
        # stack for every store (a program makes hundreds of calls).
        frames: list[tuple[int, Func]] = []
        try:
            g = rt.go(self.entry)
            frames.append((g.used, self.entry))
            if self.entry.locals:
                x = g.addr("x")
                g.store("x", 1)
                g.take_addr("p", "x")
                g.store("u", x)
            for step in self.steps:
                if step.op == "call":
                    g.call(step.func)
                    frames.append((g.used, step.func))
                    self._point(rt, g, step, frames)
                elif step.op == "ret":
                    g.ret()
                    frames.pop()
                elif step.op == "gc":
                    g.runtime_gc()
                elif step.op == "check":
                    checks.append(self._check(g))
        except StackOverflow:
            pass  # the Overflow event is in the trace; the goroutine is dead
        except Exception as e:  # a learner's stage may raise anything
            error = f"{type(e).__name__}: {e}"
        events = () if g is None else tuple(
            e for e in g.trace if isinstance(e, (Grow, Shrink, GC, Overflow)))
        return Run(events, tuple(checks), error)

    @staticmethod
    def _point(rt: Runtime, g, step: Step, frames: list[tuple[int, Func]]) -> None:
        """Give the new frame's locals their values: x, then p (per step.target), u = p.

        The words are written straight into the goroutine's stack at hi - SP + offset;
        what they hold is valid Go by construction: p points at the x of an outer frame,
        at a heap object, or is nil."""
        func = step.func
        if not func.locals:
            return
        words, hi = g.stack.words, g.stack.hi
        sp_used = frames[-1][0]
        words[hi - sp_used + func.local("x").offset] = len(frames) - 1
        if step.target == "nil":
            return
        if step.target == "heap":
            target = rt.new_object()
        else:
            owner = 0
            if step.target == "caller" and len(frames) >= 3 and frames[-2][1].locals:
                owner = len(frames) - 2
            owner_used, owner_func = frames[owner]
            target = hi - owner_used + owner_func.local("x").offset
        words[hi - sp_used + func.local("p").offset] = target
        words[hi - sp_used + func.local("u").offset] = target

    @staticmethod
    def _check(g) -> tuple[Check, ...]:
        out = []
        for i, fr in enumerate(g.snapshot().frames):
            values = {lc.name: lc.value for lc in fr.locals}
            if "p" in values:
                out.append(Check(i, values["p"], values["u"], values["x"]))
        return tuple(out)

    def answer(self) -> list[tuple[int, int]]:
        """The answer key: (call index, new size) of every growth, from :meth:`run`."""
        return self.run().growth_points()

    # ---- text ---------------------------------------------------------------------
    def question(self, show_answers: bool = False) -> str:
        """The problem as text; with ``show_answers`` the answer key instead of ``?``."""
        lines = [f"ARG seed {self.seed}", f"ARG kind {self.kind} ({self.category})"]
        limit = f"{self.max_stack:,}"
        if self.max_stack == MAX_STACK_DEFAULT:
            limit += " " + _("(the default)")
        lines += [f"ARG max_stack {limit}", ""]
        lines.append(_("A goroutine starts in {name} (frame {frame}): call index 0. "
                       "Then:").format(name=self.entry.name, frame=self.entry.frame))
        lines += ["  " + s for s in self.describe_steps()]
        lines += ["", _("At which calls does the stack grow, and to what size?")]
        if not show_answers:
            lines.append("  ?   " + _("(run again with show_answers=True, or -c, for the "
                                      "answer)"))
            return "\n".join(lines)
        run = self.run()
        old = 2048
        for e in run.events:
            if isinstance(e, Grow):
                lines.append(_("  call {index}: {old} -> {new} bytes ({func})").format(
                    index=f"{e.call_index:>4}", old=f"{old:>9,}", new=f"{e.new_size:>9,}",
                    func=e.func))
                old = e.new_size
            elif isinstance(e, Shrink):
                lines.append(_("  GC {gc}: {old} -> {new} bytes (shrink)").format(
                    gc=f"{e.gc:>6}", old=f"{e.old_size:>9,}", new=f"{e.new_size:>9,}"))
                old = e.new_size
            elif isinstance(e, Overflow):
                lines.append(_("  call {index}: fatal error: stack overflow (a {size}-byte "
                               "stack exceeds the limit)").format(
                    index=f"{e.call_index:>4}", size=f"{e.new_size:,}"))
        if not any(isinstance(e, (Grow, Overflow)) for e in run.events):
            lines.append(_("  never: the first 2,048 bytes are enough"))
        return "\n".join(lines)

    def describe_steps(self) -> list[str]:
        """The steps grouped: runs of calls of one function, runs of returns, GCs."""
        out: list[str] = []
        index = 0
        i = 0
        steps = self.steps
        while i < len(steps):
            s = steps[i]
            j = i
            while j + 1 < len(steps) and steps[j + 1].op == s.op and steps[j + 1].func == s.func:
                j += 1
            n = j - i + 1
            if s.op == "call":
                first, last = index + 1, index + n
                where = (_("call {first}") if n == 1 else _("calls {first}-{last}")).format(
                    first=first, last=last)
                out.append(_pad(where, 14) + " " + _("{name} (frame {frame})").format(
                    name=s.func.name, frame=s.func.frame)
                           + ("" if n == 1 else _(", {n} times, each from the one before").format(
                               n=n)))
                index = last
            elif s.op == "ret":
                out.append(_("return") if n == 1 else _("return {n} times").format(n=n))
            elif s.op == "gc":
                out.append("runtime.GC()" if n == 1
                           else _("runtime.GC() {n} times").format(n=n))
            i = j + 1
        return out

    # ---- plain data (what crosses to the grader's worker) ---------------------------
    def to_dict(self) -> dict:
        funcs: list[Func] = []
        for f in (self.entry, *self.calls):
            if f not in funcs:
                funcs.append(f)
        return {
            "seed": self.seed, "kind": self.kind, "category": self.category,
            "max_stack": self.max_stack,
            "funcs": [_func_dict(f) for f in funcs],
            "steps": [[s.op] if s.op != "call" else [s.op, funcs.index(s.func), s.target]
                      for s in self.steps],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Problem:
        funcs = [_func_from(f) for f in d["funcs"]]
        steps = tuple(Step("call", funcs[s[1]], s[2]) if s[0] == "call" else Step(s[0])
                      for s in d["steps"])
        return cls(int(d["seed"]), str(d["kind"]), str(d["category"]), funcs[0], steps,
                   int(d["max_stack"]))


def _func_dict(f: Func) -> dict:
    return {"name": f.name, "frame": f.frame,
            "locals": [[lc.name, lc.kind.value, lc.offset] for lc in f.locals]}


def _func_from(d: dict) -> Func:
    return Func(str(d["name"]), int(d["frame"]),
                tuple(Local(str(n), Kind(k), int(o)) for n, k, o in d["locals"]))


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------


def _locals_for(frame: int) -> tuple[Local, ...]:
    """x, p and u (the running example) when the frame has room: 8 bytes each + saved BP."""
    if frame < 32:
        return ()
    return (Local("x", SCALAR, 0), Local("p", POINTER, 8), Local("u", UINTPTR, 16))


def _funcs(rng: random.Random, n: int, ranges, with_locals: bool) -> list[Func]:
    names = list(_NAMES)
    out = []
    for k in range(n):
        name = names.pop(int(rng.random() * len(names)))
        lo, hi = ranges[k % len(ranges)]
        frame = _frame(rng, lo, hi)
        out.append(Func(f"main.{name}", frame, _locals_for(frame) if with_locals else ()))
    return out


def _calls(f: Func, n: int, rng: random.Random | None = None) -> list[Step]:
    if rng is None:
        return [Step("call", f)] * n
    return [Step("call", f, _pick(rng, TARGETS) if rng.random() < 0.3 else "caller")
            for _ in range(n)]


def _depth_for(budget: int, frame: int) -> int:
    return max(1, budget // (frame + 8))


def generate(seed: int, kind: str = "predict", category: str | None = None) -> Problem:
    """The problem for ``seed``: same seed, same problem, on every Python version."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = random.Random(seed)
    cats = PREDICT_CATEGORIES if kind == "predict" else WHOLE_CATEGORIES
    cat = category or _pick(rng, cats)
    if cat not in cats + EXTRA_CATEGORIES[kind]:
        raise ValueError(f"category for {kind!r} must be one of "
                         f"{cats + EXTRA_CATEGORIES[kind]}, got {cat!r}")
    whole = kind == "whole"
    small, medium, huge = (40, 128), (136, 1024), (4104, 40000)
    entry_frame = _frame(rng, 2048, 12000) if cat == "entry" else _frame(rng, 40, 120)
    entry = Func("main.entry", entry_frame, _locals_for(entry_frame) if whole else ())
    trng = rng if whole else None
    steps: list[Step] = []
    max_stack = MAX_STACK_DEFAULT
    if cat in ("recursion", "grow"):
        (f,) = _funcs(rng, 1, [_pick(rng, (small, medium))], whole)
        budget = _int(rng, 6000, 20000) if whole else _int(rng, 6000, 40000)
        steps = _calls(f, _depth_for(budget, f.frame), trng)
    elif cat in ("mixed", "entry"):
        fs = _funcs(rng, 3, [small, medium, small], whole)
        steps = _calls(fs[0], 1) + _calls(fs[1], _int(rng, 2, 12), trng)
        steps += _calls(fs[2], _depth_for(_int(rng, 3000, 20000), fs[2].frame), trng)
        steps += [Step("ret")] * _int(rng, 1, 10)
        steps += _calls(fs[1], _depth_for(_int(rng, 3000, 16000), fs[1].frame), trng)
    elif cat == "huge":
        fs = _funcs(rng, 2, [small, huge], whole)
        steps = _calls(fs[0], _int(rng, 3, 40), trng) + _calls(fs[1], 1, trng)
        steps += _calls(fs[0], _int(rng, 5, 60), trng) + _calls(fs[1], _int(rng, 1, 2), trng)
    elif cat == "returns":
        steps = _returns_steps(rng, entry)
    elif cat == "shrink":
        (f,) = _funcs(rng, 1, [(264, 1024)], whole)
        depth = _depth_for(_int(rng, 20000, 60000), f.frame)
        up = _int(rng, depth // 2, depth - 1)
        steps = _calls(f, depth, trng) + [Step("check")] + [Step("ret")] * up
        steps += [Step("gc")] * _int(rng, 2, 5) + [Step("check")]
        steps += _calls(f, _int(rng, 1, up), trng)
    elif cat == "overflow":
        (f,) = _funcs(rng, 1, [_pick(rng, ((64, 128), medium))], whole)
        max_stack = 2048 << _int(rng, 2, 5)  # 8 KiB .. 64 KiB
        steps = _calls(f, _depth_for(max_stack + 4096, f.frame), trng)
    if whole and steps and steps[-1].op != "check":
        steps.append(Step("check"))
    return Problem(seed, kind, cat, entry, tuple(steps), max_stack)


def _returns_steps(rng: random.Random, entry: Func) -> list[Step]:
    """Calls of f until the stack has grown to ``target``, returns down to the first frames,
    then calls of g that stay within ``target`` only because the returns freed the space."""
    small, medium = (40, 128), (136, 1024)
    f, g = _funcs(rng, 2, [_pick(rng, (small, medium)), small], False)
    target = 2048 << _int(rng, 1, 3)

    def extra(fn: Func) -> int:
        return max(0, fn.frame - 128)

    sps = [ENTRY_USED + entry.frame]  # hi - SP after each call; the entry's first
    while True:  # deeper, as long as the next call still fits in the target size
        e = sps[-1] + 8
        if e + extra(f) >= target - 928 or e + f.frame + 928 > target:
            break
        sps.append(e + f.frame)
    n = len(sps) - 1
    steps = _calls(f, n)
    keep = _int(rng, 0, min(2, n - 1))  # frames of f left after the returns
    steps += [Step("ret")] * (n - keep)
    room = target - 928 - extra(g) - 8 - sps[keep]  # where g's calls stop fitting
    deep = target - 928 - extra(g) - 8 - sps[n]
    most = max(1, room // (g.frame + 8))
    least = max(1, min(most, deep // (g.frame + 8) + 1))
    steps += _calls(g, _int(rng, least, most))
    return steps


# ---------------------------------------------------------------------------
# Traces side by side (exercise 05: diagnosing a runtime with one broken stage)
# ---------------------------------------------------------------------------


def trace_lines(run: Run) -> list[str]:
    """A run as text: one line per growth, shrink, GC and overflow, then the checkpoints."""
    out = []
    for e in run.events:
        if isinstance(e, Grow):
            out.append(f"call {e.call_index:>4} ({e.func}): grow {e.old_size:,} -> "
                       f"{e.new_size:,} bytes, used {e.used:,}, delta {e.delta:+#x}, "
                       f"{len(e.adjusted)} pointers adjusted")
        elif isinstance(e, Shrink):
            out.append(f"GC {e.gc:>6}: shrink {e.old_size:,} -> {e.new_size:,} bytes, used "
                       f"{e.used:,}, delta {e.delta:+#x}, {len(e.adjusted)} pointers adjusted")
        elif isinstance(e, GC):
            out.append(f"GC {e.gc:>6}: scan a {e.size:,}-byte stack, {e.used:,} bytes in use")
        elif isinstance(e, Overflow):
            out.append(f"call {e.call_index:>4} ({e.func}): fatal error: stack overflow")
    for k, checks in enumerate(run.checks):
        for c in checks:
            out.append(f"checkpoint {k + 1}, frame {c.frame:>3}: x = {c.x}, p = {c.p:#x}, "
                       f"u = {c.u:#x}")
    if run.error and run.error.startswith("NotImplementedError"):
        out.append(_("the run stopped: one of the stages still raises NotImplementedError "
                     "(write it first)"))
    elif run.error:
        out.append(f"the run stopped: {run.error}")
    return out


def events(run: Run) -> list[dict]:
    """A run as plain data, in the order of :func:`trace_lines`: one dict per growth
    ("grow"), GC scan ("gc"), shrink ("shrink"), stack overflow ("overflow"), then one per
    frame at each checkpoint ("check"), and "error" if the run stopped on an exception."""
    out: list[dict] = []
    for e in run.events:
        if isinstance(e, Grow):
            out.append({"event": "grow", "call": e.call_index, "func": e.func,
                        "old_size": e.old_size, "new_size": e.new_size, "used": e.used,
                        "delta": e.delta, "adjusted": len(e.adjusted)})
        elif isinstance(e, Shrink):
            out.append({"event": "shrink", "gc": e.gc, "old_size": e.old_size,
                        "new_size": e.new_size, "used": e.used, "delta": e.delta,
                        "adjusted": len(e.adjusted)})
        elif isinstance(e, GC):
            out.append({"event": "gc", "gc": e.gc, "size": e.size, "used": e.used})
        elif isinstance(e, Overflow):
            out.append({"event": "overflow", "call": e.call_index, "func": e.func,
                        "old_size": e.old_size, "used": e.used})
    for k, checks in enumerate(run.checks):
        for c in checks:
            out.append({"event": "check", "checkpoint": k + 1, "frame": c.frame, "x": c.x,
                        "p": c.p, "u": c.u})
    if run.error:
        out.append({"event": "error", "message": run.error})
    return out


def traces(problem: Problem, stages: Stages) -> tuple[list[dict], list[dict]]:
    """The events of the reference run and of a run with ``stages``, on ``problem``:
    ``reference, observed = pb.traces(*pb.mystery("A"))``."""
    return events(problem.run()), events(problem.run(stages))


def compare(problem: Problem, stages: Stages, context: int = 3) -> None:
    """Print where a run with ``stages`` first differs from the reference run, with a few
    lines of context on both sides; or say that the two runs are the same."""
    want, got = trace_lines(problem.run()), trace_lines(problem.run(stages))
    for i in range(max(len(want), len(got))):
        if i >= len(want) or i >= len(got) or want[i] != got[i]:
            lo = max(0, i - context)
            print(_("The traces agree on their first {n} lines, then:").format(n=i))
            for name, lines in ((_("reference"), want), (_("this runtime"), got)):
                print(f"  {name}:")
                for j in range(lo, min(len(lines), i + context + 1)):
                    print(f"    {'>' if j == i else ' '} {lines[j]}")
                if i >= len(lines):
                    print("    > " + _("(nothing more)"))
            return
    print(_("The same {n} lines: this runtime behaves as the reference on this program.").format(
        n=len(want)))


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - text_width(text))


# Wrong stages: each the mistake a learner makes in one exercise (01-04, 07). The mysteries
# use four of them; exercise 05's diagnosis cases swap one of them into the reference.

_MASK = (1 << 64) - 1


def _late_prologue(sp: int, frame: int, stackguard0: int) -> bool:
    """Checks SP + 8: one word late, so a call exactly at the boundary passes."""
    return _prologue(sp + 8, frame, stackguard0)


def _prologue(sp: int, frame: int, stackguard0: int) -> bool:
    if frame <= 128:
        return sp <= stackguard0
    if frame > 4096 and sp < frame - 128:
        return True
    return (sp - (frame - 128)) & _MASK <= stackguard0


def _strict_prologue(sp: int, frame: int, stackguard0: int) -> bool:
    """Less than, not less than or equal: SP exactly at the guard passes."""
    if frame <= 128:
        return sp < stackguard0
    if frame > 4096 and sp < frame - 128:
        return True
    return (sp - (frame - 128)) & _MASK < stackguard0


def _whole_frame_prologue(sp: int, frame: int, stackguard0: int) -> bool:
    """Compares SP - frame, forgetting the 128 bytes StackSmall lets a frame dip below."""
    if frame <= 128:
        return sp <= stackguard0
    if frame > 4096 and sp < frame:
        return True
    return (sp - frame) & _MASK <= stackguard0


def _limited(size: int, max_stack: int) -> int:
    limit = min(max_stack, 2_000_000_000)
    if size > limit:
        raise StackOverflow(limit, new_size=size)
    return size


def _tight_size(old_size: int, used: int, frame: int, max_stack: int) -> int:
    """Room for the frame, none for the guard."""
    size = 2 * old_size
    while used + frame > size:
        size *= 2
    return _limited(size, max_stack)


def _single_doubling(old_size: int, used: int, frame: int, max_stack: int) -> int:
    """Always twice the old size, whatever the frame needs."""
    return _limited(2 * old_size, max_stack)


def _limit_inclusive(old_size: int, used: int, frame: int, max_stack: int) -> int:
    """Refuses a stack of exactly max_stack."""
    size = 2 * old_size
    while used + frame + 928 > size:
        size *= 2
    limit = min(max_stack, 2_000_000_000)
    if size >= limit:
        raise StackOverflow(limit, new_size=size)
    return size


def _copy_words(old, new, used: int, delta: int) -> None:
    for addr, value in old.words.items():
        if old.hi - used <= addr < old.hi:
            new.words[addr + delta] = value


def _negated_delta(old, new, used: int) -> int:
    """Copies right, returns the delta with the wrong sign."""
    _copy_words(old, new, used, new.hi - old.hi)
    return old.hi - new.hi


def _delta_from_lo(old, new, used: int) -> int:
    """Copies to the same distance from lo, not from hi."""
    delta = new.lo - old.lo
    _copy_words(old, new, used, delta)
    return delta


def _copy_nothing_moved(old, new, used: int) -> int:
    """Copies each word to its old address: the new stack's own addresses stay empty."""
    _copy_words(old, new, used, 0)
    return new.hi - old.hi


def _adjust(words, frame, adj, moves, by=1):
    from .adjust import Adjusted
    out = []
    for lc in frame.func.locals:
        addr = frame.sp + lc.offset
        v = words.get(addr, 0)
        if moves(lc, v):
            words[addr] = v + by * adj.delta
            out.append(Adjusted(frame.func.name, lc.name, addr, v, v + by * adj.delta))
    return out


def _uintptr_adjust(words, frame, adj):
    """Moves a uintptr that holds a stack address too."""
    return _adjust(words, frame, adj,
                   lambda lc, v: lc.kind is not SCALAR and adj.old_lo <= v < adj.old_hi)


def _adjust_every_pointer(words, frame, adj):
    """Moves every non-nil pointer, into the old stack or not (the heap ones too)."""
    return _adjust(words, frame, adj, lambda lc, v: lc.kind is POINTER and v != 0)


def _adjust_backwards(words, frame, adj):
    """Moves the pointers by -delta."""
    return _adjust(words, frame, adj,
                   lambda lc, v: lc.kind is POINTER and adj.old_lo <= v < adj.old_hi, by=-1)


def _adjust_no_records(words, frame, adj):
    """Moves the right words, and says it moved none."""
    _adjust(words, frame, adj, lambda lc, v: lc.kind is POINTER and adj.old_lo <= v < adj.old_hi)
    return []


def _eager_shrink(size: int, used: int) -> int | None:
    """Forgets the 800-byte margin (and halves any stack over 2 KiB)."""
    return size // 2 if size > 2048 and used < size // 4 else None


def _never_shrink(size: int, used: int) -> int | None:
    """Never shrinks: "the stack only grows"."""
    return None


def _half_in_use_shrink(size: int, used: int) -> int | None:
    """Halves when what is in use fits in half, not in a quarter."""
    return None if size // 2 < 2048 or used + 800 >= size // 2 else size // 2


# stage (as Stages names it) -> variant -> the wrong function
WRONG_STAGES = {
    "prologue": {"late": _late_prologue, "strict": _strict_prologue,
                 "whole-frame": _whole_frame_prologue},
    "newsize": {"tight": _tight_size, "single-doubling": _single_doubling,
                "limit-inclusive": _limit_inclusive},
    "copystack": {"negated-delta": _negated_delta, "delta-from-lo": _delta_from_lo,
                  "nothing-moved": _copy_nothing_moved},
    "adjustframe": {"uintptrs-too": _uintptr_adjust, "every-pointer": _adjust_every_pointer,
                    "backwards": _adjust_backwards, "no-records": _adjust_no_records},
    "shrink": {"eager": _eager_shrink, "never": _never_shrink,
               "half-in-use": _half_in_use_shrink},
}
STAGE_NAMES = tuple(WRONG_STAGES)  # "prologue", "newsize", "copystack", "adjustframe", "shrink"


def suspect(seed: int, category: str, stage: str, variant: str) -> tuple[Problem, Stages]:
    """The program ``pb.generate(seed, "whole", category)`` and the reference runtime with
    ``stage`` swapped for its wrong ``variant`` (exercise 05's diagnosis cases)."""
    return generate(seed, "whole", category), REFERENCE.replace(
        **{stage: WRONG_STAGES[stage][variant]})


# Four runtimes with one stage swapped for a broken one, each on a program that shows it.
MYSTERIES = {
    "A": (("whole", "huge", 217452450), "newsize", _tight_size),
    "B": (("whole", "shrink", 1300353307), "shrink", _eager_shrink),
    "C": (("whole", "grow", 1384186213), "adjustframe", _uintptr_adjust),
    "D": (("whole", "grow", 1384186213), "prologue", _late_prologue),
}


def mystery(name: str) -> tuple[Problem, Stages]:
    """The program and the runtime (one stage broken) of mystery ``name``: compare them
    with ``pb.compare(*pb.mystery("A"))``."""
    (kind, cat, seed), stage, fn = MYSTERIES[name]
    return generate(seed, kind, cat), REFERENCE.replace(**{stage: fn})


class _Translated(dict):
    """A dict of messages, each read in the language in use."""

    def __getitem__(self, key):
        return _(super().__getitem__(key))

    def items(self):
        return [(k, self[k]) for k in self]

    def values(self):
        return [self[k] for k in self]

    def get(self, key, default=None):
        return self[key] if key in self else default


MYSTERY_ANSWERS = _Translated({
    "A": N_("newsize. The growth at the huge call goes to a size with no room left for the "
         "guard, so the prologue, run again on the new stack, fails again: two growths at "
         "one call. new_size forgot the 928 bytes of stackGuard."),
    "B": N_("shrink. GC 1 halves a stack whose used part plus the 800-byte margin is more than "
         "a quarter of it; the calls after the GC then grow it back. shrink_size forgot "
         "the margin."),
    "C": N_("adjustframe. Sizes, calls and deltas agree; at the checkpoint u (a uintptr) has "
         "moved along with p. A uintptr is an integer to the garbage collector: it is never "
         "adjusted."),
    "D": N_("prologue. Only the first growth moves, one call later, to the same size: at call "
         "3 SP was exactly at the guard, and this runtime's check fails only below it. The "
         "later growths land past the boundary, so they agree."),
})


def show(seed: int, show_answers: bool = False, kind: str = "predict",
         category: str | None = None) -> None:
    """Print the problem for ``seed``; ``show_answers=True`` prints the answer key too.

    ``kind`` and ``category`` are those of :func:`generate`: the exercises' cases name all
    three, ``pb.show(600400003, kind="predict", category="recursion")``."""
    print(generate(seed, kind, category).question(show_answers))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gostack.problems",
        description="Generate a 'predict the trace' problem from a seed (OSTEP style).")
    parser.add_argument("-s", "--seed", type=int, default=0, help="the random seed (default 0)")
    parser.add_argument("-c", "--compute", action="store_true", help="show the answers")
    parser.add_argument("--kind", choices=KINDS, default="predict",
                        help="'predict' (exercise 06) or 'whole' (exercise 05 programs)")
    parser.add_argument("--category", default=None,
                        help="the kind of program: " + ", ".join(PREDICT_CATEGORIES)
                        + " (predict) or " + ", ".join(WHOLE_CATEGORIES)
                        + " (whole); by default the seed picks one")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    show(args.seed, args.compute, args.kind, args.category)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
