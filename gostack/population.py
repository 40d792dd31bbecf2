"""A population of goroutines under four stack policies: fixed, segmented, contiguous, adaptive.

This is a **model**, not a measurement. Each goroutine runs one workload: an entry
function (``main.worker``, frame 56) that recurses ``depth`` times into one function
whose frame is one of the facts sheet's probe frames (80, 168 or 616 bytes, picked
uniformly). How deep it goes is drawn from a log-normal distribution of the bytes it
uses at its deepest point (default median 1 KiB, sigma 1.0): stack use is positive,
right-skewed and spans orders of magnitude, and the log-normal is the simplest
two-parameter law with those properties. With the defaults a little over half the
goroutines never grow a 2 KiB stack and about 1 in 360 uses more than 16 KiB. Real
programs differ; change ``median`` and ``sigma`` and watch the conclusions move.

Every goroutine is looked at when it is deepest, all at once (the worst moment for
memory). Per policy:

* ``FIXED``: an OS thread per workload. ``initial`` is the thread's stack (8 MiB:
  glibc's default from ``ulimit -s 8192``). Reserved = stack + one 4 KiB guard page of
  address space; resident = the 4 KiB pages the frames touched, plus what lesson 01
  measured per thread besides (:func:`thread_memory`: an idle thread's VmRSS and the
  kernel's memory for it), so a thread is never cheaper than the machine showed. A
  workload deeper than the stack would hit the guard page (SIGSEGV): ``overflows``.
* ``SEGMENTED``: :mod:`gostack.segmented` with the Go 1.1 (4 KiB) or Go 1.2 (8 KiB)
  constants. Reserved = resident = the live segments; moves = new segments.
* ``CONTIGUOUS``: :class:`gostack.Runtime` (go1.27 rules) started at ``initial``:
  2 KiB as since Go 1.4, or 8 KiB as Go 1.3 started. Reserved = resident = the final
  stack; moves = Grow events; bytes copied = their ``used``.
* ``ADAPTIVE`` (Go 1.19+): a first generation of fresh goroutines (2 KiB) is scanned
  by a GC at its deepest point; gcComputeStartingStackSize turns the average into
  ``startingStackSize``; the reported generation is the same workloads again on
  recycled Gs (gfget), which start at that size.

Bytes "used" are the go1.27 bytes in use at the deepest point (``hi - SP``, the 40
bytes newproc reserves included), the same for every policy; waste = resident - used.
The growth rules are never re-implemented here: the Runtime and the segmented
stack decide, and this module only counts.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import NamedTuple

from . import segmented
from .arch import (
    ENTRY_USED,
    FIXED_STACK,
    RETURN_ADDRESS_SIZE,
    STACK_MIN,
)
from .errors import GostackError
from .runtime import Goroutine, Runtime
from .stackalloc import adaptive_start_size
from .symtab import Func

__all__ = [
    "ADAPTIVE",
    "CONTIGUOUS",
    "DEFAULT_INITIAL",
    "FIXED",
    "FRAMES",
    "LINEUP",
    "OS_PAGE",
    "SEGMENTED",
    "Policy",
    "Population",
    "PopulationError",
    "Summary",
    "Workload",
    "adaptive_start_size",
    "explorer_args",
    "explorer_state",
    "thread_memory",
    "ThreadMemory",
    "fmt_bytes",
    "initial_choices",
    "label",
    "lineup",
    "population",
    "simulate",
]


class PopulationError(GostackError, ValueError):
    """A bad input to the population model; the message names the value."""


class Policy(Enum):
    FIXED = "fixed"  # OS threads: one fixed stack each
    SEGMENTED = "segmented"  # Go 1.1 / 1.2: linked segments
    CONTIGUOUS = "contiguous"  # Go 1.3+: one stack, copied to twice the size
    ADAPTIVE = "adaptive"  # Go 1.19+: contiguous, recycled Gs start at the scanned average


FIXED, SEGMENTED, CONTIGUOUS, ADAPTIVE = Policy

# The workload's functions, from the facts sheet's probe (go build -gcflags=-S):
# main.worker $56-0 is the entry; recT $80-24, recA $168-24, mutM $616-24 recurse.
ENTRY_FRAME = 56
FRAMES = (80, 168, 616)
ARGS = 24  # argument bytes of the recursing function: what a Go 1.2 split copies
# Bytes in use once the entry's frame is allocated; each call then adds frame + 8.
BASE_USED = ENTRY_USED + ENTRY_FRAME  # 96

MEDIAN_BYTES = 1024
SIGMA = 1.0
MAX_BYTES = 1 << 20  # draws are clipped here (P ~ 2e-12 at the defaults): keeps runs fast
MAX_N = 1_000_000

OS_PAGE = 4096  # x86-64 base page: the unit in which a thread stack becomes resident
MIB = 1 << 20
THREAD_STACK_MIN = 16384  # glibc PTHREAD_STACK_MIN on x86-64

# What an OS thread costs besides its frames' pages, as lesson 01 measured it: recorded by
# gostack.oscost in data/thread_cost_recorded.json (read here, never re-measured).
THREAD_COST_PATH = Path(__file__).resolve().parent / "data" / "thread_cost_recorded.json"


@dataclass(frozen=True)
class ThreadMemory:
    """Per-thread memory of lesson 01's largest run of idle threads."""

    resident: int  # VmRSS per thread (its TLS, its few touched stack pages, glibc's state)
    kernel: int  # kernel stack + page tables + slab per thread: memory, though not in VmRSS
    threads: int  # threads in the run it comes from
    machine: str
    date: str

    @property
    def source(self) -> str:
        return (f"lesson 01's measurement ({self.threads:,} threads, {self.machine}, "
                f"{self.date})")


