"""The prologue checks a blocking call makes on its goroutine's stack before it parks,
below the frames that stay there (arch.PARK_CHAINS), go1.27.3 linux/amd64.

A goroutine that blocks close to its guard can grow in these runtime functions: the
deepest checked prologue on the way to gopark decides, not the frames left on the
stack once it has parked. Each check is (function, $framesize, E offset), the offset
being hi - E of the checked function minus hi - E of gopark in the same call (the
frame that calls gopark also calls acquireSudog, lock2 and newobject). Frames are the
TEXT lines of ``go build -gcflags=runtime=-S``; every rule below was confirmed by
real runs that park one word apart around the edge (the recorded scenes
park_grows_*).

* recv, send, mutex, wg: lock2 (chan.go lock(&c.lock), sema.go lock(&root.lock)) is
  called from gopark's caller, so its E is gopark's: nothing deeper.
* select: selectgo -> sellock (32) -> lock2 (96): 40 bytes below gopark's E.
* A sudog (proc.go acquireSudog, $96 NOSPLIT) comes from the P's cache
  (pp.sudogcache); when that is empty, from new(sudog): lock2 for sched.sudoglock and
  newobject at +104, mallocgc (40) at +144, mallocgcSmallScanNoHeader (88) at +192.
  A channel operation or a semaphore takes one, a select one per case (two here);
  the goroutine puts them back in the cache when it wakes (releaseSudog). runtime.main
  leaves one in the cache before main.main (gcenable's two receives); the first GC
  leaves one if the cache was empty (gcBgMarkStartWorkers' ``<-ready`` on main).
* time.Sleep: a goroutine's first sleep allocates its timer (time.go timeSleep,
  ``new(timer)``): newobject at gopark's E, mallocgc at +40,
  mallocgcSmallScanNoHeader at +88. A reused G has none (proc.go gdestroy).

Not modelled: mallocgc going deeper when its span is used up (mcache.nextFree,
refill: a few times in every 64 allocations of a size class), heap profiling
samples (profilealloc), and -race builds, whose runtime frames differ.
"""

from __future__ import annotations

Check = tuple[str, int, int]  # (function, $framesize, offset from gopark's E)

# Sudogs one blocking operation holds while parked (chan.go, select.go, sema.go).
SUDOGS = {"recv": 1, "send": 1, "select": 2, "mutex": 1, "wg": 1}
# In P0's cache when main.main starts: runtime.main's gcenable receives on a channel.
SUDOGS_AT_MAIN = 1

ALWAYS: dict[str, tuple[Check, ...]] = {
    "select": (("runtime.sellock", 32, 0), ("runtime.lock2", 96, 32 + 8)),
}
# acquireSudog ($96, NOSPLIT) with an empty cache: lock(&sched.sudoglock), new(sudog).
_ACQUIRE = 96 + 8
SUDOG_MALLOC: tuple[Check, ...] = (
    ("runtime.lock2", 96, _ACQUIRE),
    ("runtime.newobject", 32, _ACQUIRE),
    ("runtime.mallocgc", 40, _ACQUIRE + 32 + 8),
    ("runtime.mallocgcSmallScanNoHeader", 88, _ACQUIRE + 32 + 8 + 40 + 8),
)
# timeSleep's first call on a G: new(timer), then t.init (8).
TIMER_MALLOC: tuple[Check, ...] = (
    ("runtime.newobject", 32, 0),
    ("runtime.mallocgc", 40, 32 + 8),
    ("runtime.mallocgcSmallScanNoHeader", 88, 32 + 8 + 40 + 8),
    ("runtime.(*timer).init", 8, 0),
)


def before_gopark(op: str, new_sudogs: int, first_sleep: bool) -> tuple[Check, ...]:
    """The checks below gopark's E that ``op`` makes before it parks, in call order:
    ``new_sudogs`` sudogs it must allocate (the cache had too few), ``first_sleep``
    when a sleep allocates the goroutine's timer."""
    out = ALWAYS.get(op, ())
    if first_sleep:
        out += TIMER_MALLOC
    return out + SUDOG_MALLOC * new_sudogs
