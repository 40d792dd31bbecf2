"""Exercise 10 · findRunnable's order (lesson 12, stealing and preemption).

The learner writes ``find_runnable(snap)``: given a frozen :class:`Snapshot` of the run
queues (this P's ``schedtick``, every P's ``runnext`` and ring, the global queue, the four
orders ``stealWork`` will walk), which G go1.27.3's ``runtime/proc.go`` ``findRunnable``
picks, where from, and which Gs it moved into this P's ring (the rest of a global batch;
a steal moves none here, see below). Netpoll, timers, GC workers, the trace reader and the
finalizer are left out (none of them has work in a snapshot), and this M is allowed to
spin. Aspects, each on the cases where only its rule decides:

* global61: ``schedtick % 61 == 0`` and a non-empty global queue: its head, alone, before
  any local G (proc.go ``findRunnable``, ``globrunqget``);
* local: ``runnext`` first, then the ring's head (proc.go ``runqget``);
* batch: the local queue empty, ``n = min(len(runq)/2, size, size/gomaxprocs + 1)`` Gs
  from the global queue's head: the first runs, the others go to this P's ring (proc.go
  ``globrunqgetbatch``, ``runqputbatch``);
* steal: nothing local or global: ``stealWork``'s 4 passes in their orders, the first P
  whose ring holds a G; a victim's ``runnext`` only on the last pass (``runqsteal``'s
  ``stealRunNextG``); nothing anywhere: idle. Other Ps hold at most one G in their ring
  here, so the steal takes that G and moves none to the ring (how much a steal takes is
  exercise 11). stealWork's skip of idle Ps (``idlepMask``) is not modelled: an idle P's
  queues are empty (proc.go ``pidleput`` throws otherwise), so skipping it changes nothing.

The reference is gostack's own: :func:`gostack.sched.schedule.find_runnable`, then
:func:`gostack.sched.steal.steal_work`, on a world built from the snapshot.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ...i18n import N_, _, ngettext
from ...sched import schedule as _schedule
from ...sched.runtime2 import RUNQ_SIZE, UINT32, G, GStatus, World
from ...sched.steal import RandomOrder, steal_work
from ..spec import Aspect, BadResult, Exercise, Right, Wrong, as_list, as_opt_int, as_str, draw
from ._goids import g as _g
from ._goids import pyids as _pyids
from ._goids import ranges

_ranges = partial(ranges, counted=False)  # the snapshot's lists: no count

STEAL_TRIES = 4  # proc.go stealWork: const stealTries
SOURCES = ("global61", "runnext", "runq", "global", "steal", "idle")


@dataclass(frozen=True)
class PQueues:
    """One P's local run queue: ``runnext`` (a goid or None) and its ring, head first."""

    runnext: int | None
    runq: tuple[int, ...]


@dataclass(frozen=True)
class Snapshot:
    """The run queues when this P's M calls ``findRunnable`` (goids; nothing changes while
    it looks)."""

    me: int  # this P's id
    schedtick: int  # this P's schedtick (execute has not counted the next slice yet)
    ps: tuple[PQueues, ...]  # every P, by id; ps[me] is this P
    globrunq: tuple[int, ...]  # sched.runq, head first
    steal_orders: tuple[tuple[int, ...], ...]  # stealWork's 4 passes: P ids, each pass whole

    @property
    def gomaxprocs(self) -> int:
        return len(self.ps)


def snapshot(schedtick: int, ps: list, glob: list | None = None, me: int = 0,
             starts: list[int] | None = None) -> Snapshot:
    """A snapshot: ``ps`` is [(runnext or None, [ring goids]), ...] by P id; ``starts``
    are the four ``cheaprand()`` values that start ``stealOrder`` (proc.go
    ``randomOrder.start``)."""
    order = RandomOrder.reset(len(ps))
    return Snapshot(me, schedtick, tuple(PQueues(n, tuple(r)) for n, r in ps),
                    tuple(glob or ()),
                    tuple(tuple(order.start(s)) for s in (starts or [0] * STEAL_TRIES)))


def _snap(args: dict) -> Snapshot:
    return snapshot(args["schedtick"], args["ps"], args["glob"], args["me"], args["starts"])


# --- the reference -------------------------------------------------------------------------


