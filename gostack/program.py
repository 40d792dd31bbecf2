"""One description of a test program, for the simulator and for the real Go runtime.

A :class:`Program` says which functions a goroutine calls and in what pattern:

* an **entry** function, started with ``go entry()``: call index 0;
* a **chain** of functions called once each (call indexes 1, 2, ...);
* then a **cycle** of functions called in turn (self-recursion with one function,
  mutual recursion with two or three) until call index ``depth``;
* optionally a **leaf** called once from the deepest frame (it makes no calls);
* ``runtime.GC()`` at given call indexes while descending (before the frame calls
  deeper) or while unwinding (after its callee returned), and ``gc_after`` rounds
  of ``runtime.GC()`` in the entry once everything has returned;
* optionally a ``debug.SetMaxStack`` limit, set before the goroutine starts;
* a build mode: ``race=True`` (``go build -race``: stack guard multiplier 2) and
  ``gcshrinkstackoff=True`` (run with ``GODEBUG=gcshrinkstackoff=1``).

A program whose NOSPLIT chain is over the linker's limit does not link; both sides
then report ``Observation.link_error`` (:func:`link_check`). Several goroutines that
block and wake are described by :class:`gostack.scene.Scene`.

Each :class:`Function` has a local ``[words]uint64`` array, ``pointers`` pointer
locals that point into that array (or at the entry's local when there is no
array), and may be ``//go:nosplit``. Its frame size is *not* part of the
description: the compiler decides it. ``gostack.realgo`` reads the real sizes from
``go build -gcflags=-S``; :func:`run_simulator` drives :class:`gostack.Runtime`
with them; :func:`render_go` writes the Go probe that observes the real runtime.

Call index convention: the entry is call index 0 and every call of a program
function afterwards adds one. ``runtime.GC()`` and the probe's observer are not
numbered: the observer is inlined (no CALL at all, checked with ``-gcflags=-m``
and in the ``-S`` listing), and runtime.GC is not a program function (the
simulator's ``g.runtime_gc()`` does not number it either).

:data:`CORPUS` holds the programs recorded in ``gostack/data/recorded.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

#: Size of a brand-new goroutine's stack (stackMin; a fresh or recycled G under
#: GODEBUG=adaptivestackstart=0). A probe whose entry already sees another size
#: grew in the entry's own prologue, call index 0.
INITIAL_STACK = 2048

#: Go package of every probe; frame names on TEXT lines are PACKAGE.name.
PACKAGE = "main"

# The probe's results file (see render_go): a header, then one 8-word record per
# move. The magic "gostack1" names the layout: change it when the layout changes.
HEADER_WORDS = 16
EVENT_WORDS = 8
MAX_EVENTS = 256  # a power of two: the probe indexes with & (MAX_EVENTS-1)
RESULTS_SIZE = 8 * (HEADER_WORDS + EVENT_WORDS * MAX_EVENTS)
RESULTS_MAGIC = int.from_bytes(b"gostack1", "little")

# Event kinds written by the probe's observer.
SEEN_AT_ENTRY = 1  # the stack moved before this function's body ran: its prologue grew it
SEEN_AFTER_GC = 2  # the stack moved while runtime.GC() ran: a shrink (or a growth inside GC)

_IDENT = re.compile(r"^[a-z][A-Za-z0-9]*$")
# Names the probe itself uses (helpers, globals, Go keywords and predeclared names).
_RESERVED = frozenset(
    """main init curg probeSeen probeGC probeStack probeEvent probeHeader probeResults
    probeDone probeDepth probeZero probeRes probeG probeLastLo probeLastHi probeLastP sink
    break case chan const continue default defer else fallthrough for func go goto if
    import interface map package range return select struct switch type var
    append cap close complex copy delete imag len make new panic print println real
    recover min max clear bool byte int uint uintptr string error any true false nil iota
    os runtime debug syscall unsafe d p r x i u0 buf ptrs f mem err e lo hi kind""".split()
)


# ---------------------------------------------------------------------------
# The description
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A Go function of a probe: ``func name(d int, p *int) uint64`` (the entry: ``func name()``).

    ``words``: length of its local ``[words]uint64`` array (0: none).
    ``pointers``: pointer-typed locals, each pointing into the array (at the
    entry's local ``x`` when there is no array); the probe checks after every
    call that the stack copier adjusted them.
    ``nosplit``: mark it ``//go:nosplit`` (no prologue check at all).
    """

    name: str
    words: int = 0
    pointers: int = 0
    nosplit: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _IDENT.match(self.name):
            raise ValueError(
                f"function name {self.name!r} must be a Go identifier that starts with a "
                "lower-case letter (letters and digits only)"
            )
        if self.name in _RESERVED:
            raise ValueError(f"function name {self.name!r} is reserved by the probe")
        for what in ("words", "pointers"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{self.name}: {what} must be an int >= 0, got {value!r}")
        if self.words * 8 > 128 * 1024:
            raise ValueError(
                f"{self.name}: {self.words} words is over 128 KiB; the compiler would move "
                "the array to the heap (ir.MaxStackVarSize)"
            )

    @property
    def qualname(self) -> str:
        """The name on the TEXT line and in tracebacks: ``main.name``."""
        return f"{PACKAGE}.{self.name}"


@dataclass(frozen=True)
class Program:
    """A goroutine's call pattern; see the module docstring."""

    name: str
    entry: Function
    chain: tuple[Function, ...] = ()
    cycle: tuple[Function, ...] = ()
    depth: int | None = None  # call index of the deepest chain/cycle frame
    leaf: Function | None = None  # called once by the deepest frame: call index depth+1
    gc_descending: tuple[int, ...] = ()
    gc_unwinding: tuple[int, ...] = ()
    gc_after: int = 0
    max_stack: int | None = None  # debug.SetMaxStack before the goroutine starts
    heavy: bool = False  # needs over 1 GB of RAM or a long run: not in the quick subset
    summary: str = ""
    race: bool = False  # go build -race (cgo): stack guard multiplier 2
    gcshrinkstackoff: bool = False  # run with GODEBUG=gcshrinkstackoff=1

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain", tuple(self.chain))
        object.__setattr__(self, "cycle", tuple(self.cycle))
        object.__setattr__(self, "gc_descending", tuple(sorted(set(self.gc_descending))))
        object.__setattr__(self, "gc_unwinding", tuple(sorted(set(self.gc_unwinding))))
        if not isinstance(self.name, str) or not re.match(r"^[a-z0-9][a-z0-9_]*$", self.name):
            raise ValueError(f"program name {self.name!r}: use lower-case letters, digits, _")
        funcs = self.functions
        names = [f.name for f in funcs]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: each function may appear once, got {names}")
        if self.depth is None:
            if self.cycle:
                raise ValueError(f"{self.name}: a cycle needs a depth")
            object.__setattr__(self, "depth", len(self.chain))
        if isinstance(self.depth, bool) or not isinstance(self.depth, int):
            raise ValueError(f"{self.name}: depth must be an int, got {self.depth!r}")
        if self.depth < len(self.chain):
            raise ValueError(f"{self.name}: depth {self.depth} < chain length {len(self.chain)}")
        if not self.cycle and self.depth != len(self.chain):
            raise ValueError(f"{self.name}: without a cycle the depth is the chain length")
        if self.entry.nosplit:
            raise ValueError(f"{self.name}: the entry cannot be nosplit (it calls the runtime)")
        gcs = self.gc_descending + self.gc_unwinding
        for i in gcs:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= self.depth:
                raise ValueError(f"{self.name}: runtime.GC() at call index {i!r} is not a "
                                 f"chain/cycle frame (0..{self.depth})")
        if 0 in self.gc_unwinding:
            raise ValueError(f"{self.name}: GC in the entry after the calls is gc_after")
        if isinstance(self.gc_after, bool) or not isinstance(self.gc_after, int) \
                or self.gc_after < 0:
            raise ValueError(f"{self.name}: gc_after must be an int >= 0")
        if self.max_stack is not None and (
            isinstance(self.max_stack, bool) or not isinstance(self.max_stack, int)
            or not -(1 << 63) <= self.max_stack < (1 << 63)
        ):
            raise ValueError(f"{self.name}: max_stack must be an int (a Go int)")
        for f in funcs:
            if f.nosplit and any(self.func_at(i) is f for i in gcs):
                raise ValueError(f"{self.name}: nosplit {f.name} cannot call runtime.GC()")

    # ---- the pattern -------------------------------------------------------------
    @property
    def functions(self) -> tuple[Function, ...]:
        """Every function of the program, the entry first."""
        return (self.entry, *self.chain, *self.cycle, *((self.leaf,) if self.leaf else ()))

    @property
    def last_index(self) -> int:
        """Call index of the innermost frame (the leaf if there is one)."""
        return self.depth + (1 if self.leaf else 0)

    def func_at(self, index: int) -> Function:
        """The function that runs at a call index."""
        if index == 0:
            return self.entry
        if 1 <= index <= len(self.chain):
            return self.chain[index - 1]
        if index <= self.depth:
            return self.cycle[(index - len(self.chain) - 1) % len(self.cycle)]
        if self.leaf is not None and index == self.depth + 1:
            return self.leaf
        raise IndexError(f"{self.name}: no call index {index} (0..{self.last_index})")

    def calls(self) -> Iterator[tuple[int, Function]]:
        """(call index, function) from the entry down to the innermost frame."""
        for i in range(self.last_index + 1):
            yield i, self.func_at(i)

    def _next(self, f: Function) -> Function | None:
        """The function f calls while d < depth (None if it never calls one that way)."""
        order = (self.entry, *self.chain, *self.cycle)
        if f is self.leaf:
            return None
        k = next(i for i, g in enumerate(order) if g is f)
        if k + 1 < len(order):
            return order[k + 1]
        return self.cycle[0] if self.cycle else None

    def is_leaf(self, f: Function) -> bool:
        """True when f makes no call at all (the compiler may then mark it NOSPLIT)."""
        if f is self.entry:
            return False  # it calls curg, runtime.GC and chansend
        if any(self.func_at(i) is f for i in self.gc_descending + self.gc_unwinding):
            return False
        calls_next = self._next(f) is not None and self.depth > 0 and any(
            self.func_at(i) is f for i in range(self.depth)
        )
        calls_leaf = self.leaf is not None and self.func_at(self.depth) is f
        return not (calls_next or calls_leaf)

    def to_dict(self) -> dict:
        """A JSON-able description (for recorded.json)."""
        def fn(f: Function | None) -> dict | None:
            if f is None:
                return None
            return {"name": f.name, "words": f.words, "pointers": f.pointers,
                    "nosplit": f.nosplit}
        return {
            "name": self.name,
            "entry": fn(self.entry),
            "chain": [fn(f) for f in self.chain],
            "cycle": [fn(f) for f in self.cycle],
            "depth": self.depth,
            "leaf": fn(self.leaf),
            "gc_descending": list(self.gc_descending),
            "gc_unwinding": list(self.gc_unwinding),
            "gc_after": self.gc_after,
            "max_stack": self.max_stack,
            "heavy": self.heavy,
            "summary": self.summary,
            **({"race": True} if self.race else {}),
            **({"gcshrinkstackoff": True} if self.gcshrinkstackoff else {}),
        }

    @property
    def build_flags(self) -> tuple[str, ...]:
        return ("-race",) if self.race else ()

    @property
    def godebug(self) -> tuple[str, ...]:
        """GODEBUG settings on top of realgo.RUN_ENV's."""
        return ("gcshrinkstackoff=1",) if self.gcshrinkstackoff else ()

    def fingerprint(self) -> str:
        """Hash of the rendered probe: it changes whenever the real program would."""
        return hashlib.sha256(render_go(self).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------
# What was observed (real) or predicted (simulator): the comparable part
# ---------------------------------------------------------------------------


class Growth(NamedTuple):
    """The stack grew in the prologue of ``call_index`` to ``new_size`` bytes."""

    call_index: int
    new_size: int


class ShrinkAt(NamedTuple):
    """The ``gc``-th runtime.GC() (1-based), called from call index ``call_index``, shrank
    the stack to ``new_size`` bytes."""

    gc: int
    call_index: int
    new_size: int


class OverflowAt(NamedTuple):
    """The prologue of ``call_index`` asked for more than the limit: ``fatal error: stack
    overflow``; ``message`` is the runtime's first line."""

    call_index: int
    message: str


@dataclass(frozen=True)
class Observation:
    """Every stack growth, every shrink and the overflow (or None) of one program run."""

    growths: tuple[Growth, ...] = ()
    shrinks: tuple[ShrinkAt, ...] = ()
    overflow: OverflowAt | None = None
    # Growths that happened inside runtime.GC(), in the prologue of one of the
    # runtime's own functions: (call index of the GC's caller, GC number, new size).
    gc_growths: tuple[tuple[int, int, int], ...] = field(default=())
    # The program did not link: the linker's first line ("main.f: nosplit stack over 792
    # byte limit", cmd/link/internal/ld/stackcheck.go); nothing ran.
    link_error: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "growths", tuple(Growth(*g) for g in self.growths))
        object.__setattr__(self, "shrinks", tuple(ShrinkAt(*s) for s in self.shrinks))
        if self.overflow is not None:
            object.__setattr__(self, "overflow", OverflowAt(*self.overflow))
        object.__setattr__(self, "gc_growths", tuple(tuple(x) for x in self.gc_growths))

    def to_dict(self) -> dict:
        return {
            "growths": [list(g) for g in self.growths],
            "shrinks": [list(s) for s in self.shrinks],
            "overflow": list(self.overflow) if self.overflow else None,
            "gc_growths": [list(x) for x in self.gc_growths],
            **({"link_error": self.link_error} if self.link_error else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Observation:
        return cls(
            growths=tuple(Growth(*g) for g in d.get("growths", ())),
            shrinks=tuple(ShrinkAt(*s) for s in d.get("shrinks", ())),
            overflow=OverflowAt(*d["overflow"]) if d.get("overflow") else None,
            gc_growths=tuple(tuple(x) for x in d.get("gc_growths", ())),
            link_error=d.get("link_error"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


# ---------------------------------------------------------------------------
# The simulator side
# ---------------------------------------------------------------------------


def _frame_of(frames: Mapping[str, int], f: Function) -> int:
    for key in (f.qualname, f.name):
        if key in frames:
            return frames[key]
    raise KeyError(f"no frame size for {f.qualname} (have: {', '.join(sorted(frames))})")


def link_check(program: Program, funcs: Mapping, limit: int):
    """The linker's NOSPLIT check on the program's static call graph
    (cmd/link/internal/ld/stackcheck.go): the height of a NOSPLIT function is its frame,
    or its frame + 8 + its callee's height (a checked callee's is 8, its call to
    morestack); any over ``limit`` fails the link. Returns the NosplitLinkError for the
    first root (a failing function no other failing one calls, the tallest first), or
    None."""
    from .errors import NosplitLinkError

    callees: dict[str, list[str]] = {f.name: [] for f in program.functions}
    for i, f in program.calls():
        if i + 1 <= program.last_index:
            nxt = program.func_at(i + 1).name
            if nxt not in callees[f.name]:
                callees[f.name].append(nxt)
    CYCLE = 1 << 15
    memo: dict[str, tuple[int, tuple]] = {}

    def height(name: str, seen: tuple[str, ...]) -> tuple[int, tuple]:
        fn = funcs[name]
        if not fn.nosplit:
            return 8, ()
        if name in seen:
            return CYCLE, ("cycle",)
        if name in memo:
            return memo[name]
        best: tuple[int, tuple] = (fn.frame, ((fn.name, fn.frame),))
        for c in callees[name]:
            h, path = height(c, (*seen, name))
            if not funcs[c].nosplit:
                continue
            step = ((fn.name, fn.frame + 8),)
            total = CYCLE if h >= CYCLE else fn.frame + 8 + h
            if total > best[0]:
                best = (total, step + path)
        memo[name] = best
        return best

    failing = {}
    for f in program.functions:
        h, path = height(f.name, ())
        if h > limit:
            failing[f.name] = (h, path)
    if not failing:
        return None
    called = {c for n in failing for c in callees[n] if c != n}
    roots = [n for n in failing if n not in called] or list(failing)
    root = max(roots, key=lambda n: failing[n][0])
    h, path = failing[root]
    if path and path[-1] == "cycle":
        return NosplitLinkError(tuple(p for p in path if p != "cycle"), limit, cycle=True)
    return NosplitLinkError(path, limit)


def run_simulator(
    program: Program, frames: Mapping[str, int], nosplit: Collection[str] = ()
) -> Observation:
    """Drive gostack.Runtime through ``program`` with the real frame sizes.

    ``frames`` maps ``main.name`` (or ``name``) to the ``$framesize`` of its TEXT line.
    ``nosplit`` names the functions the compiler marked NOSPLIT on its own (leaves
    under 128 bytes; the TEXT line shows it); ``//go:nosplit`` ones are known already.
    """
    import gostack as gs  # the simulator (imported late: program.py is also for realgo)

    marked = set(nosplit)
    funcs = {
        f.name: gs.Func(
            f.qualname,
            frame=_frame_of(frames, f),
            nosplit=f.nosplit or f.name in marked or f.qualname in marked,
        )
        for f in program.functions
    }
    mode = {"race": program.race, "gcshrinkstackoff": program.gcshrinkstackoff}
    rt = gs.Runtime(max_stack=program.max_stack, trace=False, **mode) \
        if program.max_stack is not None \
        else gs.Runtime(trace=False, **mode)
    err = link_check(program, funcs, rt.nosplit_link_limit)
    if err is not None:
        return Observation(link_error=str(err).splitlines()[0])
    growths: list[Growth] = []
    shrinks: list[ShrinkAt] = []
    gc_growths: list[tuple[int, int, int]] = []
    overflow: OverflowAt | None = None
    seen = 0
    gc_no = 0

    def collect(g: gs.Goroutine, during_gc: tuple[int, int] | None) -> None:
        nonlocal seen
        events = g.trace
        for e in events[seen:]:
            if isinstance(e, gs.Grow):
                if during_gc is None:
                    growths.append(Growth(e.call_index, e.new_size))
                else:
                    gc_growths.append((during_gc[0], during_gc[1], e.new_size))
            elif isinstance(e, gs.Shrink):
                assert during_gc is not None, "a shrink outside runtime.GC()"
                shrinks.append(ShrinkAt(during_gc[1], during_gc[0], e.new_size))
        seen = len(events)

    def gc(g: gs.Goroutine, index: int) -> None:
        nonlocal gc_no
        gc_no += 1
        g.runtime_gc()
        collect(g, (index, gc_no))

    g = None
    try:
        g = rt.go(funcs[program.entry.name])
        collect(g, None)
        for i, f in program.calls():
            if i > 0:
                g.call(funcs[f.name])
                collect(g, None)
            if i in program.gc_descending:
                gc(g, i)
        for i in range(program.last_index, 0, -1):
            if i in program.gc_unwinding:
                gc(g, i)
            g.ret()
        for _ in range(program.gc_after):
            gc(g, 0)
    except gs.StackOverflow as e:
        if g is not None:
            collect(g, None)
        overflow = OverflowAt(e.call_index, str(e).splitlines()[0])
    return Observation(tuple(growths), tuple(shrinks), overflow, tuple(gc_growths))


# ---------------------------------------------------------------------------
# The Go side: the probe source
# ---------------------------------------------------------------------------

#: ``func curg() uintptr``: the current g, read from thread-local storage. ABI0,
#: NOSPLIT and frameless, so it has no stack check; the compiler's ABI wrapper that
#: Go code calls is NOSPLIT too (visible in -S). Called once, by the entry.
CURG_ASM = """\
// Code generated by gostack (program.py). DO NOT EDIT.

#include "textflag.h"

// func curg() uintptr: the running goroutine's g. The first words of a g are
// stack.lo, stack.hi and stackguard0 (src/runtime/runtime2.go).
TEXT ·curg(SB),NOSPLIT|NOFRAME,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
"""


def go_mod(go_version: str = "go1.27.3") -> str:
    """The probe's go.mod; its go line is the toolchain's major.minor."""
    m = re.match(r"go(\d+)\.(\d+)", go_version)
    line = f"{m[1]}.{m[2]}" if m else "1.21"
    return f"module gostackprobe\n\ngo {line}\n"


def probe_files(program: Program, go_version: str = "go1.27.3") -> dict[str, str]:
    """Every file of the probe module: name -> text."""
    return {
        "go.mod": go_mod(go_version),
        "main.go": render_go(program),
        "curg_amd64.s": CURG_ASM,
    }


#: The Go declarations of the results buffer every probe writes (program.py's and
#: scene.py's render them; realgo._decode reads it back with HEADER_WORDS and
#: EVENT_WORDS: keep in step). Fields for str.format: max_events, and event_note, the
#: comment on probeEvent's fields.
PROBE_RESULTS_GO = '''\
type probeHeader struct {{
	magic, state, startLo, startHi, nev, gcs, bad, stale, gcCaller uint64
	_                                                              [7]uint64
}}

type probeEvent struct {{
	kind, call, gc, lo, hi, ptrDelta uint64 // {event_note}
	_                                [2]uint64
}}

const probeMaxEvents = {max_events}

type probeResults struct {{
	h  probeHeader
	ev [probeMaxEvents]probeEvent
}}
'''

_HEADER = ('''\
// Code generated by gostack (program.render_go) for the case "{name}". DO NOT EDIT.
//
// {summary}
//
// Usage: probe RESULTS-FILE. The worker goroutine records every move of its
// own stack into RESULTS-FILE, mapped with MAP_SHARED, using plain stores
// only: the observer makes no call, so it cannot disturb the stack it
// watches, and what it wrote survives even "fatal error: stack overflow".
package main

import (
	"os"
{runtime_import}{debug_import}	"syscall"
	"unsafe"
)

func curg() uintptr // curg_amd64.s

// probeStack is the head of the runtime's g: stack.lo, stack.hi.
type probeStack struct{{ lo, hi uintptr }}

// probeHeader and probeEvent are read back by gostack.realgo: keep in step.
'''
    + PROBE_RESULTS_GO + '''
var (
	probeRes    *probeResults
	probeG      *probeStack
	probeLastLo uintptr
	probeLastHi uintptr
	probeLastP  uintptr // a uintptr copy of the worker's &x: the copier never adjusts it
	probeDepth  = {depth}
	probeZero   = 0
	probeDone   = make(chan struct{{}})
	sink        uint64
)

// probeSeen records a move of the goroutine's stack since the last look: it
// compares the bounds in g with the last ones seen, and the pointer p (which
// the copier adjusts) with a uintptr copy (which it does not). It must be
// inlined so that it is no call: gostack.realgo checks -gcflags=-m and -S
// (its inlining cost is 75 of the budget of 80). Were it ever not inlined, it
// would still be a frameless NOSPLIT leaf: a call without a stack check.
//
//go:nosplit
func probeSeen(kind uint64, d int, p *int) {{
	lo, hi := probeG.lo, probeG.hi
	r := probeRes
	if hi != probeLastHi || lo != probeLastLo {{
		e := &r.ev[r.h.nev&(probeMaxEvents-1)]
		e.kind, e.call, e.gc = kind, uint64(d), r.h.gcs
		e.lo, e.hi = uint64(lo), uint64(hi)
		e.ptrDelta = uint64(uintptr(unsafe.Pointer(p)) - probeLastP)
		r.h.nev++
		probeLastLo, probeLastHi, probeLastP = lo, hi, uintptr(unsafe.Pointer(p))
	}}
}}
''')

_MAIN = '''
func main() {{
	f, err := os.OpenFile(os.Args[1], os.O_RDWR, 0)
	if err != nil {{
		panic(err)
	}}
	mem, err := syscall.Mmap(int(f.Fd()), 0, int(unsafe.Sizeof(probeResults{{}})),
		syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {{
		panic(err)
	}}
	probeRes = (*probeResults)(unsafe.Pointer(&mem[0]))
	probeRes.h.magic = {magic:#x}
{set_max_stack}	go {entry}()
	<-probeDone
}}
'''


def _gc_block(indent: str, d: str = "d") -> list[str]:
    return [
        f"{indent}probeRes.h.gcs++",
        f"{indent}probeRes.h.gcCaller = uint64({d})",
        f"{indent}runtime.GC()",
        f"{indent}probeSeen({SEEN_AFTER_GC}, {d}, p)",
    ]


def _cond(indexes: list[int]) -> str:
    return " || ".join(f"d == {i}" for i in indexes)


def _body(program: Program, f: Function) -> list[str]:
    """The statements of a function after its set-up; ``d`` is its call index, ``p`` the
    pointer to the entry's local."""
    t = "\t"
    entry = f is program.entry
    lines, ret, target = _locals(f, entry, None if entry else f"probeSeen({SEEN_AT_ENTRY}, d, p)")
    where = [i for i, g in program.calls() if g is f]
    down = [i for i in program.gc_descending if i in where]
    up = [i for i in program.gc_unwinding if i in where]
    if down and entry:
        lines += _gc_block(t, "0")
    elif down:
        lines += [f"{t}if {_cond(down)} {{", *_gc_block(t + t), f"{t}}}"]
    if not entry:
        lines.append(f"{t}var r uint64")
    lines += _descend(program, f, where, entry, "sink +=", "probeDepth")
    if up:
        lines += [f"{t}if {_cond(up)} {{", *_gc_block(t + t), f"{t}}}"]
    if entry:
        lines += _gc_block(t, "0") * program.gc_after
    lines += _check_pointers(f, target)
    if not entry:
        lines.append(f"{t}return r + {ret}")
    elif f.words:
        lines.append(f"{t}sink += {ret}")
    return lines


def _locals(f: Function, entry: bool, seen: str | None) -> tuple[list[str], str, str]:
    """A probe function's locals, declared and filled (``seen``, the observer's call, after
    the declarations): (lines, the value it returns, the address its pointers hold)."""
    t = "\t"
    lines: list[str] = []
    if f.words:
        lines.append(f"{t}var buf [{f.words}]uint64")
    if f.pointers:
        lines.append(f"{t}var ptrs [{f.pointers}]*{'uint64' if f.words else 'int'}")
    if seen:
        lines.append(t + seen)
    ret = "0" if entry else "uint64(d)"
    if f.words:
        lines.append(f"{t}buf[uint(d)%{f.words}] = uint64(d) + 1")
        ret = f"buf[uint(d)*7%{f.words}]"
    target = f"&buf[uint(i)%{f.words}]" if f.words else "p"
    if f.pointers:
        lines += [f"{t}for i := range ptrs {{", f"{t}\tptrs[i] = {target}", f"{t}}}"]
    return lines, ret, target


def _descend(program: Program, f: Function, where: list[int], entry: bool, entry_to: str,
             depth: str) -> list[str]:
    """The call to the next function down (or the leaf): the entry's, once, into
    ``entry_to`` (e.g. ``sink +=``); the others' into r while d is under ``depth``."""
    t = "\t"
    nxt = program._next(f)
    calls_next = nxt is not None and any(i < program.depth for i in where)
    calls_leaf = program.leaf is not None and program.depth in where
    if entry:  # the entry runs once: no condition needed
        if calls_next:
            return [f"{t}{entry_to} {nxt.name}(1, p)"]
        if calls_leaf:
            return [f"{t}{entry_to} {program.leaf.name}(1, p)"]
        return []
    if calls_next and calls_leaf:
        return [f"{t}if d < {depth} {{", f"{t}\tr = {nxt.name}(d+1, p)",
                f"{t}}} else {{", f"{t}\tr = {program.leaf.name}(d+1, p)", f"{t}}}"]
    if calls_next:
        return [f"{t}if d < {depth} {{", f"{t}\tr = {nxt.name}(d+1, p)", f"{t}}}"]
    if calls_leaf:
        return [f"{t}r = {program.leaf.name}(d+1, p)"]
    return []


def _check_pointers(f: Function, target: str) -> list[str]:
    """After the calls: every pointer slot must still hold its target (moved with it)."""
    t = "\t"
    if not f.pointers:
        return []
    return [f"{t}for i := range ptrs {{", f"{t}\tif ptrs[i] != {target} {{",
            f"{t}\t\tprobeRes.h.bad++", f"{t}\t}}", f"{t}}}"]


def render_go(program: Program) -> str:
    """The Go probe (main.go) for a program; with CURG_ASM and go_mod() it builds."""
    uses_gc = bool(program.gc_descending or program.gc_unwinding or program.gc_after)
    modes = [*program.build_flags, *(f"GODEBUG={x}" for x in program.godebug)]
    out = [
        _HEADER.format(
            name=program.name,
            summary=(program.summary or program.name)
            + (f"\n//\n// Built and run with: {' '.join(modes)}" if modes else ""),
            runtime_import='\t"runtime"\n' if uses_gc else "",
            debug_import='\t"runtime/debug"\n' if program.max_stack is not None else "",
            max_events=MAX_EVENTS,
            event_note="lo, hi: the bounds after the move",
            depth=program.depth,
        )
    ]
    e = program.entry
    out += [
        f"// {e.name} is the goroutine's entry function: call index 0.",
        # -race turns on -d=checkptr, whose runtime.checkptrAlignment call for the
        # (*probeStack)(unsafe.Pointer(...)) conversion would run on the stack we watch.
        *(["//go:nocheckptr"] if program.race else []),
        f"func {e.name}() {{",
        *(["\td := probeZero // 0, but not a constant: buf cannot be optimised away"]
          if e.words else []),
        "\tvar x int",
        "\tp := &x",
        "\tprobeG = (*probeStack)(unsafe.Pointer(curg()))",
        "\tprobeLastLo, probeLastHi = probeG.lo, probeG.hi",
        "\tprobeLastP = uintptr(unsafe.Pointer(p))",
        "\tprobeRes.h.startLo, probeRes.h.startHi = uint64(probeG.lo), uint64(probeG.hi)",
        "\tu0 := uintptr(unsafe.Pointer(p)) // a copy in this frame: never adjusted",
        "\tprobeRes.h.state = 1",
        *_body(program, e),
        "\tprobeRes.h.stale = uint64(uintptr(unsafe.Pointer(p)) - u0)",
        "\tprobeRes.h.state = 2",
        "\tprobeDone <- struct{}{}",
        "}",
    ]
    for f in program.functions[1:]:
        out += ["", "//go:noinline"]
        if f.nosplit:
            out.append("//go:nosplit")
        out += [f"func {f.name}(d int, p *int) uint64 {{", *_body(program, f), "}"]
    set_max = (f"\tdebug.SetMaxStack({program.max_stack})\n"
               if program.max_stack is not None else "")
    out.append(_MAIN.format(magic=RESULTS_MAGIC, set_max_stack=set_max, entry=e.name))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------

CORPUS: dict[str, Program] = {}


def _add(program: Program) -> None:
    if program.name in CORPUS:
        raise ValueError(f"duplicate corpus case {program.name}")
    CORPUS[program.name] = program


def _rec(name: str, fn: Function, depth: int, summary: str, **kw) -> None:
    """Self-recursion of fn from a plain entry."""
    _add(Program(name, Function("worker"), cycle=(fn,), depth=depth, summary=summary, **kw))


# Frame sizes in the comments are go1.27.3's (TEXT lines of -S); tests check them.

# -- self-recursion around the prologue-form boundaries (128: small|medium, 4096: medium|huge)
_rec("rec_small_120", Function("rec", words=11), 800,
     "self-recursion, frame 120: small prologue (CMPQ SP)")
_rec("rec_small_128", Function("rec", words=12), 800,
     "self-recursion, frame 128: still the small prologue (F <= StackSmall)")
_rec("rec_medium_136", Function("rec", words=13), 800,
     "self-recursion, frame 136: medium prologue (LEAQ -8(SP))")
_rec("rec_medium_168", Function("rec", words=17), 400,
     "self-recursion, frame 168: the facts sheet's recA (LEAQ -40(SP))")
_rec("rec_medium_4088", Function("rec", words=507), 70,
     "self-recursion, frame 4088: medium prologue")
_rec("rec_medium_4096", Function("rec", words=508), 70,
     "self-recursion, frame 4096: exactly StackBig is still medium")
_rec("rec_huge_4104", Function("rec", words=509), 70,
     "self-recursion, frame 4104: huge prologue (SUBQ + JCS)")
_rec("rec_huge_10280", Function("rec", words=1281), 30,
     "self-recursion, frame 10280 (10 KiB array): the first growth is 2 KiB -> 16 KiB")
_rec("rec_huge_100k", Function("rec", words=12800), 12,
     "self-recursion, frame ~100 KB: every growth is a multi-doubling fit")
_rec("rec_no_locals", Function("rec"), 1500,
     "self-recursion with no local array (frame 24)")

# -- leaves: no calls, so the compiler marks small ones NOSPLIT (no check at all)
_add(Program("leaf_frame0_below_guard", Function("worker"),
             chain=(Function("deep", words=134),), leaf=Function("leaf"),
             summary="a frameless leaf ($0, NOSPLIT|NOFRAME) entered below the guard: "
                     "no check, no growth"))
_add(Program("leaf_120_below_guard", Function("worker"),
             chain=(Function("deep", words=134),), leaf=Function("leaf", words=14),
             summary="a 120-byte leaf (NOSPLIT by the compiler) entered below the guard"))
_add(Program("leaf_128_checked", Function("worker"),
             chain=(Function("deep", words=134),), leaf=Function("leaf", words=15),
             summary="a 128-byte leaf is not NOSPLIT: its check grows the stack"))

# -- the entry function's own prologue, call index 0
_add(Program("entry_fits_1200", Function("worker", words=145),
             summary="entry frame 1200: E-(F-128) = lo+936 > guard, no growth"))
_add(Program("entry_grows_1208", Function("worker", words=146),
             summary="entry frame 1208: E-(F-128) = lo+928 = guard, grows at call index 0"))
_add(Program("entry_huge_10k", Function("worker", words=1280),
             summary="entry frame 10280: grows 2 KiB -> 16 KiB in its own prologue"))
_add(Program("entry_huge_100k", Function("worker", words=12800),
             summary="entry frame ~100 KB: grows 2 KiB -> 128 KiB in one copy at call index 0"))

# -- mutual recursion
_add(Program("mutual_2", Function("worker"),
             cycle=(Function("mutS", words=3, pointers=1), Function("mutM", words=73)),
             depth=600, summary="mutS (64, small) <-> mutM (616, medium): the facts sheet's (c)"))
_add(Program("mutual_3", Function("worker"),
             cycle=(Function("ma", words=11), Function("mb", words=100),
                    Function("mc", words=600)),
             depth=300, summary="ma (120) -> mb (832) -> mc (4832, huge) -> ma ..."))
_add(Program("mutual_nosplit", Function("worker"),
             cycle=(Function("rec", words=17), Function("nsp", words=50, nosplit=True)),
             depth=400, summary="rec (checked) <-> nsp (//go:nosplit, 432): only rec grows"))

# -- one huge frame called once from a shallow stack
_add(Program("huge_once_64k", Function("worker"),
             chain=(Function("small", words=2), Function("huge", words=8000)),
             summary="a 64 KB frame called once at depth 2: 2 KiB -> 128 KiB in one copy"))
_add(Program("huge_once_100k", Function("worker"),
             chain=(Function("huge", words=12800),),
             summary="a 100 KB frame called once from the entry"))
_add(Program("chain_then_recursion", Function("worker"),
             chain=(Function("big", words=700), Function("mid", words=40)),
             cycle=(Function("rec", words=17),), depth=300,
             summary="a 5.6 KB frame, a 360-byte one, then recursion: a fit, then doublings"))

# -- shrinking: runtime.GC() halves at most once per call, floor 2 KiB, quarter rule
_add(Program("gc_after_floor_4096", Function("worker", pointers=1),
             cycle=(Function("rec", words=17),), depth=400, gc_after=8,
             summary="recurse to 128 KiB, return, 8 GCs: halves to 4096 and stops "
                     "(entry 48: 40+48+136 in use, +800 = S/4)"))
_add(Program("gc_after_floor_2048", Function("worker"),
             cycle=(Function("rec", words=17),), depth=400, gc_after=8,
             summary="as gc_after_floor_4096 with a 40-byte entry: halves down to 2048"))
_add(Program("gc_unwinding", Function("worker"),
             cycle=(Function("rec", words=17),), depth=400,
             gc_unwinding=(390, 300, 200, 120, 60, 30, 10, 3), gc_after=3,
             summary="runtime.GC() on the way back up: one halving per GC when in use "
                     "+ 800 < S/4"))
_add(Program("gc_shrink_edge_no", Function("worker"),
             chain=(Function("keep", words=124), Function("grow", words=500)),
             gc_unwinding=(1,),
             summary="8 KiB stack; GC from keep (1024): 40+40+8+1024+136 = 1248 in use, "
                     "+800 = 2048 = S/4: no shrink"))
_add(Program("gc_shrink_edge_yes", Function("worker"),
             chain=(Function("keep", words=123), Function("grow", words=500)),
             gc_unwinding=(1,),
             summary="as gc_shrink_edge_no with keep 1016: 2040 < S/4, shrinks to 4 KiB"))
_add(Program("gc_descending", Function("worker"),
             cycle=(Function("rec", words=17),), depth=200,
             gc_descending=(7, 20, 44, 93, 190),
             summary="runtime.GC() right after each growth while descending (rec is 160 "
                     "here): no shrink, no growth"))
# runtime.GC() runs on the caller's stack and can grow it. Margins are SP - stackguard0
# in the caller, on a 2 KiB stack: 2048 - 928 - (40 + entry frame [+ 8 + frame]).
_add(Program("gc_first_edge_fits", Function("worker", words=34), gc_descending=(0,),
             summary="the process's first runtime.GC() from a 320-byte entry (margin 760): "
                     "no growth"))
_add(Program("gc_first_edge_grows", Function("worker", words=35), gc_descending=(0,),
             summary="the first runtime.GC() from a 328-byte entry (margin 752): the GC's own "
                     "calls grow the stack"))
_add(Program("gc_later_edge_fits", Function("worker"), chain=(Function("gz", words=57),),
             gc_descending=(0, 1),
             summary="a second runtime.GC() from a 480-byte frame (margin 552): no growth"))
_add(Program("gc_later_edge_grows", Function("worker"), chain=(Function("gz", words=58),),
             gc_descending=(0, 1),
             summary="a second runtime.GC() from a 488-byte frame (margin 544): grows inside "
                     "the GC"))
_add(Program("gc_first_at_8k", Function("worker"), cycle=(Function("rec", words=17),),
             depth=60, gc_descending=(39,),
             summary="the first runtime.GC() at call 39 of rec (160) on an 8 KiB stack, "
                     "margin 632: grows inside the GC"))
_add(Program("gc_second_at_8k", Function("worker"), cycle=(Function("rec", words=17),),
             depth=60, gc_descending=(1, 39),
             summary="as gc_first_at_8k, but it is the second GC: margin 632 is enough"))
_add(Program("gc_every_depth", Function("worker"),
             cycle=(Function("rec", words=17),), depth=200,
             gc_descending=tuple(range(1, 200)),
             summary="runtime.GC() at every depth while descending"))

# -- pointers into the stack are adjusted by every move
_add(Program("pointers_adjusted", Function("worker", words=4, pointers=2),
             cycle=(Function("rec", words=16, pointers=4),), depth=500,
             gc_unwinding=(250, 100), gc_after=4,
             summary="pointer locals into each frame, checked after every call, through "
                     "growths and shrinks"))

# -- the limit: debug.SetMaxStack, and the default 1e9
_rec("maxstack_32k", Function("rec", words=17), 400,
     "debug.SetMaxStack(32768): the growth to 64 KiB is fatal", max_stack=32768)
_rec("maxstack_50000", Function("rec", words=17), 400,
     "debug.SetMaxStack(50000): fails like 32768 (sizes are powers of two)",
     max_stack=50000)
_rec("maxstack_exact_fit", Function("rec", words=17), 360,
     "debug.SetMaxStack(65536) and a stack of exactly 64 KiB: allowed", max_stack=65536)
_add(Program("maxstack_gc_overflow", Function("worker"), cycle=(Function("rec", words=17),),
             depth=100, gc_descending=(16,), max_stack=4096,
             summary="debug.SetMaxStack(4096), then runtime.GC() near the guard: the GC's own "
                     "calls need 8 KiB, fatal inside the runtime"))
_add(Program("maxstack_entry", Function("worker", words=1280), max_stack=8192,
             summary="debug.SetMaxStack(8192) and a 10 KB entry: overflow at call index 0"))
_rec("maxstack_zero", Function("rec", words=17), 10,
     "debug.SetMaxStack(0) is accepted; the first growth is fatal: 'exceeds 0-byte limit'",
     max_stack=0)
_rec("maxstack_negative", Function("rec", words=1281), 200000,
     "debug.SetMaxStack(-1) is uintptr's maximum: 1 GiB fits, 2 GiB is over maxstackceiling "
     "(2e9), which the message names", max_stack=-1, heavy=True)
_rec("default_limit_overflow", Function("rec", words=1281), 100000,
     "10 KB frames until the default 1e9 limit: 512 MiB is the last size that fits",
     heavy=True)

# -- build and debug modes (issue 14). Frames of a -race build are bigger (racefuncenter);
# the sizes quoted are go1.27.3's -race TEXT lines.
_rec("race_rec", Function("rec", words=17), 400,
     "-race: stackGuard is 1728 (multiplier 2), so every growth comes earlier", race=True)
_add(Program("race_entry_fits_400", Function("worker", words=34), race=True,
             summary="-race, entry frame 400: E-(F-128) = lo+1736 > lo+1728, no growth"))
_add(Program("race_entry_grows_408", Function("worker", words=35), race=True,
             summary="-race, entry frame 408: E-(F-128) = lo+1728, grows at call index 0 "
                     "(a normal build grows only from 1208)"))
_add(Program("race_gc_after_floor", Function("worker", words=40),
             chain=(Function("keep", words=100), Function("grow", words=1500)),
             cycle=(Function("rec", words=17),), depth=300, gc_unwinding=(1,), gc_after=6,
             race=True,
             summary="-race: shrinkstack's budget is 1600, so halving stops at 8 KiB (entry 456: "
                     "40+456+136 in use, +1600 >= 2048; a normal build goes on to 4 KiB)"))
_add(Program("race_gc_shrink_edge_no", Function("worker"),
             chain=(Function("keep", words=270), Function("grow", words=1500)),
             gc_unwinding=(1,), race=True,
             summary="-race, 16 KiB; GC from keep (2216): 40+96+8+2216+136 = 2496 in use, "
                     "+1600 = 4096 = S/4: no shrink"))
_add(Program("race_gc_shrink_edge_yes", Function("worker"),
             chain=(Function("keep", words=269), Function("grow", words=1500)),
             gc_unwinding=(1,), race=True,
             summary="as race_gc_shrink_edge_no with keep 2208: shrinks to 8 KiB"))
_add(Program("gcshrinkstackoff_after", Function("worker"),
             cycle=(Function("rec", words=17),), depth=400, gc_after=4, gcshrinkstackoff=True,
             summary="GODEBUG=gcshrinkstackoff=1: recurse to 128 KiB, return, 4 GCs, no shrink"))

# -- the linker's NOSPLIT check (cmd/link/internal/ld/stackcheck.go): a chain of NOSPLIT
# frames may need StackNosplit - 8 = 792 bytes (1592 with -race), else no link at all
_add(Program("link_nosplit_792", Function("worker"),
             chain=(Function("nsp", words=98, nosplit=True),),
             summary="a //go:nosplit frame of 792 bytes: exactly the linker's limit, links "
                     "and runs"))
_add(Program("link_nosplit_800", Function("worker"),
             chain=(Function("nsp", words=99, nosplit=True),),
             summary="a //go:nosplit frame of 800 bytes: 'nosplit stack over 792 byte limit'"))
_add(Program("link_nosplit_chain", Function("worker"),
             chain=(Function("nsa", words=50, nosplit=True),
                    Function("nsb", words=48, nosplit=True)),
             summary="nosplit 432 calls nosplit 392: 440 + 392 = 832, 40 bytes over"))
_add(Program("link_nosplit_cycle", Function("worker"),
             cycle=(Function("nsr", words=2, nosplit=True),), depth=5,
             summary="nosplit recursion: the linker reports an infinite cycle"))
_add(Program("race_link_nosplit_800", Function("worker"),
             chain=(Function("nsp", words=99, nosplit=True),), race=True,
             summary="-race: the same //go:nosplit function (832 bytes with -race) links: the "
                     "limit is 1600 - 8 = 1592"))
