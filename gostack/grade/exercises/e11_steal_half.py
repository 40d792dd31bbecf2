"""Exercise 11 · stealing half (lesson 12, stealing and preemption).

The learner writes go1.27.3 ``runtime/proc.go``'s ``runqsteal(pp, p2, steal_runnext)`` (with
the ``runqgrab`` it calls) on two :class:`gostack.sched.P`: the thief ``pp``, whose ring is
empty (``stealWork`` only steals after ``runqget`` found nothing), and the victim ``p2``.
It returns the G to run, or None. A case is the two Ps' starting states and the flag; what
comes back is the G returned and both Ps' queues after. Aspects, each on the cases where
only its rule decides:

* half: ``n - n/2`` Gs (half, rounded up) leave the victim's ring, from its head
  (``runqgrab``); the victim keeps the newer half;
* runnext: the victim's ``runnext`` is taken only when its ring is empty and
  ``steal_runnext`` is set (``stealWork``'s last pass), and then it leaves the victim;
* last: the G returned to run is the last one grabbed (``runqsteal``);
* thief: the others go to the thief's ring at its tail, in the victim's order, its uint32
  counters wrapping (``runqsteal``: ``runqtail = t + n - 1``).

The reference is :func:`gostack.sched.runq.runqsteal`. The 3 µs back-off before taking a
running P's runnext is timing, not order: it is left out.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...i18n import N_, _
from ...sched import runq as _runq
from ...sched.runtime2 import RUNQ_SIZE, UINT32, G, GStatus, P
from ..spec import Aspect, BadResult, Exercise, Right, Wrong, a_typename, draw, pick
from ._goids import g as _g
from ._goids import pyids as _pyids
from ._goids import ranges as _ranges


def reference_runqsteal(pp: P, p2: P, steal_runnext: bool) -> G | None:
    """proc.go ``runqsteal`` (and ``runqgrab``)."""
    return _runq.runqsteal(pp, p2, steal_runnext)


# --- cases ----------------------------------------------------------------------------------


def side(ring: list[int] | None = None, head: int = 0, runnext: int = 0) -> dict:
    """One P's starting state: its ring (goids, head first) from ``runqhead``, and runnext."""
    return {"ring": list(ring or ()), "head": head & UINT32, "runnext": runnext}


def _case(tag: str, victim: dict, thief: dict | None = None, allowed: bool = False) -> dict:
    return {"tags": [tag], "size": len(victim["ring"]),
            "args": {"victim": victim, "thief": thief or side(), "steal_runnext": allowed}}


def _ids(n: int, start: int = 100) -> list[int]:
    return list(range(start, start + n))


def _head(rng: random.Random) -> int:
    """A ring head: 0, in the middle, just below a multiple of 256, or just below 2**32."""
    return pick(rng, (0, draw(rng, 1, 255), 256 * draw(rng, 1, 100_000) - draw(rng, 1, 8),
                      UINT32 + 1 - draw(rng, 1, 8))) & UINT32


def _cases(rng: random.Random, visible: bool) -> list[dict]:
    c: list[dict] = []
    if visible:
        for n, head in ((1, 0), (2, 0), (3, 0), (5, 250), (7, UINT32 - 2), (255, 0), (256, 9)):
            c.append(_case("half", side(_ids(n), head)))
        c.append(_case("half", side(_ids(9), 0, runnext=7)))
        c.append(_case("runnext", side([], 0, runnext=7), allowed=True))
        c.append(_case("runnext", side([], 0, runnext=7), allowed=False))
        c.append(_case("runnext", side(_ids(2), 0, runnext=7), allowed=True))
        c.append(_case("runnext", side([], 40), allowed=True))
        c.append(_case("runnext", side([], 0, runnext=7), side([], 255), allowed=True))
        for n in (2, 4, 6, 10, 256):
            c.append(_case("last", side(_ids(n))))
        c.append(_case("thief", side(_ids(10)), side([], 254)))
        c.append(_case("thief", side(_ids(8), 3), side([], UINT32 - 1)))
        c.append(_case("thief", side(_ids(4)), side([], 255)))
        c.append(_case("thief", side(_ids(256)), side([], 200)))
        c.append(_case("thief", side(_ids(6), runnext=7), side([], 2)))
    k = 3 if visible else 8
    for _i in range(k):  # half: any size, the thief at 0, runnext never allowed
        n = draw(rng, 1, 256)
        c.append(_case("half", side(_ids(n), _head(rng), pick(rng, (0, 7)))))
    for _i in range(k):  # runnext: an empty ring, or 2 Gs (half of 2 is 1 either way)
        ring = _ids(pick(rng, (0, 0, 2)))
        c.append(_case("runnext", side(ring, _head(rng), pick(rng, (0, 7, 7))),
                       allowed=draw(rng, 0, 2) > 0))
    for _i in range(k):  # last: even sizes, the thief at 0
        c.append(_case("last", side(_ids(2 * draw(rng, 1, 128)), _head(rng))))
    for _i in range(k):  # thief: even sizes, the thief's counters anywhere
        h = _head(rng)
        c.append(_case("thief", side(_ids(2 * draw(rng, 1, 128)), _head(rng)), side([], h)))
    if not visible:  # the thief's counters cross 2**32
        c.append(_case("thief", side(_ids(2 * draw(rng, 8, 128)), _head(rng)),
                       side([], UINT32 + 1 - draw(rng, 1, 6))))
    return c