def reference_find_runnable(snap: Snapshot) -> tuple[int | None, str, list[int]]:
    """proc.go ``findRunnable`` (then ``stealWork``) on a world built from ``snap``."""
    w = World.new(len(snap.ps))
    gs = {}

    def g(goid: int) -> G:
        return gs.setdefault(goid, G(goid, "main.w", goid, status=GStatus.RUNNABLE))

    for pp, q in zip(w.allp, snap.ps, strict=True):
        pp.runnext = g(q.runnext) if q.runnext else None
        for i, goid in enumerate(q.runq):
            pp.runq[i] = g(goid)
        pp.runqtail = len(q.runq)
    w.sched.runq.extend(g(x) for x in snap.globrunq)
    pp = w.allp[snap.me]
    w.m.p, w.allp[0].m, pp.m = pp, None, w.m
    pp.schedtick = snap.schedtick
    before = set(pp.local())
    try:
        gp, _, where = _schedule.find_runnable(w)
    except _schedule.Deadlock:
        starts = iter([_start(snap, i) for i in range(STEAL_TRIES)])
        gp, _, _ = steal_work(pp, w.allp, lambda p: False, lambda p: False,
                              lambda: next(starts), RandomOrder.reset(len(snap.ps)))
        where = "steal" if gp is not None else "idle"
    # what this call put on the ring: a global batch's rest, or a steal's
    moved = [x.goid for x in pp.local() if x not in before]
    return (gp.goid if gp else None, where, moved)


def _start(snap: Snapshot, i: int) -> int:
    """A start value whose enumeration is ``snap.steal_orders[i]`` (the snapshot keeps the
    orders, not the starts)."""
    order = RandomOrder.reset(len(snap.ps))
    n = len(snap.ps)
    for s in range(n * len(order.coprimes)):
        if tuple(order.start(s)) == snap.steal_orders[i]:
            return s
    raise AssertionError("not an enumeration of stealOrder")


# --- cases ----------------------------------------------------------------------------------


def _case(tag: str, schedtick: int, ps: list, glob: list | None = None, me: int = 0,
          starts: list[int] | None = None) -> dict:
    ps = [[n, list(r)] for n, r in ps]
    glob = list(glob or ())
    size = len(glob) + sum(len(r) + (1 if n else 0) for n, r in ps)
    return {"tags": [tag], "size": size,
            "args": {"schedtick": schedtick, "ps": ps, "glob": glob, "me": me,
                     "starts": list(starts or [0] * STEAL_TRIES)}}


def _ids(start: int, n: int) -> list[int]:
    return list(range(start, start + n))


def _empty(n: int) -> list:
    return [[None, []] for _i in range(n)]


def _others(rng: random.Random, n: int, me: int, base: int) -> list:
    """n Ps, this one empty, the others with a few queued Gs (they do not matter unless
    this P steals)."""
    ps = []
    for i in range(n):
        if i == me:
            ps.append([None, []])
        else:
            ps.append([base + 10 * i if draw(rng, 0, 1) else None,
                       _ids(base + 10 * i + 1, draw(rng, 0, 3))])
    return ps


def _starts(rng: random.Random) -> list[int]:
    return [draw(rng, 0, UINT32) for _i in range(STEAL_TRIES)]


def quiet_tick(rng: random.Random) -> int:
    """A schedtick at which no version of the 61-tick check fires (not 0 or 60 mod 61,
    not 0 mod 60): the cases of the other rules never depend on it."""
    while True:
        t = draw(rng, 1, 100_000)
        if t % 61 not in (0, 60) and t % 60:
            return t


def _one_local(rng: random.Random) -> list:
    """A local queue of exactly one G, in runnext or in the ring: the global61 cases do
    not depend on the order inside the local queue."""
    return [7, []] if draw(rng, 0, 1) else [None, [8]]


