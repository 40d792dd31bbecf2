"""Exercise 08 · runqput and runqget with runnext (lesson 10, run queues and fairness).

The learner writes, on a :class:`gostack.sched.P` (``runnext``, the 256-slot ring
``runq[runqhead:runqtail]`` with uint32 counters), go1.27.3 ``runtime/proc.go``'s

* ``runqput(pp, gp, next, globrunq)``: ``next``: ``gp`` goes to ``runnext`` and the G
  there before is kicked to the ring's tail; else ``gp`` goes to the ring's tail. A full
  ring (256) moves its first half, head first, then ``gp`` to the global queue's tail
  (``runqputslow``); ``globrunq`` is that queue, a list, head first;
* ``runqget(pp)``: ``(runnext, True)`` (it inherits the time slice), else ``(the ring's
  head, False)``, else ``(None, False)``.

The reference is :mod:`gostack.sched.runq` (through the two adapters below, which give
it the learner's signatures). A case is a P's starting state and a list of operations;
what comes back is every ``runqget``'s answer and the global queue. Aspects, each on the
cases where only its rule decides:

* runnext: the order of the Gs the gets hand out, after puts with ``next`` (no ring is
  ever full there), among them the recorded ``spawn_N`` probes: main starts N goroutines
  with ``runnext`` holding ``runtime.updateMaxProcsGoroutine`` (G5), as on go1.27.3;
* inherit: the ``inheritTime`` flag of each get, on a P set up directly (no puts);
* ring: the order of the Gs handed out after puts without ``next`` into a ring whose
  counters wrap (at a multiple of 256 and at 2**32);
* overflow: the global queue after puts into a full ring, and how many Gs stay local.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...i18n import N_, _
from ...sched import runq as _runq
from ...sched.runtime2 import RUNQ_SIZE, UINT32, G, GStatus, P, World
from ..spec import Aspect, BadResult, Exercise, Right, Wrong, a_typename, as_bool, as_list, draw
from ._goids import g as _g
from ._goids import pyids as _pyids
from ._goids import ranges as _ranges

MAIN_RUNNEXT = 5  # runtime.updateMaxProcsGoroutine: in runnext when main.main starts
FIRST_W = 6  # w0's goid in the spawn probes (gostack.sched.catalog.spawn)
RECORDED_SPAWNS = (1, 2, 3, 10, 100)  # gostack/data/sched_recorded.json: spawn_N
MAX_GETS = 700  # a drain stops here: more Gs than any case holds


# --- the reference, with the learner's signatures ---------------------------------------------


def reference_runqput(pp: P, gp: G, next: bool, globrunq: list) -> None:
    """proc.go ``runqput`` (and ``runqputslow``) on ``pp``; the global queue is ``globrunq``."""
    w = World(gomaxprocs=1)
    w.allp = [pp]
    _runq.runqput(w, pp, gp, next)
    globrunq.extend(w.sched.runq)


def reference_runqget(pp: P) -> tuple[G | None, bool]:
    """proc.go ``runqget``."""
    return _runq.runqget(pp)


# --- cases ----------------------------------------------------------------------------------


def state(runnext: int = 0, ring: list[int] | None = None, head: int = 0,
          glob: list[int] | None = None) -> dict:
    return {"runnext": runnext, "ring": list(ring or ()), "head": head,
            "global": list(glob or ())}


def _case(tag: str, st: dict, ops: list, name: str = "") -> dict:
    size = len(st["ring"]) + len(ops)
    return {"tags": [tag], "args": {"state": st, "ops": ops, "name": name}, "size": size}


def spawn_case(n: int) -> dict:
    """The spawn_N probe's queue operations: main starts w0..w(N-1) (each runqput with
    next), then blocks; the P hands its Gs out."""
    ops = [["put", FIRST_W + i, True] for i in range(n)] + [["drain"]]
    return _case("runnext", state(MAIN_RUNNEXT), ops, f"spawn_{n}")


def _ids(start: int, n: int) -> list[int]:
    return list(range(start, start + n))


def _cases(rng: random.Random, visible: bool) -> list[dict]:
    cases: list[dict] = []
    if visible:
        cases += [spawn_case(n) for n in RECORDED_SPAWNS]
        cases.append(_case("runnext", state(0, [20, 21]), [
            ["put", 30, True], ["get"], ["put", 31, True], ["put", 32, False],
            ["put", 33, True], ["drain"]]))
        cases.append(_case("inherit", state(7, [8, 9, 10]), [["drain"]]))
        cases.append(_case("inherit", state(0, [8, 9]), [["drain"]]))
        cases.append(_case("inherit", state(7, []), [["get"], ["get"]]))
        cases.append(_case("ring", state(0, [40, 41], head=254),
                           [["put", 50, False], ["put", 51, False], ["get"],
                            ["put", 52, False], ["drain"]]))
        cases.append(_case("ring", state(0, [40, 41, 42], head=UINT32 - 1),
                           [["put", 50, False], ["get"], ["put", 51, False], ["drain"]]))
        cases.append(_case("overflow", state(0, _ids(100, 256), glob=[90, 91]),
                           [["put", 400, False], ["drain"]]))
        cases.append(_case("overflow", state(0, _ids(100, 255), head=UINT32 - 99),
                           [["put", 400, False], ["put", 401, False], ["drain"]]))
        cases.append(_case("overflow", state(0, _ids(100, 255), head=3),
                           [["put", 400, False], ["drain"]]))
    n = 3 if visible else 6
    for _i in range(n):  # runnext: puts with next among gets, never a full ring
        ring = _ids(20, draw(rng, 0, 6))
        ops: list = []
        nxt = 100
        for _j in range(draw(rng, 3, 40)):
            if draw(rng, 0, 3) == 0:
                ops.append(["get"])
            else:
                ops.append(["put", nxt, draw(rng, 0, 3) > 0])
                nxt += 1
        cases.append(_case("runnext", state(draw(rng, 0, 1) * 7, ring), ops + [["drain"]]))
    if not visible:
        cases += [spawn_case(n) for n in (draw(rng, 4, 9), draw(rng, 11, 200))]
    for _i in range(n):  # inherit: a P set up directly, then gets only
        ring = _ids(20, draw(rng, 0, 12))
        gets = [["get"]] * draw(rng, 1, len(ring) + 2)
        cases.append(_case("inherit", state(draw(rng, 0, 2) and 7, ring), gets))
    for _i in range(n):  # ring: puts without next, counters that wrap
        head = ((256 * draw(rng, 1, 1000)) - draw(rng, 1, 8)) if draw(rng, 0, 1) \
            else (UINT32 + 1 - draw(rng, 1, 8))
        ring = _ids(20, draw(rng, 1, 10))
        ops = []
        nxt = 100
        for _j in range(draw(rng, 4, 20)):
            if draw(rng, 0, 2) == 0:
                ops.append(["get"])
            else:
                ops.append(["put", nxt, False])
                nxt += 1
        cases.append(_case("ring", state(0, ring, head & UINT32), ops + [["drain"]]))
    for _i in range(n):  # overflow: a full ring (or one short of full), puts without next
        full = 256 - draw(rng, 0, 1)
        head = pick_head(rng)
        glob = _ids(900, draw(rng, 0, 3))
        puts = [["put", 400 + i, False] for i in range(draw(rng, 1, 2) + (256 - full))]
        cases.append(_case("overflow", state(0, _ids(100, full), head, glob),
                           puts[:2] + [["drain"]]))
    return cases


def pick_head(rng: random.Random) -> int:
    return (0, draw(rng, 1, 255), (UINT32 + 1 - draw(rng, 1, 255)) & UINT32)[draw(rng, 0, 2)]


def make_p(st: dict) -> tuple[P, dict[int, G]]:
    """A P in the case's starting state, and every G by goid (created as needed)."""
    gs: dict[int, G] = {}

    def g(goid: int) -> G:
        if goid not in gs:
            gs[goid] = G(goid, "main.w", goid, status=GStatus.RUNNABLE)
        return gs[goid]

    pp = P(0)
    if st["runnext"]:
        pp.runnext = g(st["runnext"])
    pp.runqhead = st["head"]
    for i, goid in enumerate(st["ring"]):
        pp.runq[(st["head"] + i) % RUNQ_SIZE] = g(goid)
    pp.runqtail = (st["head"] + len(st["ring"])) & UINT32
    return pp, gs


