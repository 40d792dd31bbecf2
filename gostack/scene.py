"""Several goroutines that block, wake and are collected: one description, two runs.

A :class:`Scene` is a set of goroutines, each a :class:`gostack.program.Program`
(its call pattern) with :class:`ParkAt` points where it blocks, and a script that
Go's ``main`` follows, one step at a time:

* ``"run K"`` starts goroutine K (1-based), or wakes it from its current park, and
  waits until it is parked again or has returned from its entry;
* ``"gc"`` calls ``runtime.GC()`` from main: every goroutine is scanned where it
  is parked (gp.sched.sp) and may have its stack halved;
* ``"maxstack N"`` calls ``debug.SetMaxStack(N)`` from main.

With ``adaptive_start=True`` the probe runs under Go's default
``GODEBUG=adaptivestackstart=1``: each GC sets the size a recycled G starts with
(``Runtime(adaptive_start=True)``), and a goroutine that starts on one shows it as a
move at its call index 0 (``"entry"``).

Under ``GOMAXPROCS=1`` only one goroutine runs at a time and main waits for each
step to finish, so the real program is deterministic; :func:`run_simulator`
follows the same script on :class:`gostack.Runtime` with the compiler's frame
sizes, and :func:`render_go` writes the real probe.

What is compared (:class:`SceneObservation`) is what the probe can see: every
change of a goroutine's stack bounds, seen by the goroutine itself at a function's
entry (``"entry"``: its prologue grew it) or right after it woke (``"wake"``), or
seen by main after a step (``"main"``: a shrink during a GC, or a growth in the
runtime's frames of a blocking call), with the goroutine, its call index, the GC
count and the new size; and the overflow, if any.

Blocking operations and where their goroutine parks (``arch.PARK_CHAINS``):
``recv`` (``v := <-c``), ``send`` (``c <- v``), ``select`` (two cases, no
default), ``sleep`` (``time.Sleep`` in a loop until main says), ``gosched``
(``runtime.Gosched`` in a loop), ``mutex`` (``sync.Mutex.Lock`` of a mutex main
holds), ``wg`` (``sync.WaitGroup.Wait`` on a group main holds), ``syscall``
(``syscall.Read`` of a pipe main writes: not parked but in a system call, where the GC
scans from g.syscallsp and defers any shrink); and ``spin``, not a park: a loop of
calls to ``probeSpin`` until sysmon preempts the goroutine in that function's
prologue (newstack's preempt path, where a deferred shrink is done; see
``Goroutine.spin``). A scene with a spin runs with ``GODEBUG=asyncpreemptoff=1``, so
that the preemption is always the synchronous one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from .arch import PARK_CHAINS
from .program import (
    MAX_EVENTS,
    PROBE_RESULTS_GO,
    RESULTS_MAGIC,
    Function,
    Program,
    _check_pointers,
    _descend,
    _frame_of,
    _locals,
)
from .stackalloc import unmodelled_scanned

PARK_OPS = (*PARK_CHAINS, "spin")
# The function a spin calls in its loop, whose prologue takes the preemption.
SPIN_FUNC = "main.probeSpin"
# An adaptive-start scene records main.main's frame too: main is scanned inside runtime.GC.
MAIN_FRAME = "main.main"

# Event kinds of a scene probe (the low byte; the goroutine number is in the next).
SEEN_AT_ENTRY = 1
SEEN_BY_MAIN = 3
SEEN_START = 4
SEEN_END = 5
SEEN_AFTER_WAKE = 6


@dataclass(frozen=True)
class ParkAt:
    """Block in ``op`` at call index ``call_index``: while descending (before the frame
    calls deeper) or, with ``unwinding``, after its callee returned."""

    call_index: int
    op: str
    unwinding: bool = False

    def __post_init__(self) -> None:
        if self.op not in PARK_OPS:
            raise ValueError(f"unknown blocking operation {self.op!r}: one of "
                             + ", ".join(PARK_OPS))
        if isinstance(self.call_index, bool) or not isinstance(self.call_index, int) \
                or self.call_index < 0:
            raise ValueError(f"park call index must be an int >= 0, got {self.call_index!r}")


@dataclass(frozen=True)
class Scene:
    """Goroutines (Programs plus where each parks) and main's script; see the module."""

    name: str
    goroutines: tuple[Program, ...]
    parks: tuple[tuple[ParkAt, ...], ...]  # per goroutine, in the order it reaches them
    steps: tuple[str, ...]
    max_stack: int | None = None
    heavy: bool = False
    summary: str = ""
    race: bool = False  # go build -race (cgo): stack guard multiplier 2
    gcshrinkstackoff: bool = False  # run with GODEBUG=gcshrinkstackoff=1
    adaptive_start: bool = False  # run with GODEBUG=adaptivestackstart=1 (Go's default)

    build_flags = Program.build_flags

    @property
    def godebug(self) -> tuple[str, ...]:
        """GODEBUG settings on top of realgo.RUN_ENV's (a later setting of a key wins)."""
        return Program.godebug.fget(self) + (  # type: ignore[attr-defined]
            ("adaptivestackstart=1",) if self.adaptive_start else ()) + (
            ("asyncpreemptoff=1",) if self.spins else ())

    @property
    def spins(self) -> bool:
        """Some goroutine spins until preempted (op "spin"): the probe has probeSpin."""
        return any(p.op == "spin" for ps in self.parks for p in ps)

    def __post_init__(self) -> None:
        object.__setattr__(self, "goroutines", tuple(self.goroutines))
        object.__setattr__(self, "parks", tuple(tuple(p) for p in self.parks))
        object.__setattr__(self, "steps", tuple(self.steps))
        if not isinstance(self.name, str) or not re.match(r"^[a-z0-9][a-z0-9_]*$", self.name):
            raise ValueError(f"scene name {self.name!r}: use lower-case letters, digits, _")
        n = len(self.goroutines)
        if not 1 <= n <= 32:
            raise ValueError(f"{self.name}: 1 to 32 goroutines, got {n}")
        if len(self.parks) != n:
            raise ValueError(f"{self.name}: one tuple of parks per goroutine")
        names = [f.name for g in self.goroutines for f in g.functions]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: function names must differ across goroutines")
        for k, (g, parks) in enumerate(zip(self.goroutines, self.parks, strict=True), 1):
            if g.gc_descending or g.gc_unwinding or g.gc_after or g.max_stack is not None:
                raise ValueError(f"{self.name}: goroutine {k}: GC and SetMaxStack belong to "
                                 "main's script and the scene")
            order = list(self._visit_order(g))
            keys = [(p.call_index, p.unwinding) for p in parks]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{self.name}: goroutine {k} parks twice at one point")
            for key in keys:
                if key not in order:
                    raise ValueError(f"{self.name}: goroutine {k} has no call index "
                                     f"{key[0]} to park at")
            if keys != sorted(keys, key=order.index):
                raise ValueError(f"{self.name}: goroutine {k}'s parks must be in the order "
                                 "it reaches them")
            for p in parks:
                f = g.func_at(p.call_index)
                if f.nosplit:
                    raise ValueError(f"{self.name}: nosplit {f.name} cannot block")
                if p.op in ("syscall", "spin") and self.race:
                    raise ValueError(f"{self.name}: {p.op} is not measured under -race")
        runs = [0] * n
        for s in self.steps:
            if s == "gc" or re.fullmatch(r"maxstack -?[0-9]+", s):
                continue
            m = re.fullmatch(r"run ([1-9][0-9]?)", s)
            if not m or int(m[1]) > n:
                raise ValueError(f"{self.name}: step {s!r}: 'run K' (1..{n}), 'gc' or "
                                 "'maxstack N'")
            runs[int(m[1]) - 1] += 1
        for k, (r, parks) in enumerate(zip(runs, self.parks, strict=True), 1):
            if r > len(parks) + 1:
                raise ValueError(f"{self.name}: goroutine {k} is run {r} times but parks "
                                 f"only {len(parks)} times")
        if self.max_stack is not None and (
            isinstance(self.max_stack, bool) or not isinstance(self.max_stack, int)
            or not -(1 << 63) <= self.max_stack < (1 << 63)
        ):
            raise ValueError(f"{self.name}: max_stack must be an int (a Go int)")

    @staticmethod
    def _visit_order(g: Program) -> Iterator[tuple[int, bool]]:
        for i in range(g.last_index + 1):
            yield i, False
        for i in range(g.last_index, -1, -1):
            yield i, True

    @property
    def functions(self) -> tuple[Function, ...]:
        return tuple(f for g in self.goroutines for f in g.functions)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "goroutines": [g.to_dict() for g in self.goroutines],
            "parks": [[[p.call_index, p.op, p.unwinding] for p in ps] for ps in self.parks],
            "steps": list(self.steps),
            "max_stack": self.max_stack,
            "heavy": self.heavy,
            "summary": self.summary,
            **({"race": True} if self.race else {}),
            **({"gcshrinkstackoff": True} if self.gcshrinkstackoff else {}),
            **({"adaptive_start": True} if self.adaptive_start else {}),
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(render_go(self).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------
# What is compared
# ---------------------------------------------------------------------------


class SceneMove(NamedTuple):
    """Goroutine ``goroutine``'s stack became ``new_size`` bytes, seen ``where`` ("entry",
    "wake" or "main") at its call index ``call_index``, after ``gc`` GCs."""

    goroutine: int
    where: str
    call_index: int
    gc: int
    new_size: int


class SceneOverflow(NamedTuple):
    goroutine: int
    call_index: int
    message: str


@dataclass(frozen=True)
class SceneObservation:
    moves: tuple[SceneMove, ...] = ()
    overflow: SceneOverflow | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "moves", tuple(SceneMove(*m) for m in self.moves))
        if self.overflow is not None:
            object.__setattr__(self, "overflow", SceneOverflow(*self.overflow))

    def to_dict(self) -> dict:
        return {"moves": [list(m) for m in self.moves],
                "overflow": list(self.overflow) if self.overflow else None}

    @classmethod
    def from_dict(cls, d: Mapping) -> SceneObservation:
        return cls(tuple(SceneMove(*m) for m in d.get("moves", ())),
                   SceneOverflow(*d["overflow"]) if d.get("overflow") else None)