def _cases(rng: random.Random, visible: bool) -> list[dict]:
    c: list[dict] = []
    if visible:
        # global61: the check fires at 0, 61, 122, ...; needs a non-empty global queue;
        # takes one G only
        for tick, local in ((60, [7, []]), (61, [7, []]), (62, [None, [8]]),
                            (0, [None, [8]]), (122, [7, []]), (61 * 70_000_000, [None, [8]])):
            c.append(_case("global61", tick, [local], [20, 21, 22]))
        c.append(_case("global61", 61, [[7, []]], []))
        c.append(_case("global61", 122, [[None, [8]], [None, [30]]], [20, 21, 22, 23]))
        c.append(_case("global61", 61, [[None, []]], _ids(20, 5)))
        # local: runnext first, then the ring's head
        c.append(_case("local", 5, [[7, [8, 9]]]))
        c.append(_case("local", 5, [[None, [8, 9, 10]]]))
        c.append(_case("local", 5, [[7, []], [None, [30]]]))
        c.append(_case("local", 63, [[None, [8, 9]], [31, [32]]], me=0))
        # batch: how many the first runs and the others go to this P's ring
        c.append(_case("batch", 5, _empty(4), _ids(20, 10)))
        c.append(_case("batch", 5, _empty(1), _ids(100, 200)))
        c.append(_case("batch", 5, _empty(4), [20]))
        c.append(_case("batch", 7, _empty(2), _ids(20, 7)))
        c.append(_case("batch", 8, _empty(2), _ids(100, 300)))
        c.append(_case("batch", 9, [[None, []], [None, [30]], [31, []]], _ids(20, 3)))
        # steal: starts chosen by hand (4 Ps: coprimes 1, 3; start(s) visits s % 4 first,
        # then steps by (1, 3)[s // 4 % 2])
        four = [[None, []], [None, []], [None, [30]], [None, [40]]]
        c.append(_case("steal", 5, four, starts=[3, 0, 0, 0]))  # P3, P0, P1, P2: P3's
        c.append(_case("steal", 5, four, starts=[1, 0, 0, 0]))  # P1, P2, P3, P0: P2's
        c.append(_case("steal", 5, [[None, []], [31, []], [None, []], [None, [40]]],
                       starts=[1, 1, 1, 1]))  # P1's runnext comes first, but a ring wins
        c.append(_case("steal", 5, [[None, []], [31, []], [32, []], [None, []]],
                       starts=[1, 1, 1, 6]))  # runnexts only: the last pass, P2 first
        c.append(_case("steal", 5, [[None, []], [31, []], [32, []], [33, []]],
                       starts=[1, 2, 2, 7]))  # the last pass: P3, P2, P1, P0
        c.append(_case("steal", 7, _empty(4), starts=[0, 1, 2, 3]))
        c.append(_case("steal", 5, _empty(1)))
        c.append(_case("steal", 5, [[None, [50]], [None, []], [None, [30]]], me=1,
                       starts=[2, 0, 0, 0]))  # 3 Ps: P2 first, P0 later
    n = 3 if visible else 8
    for _i in range(n):  # global61: ticks around multiples of 61, both queues non-empty
        tick = max(0, 61 * draw(rng, 0, 100_000) + draw(rng, -1, 1))
        k = draw(rng, 1, 4)
        me = draw(rng, 0, k - 1)
        ps = _others(rng, k, me, 30)
        ps[me] = _one_local(rng)
        c.append(_case("global61", tick, ps, _ids(200, draw(rng, 1, 6)), me, _starts(rng)))
    if not visible:  # a P's first tick, and a check that finds the global queue empty
        c.append(_case("global61", 0, [_one_local(rng)], _ids(200, draw(rng, 1, 6))))
        c.append(_case("global61", 61 * draw(rng, 1, 1000), [_one_local(rng)], []))
    for _i in range(n):  # local: the global queue empty
        k = draw(rng, 1, 4)
        me = draw(rng, 0, k - 1)
        ps = _others(rng, k, me, 30)
        ps[me] = [7 if draw(rng, 0, 1) else None, _ids(8, draw(rng, 0, 5))]
        if ps[me][0] is None and not ps[me][1]:
            ps[me][0] = 7
        c.append(_case("local", quiet_tick(rng), ps, [], me, _starts(rng)))
    for _i in range(n):  # batch: the local queue empty
        k = draw(rng, 1, 5)
        me = draw(rng, 0, k - 1)
        c.append(_case("batch", quiet_tick(rng), _others(rng, k, me, 30),
                       _ids(300, draw(rng, 1, 300)), me, _starts(rng)))
    for _i in range(n):  # steal: nothing local or global; rings of 0 or 1 G elsewhere
        k = draw(rng, 2, 6)
        me = draw(rng, 0, k - 1)
        ps = _empty(k)
        rings = draw(rng, 0, 2)  # 0: runnexts only
        for i in range(k):
            roll = draw(rng, 0, 3)
            if i == me or roll == 3:
                continue
            ring = [40 + i] if rings and (roll == 1 or (roll == 2 and rings == 2)) else []
            ps[i] = [30 + i if roll != 1 else None, ring]
        c.append(_case("steal", quiet_tick(rng), ps, [], me, _starts(rng)))
    return c


