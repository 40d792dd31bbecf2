"""Seeded small programs whose execution order, with one P, is the question (exercise 09).

A :class:`Program` is ``main``'s statements and the goroutine functions', each a plain
tuple: ``("go", f, n, first)`` starts ``n`` goroutines ``f(first)`` ... ``f(first+n-1)``;
``("emit", t)`` records ``t`` and the goroutine's number (``t3``; main is number 0);
``("gosched",)``; ``("send", c)`` and ``("recv", c)`` on an unbuffered channel ``c``.
Every goroutine ends with ``wg.Done()``; main ends with ``wg.Wait()`` and records ``end0``.

The answer is the simulator's (stage 1, :func:`gostack.sched.run`), which agrees with
go1.27.3 on every recorded probe: :meth:`Program.to_probe` is the same program as a
:class:`~gostack.sched.probe.Probe`, and :meth:`Program.render_go` its Go source.

    from gostack.sched import orderquiz as oq
    p = oq.generate(7, "spawn")
    print(p.describe())
    p.answer()          # ('a1', 'a0', ..., 'end0')
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .. import i18n
from . import probe as pr
from .machine import run
from .render import render_go

CATEGORIES = ("spawn", "gosched", "chan", "tick61")


@dataclass(frozen=True)
class Program:
    seed: int
    category: str
    main: tuple
    funcs: dict = field(default_factory=dict)
    chans: tuple = ()

    def to_dict(self) -> dict:
        return {"seed": self.seed, "category": self.category,
                "main": [list(s) for s in self.main],
                "funcs": {f: [list(s) for s in b] for f, b in self.funcs.items()},
                "chans": list(self.chans)}

    @classmethod
    def from_dict(cls, d: dict) -> Program:
        return cls(d["seed"], d["category"], tuple(tuple(s) for s in d["main"]),
                   {f: tuple(tuple(s) for s in b) for f, b in d["funcs"].items()},
                   tuple(d["chans"]))

    def goroutines(self, body: tuple | None = None) -> int:
        """How many goroutines the body (main's by default) starts, nested ones included."""
        body = self.main if body is None else body
        return sum(s[2] * (1 + self.goroutines(self.funcs[s[1]])) for s in body
                   if s[0] == "go")

    def to_probe(self) -> pr.Probe:
        def stmts(body: tuple) -> tuple:
            out = []
            for s in body:
                if s[0] == "go":
                    out.append(pr.Go(s[1], s[2], s[3]))
                elif s[0] == "emit":
                    out.append(pr.Emit(s[1]))
                elif s[0] == "gosched":
                    out.append(pr.Gosched())
                elif s[0] == "send":
                    out.append(pr.Send(s[1]))
                elif s[0] == "recv":
                    out.append(pr.Recv(s[1]))
                else:
                    raise ValueError(f"unknown statement {s!r}")
            return tuple(out)

        return pr.Probe(
            f"quiz_{self.category}_{self.seed}",
            main=(pr.WgAdd(self.goroutines()), *stmts(self.main), pr.WgWait(),
                  pr.Emit("end")),
            funcs={f: (*stmts(b), pr.WgDone()) for f, b in self.funcs.items()},
            chans={c: 0 for c in self.chans}, wgs=("wg",),
            summary=f"exercise 09's program {self.seed} ({self.category})")

    def answer(self) -> tuple[str, ...]:
        """What the program records, in order: the simulator's answer."""
        return run(self.to_probe()).output

    def render_go(self) -> str:
        return render_go(self.to_probe())

    def started(self) -> set[str]:
        """The functions some go statement starts, from main on (the generators define
        ``x`` in every program; not every program starts it)."""
        found: set[str] = set()
        todo = [self.main]
        while todo:
            for s in todo.pop():
                if s[0] == "go" and s[1] not in found:
                    found.add(s[1])
                    todo.append(self.funcs[s[1]])
        return found

    def describe(self) -> str:
        """The program as short Go-like text, one function a line."""
        def text(body: tuple) -> str:
            parts = []
            for s in body:
                if s[0] == "go":
                    parts.append(f"go {s[1]}({s[3]})" if s[2] == 1 else
                                 f"go {s[1]}(k) for k in {s[3]}..{s[3] + s[2] - 1}")
                elif s[0] == "emit":
                    parts.append(f'record("{s[1]}", i)')
                elif s[0] == "gosched":
                    parts.append("runtime.Gosched()")
                elif s[0] == "send":
                    parts.append(f"{s[1]} <- 1")
                else:
                    parts.append(f"<-{s[1]}")
            return "; ".join(parts)

        lines = [f"main: {text(self.main)}; wg.Wait(); record(\"end\", 0)"]
        lines += [f"{f}(i): {text(b)}; wg.Done()" for f, b in self.funcs.items()
                  if f in self.started()]
        if self.chans:
            lines.append(i18n._("unbuffered channels: {names}").format(names=", ".join(self.chans)))
        return "\n".join(lines)


def _spawn(rng: random.Random) -> Program:
    funcs = {"a": (("emit", "a"),), "x": (("emit", "x"),)}
    if rng.random() < 0.6:
        funcs["a"] = (("emit", "a"), ("go", "x", _int(rng, 1, 3)))
        if rng.random() < 0.5:
            funcs["a"] = (("go", "x", _int(rng, 1, 2)), ("emit", "a"))
    main: list = [("go", "a", _int(rng, 1, 6))]
    for _ in range(_int(rng, 0, 2)):
        main.append(_pick(rng, (("emit", "m"), ("go", "a", _int(rng, 1, 4)),
                                ("go", "x", _int(rng, 1, 4)))))
    return Program(0, "spawn", tuple(main), funcs)


def _gosched(rng: random.Random) -> Program:
    body: list = [("emit", "a")]
    for _ in range(_int(rng, 1, 3)):
        body += [("gosched",), ("emit", "a")]
    if rng.random() < 0.6:  # a go after a yield: the new Gs run before the yielder
        body.insert(_int(rng, 2, len(body)), ("go", "x", _int(rng, 1, 3)))
    funcs = {"a": tuple(body), "x": (("emit", "x"),)}
    main: list = [("go", "a", _int(rng, 1, 4))]
    if rng.random() < 0.5:
        main.append(("go", "x", _int(rng, 1, 3)))
    if rng.random() < 0.5:
        main += [("emit", "m"), ("gosched",), ("emit", "m")]
    return Program(0, "gosched", tuple(main), funcs)


def _chan(rng: random.Random) -> Program:
    n = _int(rng, 1, 4)
    funcs = {"r": (("recv", "c"), ("emit", "r")), "s": (("emit", "s"), ("send", "c"))}
    order = [("go", "r", n), ("go", "s", n)]
    if rng.random() < 0.5:
        order.reverse()
    main: list = list(order)
    if rng.random() < 0.4:  # main takes part: it receives from extra senders
        k = _int(rng, 1, 2)
        main = [("go", "s", n + k), ("go", "r", n)] if rng.random() < 0.5 else \
            [("go", "r", n), ("go", "s", n + k)]
        main += [("recv", "c")] * k
    return Program(0, "chan", tuple(main), funcs, ("c",))


def _tick61(rng: random.Random) -> Program:
    body: list = []
    for _ in range(_int(rng, 2, 5)):
        body += [("emit", "y"), ("gosched",)]
    body.append(("emit", "y"))
    funcs = {"y": tuple(body), "w": (("emit", "w"),)}
    before = _int(rng, 0, 3)
    main = ([("go", "w", before)] if before else []) + [("go", "y", _int(rng, 1, 2)),
                                                       ("go", "w", _int(rng, 60, 130))]
    return Program(0, "tick61", tuple(main), funcs)


def _int(rng: random.Random, lo: int, hi: int) -> int:
    """random() only: the same draws on every Python version."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq: tuple):
    return seq[int(rng.random() * len(seq))]


def _numbered(body: list) -> tuple:
    """("go", f, n) -> ("go", f, n, first): each function's goroutines numbered on."""
    seen: dict[str, int] = {}
    out = []
    for st in body:
        if st[0] == "go":
            first = seen.get(st[1], 0)
            seen[st[1]] = first + st[2]
            st = (*st[:3], first)
        out.append(st)
    return tuple(out)


_MAKERS = {"spawn": _spawn, "gosched": _gosched, "chan": _chan, "tick61": _tick61}


def generate(seed: int, category: str) -> Program:
    """The program of ``seed`` in ``category`` (one of :data:`CATEGORIES`)."""
    p = _MAKERS[category](random.Random(f"{category}:{seed}"))
    return Program(seed, category, _numbered(p.main),
                   {f: _numbered(list(b)) for f, b in p.funcs.items()}, p.chans)