def make_p(pid: int, st: dict) -> P:
    pp = P(pid)
    if st["runnext"]:
        pp.runnext = G(st["runnext"], "main.w", st["runnext"], status=GStatus.RUNNABLE)
    pp.runqhead = st["head"]
    for i, goid in enumerate(st["ring"]):
        pp.runq[(st["head"] + i) % RUNQ_SIZE] = G(goid, "main.w", goid,
                                                 status=GStatus.RUNNABLE)
    pp.runqtail = (st["head"] + len(st["ring"])) & UINT32
    return pp


def _goid(x: object, what: str) -> int:
    if x is None:
        return 0
    if not isinstance(x, G):
        raise BadResult(f"{what} is {a_typename(x)}, not a G (or None)")
    return x.goid


def _counter(x: object, what: str) -> int:
    if type(x) is not int and not (isinstance(x, int) and not isinstance(x, bool)):
        try:
            x = int(x)  # numpy integers
        except (TypeError, ValueError):
            raise BadResult(f"{what} is {a_typename(x)}, not an int") from None
    return int(x)


def _state(pp: P, who: str) -> dict:
    """A P's queues as plain data: its ring head first (goid 0: an empty slot), counters."""
    if not isinstance(pp.runq, list) or len(pp.runq) != RUNQ_SIZE:
        raise BadResult(f"the {who}'s runq is no longer a list of 256 slots")
    h = _counter(pp.runqhead, f"the {who}'s runqhead")
    t = _counter(pp.runqtail, f"the {who}'s runqtail")
    n = (t - h) & UINT32
    if n > RUNQ_SIZE:
        raise BadResult(f"the {who}'s ring holds {n:,} Gs (runqtail - runqhead), more than "
                        "256")
    ring = [_goid(pp.runq[(h + i) % RUNQ_SIZE], f"a slot of the {who}'s runq") for i in range(n)]
    return {"ring": ring, "head": h, "tail": t,
            "runnext": _goid(pp.runnext, f"the {who}'s runnext")}


def _run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    thief, victim = make_p(0, a["thief"]), make_p(1, a["victim"])
    gp = fns["runqsteal"](thief, victim, a["steal_runnext"])
    return {"gp": _goid(gp, "the G runqsteal returned"), "thief": _state(thief, "thief"),
            "victim": _state(victim, "victim")}


# --- how a case and a difference read --------------------------------------------------------


def _call(case: dict) -> str:
    a = case["args"]
    v, t = a["victim"], a["thief"]
    return _("the victim: ring {ring} from runqhead={head}, runnext {runnext}; the thief: an "
             "empty ring at runqhead=runqtail={thead}; steal_runnext={flag}").format(
        ring=_ranges(v["ring"]), head=f"{v['head']:,}", runnext=_g(v["runnext"]),
        thead=f"{t['head']:,}", flag=a["steal_runnext"])


def _repro(case: dict) -> str:
    a = case["args"]
    v, t = a["victim"], a["thief"]
    return (f"steal(side({_pyids(v['ring'])}, head={v['head']}, runnext={v['runnext']}), "
            f"side([], head={t['head']}), {a['steal_runnext']}, runqsteal)")


def steal(victim: dict, thief: dict, steal_runnext: bool, runqsteal: Callable) -> dict:
    """Rerun one case with your function: Ps in the states ``victim`` and ``thief`` (made
    with :func:`side`); returns the goid returned (0: None) and both Ps' queues after."""
    return _run({"runqsteal": runqsteal},
                {"args": {"victim": victim, "thief": thief, "steal_runnext": steal_runnext}})


def _taken(case: dict, out: dict) -> dict:
    v = out["victim"]
    return {"taken": len(case["args"]["victim"]["ring"]) - len(v["ring"]), "left": v["ring"],
            "head": v["head"]}


def _runnext(case: dict, out: dict) -> dict:
    was = case["args"]["victim"]["runnext"]
    return {"runnext_ran": bool(was) and out["gp"] == was, "none": out["gp"] == 0,
            "left": out["victim"]["runnext"]}


def _gp(case: dict, out: dict) -> int:
    return out["gp"]