def _run(fns: dict[str, Callable], case: dict) -> list:
    got = as_list(fns["find_runnable"](_snap(case["args"])), "find_runnable's result")
    if len(got) != 3:
        raise BadResult("find_runnable must return a triple (goid, source, moved)")
    goid = as_opt_int(got[0], "the goid find_runnable returned")
    source = as_str(got[1], "the source find_runnable returned")
    if source not in SOURCES:
        raise BadResult(f"the source is {source!r}, not one of {', '.join(SOURCES)}")
    moved = [as_opt_int(x, "an item of moved") for x in as_list(got[2], "moved")]
    return [goid, source, moved]


# --- how a case and a difference read --------------------------------------------------------


def _call(case: dict) -> str:
    a = case["args"]
    snap = _snap(a)
    this = _(" (this P)")
    ps = "; ".join(_("P{i}{this}: runnext {runnext}, ring {ring}").format(
        i=i, this=this if i == a["me"] else "", runnext=_g(n), ring=_ranges(r))
        for i, (n, r) in enumerate(a["ps"]))
    steal = ""
    mine = a["ps"][a["me"]]
    if not mine[0] and not mine[1] and not a["glob"]:
        steal = _("; steal orders {orders}").format(orders=" / ".join(
            ",".join(f"P{p}" for p in o) for o in snap.steal_orders))
    return _("schedtick={tick}, GOMAXPROCS={procs}, {ps}; global queue {glob} ({n} Gs){steal}"
             ).format(tick=f"{a['schedtick']:,}", procs=len(a["ps"]), ps=ps,
                      glob=_ranges(a["glob"]), n=len(a["glob"]), steal=steal)


def _repro(case: dict) -> str:
    a = case["args"]
    ps = "[" + ", ".join(f"({n!r}, {_pyids(r)})" for n, r in a["ps"]) + "]"
    return (f"find_runnable(snapshot({a['schedtick']}, {ps}, glob={_pyids(a['glob'])}, "
            f"me={a['me']}, starts={a['starts']!r}))")


def _whole(case: dict, out: list) -> list:
    return out


def _say(out: list) -> str:
    goid, source, moved = out
    if goid is None and source == "idle":
        return _("nothing to run (idle)")
    text = _("{g} from {source}").format(g=_g(goid), source=source)
    if not moved:
        return text + _(", nothing moved")
    return text + ngettext(", {gs} ({n} G) moved to this P's ring",
                           ", {gs} ({n} Gs) moved to this P's ring",
                           len(moved)).format(gs=_ranges(moved), n=len(moved))


def _fmt(expected: list, got: list) -> str:
    return f"expected: {_say(expected)}\ngot:      {_say(got)}"


# --- the bug zoo: the solution, then one mistake at a time -----------------------------------

_SOLUTION = '''
def find_runnable(snap):
    me = snap.ps[snap.me]
    glob = snap.globrunq
    if snap.schedtick % 61 == 0 and glob:                   # @TICK@
        return glob[0], "global61", []                      # @TICK_TAKE@
    if me.runnext is not None:                              # @NEXT@
        return me.runnext, "runnext", []
    if me.runq:
        return me.runq[0], "runq", []                       # @HEAD@
    if glob:
        n = min(256 // 2, len(glob), len(glob) // snap.gomaxprocs + 1)   # @BATCH@
        return glob[0], "global", list(glob[1:n])
    for i, order in enumerate(snap.steal_orders):           # @ORDERS@
        last = i == len(snap.steal_orders) - 1              # @LAST@
        for p in order:
            if p == snap.me:
                continue
            victim = snap.ps[p]
            if victim.runq:
                return victim.runq[0], "steal", []
            if last and victim.runnext is not None:         # @RUNNEXT@
                return victim.runnext, "steal", []
    return None, "idle", []
'''