# ---------------------------------------------------------------------------
# The simulator side
# ---------------------------------------------------------------------------


def run_simulator(scene: Scene, frames: Mapping[str, int],
                  nosplit: Collection[str] = (), starts: list[int] | None = None
                  ) -> SceneObservation:
    """Follow main's script on gostack.Runtime with the real frame sizes. An adaptive
    scene's frames include main.main's (MAIN_FRAME); ``starts`` (a list) receives the
    startingStackSize each GC sets."""
    import gostack as gs

    marked = set(nosplit)
    funcs = {f.name: gs.Func(f.qualname, frame=_frame_of(frames, f),
                             nosplit=f.nosplit or f.name in marked or f.qualname in marked)
             for f in scene.functions}
    spin = gs.Func(SPIN_FUNC, frame=frames[SPIN_FUNC]) if scene.spins else None
    mode = {"race": scene.race, "gcshrinkstackoff": scene.gcshrinkstackoff}
    if scene.adaptive_start:
        if MAIN_FRAME not in frames:
            raise ValueError(f"{scene.name}: an adaptive-start scene needs {MAIN_FRAME}'s "
                             "frame (main is scanned in runtime.GC)")
        mode.update(adaptive_start=True, unmodelled=unmodelled_scanned(frames[MAIN_FRAME]))
    rt = gs.Runtime(trace=False, **mode) if scene.max_stack is None \
        else gs.Runtime(max_stack=scene.max_stack, trace=False, **mode)
    moves: list[SceneMove] = []
    gors: dict[int, gs.Goroutine] = {}
    last: dict[int, int] = {}
    at: dict[int, int] = {}
    done: set[int] = set()

    def look(k: int, where: str, index: int) -> None:
        g = gors[k]
        if g.stack_size != last[k]:
            moves.append(SceneMove(k, where, index, rt.gcs, g.stack_size))
            last[k] = g.stack_size

    def life(k: int) -> Iterator[None]:
        prog, parks = scene.goroutines[k - 1], scene.parks[k - 1]
        ops = {(p.call_index, p.unwinding): p.op for p in parks}
        g = gors[k] = rt.go(funcs[prog.entry.name])
        last[k] = gs.STACK_MIN
        look(k, "entry", 0)

        def block(i: int, up: bool) -> Iterator[None]:
            if (i, up) in ops:
                at[k] = i
                if ops[i, up] == "spin":
                    g.spin(spin)  # type: ignore[arg-type]
                else:
                    g.park(ops[i, up])
                yield
                g.unpark()
                look(k, "wake", i)

        for i, f in prog.calls():
            if i > 0:
                g.call(funcs[f.name])
                look(k, "entry", i)
            yield from block(i, False)
        for i in range(prog.last_index, -1, -1):
            yield from block(i, True)
            g.ret()

    lives: dict[int, Iterator[None]] = {}

    def main_look() -> None:
        for k in sorted(gors):
            if k not in done:
                look(k, "main", at.get(k, 0))

    overflow = None
    try:
        for step in scene.steps:
            if step == "gc":
                rt.gc()
                if starts is not None:
                    starts.append(rt.starting_stack_size)
            elif step.startswith("maxstack "):
                rt.set_max_stack(int(step.split()[1]))
            else:
                k = int(step.split()[1])
                if k not in lives:
                    lives[k] = life(k)
                try:
                    next(lives[k])
                except StopIteration:
                    done.add(k)
            main_look()
    except gs.StackOverflow as e:
        k = next(k for k, g in gors.items() if g.status is gs.Status.FATAL)
        overflow = SceneOverflow(k, e.call_index, str(e).splitlines()[0])
    return SceneObservation(tuple(moves), overflow)


