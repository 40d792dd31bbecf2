"""A P's local run queue: ``runnext`` and the 256-slot ring (go1.27.3 ``runtime/proc.go``).

Invariants:

* ``runqput(next=True)`` always leaves the new G in ``runnext``; the G it displaces
  goes to the ring's tail like ``runqput(next=False)`` (proc.go ``runqput``);
* the ring takes a G while ``tail - head < 256``; when full, ``runqputslow`` moves
  exactly its first half (128 Gs, head first) and then the new G to the global queue's
  tail, in that order, as one batch (proc.go ``runqputslow``, ``globrunqputbatch``);
* ``runqget`` takes ``runnext`` first and reports ``inheritTime=True`` for it, else the
  ring's head with ``inheritTime=False`` (proc.go ``runqget``);
* ``runqgrab`` takes ``n - n/2`` Gs from the head (half, rounded up), and ``runnext``
  only when the ring is empty and stealing it is allowed (proc.go ``runqgrab``);
  ``runqsteal`` puts them on the thief's ring and returns the last one.

The race-detector shuffles (``randomizeScheduler``) are not modelled: they are off in a
normal build. The atomics are plain reads and writes: one step runs at a time.
"""

from __future__ import annotations

from .runtime2 import RUNQ_SIZE, UINT32, G, P, World
from .trace import GlobRunqPut, RunqPut, RunqPutSlow


def _count(pp: P) -> int:
    return (pp.runqtail - pp.runqhead) & UINT32


def runqempty(pp: P) -> bool:
    """proc.go ``runqempty``: no G in runnext and none in the ring."""
    return pp.runqhead == pp.runqtail and pp.runnext is None


def runqput(w: World, pp: P, gp: G, next: bool) -> None:
    """proc.go ``runqput``: put ``gp`` in runnext (``next``) or at the ring's tail.

    Without sysmon runnext is never used (``!haveSysmon && next``: next = false); Linux
    has sysmon.
    """
    if not w.have_sysmon and next:
        next = False
    kicked = 0
    if next:
        old = pp.runnext
        pp.runnext = gp
        if old is None:
            w.emit(RunqPut(pp.id, gp.goid, True))
            return
        kicked = old.goid
        w.emit(RunqPut(pp.id, gp.goid, True, kicked))
        gp = old  # kick the old runnext out to the regular run queue
    h, t = pp.runqhead, pp.runqtail
    if (t - h) & UINT32 < RUNQ_SIZE:
        pp.runq[t % RUNQ_SIZE] = gp
        pp.runqtail = (t + 1) & UINT32
        if not kicked:
            w.emit(RunqPut(pp.id, gp.goid, False))
        return
    runqputslow(w, pp, gp, h, t)


def runqputslow(w: World, pp: P, gp: G, h: int, t: int) -> bool:
    """proc.go ``runqputslow``: the ring is full; its first half plus ``gp`` go to the
    global queue's tail, head first, ``gp`` last."""
    n = ((t - h) & UINT32) // 2
    if n != RUNQ_SIZE // 2:
        raise AssertionError("runqputslow: queue is not full")
    batch = [pp.runq[(h + i) % RUNQ_SIZE] for i in range(n)]
    for i in range(n):
        pp.runq[(h + i) % RUNQ_SIZE] = None
    pp.runqhead = (h + n) & UINT32
    batch.append(gp)
    w.sched.runq.extend(batch)  # globrunqputbatch
    w.emit(RunqPutSlow(pp.id, tuple(g.goid for g in batch)))
    return True


def runqputbatch(pp: P, q: list[G]) -> list[G]:
    """proc.go ``runqputbatch``: as many of ``q`` as fit go to the ring's tail; returns
    the ones that did not fit."""
    h, t = pp.runqhead, pp.runqtail
    rest = list(q)
    while rest and (t - h) & UINT32 < RUNQ_SIZE:
        pp.runq[t % RUNQ_SIZE] = rest.pop(0)
        t = (t + 1) & UINT32
    pp.runqtail = t
    return rest