def _goid(x: object, what: str) -> int:
    if x is None:
        return 0
    if not isinstance(x, G):
        raise BadResult(f"{what} is {a_typename(x)}, not a G (or None)")
    return x.goid


def _run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    pp, gs = make_p(a["state"])
    globrunq = [gs.get(i) or G(i, "main.w", i, status=GStatus.RUNNABLE)
                for i in a["state"]["global"]]
    gets: list[list] = []

    def get() -> int:
        pair = as_list(fns["runqget"](pp), "runqget's result")
        if len(pair) != 2:
            raise BadResult("runqget must return a pair (gp, inherit_time)")
        goid = _goid(pair[0], "the G runqget returned")
        gets.append([goid, as_bool(pair[1], "runqget's inherit_time")])
        return goid

    for op in a["ops"]:
        if op[0] == "put":
            gp = G(op[1], "main.w", op[1], status=GStatus.RUNNABLE)
            fns["runqput"](pp, gp, op[2], globrunq)
        elif op[0] == "get":
            get()
        else:
            while get() and len(gets) < MAX_GETS:
                pass
    return {"gets": gets, "global": [_goid(g, "an item of globrunq") for g in globrunq]}


def _call(case: dict) -> str:
    a = case["args"]
    st = a["state"]
    parts = []
    for op in a["ops"]:
        if op[0] == "put":
            parts.append(f"put G{op[1]}{' next' if op[2] else ''}")
        else:
            parts.append(op[0])
    where = _("the {name} probe: ").format(name=a["name"]) if a["name"] else ""
    return where + _("a P with runnext={runnext}, ring {ring}, runqhead={head}, global queue "
                     "{glob}; then {ops}").format(
        runnext=_g(st["runnext"]), ring=_ranges(st["ring"]), head=f"{st['head']:,}",
        glob=_ranges(st["global"]), ops=", ".join(_runs(parts)))