# ---------------------------------------------------------------------------
# The Go side
# ---------------------------------------------------------------------------

_HEADER = ('''\
// Code generated by gostack (scene.render_go) for the scene "{name}". DO NOT EDIT.
//
// {summary}
//
// Usage: probe RESULTS-FILE. Main follows the scene's script under GOMAXPROCS=1:
// it starts or wakes one goroutine and waits (runtime.Gosched) until that one is
// parked again or done, or it calls runtime.GC(); after each step it looks at every
// live goroutine's g.stack bounds. Each goroutine also looks at its own bounds at
// every function entry (an inlined observer: no call) and right after it wakes.
package main

import (
	"os"
	"runtime"
{imports}	"syscall"
	"unsafe"
)

func curg() uintptr // curg_amd64.s

type probeStack struct{{ lo, hi uintptr }}

'''
    + PROBE_RESULTS_GO + '''
var (
	probeRes   *probeResults
	probeZero  = 0
	probeNever = make(chan uint64)
	probeBuf   [8]byte
	sink       uint64
)

// probeNote appends one event; main's own bookkeeping (main is not observed).
func probeNote(kind uint64, call uint64, lo, hi uintptr, ptrDelta uint64) {{
	r := probeRes
	e := &r.ev[r.h.nev&(probeMaxEvents-1)]
	e.kind, e.call, e.gc = kind, call, r.h.gcs
	e.lo, e.hi, e.ptrDelta = uint64(lo), uint64(hi), ptrDelta
	r.h.nev++
}}
''')

_PER_G = '''
// Goroutine {k}.
var (
	probeG{k}      *probeStack
	probeLastLo{k} uintptr
	probeLastHi{k} uintptr
	probeLastP{k}  uintptr
	probeAt{k}     uint64 // call index of its current park
	probeStep{k}   int    // parks reached, plus one once it has returned
	probeDone{k}   bool
	probeDepth{k}  = {depth}
{park_vars})

// probeSeen{k}: goroutine {k} looks at its own stack (inlined: no call).
//
//go:nosplit
func probeSeen{k}(kind uint64, d int, p *int) {{
	lo, hi := probeG{k}.lo, probeG{k}.hi
	r := probeRes
	if hi != probeLastHi{k} || lo != probeLastLo{k} {{
		e := &r.ev[r.h.nev&(probeMaxEvents-1)]
		e.kind, e.call, e.gc = kind, uint64(d), r.h.gcs
		e.lo, e.hi = uint64(lo), uint64(hi)
		e.ptrDelta = uint64(uintptr(unsafe.Pointer(p)) - probeLastP{k})
		r.h.nev++
		probeLastLo{k}, probeLastHi{k}, probeLastP{k} = lo, hi, uintptr(unsafe.Pointer(p))
	}}
}}

// probeLook{k}: main looks at goroutine {k}'s stack while it is parked.
func probeLook{k}() {{
	if probeG{k} == nil || probeDone{k} {{
		return
	}}
	lo, hi := probeG{k}.lo, probeG{k}.hi
	if hi != probeLastHi{k} || lo != probeLastLo{k} {{
		probeNote({seen_main}|{k}<<8, probeAt{k}, lo, hi, 0)
		probeLastP{k} += hi - probeLastHi{k} // the copier moved p by as much
		probeLastLo{k}, probeLastHi{k} = lo, hi
	}}
}}
'''