def runqget(pp: P) -> tuple[G | None, bool]:
    """proc.go ``runqget``: (runnext, inheritTime=True), else (ring head, False)."""
    nxt = pp.runnext
    if nxt is not None:
        pp.runnext = None
        return nxt, True
    h, t = pp.runqhead, pp.runqtail
    if t == h:
        return None, False
    gp = pp.runq[h % RUNQ_SIZE]
    pp.runq[h % RUNQ_SIZE] = None
    pp.runqhead = (h + 1) & UINT32
    return gp, False


def runqdrain(pp: P) -> list[G]:
    """proc.go ``runqdrain``: runnext first, then the whole ring, head first."""
    out = []
    if pp.runnext is not None:
        out.append(pp.runnext)
        pp.runnext = None
    while True:
        gp, _ = runqget(pp)
        if gp is None:
            return out
        out.append(gp)


def runqgrab(pp: P, steal_runnext: bool) -> list[G]:
    """proc.go ``runqgrab``: half of ``pp``'s ring (``n - n/2``, from the head); if the
    ring is empty and ``steal_runnext``, its runnext instead. (The 3 µs back-off before
    taking a running P's runnext is timing, not order: stage 2.)"""
    n = _count(pp)
    n = n - n // 2
    if n == 0:
        if steal_runnext and pp.runnext is not None:
            gp = pp.runnext
            pp.runnext = None
            return [gp]
        return []
    out = []
    for _ in range(n):
        gp, _ = runqget_ring(pp)
        out.append(gp)
    return out


def runqget_ring(pp: P) -> tuple[G, bool]:
    """The ring half of runqget (no runnext): used by runqgrab."""
    h = pp.runqhead
    gp = pp.runq[h % RUNQ_SIZE]
    pp.runq[h % RUNQ_SIZE] = None
    pp.runqhead = (h + 1) & UINT32
    assert gp is not None
    return gp, False


def runqsteal(pp: P, p2: P, steal_runnext: bool) -> G | None:
    """proc.go ``runqsteal``: grab half of ``p2``'s queue onto ``pp``'s ring and return
    the last grabbed G (to run now); the others stay on ``pp``'s ring in order."""
    batch = runqgrab(p2, steal_runnext)
    if not batch:
        return None
    gp = batch.pop()
    if batch:
        if _count(pp) + len(batch) >= RUNQ_SIZE:
            raise AssertionError("runqsteal: runq overflow")
        runqputbatch(pp, batch)
    return gp


# ---------------------------------------------------------------------------
# The global run queue (sched.runq, a gQueue) — proc.go globrunq*
# ---------------------------------------------------------------------------


def globrunqput(w: World, gp: G) -> None:
    """proc.go ``globrunqput``: ``gp`` to the global queue's tail."""
    w.sched.runq.append(gp)
    w.emit(GlobRunqPut(gp.goid))


def globrunqget(w: World) -> G | None:
    """proc.go ``globrunqget``: the global queue's head, or None."""
    return w.sched.runq.popleft() if w.sched.runq else None


def globrunqgetbatch(w: World, n: int) -> tuple[G | None, list[G]]:
    """proc.go ``globrunqgetbatch``: ``n = min(n, size, size/gomaxprocs + 1)`` Gs from
    the head; the first is returned to run, the others as a queue for the local ring."""
    size = len(w.sched.runq)
    if size == 0:
        return None, []
    n = min(n, size, size // w.gomaxprocs + 1)
    gp = w.sched.runq.popleft()
    rest = [w.sched.runq.popleft() for _ in range(n - 1)]
    return gp, rest


def queued(pp: P) -> tuple[G, ...]:
    """The order ``runqget`` would hand out ``pp``'s Gs: runnext, then the ring."""
    return ((pp.runnext,) if pp.runnext else ()) + pp.local()