def _repro(case: dict) -> str:
    a = case["args"]
    st = a["state"]
    return (f"replay(state(runnext={st['runnext']}, ring={_pyids(st['ring'])}, "
            f"head={st['head']}, glob={_pyids(st['global'])}), {a['ops']!r}, "
            f"runqput, runqget)")


def replay(st: dict, ops: list, runqput: Callable, runqget: Callable) -> dict:
    """Rerun one case with your functions: a P in state ``st`` (made with :func:`state`),
    the operations ``ops`` (``["put", goid, next]``, ``["get"]``, ``["drain"]``: get until
    the P is empty); returns every get's (goid, inherit_time) (goid 0: None) and the global
    queue's goids."""
    return _run({"runqput": runqput, "runqget": runqget},
                {"args": {"state": st, "ops": ops, "name": ""}})


def _runs(parts: list[str]) -> list[str]:
    """Repeated operations once, with a count: 'put G6 next' x 1 ... -> whole, short."""
    out: list[str] = []
    for p in parts:
        if out and out[-1].split(" ×")[0] == p and p in ("get", "drain"):
            head, _, n = out[-1].partition(" ×")
            out[-1] = f"{head} ×{int(n or 1) + 1}"
        else:
            out.append(p)
    return out


# What each aspect compares -------------------------------------------------------------------


def _order(case: dict, out: dict) -> list[int]:
    return [g for g, _ in out["gets"] if g]


def _flags(case: dict, out: dict) -> list[bool]:
    return [f for _, f in out["gets"]]


def _spill(case: dict, out: dict) -> dict:
    return {"global": out["global"], "local": sum(1 for g, _ in out["gets"] if g)}


def _first(expected: list, got: list) -> int:
    return next(i for i in range(max(len(expected), len(got)))
                if i >= len(expected) or i >= len(got) or expected[i] != got[i])