_SPIN_GO = '''
// probeSpin is what a spinning goroutine calls in its loop: a function with a
// prologue check (it is not a leaf), where sysmon's preemption request
// (stackguard0 = stackPreempt) enters newstack.
//
//go:noinline
func probeSpin() {
	probeSpinLeaf()
}

//go:noinline
func probeSpinLeaf() {}
'''


def _value(j: int) -> str:
    return f"uint64(d)*3+{j + 1}"


def _park_vars(k: int, parks: tuple[ParkAt, ...]) -> str:
    out = []
    for j, p in enumerate(parks):
        if p.op in ("recv", "send", "select"):
            out.append(f"\tprobeCh{k}_{j} = make(chan uint64)")
        elif p.op in ("sleep", "gosched", "spin"):
            out.append(f"\tprobeFlag{k}_{j} int")
        elif p.op == "mutex":
            out.append(f"\tprobeMu{k}_{j} sync.Mutex")
        elif p.op == "wg":
            out.append(f"\tprobeWg{k}_{j} sync.WaitGroup")
        elif p.op == "syscall":
            out.append(f"\tprobeFd{k}_{j} [2]int")
    return "".join(x + "\n" for x in out)


def _op(k: int, j: int, op: str, t: str) -> list[str]:
    if op == "recv":
        return [f"{t}if v := <-probeCh{k}_{j}; v != {_value(j)} {{",
                f"{t}\tprobeRes.h.bad++", f"{t}}}"]
    if op == "send":
        return [f"{t}probeCh{k}_{j} <- {_value(j)}"]
    if op == "select":
        return [f"{t}select {{", f"{t}case v := <-probeCh{k}_{j}:",
                f"{t}\tif v != {_value(j)} {{", f"{t}\t\tprobeRes.h.bad++", f"{t}\t}}",
                f"{t}case <-probeNever:", f"{t}\tprobeRes.h.bad++", f"{t}}}"]
    if op == "sleep":
        return [f"{t}for probeFlag{k}_{j} == 0 {{", f"{t}\ttime.Sleep(time.Millisecond)",
                f"{t}}}"]
    if op == "gosched":
        return [f"{t}for probeFlag{k}_{j} == 0 {{", f"{t}\truntime.Gosched()", f"{t}}}"]
    if op == "mutex":
        return [f"{t}probeMu{k}_{j}.Lock()", f"{t}probeMu{k}_{j}.Unlock()"]
    if op == "wg":
        return [f"{t}probeWg{k}_{j}.Wait()"]
    if op == "syscall":
        return [f"{t}syscall.Read(probeFd{k}_{j}[0], probeBuf[:])"]
    if op == "spin":
        return [f"{t}for probeFlag{k}_{j} == 0 {{", f"{t}\tprobeSpin()", f"{t}}}"]
    raise ValueError(op)


def _park_block(k: int, j: int, park: ParkAt, t: str, entry: bool) -> list[str]:
    d = "d"
    inner = t + "\t"
    return [
        f"{t}if {d} == {park.call_index} {{" if not entry else f"{t}{{",
        f"{inner}probeAt{k} = uint64({d})",
        f"{inner}probeStep{k}++",
        *_op(k, j, park.op, inner),
        f"{inner}probeSeen{k}({SEEN_AFTER_WAKE}|{k}<<8, {d}, p)",
        f"{inner}if uintptr(unsafe.Pointer(p)) != probeLastP{k} {{",
        f"{inner}\tprobeRes.h.bad++",
        f"{inner}}}",
        f"{t}}}",
    ]


def _body(scene: Scene, k: int, f: Function) -> list[str]:
    g, parks = scene.goroutines[k - 1], scene.parks[k - 1]
    t = "\t"
    entry = f is g.entry
    lines, ret, target = _locals(f, entry,
                                 None if entry else f"probeSeen{k}({SEEN_AT_ENTRY}|{k}<<8, d, p)")
    where = [i for i, h in g.calls() if h is f]
    for j, p in enumerate(parks):
        if not p.unwinding and p.call_index in where:
            lines += _park_block(k, j, p, t, entry)
    lines.append(f"{t}var r uint64")
    lines += _descend(g, f, where, entry, "r =", f"probeDepth{k}")
    for j, p in enumerate(parks):
        if p.unwinding and p.call_index in where:
            lines += _park_block(k, j, p, t, entry)
    lines += _check_pointers(f, target)
    if entry:
        lines.append(f"{t}sink += r + {ret}")
    else:
        lines.append(f"{t}return r + {ret}")
    return lines


def _release(k: int, j: int, op: str) -> list[str]:
    t = "\t"
    if op in ("recv", "select"):
        return [f"{t}probeCh{k}_{j} <- probeAt{k}*3+{j + 1}"]
    if op == "send":
        return [f"{t}if v := <-probeCh{k}_{j}; v != probeAt{k}*3+{j + 1} {{",
                f"{t}\tprobeRes.h.bad++", f"{t}}}"]
    if op in ("sleep", "gosched", "spin"):
        return [f"{t}probeFlag{k}_{j} = 1"]
    if op == "mutex":
        return [f"{t}probeMu{k}_{j}.Unlock()"]
    if op == "wg":
        return [f"{t}probeWg{k}_{j}.Done()"]
    if op == "syscall":
        return [f"{t}syscall.Write(probeFd{k}_{j}[1], probeBuf[:1])"]
    raise ValueError(op)


def _prepare(k: int, j: int, op: str) -> list[str]:
    if op == "mutex":
        return [f"\tprobeMu{k}_{j}.Lock()"]
    if op == "wg":
        return [f"\tprobeWg{k}_{j}.Add(1)"]
    return []  # a syscall's pipe is made before the script starts (see render_go)