@cache
def thread_memory(path: Path | str | None = None) -> ThreadMemory:
    """Lesson 01's recorded per-thread memory (the run with the most threads)."""
    rec = json.loads(Path(path or THREAD_COST_PATH).read_text(encoding="utf-8"))
    runs = rec["parts"]["threads"]
    n = max(runs, key=int)
    m = runs[n]
    kernel = m["kernel_stack"] + m["page_tables"] + m["slab"]
    return ThreadMemory(round(m["resident"]), round(kernel), int(n), rec["machine"],
                        rec["date"])


DEFAULT_INITIAL: dict[Policy, int | None] = {
    FIXED: 8 * MIB,  # RLIMIT_STACK 8 MiB -> glibc's default pthread stack
    SEGMENTED: 8192,  # Go 1.2
    CONTIGUOUS: STACK_MIN,  # Go 1.4+
    ADAPTIVE: None,  # computed at each GC
}

_SEGMENTED_PARAMS = {segmented.GO1_1.stack_min: segmented.GO1_1,
                     segmented.GO1_2.stack_min: segmented.GO1_2}

_CHOICES: dict[Policy, tuple[tuple[str, int | None], ...]] = {
    FIXED: (("8 MiB (ulimit -s 8192)", 8 * MIB), ("2 MiB (ulimit -s unlimited)", 2 * MIB)),
    SEGMENTED: (("4 KiB (Go 1.1)", 4096), ("8 KiB (Go 1.2)", 8192)),
    CONTIGUOUS: (("2 KiB (Go 1.4+)", 2048), ("4 KiB", 4096), ("8 KiB (Go 1.3)", 8192),
                 ("16 KiB", 16384)),
    ADAPTIVE: (("computed at each GC", None),),
}


# --------------------------------------------------------------------------- inputs