def _thief(case: dict, out: dict) -> dict:
    t = out["thief"]
    return {"ring": t["ring"], "head": t["head"], "tail": t["tail"]}


def _fmt_taken(e: dict, g: dict) -> str:
    line = _("{n} Gs left the victim's ring; it keeps {ring}, runqhead={head}")
    return "\n".join(
        f"{label} " + line.format(n=d["taken"], ring=_ranges(d["left"]), head=f"{d['head']:,}")
        for label, d in (("expected:", e), ("got:     ", g)))


def _say_runnext(d: dict) -> str:
    if d["runnext_ran"]:
        what = _("the victim's runnext runs")
    elif d["none"]:
        what = _("nothing is stolen (None)")
    else:
        what = _("a G of the victim's ring runs")
    return _("{what}; the victim's runnext is then {g}").format(what=what, g=_g(d["left"]))


def _fmt_runnext(e: dict, g: dict) -> str:
    return f"expected: {_say_runnext(e)}\ngot:      {_say_runnext(g)}"


def _fmt_gp(e: int, g: int) -> str:
    returns = _("runqsteal returns {g}")
    return f"expected: {returns.format(g=_g(e))}\ngot:      {returns.format(g=_g(g))}"


def _fmt_thief(e: dict, g: dict) -> str:
    line = _("the thief's ring {ring}, runqhead={head}, runqtail={tail}")
    return "\n".join(
        f"{label} " + line.format(ring=_ranges(d["ring"]), head=f"{d['head']:,}",
                                  tail=f"{d['tail']:,}")
        for label, d in (("expected:", e), ("got:     ", g)))


# --- the bug zoo: the solution, then one mistake at a time -----------------------------------

_SOLUTION = '''
def runqsteal(pp, p2, steal_runnext):
    h, t = p2.runqhead, p2.runqtail
    n = (t - h) & 0xFFFFFFFF
    n = n - n // 2                                    # @HALF@
    if n == 0:
        if steal_runnext and p2.runnext is not None:  # @ALLOWED@
            gp, p2.runnext = p2.runnext, None         # @CLEAR@
            return gp
        return None
    batch = [p2.runq[(h + i) % 256] for i in range(n)]   # @GRAB@
    p2.runqhead = (h + n) & 0xFFFFFFFF                # @GRAB2@
    gp = batch.pop()                                  # @RUN@
    t = pp.runqtail
    for i, g in enumerate(batch):                     # @PUT@
        pp.runq[(t + i) % 256] = g                    # @SLOT@
    pp.runqtail = (t + len(batch)) & 0xFFFFFFFF       # @TAIL@
    return gp
'''


def variant(**changes: str) -> str:
    """The solution with the lines marked @NAME@ replaced (indentation kept), markers off."""
    import re

    lines = []
    for line in _SOLUTION.split("\n"):
        for name, new in changes.items():
            if f"# @{name}@" in line:
                indent = line[: len(line) - len(line.lstrip())]
                line = "\n".join(indent + x for x in new.split("\n"))
        lines.append(re.sub(r"  +# @[A-Z0-9_]+@$", "", line))
    return "\n".join(lines)


ZOO = (
    Wrong("half-rounded-down", ("half",), variant(
        HALF="n = n // 2                                # half of it")),
    Wrong("takes-everything", ("half", "last", "thief"), variant(
        HALF="pass                                      # the whole ring")),
    Wrong("takes-the-newest-half", ("half", "last", "thief"), variant(
        GRAB="batch = [p2.runq[(t - n + i) % 256] for i in range(n)]   # from the tail",
        GRAB2="p2.runqtail = (t - n) & 0xFFFFFFFF")),
    Wrong("victim-head-not-moved", ("half",), variant(
        GRAB2="pass                                      # the victim keeps them too")),
    Wrong("runnext-without-permission", ("runnext",), variant(
        ALLOWED="if p2.runnext is not None:")),
    Wrong("runnext-before-the-ring", ("runnext",), variant(
        HALF="n = 0 if steal_runnext and p2.runnext is not None else n - n // 2")),
    Wrong("never-runnext", ("runnext",), variant(
        ALLOWED="if False:")),
    Wrong("runnext-left-on-the-victim", ("runnext",), variant(
        CLEAR="gp = p2.runnext                           # copied, not taken")),
    Wrong("runs-the-first-grabbed", ("last", "thief"), variant(
        RUN="gp = batch.pop(0)                         # the oldest runs")),
    Wrong("runs-one-and-queues-it-too", ("thief",), variant(
        RUN="gp = batch[-1]                            # and it stays in the batch")),
    Wrong("thief-slots-without-modulo", ("thief",), variant(
        SLOT="pp.runq[t + i] = g")),
    Wrong("thief-tail-not-wrapped", ("thief",), variant(
        TAIL="pp.runqtail = t + len(batch)")),
    Wrong("queued-newest-first", ("thief",), variant(
        PUT="for i, g in enumerate(reversed(batch)):")),
)