def render_go(scene: Scene) -> str:
    """The Go probe (main.go) of a scene; with program.CURG_ASM and go_mod() it builds."""
    ops = {p.op for ps in scene.parks for p in ps}
    imports = ""
    if scene.max_stack is not None or any(s.startswith("maxstack ") for s in scene.steps):
        imports += '\t"runtime/debug"\n'
    if ops & {"mutex", "wg"}:
        imports += '\t"sync"\n'
    if "sleep" in ops:
        imports += '\t"time"\n'
    modes = [*scene.build_flags, *(f"GODEBUG={x}" for x in scene.godebug)]
    summary = (scene.summary or scene.name) + (
        f"\n//\n// Built and run with: {' '.join(modes)}" if modes else "")
    out = [_HEADER.format(name=scene.name, summary=summary,
                          imports=imports, max_events=MAX_EVENTS,
                          event_note="kind: event | goroutine<<8")]
    if scene.spins:
        out.append(_SPIN_GO)
    for k, (g, parks) in enumerate(zip(scene.goroutines, scene.parks, strict=True), 1):
        out.append(_PER_G.format(k=k, depth=g.depth, park_vars=_park_vars(k, parks),
                                 seen_main=SEEN_BY_MAIN))
        e = g.entry
        out += [
            f"// {e.name} is goroutine {k}'s entry function: call index 0.",
            # -race turns on -d=checkptr: no runtime.checkptrAlignment call on this stack
            *(["//go:nocheckptr"] if scene.race else []),
            f"func {e.name}() {{",
            "\td := probeZero // 0, but not a constant",
            "\t_ = d",
            "\tvar x int",
            "\tp := &x",
            f"\tprobeG{k} = (*probeStack)(unsafe.Pointer(curg()))",
            f"\tprobeLastLo{k}, probeLastHi{k} = probeG{k}.lo, probeG{k}.hi",
            f"\tprobeLastP{k} = uintptr(unsafe.Pointer(p))",
            f"\tprobeNote({SEEN_START}|{k}<<8, 0, probeLastLo{k}, probeLastHi{k}, 0)",
            "\tu0 := uintptr(unsafe.Pointer(p)) // a copy in this frame: never adjusted",
            *_body(scene, k, e),
            f"\tprobeNote({SEEN_END}|{k}<<8, 0, 0, 0, "
            "uint64(uintptr(unsafe.Pointer(p))-u0))",
            f"\tprobeDone{k} = true",
            f"\tprobeStep{k}++",
            "}",
        ]
        for f in g.functions[1:]:
            out += ["", "//go:noinline"]
            if f.nosplit:
                out.append("//go:nosplit")
            out += [f"func {f.name}(d int, p *int) uint64 {{", *_body(scene, k, f), "}"]
    main = [
        "",
        "func main() {",
        "\tf, err := os.OpenFile(os.Args[1], os.O_RDWR, 0)",
        "\tif err != nil {", "\t\tpanic(err)", "\t}",
        "\tmem, err := syscall.Mmap(int(f.Fd()), 0, int(unsafe.Sizeof(probeResults{})),",
        "\t\tsyscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)",
        "\tif err != nil {", "\t\tpanic(err)", "\t}",
        "\tprobeRes = (*probeResults)(unsafe.Pointer(&mem[0]))",
        f"\tprobeRes.h.magic = {RESULTS_MAGIC:#x}",
        "\tprobeRes.h.state = 1",
    ]
    # Every pipe first: a goroutine coming back from read(2) may take the P while main is
    # in its write(2) (exitsyscallfast takes its old P back from _Psyscall) and run on.
    main += [f"\tsyscall.Pipe(probeFd{k}_{j}[:])"
             for k, ps in enumerate(scene.parks, 1) for j, p in enumerate(ps)
             if p.op == "syscall"]
    if scene.max_stack is not None:
        main.append(f"\tdebug.SetMaxStack({scene.max_stack})")
    n = len(scene.goroutines)
    runs = [0] * (n + 1)
    looks = [f"\tprobeLook{k}()" for k in range(1, n + 1)]
    for s in scene.steps:
        main.append(f"\t// {s}")
        if s == "gc":
            main += ["\tprobeRes.h.gcs++", "\truntime.GC()", *looks]
            continue
        if s.startswith("maxstack "):
            main.append(f"\tdebug.SetMaxStack({int(s.split()[1])})")
            continue
        k = int(s.split()[1])
        parks = scene.parks[k - 1]
        r = runs[k]
        runs[k] += 1
        if r == 0:
            if parks:
                main += _prepare(k, 0, parks[0].op)
            main.append(f"\tgo {scene.goroutines[k - 1].entry.name}()")
        else:
            main += _release(k, r - 1, parks[r - 1].op)
            if r < len(parks):
                main += _prepare(k, r, parks[r].op)
        main += [f"\tfor probeStep{k} != {r + 1} {{", "\t\truntime.Gosched()", "\t}", *looks]
    main += ["\tprobeRes.h.state = 2", "}", ""]
    return "\n".join(out + main)


# ---------------------------------------------------------------------------
# The corpus of scenes
# ---------------------------------------------------------------------------

SCENES: dict[str, Scene] = {}


def _add(scene: Scene) -> None:
    if scene.name in SCENES:
        raise ValueError(f"duplicate scene {scene.name}")
    SCENES[scene.name] = scene


# Frame sizes quoted below are go1.27.3's (TEXT lines of -S); PARK_DEPTH from arch.py.
# Each goroutine of an edge scene: worker (40) -> keep -> grow (4008), so the stack is
# 8 KiB when keep, back from grow, blocks; in use at the scan: 40 + 40 + 8 + keep +
# PARK_DEPTH[op]. shrinkstack halves when that + 800 < 8192/4 = 2048.
_EDGE_WORDS = {  # op: (keep's words for in-use + 800 == 2048 exactly, one word less)
    "recv": (116, 115),  # keep 968/960, park 192
    "send": (116, 115),  # keep 968/960, park 192
    "select": (87, 86),  # keep 808/800, park 352
    "sleep": (126, 125),  # keep 1040/1032, park 120
    "gosched": (141, 140),  # keep 1160/1152, park 0 (Gosched is inlined)
    "mutex": (107, 106),  # keep 888/880, park 272
    "wg": (112, 111),  # keep 928/920, park 232
}