def _fmt_order(expected: list[int], got: list[int]) -> str:
    i = _first(expected, got)
    e = _g(expected[i]) if i < len(expected) else _("nothing (the P is empty)")
    g = _g(got[i]) if i < len(got) else _("nothing (the P is empty)")
    hand_out = _("the gets hand out {gs}")
    return (f"expected: {hand_out.format(gs=_ranges(expected))}\n"
            f"got:      {hand_out.format(gs=_ranges(got))}\n"
            + _("first difference, get {n}: expected {e}, got {g}").format(n=i + 1, e=e, g=g))


def _fmt_flags(expected: list[bool], got: list[bool]) -> str:
    i = _first(expected, got)
    e = expected[i] if i < len(expected) else _("no more gets")
    g = got[i] if i < len(got) else _("no more gets")
    each = _("inherit_time of each get {flags}")
    return (f"expected: {each.format(flags=expected)}\n"
            f"got:      {each.format(flags=got)}\n"
            + _("first difference, get {n}: expected {e}, got {g}").format(n=i + 1, e=e, g=g))


def _fmt_spill(expected: dict, got: dict) -> str:
    spill = _("global queue {gs}; {n} Gs stay on the P")
    return (f"expected: {spill.format(gs=_ranges(expected['global']), n=expected['local'])}\n"
            f"got:      {spill.format(gs=_ranges(got['global']), n=got['local'])}")


# --- the bug zoo: the solution, then one mistake at a time -----------------------------------

_SOLUTION = '''
def runqput(pp, gp, next, globrunq):
    if next:
        old, pp.runnext = pp.runnext, gp
        if old is None:
            return
        gp = old                                  # @KICK@
    h, t = pp.runqhead, pp.runqtail
    if (t - h) & 0xFFFFFFFF < 256:                # @FULL@
        pp.runq[t % 256] = gp                     # @SLOT@
        pp.runqtail = (t + 1) & 0xFFFFFFFF
        return
    n = 128                                       # @HALF@
    batch = [pp.runq[(h + i) % 256] for i in range(n)]
    pp.runqhead = (h + n) & 0xFFFFFFFF
    batch.append(gp)                              # @GP@
    globrunq.extend(batch)                        # @GLOBAL@


def runqget(pp):
    if pp.runnext is not None:                    # @NEXT@
        gp, pp.runnext = pp.runnext, None
        return gp, True                           # @INHERIT@
    h, t = pp.runqhead, pp.runqtail
    if t == h:
        return None, False
    gp = pp.runq[h % 256]                         # @TAKE@
    pp.runqhead = (h + 1) & 0xFFFFFFFF            # @TAKE+@
    return gp, False                              # @TAKE+@
'''


def variant(**changes: str) -> str:
    """The solution with the lines marked @NAME@ replaced (indentation kept)."""
    lines = []
    for line in _SOLUTION.split("\n"):
        if any(f"# @{name}+@" in line for name in changes):
            continue  # the rest of a replaced block
        for name, new in changes.items():
            if f"# @{name}@" in line:
                indent = line[: len(line) - len(line.lstrip())]
                line = "\n".join(indent + x for x in new.split("\n"))
        lines.append(line.split("  # @")[0].rstrip() if "# @" in line else line)
    return "\n".join(lines)