def variant(**changes: str) -> str:
    """The solution with the lines marked @NAME@ replaced (indentation kept), markers off."""
    lines = []
    for line in _SOLUTION.split("\n"):
        for n, new in changes.items():
            if f"# @{n}@" in line:
                indent = line[: len(line) - len(line.lstrip())]
                line = "\n".join(indent + x for x in new.split("\n"))
        lines.append(re.sub(r"  +# @[A-Z0-9_]+@$", "", line))
    return "\n".join(lines)


ZOO = (
    Wrong("tick-plus-one", ("global61",), variant(
        TICK="if (snap.schedtick + 1) % 61 == 0 and glob:   # the 61st slice: tick 60")),
    Wrong("every-60-ticks", ("global61",), variant(
        TICK="if snap.schedtick % 60 == 0 and glob:")),
    Wrong("not-at-tick-0", ("global61",), variant(
        TICK="if snap.schedtick and snap.schedtick % 61 == 0 and glob:")),
    Wrong("global-check-without-a-global-g", ("global61",), variant(
        TICK="if snap.schedtick % 61 == 0:",
        TICK_TAKE="return (glob[0] if glob else None), \"global61\", []")),
    Wrong("global-before-local", ("global61",), variant(
        TICK="if glob:                                   # the global queue first, always",
        TICK_TAKE="n = min(128, len(glob), len(glob) // snap.gomaxprocs + 1)\n"
                  "return glob[0], \"global\", list(glob[1:n])")),
    Wrong("the-check-takes-a-batch", ("global61",), variant(
        TICK_TAKE="n = min(128, len(glob), len(glob) // snap.gomaxprocs + 1)\n"
                  "return glob[0], \"global61\", list(glob[1:n])")),
    Wrong("ring-before-runnext", ("local",), variant(
        NEXT="if me.runnext is not None and not me.runq:")),
    Wrong("ring-from-the-tail", ("local",), variant(
        HEAD="return me.runq[-1], \"runq\", []                # the newest first")),
    Wrong("batch-ignores-gomaxprocs", ("batch",), variant(
        BATCH="n = min(128, len(glob))")),
    Wrong("batch-without-the-plus-one", ("batch",), variant(
        BATCH="n = max(1, min(128, len(glob), len(glob) // snap.gomaxprocs))")),
    Wrong("batch-of-a-whole-ring", ("batch",), variant(
        BATCH="n = min(256, len(glob), len(glob) // snap.gomaxprocs + 1)")),
    Wrong("batch-of-half-the-queue", ("batch",), variant(
        BATCH="n = max(1, len(glob) // 2)")),
    Wrong("steal-runnext-on-every-pass", ("steal",), variant(
        LAST="last = True")),
    Wrong("never-steal-runnext", ("steal",), variant(
        LAST="last = False")),
    Wrong("steal-in-p-order", ("steal",), variant(
        ORDERS="for i, order in enumerate([range(snap.gomaxprocs)] * 4):")),
    Wrong("one-order-for-every-pass", ("steal",), variant(
        ORDERS="for i, order in enumerate([snap.steal_orders[0]] * 4):")),
)