def _edge_goroutine(k: int, words: int) -> Program:
    return Program(f"g{k}", Function(f"worker{k}"),
                   chain=(Function(f"keep{k}", words=words), Function(f"grow{k}", words=500)))


for _kind, (_no, _yes) in _EDGE_WORDS.items():
    _add(Scene(
        f"park_{_kind}_edge", (_edge_goroutine(1, _no), _edge_goroutine(2, _yes)),
        ((ParkAt(1, _kind, unwinding=True),), (ParkAt(1, _kind, unwinding=True),)),
        ("run 1", "run 2", "gc", "run 1", "run 2"),
        summary=f"two goroutines blocked in {_kind} on 8 KiB stacks, scanned at sched.sp: "
                f"in use + 800 == S/4 keeps goroutine 1's, one word less halves goroutine 2's"))


def _rec_goroutine(k: int, depth: int, words: int = 17, entry_words: int = 0) -> Program:
    return Program(f"g{k}", Function(f"worker{k}", words=entry_words),
                   cycle=(Function(f"rec{k}", words=words),), depth=depth)


_add(Scene(
    "interleave_three",
    (_rec_goroutine(1, 300), _rec_goroutine(2, 120), _rec_goroutine(3, 60, words=60)),
    ((ParkAt(100, "recv"), ParkAt(300, "send"), ParkAt(5, "recv", unwinding=True)),
     (ParkAt(120, "select"), ParkAt(10, "mutex", unwinding=True)),
     (ParkAt(60, "wg"), ParkAt(2, "sleep", unwinding=True))),
    ("run 1", "run 2", "gc", "run 3", "run 1", "gc", "gc", "run 2", "gc", "run 1", "gc",
     "run 3", "gc", "gc", "run 1", "run 2", "run 3", "gc"),
    summary="three goroutines growing, blocking (recv, send, select, mutex, wg, sleep) and "
            "being shrunk at their park SPs, interleaved with GCs"))
_add(Scene(
    "parked_shrink_ladder", (_rec_goroutine(1, 400),),
    ((ParkAt(400, "recv"), ParkAt(0, "recv", unwinding=True)),),
    ("run 1", "run 1") + ("gc",) * 8 + ("run 1",),
    summary="grow to 128 KiB, return to the entry and block in recv there: one halving per "
            "GC, down to 4 KiB, where in use 40+40+192 = 272, + 800 >= 4096/4"))
_add(Scene(
    "gosched_ladder", (_rec_goroutine(1, 400),),
    ((ParkAt(400, "gosched"), ParkAt(0, "gosched", unwinding=True)),),
    ("run 1", "run 1") + ("gc",) * 8 + ("run 1",),
    summary="as parked_shrink_ladder, yielding in runtime.Gosched (inlined: park depth 0): "
            "80 + 800 < 1024, so one more halving, to 2 KiB"))
_add(Scene(
    "wake_and_grow_again", (_rec_goroutine(1, 200), _rec_goroutine(2, 200)),
    ((ParkAt(5, "recv"), ParkAt(150, "select"), ParkAt(3, "send", unwinding=True)),
     (ParkAt(190, "mutex"), ParkAt(4, "wg", unwinding=True))),
    ("run 2", "run 1", "gc", "run 2", "gc", "gc", "run 1", "gc", "run 1", "gc", "gc",
     "run 2", "run 1"),
    summary="goroutine 2 grows deep and is shrunk while parked shallow; goroutine 1 "
            "parks shallow, wakes and grows from 2 KiB again"))
_add(Scene(
    "entry_blocks", (Program("g1", Function("worker1", words=140)),
                     Program("g2", Function("worker2", words=300))),
    ((ParkAt(0, "recv"), ParkAt(0, "recv", unwinding=True)),
     (ParkAt(0, "select"),)),
    ("run 1", "run 2", "gc", "gc", "run 1", "gc", "run 1", "run 2"),
    summary="entries blocking in their own frames: a 1160-byte one on 2 KiB, a 2.4 KB one "
            "grown to 4 KiB in its prologue"))
_add(Scene(
    "exit_then_start", (_rec_goroutine(1, 100), _rec_goroutine(2, 50)),
    ((ParkAt(100, "recv"),), (ParkAt(50, "recv"),)),
    ("run 1", "gc", "run 1", "gc", "run 2", "gc", "run 2"),
    summary="goroutine 1 exits after a GC; goroutine 2 then starts on a recycled G: 2 KiB "
            "under adaptivestackstart=0"))
_add(Scene(
    "overflow_while_others_park", (_rec_goroutine(1, 30), _rec_goroutine(2, 1000)),
    ((ParkAt(30, "recv"),), ()),
    ("run 1", "gc", "run 2"),
    max_stack=65536,
    summary="debug.SetMaxStack(65536): goroutine 2 overflows while goroutine 1 is parked"))

# -race scenes: worker (152) -> keep -> grow (12040) gives a 16 KiB stack; in use at the
# scan 40 + 152 + 8 + keep + PARK_DEPTH_RACE[op]; shrink when that + 1600 < 4096.
_RACE_EDGE_WORDS = {
    "recv": (253, 252),  # keep 2104/2096, park 192
    "send": (252, 251),  # keep 2096/2088, park 200 (chansend is 112 under -race)
    "select": (217, 216),  # keep 1912/1904, park 384 (selectgo 344)
    "gosched": (275, 274),  # keep 2272/2264, park 24 (Gosched not inlined)
    "mutex": (237, 236),  # keep 1968/1960, park 328 (sync.Mutex.Lock not inlined)
}