RIGHT = (
    Right("go-style-into-the-thief-ring", '''
def runqgrab(pp, batch, batch_head, steal_runnext):
    h, t = pp.runqhead, pp.runqtail
    n = (t - h) % (1 << 32)
    n -= n // 2
    if n == 0:
        if steal_runnext and pp.runnext is not None:
            batch[batch_head % len(batch)] = pp.runnext
            pp.runnext = None
            return 1
        return 0
    for i in range(n):
        batch[(batch_head + i) % len(batch)] = pp.runq[(h + i) % len(pp.runq)]
    pp.runqhead = (h + n) % (1 << 32)
    return n


def runqsteal(pp, p2, steal_runnext):
    t = pp.runqtail
    n = runqgrab(p2, pp.runq, t, steal_runnext)
    if n == 0:
        return None
    n -= 1
    gp = pp.runq[(t + n) % len(pp.runq)]
    if n:
        pp.runqtail = (t + n) % (1 << 32)
    return gp
'''),
    Right("ceil-and-deque", '''
import math
from collections import deque


def runqsteal(pp, p2, steal_runnext):
    count = (p2.runqtail - p2.runqhead) & 0xFFFFFFFF
    take = math.ceil(count / 2)
    if not take:
        if not steal_runnext:
            return None
        gp, p2.runnext = p2.runnext, None
        return gp
    got = deque()
    for _i in range(take):
        got.append(p2.runq[p2.runqhead % 256])
        p2.runqhead = (p2.runqhead + 1) & 0xFFFFFFFF
    gp = got.pop()
    while got:
        pp.runq[pp.runqtail % 256] = got.popleft()
        pp.runqtail = (pp.runqtail + 1) & 0xFFFFFFFF
    return gp
'''),
    Right("numpy-counters", '''
import numpy as np


def runqsteal(pp, p2, steal_runnext):
    h, t = np.uint32(p2.runqhead), np.uint32(p2.runqtail)
    with np.errstate(over="ignore"):
        n = int(t - h)
    n = (n + 1) // 2
    if n == 0:
        if steal_runnext and p2.runnext:
            gp = p2.runnext
            p2.runnext = None
            return gp
        return None
    grabbed = [p2.runq[(int(h) + i) % 256] for i in range(n)]
    with np.errstate(over="ignore"):
        p2.runqhead = int(h + np.uint32(n))
        tail = np.uint32(pp.runqtail)
        for i, g in enumerate(grabbed[:-1]):
            pp.runq[int(tail + np.uint32(i)) % 256] = g
        pp.runqtail = int(tail + np.uint32(n - 1))
    return grabbed[-1]
'''),
    Right("slices-of-an-unrolled-ring", '''
def _ring(pp):
    n = (pp.runqtail - pp.runqhead) % 2**32
    return [pp.runq[(pp.runqhead + i) % 256] for i in range(n)]


def runqsteal(pp, p2, steal_runnext, *, debug=False):
    ring = _ring(p2)
    if not ring:
        gp = p2.runnext if steal_runnext else None
        if gp is not None:
            p2.runnext = None
        return gp
    half = ring[: len(ring) - len(ring) // 2]
    p2.runqhead = (p2.runqhead + len(half)) % 2**32
    *rest, gp = half
    for g in rest:
        pp.runq[pp.runqtail % 256] = g
        pp.runqtail = (pp.runqtail + 1) % 2**32
    return gp
'''),
)


EXERCISE = Exercise(
    id="11-steal-half",
    title=N_("Stealing half: runqsteal and runqgrab"),
    lesson="12-stealing-and-preemption",
    functions=(("runqsteal", ("pp", "p2", "steal_runnext")),),
    reference={"runqsteal": "gostack.grade.exercises.e11_steal_half.reference_runqsteal"},
    aspects=(
        Aspect("half", "how many Gs leave the victim's ring, and from which end", 3, _taken,
               _fmt_taken),
        Aspect("runnext", "the victim's runnext: only from an empty ring, and only when "
               "allowed", 2, _runnext, _fmt_runnext),
        Aspect("last", "the G returned to run at once", 2, _gp, _fmt_gp),
        Aspect("thief", "the others: to the thief's tail, in order, its counters wrapping", 3,
               _thief, _fmt_thief),
    ),
    _cases=_cases,
    _run=_run,
    call_text=_call,
    repro_text=_repro,
    visible_seed=113,
    extra_tripwires=("gostack.sched.runq.runqsteal", "gostack.sched.runq.runqgrab",
                     "gostack.sched.runq.runqget_ring", "gostack.sched.runq.runqputbatch",
                     "gostack.sched.steal.steal_work"),
    zoo=ZOO,
    right=RIGHT,
)