RIGHT = (
    Right("rules-as-a-loop", '''
def find_runnable(snap):
    mine = snap.ps[snap.me]
    g = list(snap.globrunq)

    def fair():
        if g and not snap.schedtick % 61:
            return g[0], "global61", []

    def local():
        if mine.runnext:
            return mine.runnext, "runnext", []
        if mine.runq:
            return mine.runq[0], "runq", []

    def batch():
        if g:
            n = min(128, len(g), len(g) // len(snap.ps) + 1)
            return g[0], "global", g[1:n]

    def steal():
        for k in range(4):
            for p in snap.steal_orders[k]:
                q = snap.ps[p]
                if p != snap.me and q.runq:
                    return q.runq[0], "steal", []
                if p != snap.me and k == 3 and q.runnext:
                    return q.runnext, "steal", []

    for rule in (fair, local, batch, steal):
        found = rule()
        if found:
            return found
    return None, "idle", []
'''),
    Right("a-deque-and-numpy", '''
from collections import deque

import numpy as np


def find_runnable(snap):
    glob = deque(snap.globrunq)
    me = snap.ps[snap.me]
    if np.uint32(snap.schedtick) % np.uint32(61) == 0 and glob:
        return int(glob.popleft()), "global61", []
    local = deque(me.runq)
    if me.runnext is not None:
        local.appendleft(me.runnext)
    if local:
        return local[0], ("runnext" if me.runnext is not None else "runq"), []
    if glob:
        n = int(np.min([128, len(glob), len(glob) // snap.gomaxprocs + 1]))
        got = [glob.popleft() for _i in range(n)]
        return got[0], "global", got[1:]
    for p in snap.steal_orders[0]:
        if p != snap.me and snap.ps[p].runq:
            return snap.ps[p].runq[0], "steal", []
    for p in snap.steal_orders[-1]:
        if p != snap.me and snap.ps[p].runnext is not None:
            return snap.ps[p].runnext, "steal", []
    return None, "idle", []
'''),
    Right("tuple-results-and-a-table", '''
SOURCES = {"fair": "global61", "next": "runnext", "ring": "runq", "batch": "global"}


def find_runnable(snap, *, ring_size=256):
    q = snap.ps[snap.me]
    glob = snap.globrunq
    fair = glob and snap.schedtick % 61 == 0
    if fair:
        return (glob[0], SOURCES["fair"], ())
    if q.runnext is not None:
        return (q.runnext, SOURCES["next"], ())
    if len(q.runq):
        return (q.runq[0], SOURCES["ring"], ())
    if len(glob):
        n = min(ring_size // 2, len(glob), len(glob) // snap.gomaxprocs + 1)
        return (glob[0], SOURCES["batch"], tuple(glob[1:n]))
    passes = len(snap.steal_orders)
    for i in range(passes):
        for p in (x for x in snap.steal_orders[i] if x != snap.me):
            victim = snap.ps[p]
            grabbed = list(victim.runq[:len(victim.runq) - len(victim.runq) // 2])
            if not grabbed and i == passes - 1 and victim.runnext is not None:
                grabbed = [victim.runnext]
            if grabbed:
                return (grabbed[-1], "steal", tuple(grabbed[:-1]))
    return (None, "idle", ())
'''),
    Right("numpy-goids", '''
import numpy as np


def find_runnable(snap):
    glob = np.array(snap.globrunq, dtype=np.int64)
    me = snap.ps[snap.me]
    if glob.size and snap.schedtick % 61 == 0:
        return glob[0], "global61", []
    if me.runnext is not None:
        return np.int64(me.runnext), "runnext", []
    if me.runq:
        return np.int64(me.runq[0]), "runq", []
    if glob.size:
        n = min(128, glob.size, glob.size // snap.gomaxprocs + 1)
        return glob[0], "global", glob[1:n]
    for last in (False, False, False, True):
        order = snap.steal_orders[3 if last else 0]
        for p in order:
            if p == snap.me:
                continue
            if snap.ps[p].runq:
                return snap.ps[p].runq[0], "steal", []
            if last and snap.ps[p].runnext is not None:
                return snap.ps[p].runnext, "steal", []
    return None, "idle", []
'''),
)


EXERCISE = Exercise(
    id="10-find-runnable",
    title=N_("findRunnable's order"),
    lesson="12-stealing-and-preemption",
    functions=(("find_runnable", ("snap",)),),
    reference={"find_runnable":
               "gostack.grade.exercises.e10_find_runnable.reference_find_runnable"},
    aspects=(
        Aspect("global61", "fairness: now and then the global queue's head before the local "
               "queue", 3, _whole, _fmt),
        Aspect("local", "the local queue: runnext, then the ring's head", 2, _whole, _fmt),
        Aspect("batch", "the global queue's batch: how many Gs, and which one runs", 2,
               _whole, _fmt),
        Aspect("steal", "stealing: the orders' first ring, a runnext only on the last pass",
               3, _whole, _fmt),
    ),
    _cases=_cases,
    _run=_run,
    call_text=_call,
    repro_text=_repro,
    visible_seed=112,
    extra_tripwires=("gostack.sched.schedule.find_runnable", "gostack.sched.steal.steal_work",
                     "gostack.sched.runq.globrunqgetbatch", "gostack.sched.runq.runqsteal",
                     "gostack.sched.runq.runqgrab", "gostack.sched.runq.runqget"),
    zoo=ZOO,
    right=RIGHT,
)

assert RUNQ_SIZE // 2 == 128  # the batch's cap, len(pp.runq)/2