def _race_goroutine(k: int, words: int) -> Program:
    return Program(f"g{k}", Function(f"worker{k}"),
                   chain=(Function(f"keep{k}", words=words), Function(f"grow{k}", words=1500)))


for _kind, (_no, _yes) in _RACE_EDGE_WORDS.items():
    _add(Scene(
        f"race_park_{_kind}_edge", (_race_goroutine(1, _no), _race_goroutine(2, _yes)),
        ((ParkAt(1, _kind, unwinding=True),), (ParkAt(1, _kind, unwinding=True),)),
        ("run 1", "run 2", "gc", "run 1", "run 2"), race=True,
        summary=f"-race: two goroutines blocked in {_kind} on 16 KiB stacks; in use + 1600 "
                "== S/4 keeps goroutine 1's, one word less halves goroutine 2's"))

_add(Scene(
    "all_ops_interleaved",
    tuple(_rec_goroutine(k, 50 + 20 * k) for k in range(1, 9)),
    tuple((ParkAt(50 + 20 * k, op), ParkAt(3, op, unwinding=True))
          for k, op in enumerate(("recv", "send", "select", "sleep", "gosched", "mutex", "wg",
                                  "syscall"), 1)),
    tuple(f"run {k}" for k in range(1, 9)) + ("gc",) * 3
    + tuple(f"run {k}" for k in range(8, 0, -1)) + ("gc", "gc")
    + tuple(f"run {k}" for k in range(1, 9)) + ("gc",),
    summary="eight goroutines, one per blocking operation, parked deep then shallow, "
            "woken in reverse order, GCs between: each shrinks at its own park SP, the one "
            "in a system call not at all"))
_add(Scene(
    "syscall_defers_shrink", (_rec_goroutine(1, 400),),
    ((ParkAt(400, "recv"), ParkAt(2, "syscall", unwinding=True),
      ParkAt(1, "recv", unwinding=True)),),
    ("run 1", "run 1", "gc", "gc", "run 1", "gc", "gc", "run 1"),
    summary="128 KiB, back at call 2 and blocked in read(2): two GCs cannot shrink it "
            "(isShrinkStackSafe: in a syscall); parked in recv after, one halving per GC"))
_add(Scene(
    "gcshrinkstackoff_parked", (_rec_goroutine(1, 400), _rec_goroutine(2, 200)),
    ((ParkAt(0, "recv", unwinding=True),), (ParkAt(1, "mutex", unwinding=True),)),
    ("run 1", "run 2", "gc", "gc", "gc", "run 1", "run 2"), gcshrinkstackoff=True,
    summary="GODEBUG=gcshrinkstackoff=1: two goroutines parked shallow on big stacks, three "
            "GCs, no shrink"))

# Adaptive start (Go's default GODEBUG=adaptivestackstart=1): each GC sets the size a
# recycled G starts with from the average hi - sched.sp it scanned, over these
# goroutines, main and the runtime's own (stackalloc.RUNTIME_SCANNED).
_add(Scene(
    "adaptive_start_4k", tuple(_rec_goroutine(k, 15) for k in range(1, 5))
    + (_rec_goroutine(5, 60), _rec_goroutine(6, 60)),
    ((ParkAt(15, "recv"),),) * 4 + ((ParkAt(60, "recv"),),) * 2,
    ("run 1", "run 2", "run 3", "run 4", "gc", "run 1", "run 2", "run 3", "run 4",
     "run 5", "run 6", "run 5", "run 6"), adaptive_start=True,
    summary="four goroutines parked on 4 KiB stacks: the GC's average sets the start to "
            "4 KiB; they exit keeping their stacks, and two new goroutines start on them"))
_add(Scene(
    "adaptive_start_8k", tuple(_rec_goroutine(k, 38) for k in range(1, 9))
    + (_rec_goroutine(9, 100),),
    ((ParkAt(38, "recv"),),) * 8 + ((ParkAt(100, "recv"),),),
    tuple(f"run {k}" for k in range(1, 9)) + ("gc",) + tuple(f"run {k}" for k in range(1, 9))
    + ("run 9", "run 9"), adaptive_start=True,
    summary="eight goroutines parked on 8 KiB stacks: the start becomes 8 KiB; a new "
            "goroutine starts on a recycled G's 8 KiB stack and grows from there"))
_add(Scene(
    "adaptive_start_fresh_or_recycled", (_rec_goroutine(1, 100), _rec_goroutine(2, 100),
                                         _rec_goroutine(3, 60), _rec_goroutine(4, 60)),
    ((ParkAt(100, "recv"),), (ParkAt(100, "recv"),), (ParkAt(60, "recv"),),
     (ParkAt(60, "recv"),)),
    ("run 1", "run 2", "gc", "run 1", "run 3", "run 4", "run 3", "run 4", "run 2"),
    adaptive_start=True,
    summary="two goroutines parked on 32 KiB stacks raise the start; one exits (its stack "
            "is freed: not the start size); the next goroutine gets its G and a new stack "
            "of the start size, the one after it a fresh G of 2 KiB"))
_add(Scene(
    "adaptive_start_back_to_2k", tuple(_rec_goroutine(k, 15) for k in range(1, 5))
    + (_rec_goroutine(5, 0), _rec_goroutine(6, 30)),
    ((ParkAt(15, "recv"),),) * 4 + ((ParkAt(0, "recv"),), (ParkAt(30, "recv"),)),
    ("run 1", "run 2", "run 3", "run 4", "gc", "run 1", "run 2", "run 3", "run 4",
     "run 5", "gc", "run 6", "run 5", "run 6"), adaptive_start=True,
    summary="the start rises to 4 KiB and the exiting goroutines keep their 4 KiB stacks; "
            "one shallow goroutine starts at 4 KiB and a GC averages to 2 KiB, so the next "
            "start frees the kept 4 KiB stack and allocates 2 KiB (gfget)"))