def _check_int(what: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PopulationError(f"{what} must be an int, got {type(value).__name__} {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo:,} and {hi:,}" if hi is not None else f">= {lo:,}"
        raise PopulationError(f"{what} must be {bound}, got {value!r}")
    return value


def _check_positive(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value > 0
    ):
        raise PopulationError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def _policy(policy: object) -> Policy:
    if isinstance(policy, Policy):
        return policy
    try:
        return Policy(policy)
    except (ValueError, TypeError):
        names = ", ".join(p.value for p in Policy)
        raise PopulationError(f"unknown policy {policy!r}: choose one of {names}") from None


def _initial(policy: Policy, initial: object) -> int | None:
    """The start size for a policy, validated; None means the policy's default."""
    if initial is None:
        return DEFAULT_INITIAL[policy]
    if policy is ADAPTIVE:
        raise PopulationError(
            f"the adaptive start size is computed at each GC, not chosen: initial must be "
            f"None, got {initial!r}")
    size = _check_int(f"initial stack size for {policy.value}", initial, 1)
    if policy is FIXED and (size % OS_PAGE or size < THREAD_STACK_MIN):
        raise PopulationError(
            f"a thread stack must be a multiple of {OS_PAGE} bytes and at least "
            f"{THREAD_STACK_MIN} (PTHREAD_STACK_MIN), got {size!r}")
    if policy is SEGMENTED and size not in _SEGMENTED_PARAMS:
        raise PopulationError(
            f"segmented stacks exist with 4096-byte (Go 1.1) or 8192-byte (Go 1.2) segments, "
            f"got {size!r}")
    if policy is CONTIGUOUS and (size & (size - 1) or not FIXED_STACK <= size <= 1 << 29):
        raise PopulationError(
            f"a goroutine stack is a power of two from {FIXED_STACK} to {1 << 29} bytes, "
            f"got {size!r}")
    return size


def initial_choices(policy: Policy | str) -> tuple[tuple[str, int | None], ...]:
    """(label, initial) pairs the explorer offers for a policy; the default is first for
    adaptive and fixed, and marked by DEFAULT_INITIAL for the others."""
    return _CHOICES[_policy(policy)]


def label(policy: Policy | str, initial: int | None = None) -> str:
    """A short name for a configuration, e.g. 'contiguous, 2 KiB start (Go 1.4+)'."""
    p = _policy(policy)
    size = _initial(p, initial)
    if p is FIXED:
        return f"threads, {fmt_bytes(size)} stacks"
    if p is SEGMENTED:
        era = "Go 1.1" if size == segmented.GO1_1.stack_min else "Go 1.2"
        return f"segmented, {fmt_bytes(size)} ({era})"
    if p is CONTIGUOUS:
        era = {2048: " (Go 1.4+)", 8192: " (Go 1.3)"}.get(size, "")
        return f"contiguous, {fmt_bytes(size)} start{era}"
    return "adaptive start (Go 1.19+)"


def fmt_bytes(n: int | float) -> str:
    """1536 -> '1.5 KiB'; exact powers print without decimals ('8 MiB')."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            v = n / scale
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n:,.0f} B"


# --------------------------------------------------------------------------- workloads


class Workload(NamedTuple):
    """One goroutine's work: entry (frame 56), then ``depth`` nested calls of ``frame``."""

    frame: int
    depth: int

    @property
    def used(self) -> int:
        """Bytes in use at the deepest point (hi - SP), as go1.27's Runtime counts them."""
        return _contiguous(STACK_MIN, self.frame, self.depth).used


@dataclass(frozen=True)
class Population:
    """N seeded workloads. A model population, not a measured one."""

    seed: int
    median: float
    sigma: float
    workloads: tuple[Workload, ...] = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.workloads)

    @cached_property
    def shapes(self) -> tuple[tuple[Workload, int], ...]:
        """(workload, how many goroutines run it), by frame then depth."""
        return tuple(sorted(Counter(self.workloads).items()))

    @cached_property
    def used(self) -> tuple[int, ...]:
        """Bytes in use at each goroutine's deepest point, in goroutine order."""
        return tuple(w.used for w in self.workloads)


def population(n: int, seed: int = 1, *, median: float = MEDIAN_BYTES,
               sigma: float = SIGMA) -> Population:
    """Draw ``n`` workloads with ``random.Random(seed)``: a frame from FRAMES, then the
    bytes used at the deepest point from a log-normal (median, sigma), clipped to
    [BASE_USED, MAX_BYTES], turned into the nearest whole number of calls."""
    return _population(_check_int("n", n, 1, MAX_N), _check_int("seed", seed, 0),
                       _check_positive("median", median), _check_positive("sigma", sigma))


@lru_cache(maxsize=32)
def _population(n: int, seed: int, median: float, sigma: float) -> Population:
    rng = random.Random(seed)
    mu = math.log(median)
    out = []
    for _ in range(n):
        frame = rng.choice(FRAMES)
        want = min(max(rng.lognormvariate(mu, sigma), BASE_USED), MAX_BYTES)
        out.append(Workload(frame, round((want - BASE_USED) / (frame + RETURN_ADDRESS_SIZE))))
    return Population(seed, median, sigma, tuple(out))


# --------------------------------------------------------------------------- one goroutine
#
# Memoized by workload shape: the simulators are deterministic, so the same start size
# and the same frame sequence always give the same stack, moves and copies. A population
# of 10,000 goroutines has only a few hundred distinct shapes, each simulated once.


class _Cost(NamedTuple):
    size: int  # stack bytes at the deepest point (every live segment, for segmented)
    used: int
    moves: int  # Grow events, or new segments
    copied: int  # bytes copystack moved, or argument bytes newstack copied


def _go(rt: Runtime, entry: Func, start: int) -> Goroutine:
    """Start a goroutine whose stack is ``start`` bytes: a fresh G at stackMin, or a
    recycled one that gfget gave a stack of startingStackSize."""
    return rt.go(entry, stack_size=start)


def _contiguous_run(start: int, frame: int, depth: int) -> _Cost:
    """One workload simulated from scratch (what _contiguous's table holds at ``depth``)."""
    g = _go(Runtime(trace=False), Func("main.worker", frame=ENTRY_FRAME), start)
    body = Func("main.work", frame=frame)
    for _ in range(depth):
        g.call(body)
    grows = g.trace.grows
    return _Cost(g.stack_size, g.used, len(grows), sum(e.used for e in grows))


# Costs at every depth of one (start, frame) or (params, frame), filled by one goroutine
# that goes deeper when a deeper depth is asked for: a new seed's workloads then cost
# lookups, not runs. Internal and append-only; what leaves is a frozen _Cost.
_TABLES: dict[tuple, tuple[object, Func | None, list[_Cost]]] = {}


def _contiguous(start: int, frame: int, depth: int) -> _Cost:
    key = ("contiguous", start, frame)
    if key not in _TABLES:
        g = _go(Runtime(trace=False), Func("main.worker", frame=ENTRY_FRAME), start)
        _TABLES[key] = (g, Func("main.work", frame=frame), [])
    g, body, costs = _TABLES[key]
    while len(costs) <= depth:
        if costs:
            g.call(body)
        grows = g.trace.grows
        costs.append(_Cost(g.stack_size, g.used, len(grows), sum(e.used for e in grows)))
    return costs[depth]


def _segmented(params: segmented.SegmentedParams, frame: int, depth: int) -> _Cost:
    key = ("segmented", params, frame)
    if key not in _TABLES:
        st = segmented.SegmentedStack(params)
        st.call(ENTRY_FRAME)
        _TABLES[key] = (st, None, [])
    st, _, costs = _TABLES[key]
    while len(costs) <= depth:
        if costs:
            st.call(frame, ARGS)
        c = st.costs
        used = _contiguous(STACK_MIN, frame, len(costs)).used
        costs.append(_Cost(c.reserved_bytes, used, c.segments_allocated, c.arg_bytes_copied_in))
    return costs[depth]


# --------------------------------------------------------------------------- a population


@dataclass(frozen=True)
class Summary:
    """What one policy costs for a whole population at its deepest point."""

    policy: Policy
    initial: int  # bytes each goroutine (or thread) starts with
    label: str
    n: int
    seed: int
    used: int  # bytes of frames in use, summed: the same for every policy
    reserved: int  # address space set aside
    resident: int  # memory backing the stacks
    moves: int  # contiguous: stack copies; segmented: new segments; fixed: 0
    bytes_copied: int
    overflows: int  # workloads that do not fit (a thread stack hits its guard page)
    sizes: tuple[tuple[int, int], ...]  # (stack bytes of one goroutine, goroutines)
    kernel: int = 0  # of resident: the kernel's memory for threads (FIXED only)

    @property
    def waste(self) -> int:
        """Resident bytes that hold no frame."""
        return self.resident - self.used

    @property
    def waste_fraction(self) -> float:
        return self.waste / self.resident if self.resident else 0.0

    @property
    def move_kind(self) -> str:
        """What the moves are, counted: '1 copy' but '2 copies' (and '0 copies')."""
        one, many = {SEGMENTED: ("new segment", "new segments"),
                     FIXED: ("move", "moves")}.get(self.policy, ("copy", "copies"))
        return one if self.moves == 1 else many

    @property
    def readout(self) -> str:
        who = ("thread" if self.policy is FIXED else "goroutine") + ("" if self.n == 1 else "s")
        text = (f"{self.label}: {self.n:,} {who}, reserved {fmt_bytes(self.reserved)}, "
                f"resident {fmt_bytes(self.resident)}"
                + (f" ({fmt_bytes(self.kernel)} of it kernel)" if self.kernel else "")
                + f", used {fmt_bytes(self.used)}, "
                f"waste {fmt_bytes(self.waste)} ({self.waste_fraction:.0%}), "
                f"{self.moves:,} {self.move_kind}, {fmt_bytes(self.bytes_copied)} copied")
        if self.overflows:
            text += f", {self.overflows:,} overflow" + ("" if self.overflows == 1 else "s")
        return text


def simulate(pop: Population, policy: Policy | str, initial: int | None = None) -> Summary:
    """Run every workload of ``pop`` under one policy and add up the costs."""
    if not isinstance(pop, Population):
        raise PopulationError(f"simulate needs a Population, got {type(pop).__name__} {pop!r}")
    p = _policy(policy)
    size = _initial(p, initial)
    if p is ADAPTIVE:
        # Generation 1: fresh Gs (2 KiB), scanned by a GC at their deepest point.
        size = adaptive_start_size(pop.used)
    used = reserved = resident = moves = copied = overflows = kernel = 0
    sizes: Counter[int] = Counter()
    for w, count in pop.shapes:
        if p is FIXED:
            u = w.used
            touched = -(-u // OS_PAGE) * OS_PAGE
            tm = thread_memory()
            c = _Cost(touched + tm.resident + tm.kernel, u, 0, 0)
            kernel += count * tm.kernel
            reserved += count * (size + OS_PAGE)  # the stack and glibc's guard page
            overflows += count * (u > size)
            sizes[size] += count
        else:
            if p is SEGMENTED:
                c = _segmented(_SEGMENTED_PARAMS[size], w.frame, w.depth)
            else:  # CONTIGUOUS, or ADAPTIVE's generation 2 on recycled Gs
                c = _contiguous(size, w.frame, w.depth)
            reserved += count * c.size
            sizes[c.size] += count
        used += count * c.used
        resident += count * c.size
        moves += count * c.moves
        copied += count * c.copied
    return Summary(p, size, label(p, None if p is ADAPTIVE else size), pop.n, pop.seed, used,
                   reserved, resident, moves, copied, overflows, tuple(sorted(sizes.items())),
                   kernel)


LINEUP: tuple[tuple[Policy, int | None], ...] = (
    (FIXED, 8 * MIB),
    (SEGMENTED, 4096),
    (SEGMENTED, 8192),
    (CONTIGUOUS, 8192),
    (CONTIGUOUS, 2048),
    (ADAPTIVE, None),
)


def lineup(n: int = 10_000, seed: int = 1) -> tuple[Summary, ...]:
    """The history of Go's stacks on one population: threads, Go 1.1, 1.2, 1.3, 1.4+, 1.19+."""
    pop = population(n, seed)
    return tuple(simulate(pop, p, i) for p, i in LINEUP)


# --------------------------------------------------------------------------- the explorer
# (its widget and figures are gostack.lessons.l02_small_stacks)


def explorer_args(n: object = 10_000, initial: object = None,
                  policy: object = CONTIGUOUS, seed: object = 1
                  ) -> tuple[int, int | None, Policy, int]:
    """The explorer's inputs, validated: (n, initial size, policy, seed)."""
    p = _policy(policy)
    return (_check_int("n", n, 100, 10_000), _initial(p, initial), p,
            _check_int("seed", seed, 0))


def explorer_state(n: int = 10_000, initial: int | None = None,
                   policy: Policy | str = CONTIGUOUS, seed: int = 1) -> Summary:
    """What the explorer shows for these inputs (its callback only renders this)."""
    return simulate(population(n, seed), policy, initial)