ZOO = (
    Wrong("next-ignored", ("runnext",), variant().replace(
        "    if next:\n        old, pp.runnext = pp.runnext, gp\n        if old is None:\n"
        "            return\n        gp = old\n", "    # every G to the tail: FIFO\n")),
    Wrong("old-runnext-dropped", ("runnext",), variant(
        KICK="return                                    # the old one is lost")),
    Wrong("kicked-to-the-head", ("runnext",), variant(
        KICK="pp.runqhead = (pp.runqhead - 1) & 0xFFFFFFFF   # the old one goes first\n"
             "pp.runq[pp.runqhead % 256] = old\nreturn")),
    Wrong("ring-before-runnext", ("runnext", "inherit"), variant(
        NEXT="if pp.runnext is not None and pp.runqhead == pp.runqtail:")),
    Wrong("inherit-always", ("inherit",), variant(
        TAKE="gp = pp.runq[h % 256]\npp.runqhead = (h + 1) & 0xFFFFFFFF\n"
             "return gp, True                           # every G inherits the slice")),
    Wrong("ring-as-a-stack", ("runnext", "ring"), variant(
        TAKE="gp = pp.runq[(t - 1) % 256]               # the newest first\n"
             "pp.runqtail = (t - 1) & 0xFFFFFFFF\nreturn gp, False")),
    Wrong("no-modulo", ("ring", "overflow"), variant(
        SLOT="pp.runq[t] = gp                           # runq has 256 slots: 0..255",
        TAKE="gp = pp.runq[h]\npp.runqhead = (h + 1) & 0xFFFFFFFF\nreturn gp, False")),
    Wrong("counters-not-wrapped", ("overflow",), variant(
        FULL="if t - h < 256:                           # uint32 arithmetic forgotten")),
    Wrong("overflow-at-255", ("overflow",), variant(
        FULL="if (t - h) & 0xFFFFFFFF < 255:           # one slot short")),
    Wrong("moves-the-newest-half", ("overflow",), variant(
        HALF="n = 128                                   # the tail half\n"
             "batch = [pp.runq[(t - n + i) % 256] for i in range(n)]\n"
             "pp.runqtail = (t - n) & 0xFFFFFFFF\nglobrunq.extend(batch + [gp])\nreturn")),
    Wrong("new-g-stays-local", ("overflow",), variant(
        GP="pp.runq[t % 256] = gp                     # gp takes a freed slot\n"
           "pp.runqtail = (t + 1) & 0xFFFFFFFF")),
    Wrong("batch-to-the-global-head", ("overflow",), variant(
        GLOBAL="globrunq[:0] = batch                      # ahead of the waiting Gs")),
)