_add(Scene(
    "adaptive_start_above_maxstack", (_rec_goroutine(1, 100), _rec_goroutine(2, 100),
                                      _rec_goroutine(3, 60)),
    ((ParkAt(100, "recv"),), (ParkAt(100, "recv"),), ()),
    ("run 1", "run 2", "maxstack 5000", "gc", "run 1", "run 3"), adaptive_start=True,
    summary="debug.SetMaxStack(5000) below the average: the GC caps it at 5000, which "
            "rounds up to 8 KiB; a recycled G starts above the limit and its first growth "
            "overflows"))
_add(Scene(
    "race_adaptive_start", (_rec_goroutine(1, 50), _rec_goroutine(2, 50),
                            _rec_goroutine(3, 60)),
    ((ParkAt(50, "recv"),), (ParkAt(50, "recv"),), (ParkAt(60, "recv"),)),
    ("run 1", "run 2", "gc", "run 1", "run 3", "run 3"), race=True, adaptive_start=True,
    summary="-race: two goroutines parked at depth 50 raise the start; the average plus "
            "-race's stackGuard (1728) rounds to 8 KiB, where plus 928 it would be 4 KiB"))

# Deferred shrink done in newstack: a shrink the GC could not do in a syscall
# (gp.preemptShrink) happens at the next synchronous preemption, here sysmon's after
# 10 ms of spinning (op "spin", under asyncpreemptoff=1). When the preemption comes is
# a matter of timing; the sizes are not (20 runs of 20 alike). Under Go's default the
# same request usually arrives as a signal first (asyncPreempt -> gopreempt_m, no
# shrink): 2 runs of 20 gave these moves, the others five other outcomes.
_add(Scene(
    "deferred_shrink_at_preemption", (_rec_goroutine(1, 400), _rec_goroutine(2, 400)),
    ((ParkAt(400, "recv"), ParkAt(2, "syscall", unwinding=True),
      ParkAt(1, "spin", unwinding=True), ParkAt(0, "recv", unwinding=True)),
     (ParkAt(400, "recv"), ParkAt(2, "recv", unwinding=True),
      ParkAt(1, "spin", unwinding=True))),
    ("run 1", "run 1", "run 2", "run 2", "gc", "gc", "run 1", "run 2", "gc", "run 1",
     "run 2", "gc", "run 1"),
    summary="goroutine 1 in read(2) on 128 KiB through two GCs (shrinks deferred), back "
            "and spinning: sysmon's preemption does the pending shrink in newstack, once; "
            "goroutine 2, shrunk by both GCs, spins with none pending; a GC while both sit "
            "preempted shrinks each from its probeSpin's E"))

# A blocking call's own runtime frames can grow the stack (parkpath): each goroutine
# blocks in its entry function, whose frame leaves one word more or less than the
# deepest check on the way to gopark needs on 2 KiB (growth when that E's hi - E
# reaches 2048 - 928 = 1120).


def _entry_goroutine(k: int, words: int) -> Program:
    return Program(f"g{k}", Function(f"worker{k}", words=words))


_add(Scene(
    "park_grows_recv_edge", tuple(_entry_goroutine(k, w) for k, w in
                                  enumerate((105, 106, 95, 81, 82), 1)),
    ((ParkAt(0, "recv"),),) * 5,
    ("run 1", "run 1", "run 2", "run 2", "run 3", "run 4", "run 5", "run 3", "run 4",
     "run 5"),
    summary="recv from an entry frame one word apart: gopark's (and lock2's) check at "
            "E = SP - 168 grows goroutine 2 but not 1; with goroutine 3 holding the "
            "cached sudog, 4 and 5 allocate theirs (mallocgcSmallScanNoHeader at "
            "SP - 360)"))
_add(Scene(
    "park_grows_select_edge", tuple(_entry_goroutine(k, w) for k, w in
                                    enumerate((53, 54, 72, 73), 1)),
    ((ParkAt(0, "select"),),) * 4,
    ("run 1", "run 2", "run 1", "run 2", "run 3", "run 3", "run 4", "run 4"),
    summary="select's sellock -> lock2 checks at SP - 368, below gopark's SP - 328: "
            "goroutine 4 grows, 3 does not; goroutines 1 and 2 allocate sudogs for both "
            "cases (the cache holds one, then none): down to SP - 520"))
_add(Scene(
    "park_grows_sleep_edge", tuple(_entry_goroutine(k, w) for k, w in
                                   enumerate((106, 107), 1)),
    ((ParkAt(0, "sleep"),),) * 2,
    ("run 1", "run 1", "run 2", "run 2"),
    summary="a goroutine's first time.Sleep allocates its timer: mallocgcSmallScanNoHeader "
            "checks at SP - 184, below gopark's SP - 96: goroutine 2 grows, 1 does not"))
_add(Scene(
    "park_grows_sema_edge", tuple(_entry_goroutine(k, w) for k, w in
                                  enumerate((90, 73, 74, 79, 80), 1)),
    ((ParkAt(0, "mutex"),),) * 3 + ((ParkAt(0, "wg"),),) * 2,
    ("run 1", "run 2", "run 3", "run 4", "run 5", "run 1", "run 2", "run 3", "run 4",
     "run 5"),
    summary="semaphores: goroutine 1 blocks in Mutex.Lock with the cached sudog; the "
            "others allocate theirs in semacquire1 (mallocgcSmallScanNoHeader at SP - 440 "
            "for a mutex, SP - 400 for a WaitGroup): 3 and 5 grow, 2 and 4 do not"))
