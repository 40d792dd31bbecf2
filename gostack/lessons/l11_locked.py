"""Lesson 11, locked goroutines: the model's threads for n goroutines waiting on a channel,
with and without ``runtime.LockOSThread``, against real go1.27.3
(gostack/sched/lockprobe.py, recorded in gostack/data/sched_lock_recorded.json).

Invariants: the model's probe is the real program's scene (GOMAXPROCS=1; main starts n
waiters, yields, then sends n values); the model counts the Ms that run Gs
(``Result.threads``) and leaves out two threads real Go has: sysmon's, and, once a
goroutine called LockOSThread, the template thread (proc.go ``startTemplateThread``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..i18n import _
from ..sched import lockprobe, machine
from ..sched import probe as pr
from .l11_blocking import ljust


def locked_probe(lock: bool, n: int) -> pr.Probe:
    wait = (pr.Recv("c", "w"),)
    body = (pr.LockThread(), *wait, pr.UnlockThread()) if lock else wait
    return pr.Probe("locked_waiters" if lock else "waiters",
                    main=(pr.WgAdd(n), pr.Go("w", n), pr.Gosched(),
                          pr.Loop(n, (pr.Send("c"),)), pr.WgWait(), pr.Emit("end")),
                    funcs={"w": (*body, pr.WgDone())}, chans={"c": 0}, wgs=("wg",))


def model_threads(lock: bool, n: int) -> int:
    """Ms the model created (m0 included) for :func:`locked_probe`."""
    return machine.run(locked_probe(lock, n)).threads


def real_expected(lock: bool, n: int) -> int:
    """The model's Ms, plus sysmon's thread, plus the template thread if anything locked."""
    return model_threads(lock, n) + 1 + int(lock)


def lock_table(recorded: dict | None = None, ns: Sequence[int] = (1, 5, 10)) -> list[str]:
    """Per configuration: the model's Ms, what real Go should then have, and the real
    threadcreate counts while the goroutines waited (count: runs)."""
    recorded = recorded or lockprobe.load_recorded()
    out = [ljust(_("waiting goroutines"), 24) + ljust(_("model Ms"), 10)
           + ljust(_("+ sysmon, template"), 20) + _("real threads: runs")]
    for lock in (False, True):
        for n in ns:
            name = f"{'lock' if lock else 'nolock'}_{n}"
            seen = Counter(r.threads_blocked for r in lockprobe.recorded_runs(name, recorded))
            what = (_("{n} locked") if lock else _("{n} unlocked")).format(n=n)
            out.append(ljust(what, 24) + f"{model_threads(lock, n):<10}"
                       f"{real_expected(lock, n):<20}"
                       + ", ".join(f"{t}: {c}" for t, c in sorted(seen.items())))
    return out