RIGHT = (
    Right("count-and-slots", '''
RING = 256
MASK = (1 << 32) - 1


def _count(pp):
    return (pp.runqtail - pp.runqhead) & MASK


def runqput(pp, gp, next, globrunq):
    if next:
        pp.runnext, gp = gp, pp.runnext
        if gp is None:
            return
    if _count(pp) == RING:
        moved = []
        for _ in range(RING // 2):
            moved.append(pp.runq[pp.runqhead % RING])
            pp.runq[pp.runqhead % RING] = None
            pp.runqhead = (pp.runqhead + 1) & MASK
        globrunq += moved + [gp]
        return
    pp.runq[pp.runqtail & (RING - 1)] = gp
    pp.runqtail = (pp.runqtail + 1) & MASK


def runqget(pp):
    gp = pp.runnext
    if gp:
        pp.runnext = None
        return (gp, True)
    if _count(pp) == 0:
        return (None, False)
    gp = pp.runq[pp.runqhead & 255]
    pp.runqhead = (pp.runqhead + 1) & MASK
    return (gp, False)
'''),
    Right("runqputslow-of-its-own", '''
def runqputslow(pp, gp, h, t, globrunq):
    n = ((t - h) % 2**32) // 2
    batch = [pp.runq[(h + i) % len(pp.runq)] for i in range(n)] + [gp]
    pp.runqhead = (h + n) % 2**32
    for g in batch:
        globrunq.append(g)


def runqput(pp, gp, next, globrunq, *, debug=False):
    if next:
        kicked = pp.runnext
        pp.runnext = gp
        if kicked is None:
            return None
        gp = kicked
    h, t = pp.runqhead, pp.runqtail
    if (t - h) % 2**32 < len(pp.runq):
        pp.runq[t % len(pp.runq)] = gp
        pp.runqtail = (t + 1) % 2**32
    else:
        runqputslow(pp, gp, h, t, globrunq)


def runqget(pp):
    for where in ("runnext", "ring"):
        if where == "runnext" and pp.runnext is not None:
            g, pp.runnext = pp.runnext, None
            return [g, True]
        if where == "ring" and pp.runqhead != pp.runqtail:
            g = pp.runq[pp.runqhead % len(pp.runq)]
            pp.runqhead = (pp.runqhead + 1) % 2**32
            return [g, False]
    return [None, False]
'''),
    Right("numpy-flags", '''
import numpy as np


def runqput(pp, gp, next, globrunq):
    if next:
        pp.runnext, old = gp, pp.runnext
        if old is None:
            return
        gp = old
    used = int(np.int64(pp.runqtail) - np.int64(pp.runqhead)) & 0xFFFFFFFF
    if used < 256:
        pp.runq[pp.runqtail % 256] = gp
        pp.runqtail = int((np.int64(pp.runqtail) + 1) & 0xFFFFFFFF)
        return
    half = [pp.runq[(pp.runqhead + i) % 256] for i in range(used // 2)]
    pp.runqhead = int((np.int64(pp.runqhead) + len(half)) & 0xFFFFFFFF)
    globrunq.extend([*half, gp])


def runqget(pp):
    if pp.runnext is not None:
        gp = pp.runnext
        pp.runnext = None
        return gp, np.bool_(True)
    if pp.runqhead == pp.runqtail:
        return None, np.bool_(False)
    gp = pp.runq[pp.runqhead % 256]
    pp.runqhead = (pp.runqhead + 1) % (1 << 32)
    return gp, np.bool_(False)
'''),
    Right("a-deque-view", '''
from collections import deque


def _ring(pp):
    n = (pp.runqtail - pp.runqhead) & 0xFFFFFFFF
    return deque(pp.runq[(pp.runqhead + i) % 256] for i in range(n))


def _store(pp, ring):
    for i, g in enumerate(ring):
        pp.runq[(pp.runqhead + i) % 256] = g
    pp.runqtail = (pp.runqhead + len(ring)) & 0xFFFFFFFF


def runqput(pp, gp, next, globrunq):
    ring = _ring(pp)
    if next and pp.runnext is not None:
        pp.runnext, gp = gp, pp.runnext
    elif next:
        pp.runnext = gp
        return
    if len(ring) < 256:
        ring.append(gp)
    else:
        globrunq.extend([ring.popleft() for _ in range(128)] + [gp])
        pp.runqhead = (pp.runqhead + 128) & 0xFFFFFFFF
    _store(pp, ring)


def runqget(pp):
    if pp.runnext is not None:
        gp, pp.runnext = pp.runnext, None
        return gp, True
    ring = _ring(pp)
    if not ring:
        return None, False
    pp.runqhead = (pp.runqhead + 1) & 0xFFFFFFFF
    return ring.popleft(), False
'''),
)


EXERCISE = Exercise(
    id="08-runq",
    title=N_("runqput and runqget with runnext"),
    lesson="10-run-queues",  # lesson 10 (run queues and fairness): links it once merged
    functions=(("runqput", ("pp", "gp", "next", "globrunq")), ("runqget", ("pp",))),
    reference={"runqput": "gostack.grade.exercises.e08_runq.reference_runqput",
               "runqget": "gostack.grade.exercises.e08_runq.reference_runqget"},
    aspects=(
        Aspect("runnext", "runnext: the newest G runs next, the one it displaces goes to the "
               "tail", 3, _order, _fmt_order),
        Aspect("inherit", "inheritTime: True from runnext, False from the ring", 2, _flags,
               _fmt_flags),
        Aspect("ring", "the ring: first in, first out, its uint32 counters wrapping", 2,
               _order, _fmt_order),
        Aspect("overflow", "a full ring: its older half and the new G to the global queue's "
               "tail", 3, _spill, _fmt_spill),
    ),
    _cases=_cases,
    _run=_run,
    call_text=_call,
    repro_text=_repro,
    visible_seed=110,
    extra_tripwires=("gostack.sched.runq.runqput", "gostack.sched.runq.runqputslow",
                     "gostack.sched.runq.runqget", "gostack.sched.runq.runqget_ring",
                     "gostack.sched.runq.runqdrain"),
    zoo=ZOO,
    right=RIGHT,
)
