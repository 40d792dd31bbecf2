"""The lessons' real-Go programs, beside ``gostack.realgo`` which builds and runs them.

Lessons 04-08 check the simulator against real Go: :func:`lesson_programs` are realgo
probe programs (``gostack.program.Program``), the ``GO_*`` sources are small programs of
their own (escape analysis, a pointer kept across moves, the adaptive start). Each lesson
shows the results recorded by scripts/record_lessons.py (:func:`load_recorded`), and runs
them live when Go is here and its build cache is warm (:func:`live_go`).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import program, realgo
from .i18n import N_, _
from .program import Function, Program

RECORDED_PATH = Path(__file__).resolve().parent / "data" / "lessons_recorded.json"


def lesson_programs() -> dict:
    """The realgo probe programs lessons 04-08 run (gostack.program.Program values)."""
    worker = Function("worker")
    rec = Function("recA", words=16, pointers=1)
    big = Function("recBig", words=1280)
    progs = [
        Program("lesson_running", worker, cycle=(rec,), depth=400,
                summary=N_("the running example: recA holds p = &x of the worker")),
        Program("lesson_big_frame", worker, cycle=(big,), depth=30,
                summary=N_("a 10 KiB array in every frame: the fit loop")),
        Program("lesson_small_limit", worker, cycle=(rec,), depth=400, max_stack=32768,
                summary=N_("debug.SetMaxStack(32768): the overflow")),
        Program("lesson_default_limit", worker, cycle=(big,), depth=100000, heavy=True,
                summary=N_("the default 1,000,000,000-byte limit (needs about 1.1 GB of RAM)")),
        Program("lesson_shrink", worker, cycle=(rec,), depth=400, gc_after=8,
                summary=N_("400 calls deep, back to the worker, then eight runtime.GC()")),
    ]
    return {p.name: p for p in progs}


GO_ESCAPES = """\
package main

var global *int

//go:noinline
func stays() int {
	x := 1
	p := &x // p never leaves the call: x stays on the stack
	return *p
}

//go:noinline
func returned() *int {
	y := 2
	return &y // &y outlives the call: y must move to the heap
}

//go:noinline
func stored() {
	z := 3
	global = &z // the heap (a global) would point at z: z must move to the heap
}

func main() {
	println(stays(), *returned())
	stored()
}
"""


GO_POINTER = """\
// A pointer and a uintptr to the same local, before and after the stack moves.
package main

import (
	"fmt"
	"unsafe"
)

func curg() uintptr // curg_amd64.s: the running goroutine's g

// stack is the head of the runtime's g: stack.lo, stack.hi.
type stack struct{ lo, hi uintptr }

//go:noinline
func deep(n int) uint64 {
	var buf [32]uint64
	buf[n%32] = uint64(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[(n*7)%32]
}

var (
	sink uint64
	done = make(chan struct{})
)

func worker() {
	g := (*stack)(unsafe.Pointer(curg()))
	x := 42
	p := &x                          // a pointer: in the stack map, adjusted by copystack
	u := uintptr(unsafe.Pointer(&x)) // the same address as an integer: never adjusted
	size0, offP0, offU0 := g.hi-g.lo, g.hi-uintptr(unsafe.Pointer(p)), g.hi-u

	sink += deep(100) // 101 frames of about 280 bytes: the stack moves several times

	size1, offP1 := g.hi-g.lo, g.hi-uintptr(unsafe.Pointer(p))
	moved := int64(uintptr(unsafe.Pointer(p)) - u)
	inside := g.lo <= u && u < g.hi
	fmt.Printf("before: stack %d bytes, hi-p = %d, hi-u = %d, *p = %d\\n", size0, offP0, offU0, *p)
	fmt.Printf("after:  stack %d bytes, hi-p = %d, *p = %d\\n", size1, offP1, *p)
	fmt.Printf("after:  u == uintptr(p): %t, u inside the stack: %t\\n",
		uintptr(unsafe.Pointer(p)) == u, inside)
	fmt.Printf("p - u = %d (the sum of the moves' deltas; it varies from run to run)\\n", moved)
	done <- struct{}{}
}

func main() {
	go worker()
	<-done
}
"""


GO_ADAPTIVE = """\
// Go 1.19's adaptive starting stack size: park 100 goroutines deep in a recursion,
// run a GC (it averages the stack bytes in use), let them exit, then start one more.
// Usage: adaptive DEPTH exit|keep
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

func curg() uintptr // curg_amd64.s: the running goroutine's g

type stack struct{ lo, hi uintptr }

//go:noinline
func park(d, depth int, started *sync.WaitGroup, release chan struct{}) uint64 {
	var buf [16]uint64
	buf[d&15] = uint64(d)
	if d < depth {
		return park(d+1, depth, started, release) + buf[(d*7)&15]
	}
	started.Done()
	<-release
	return buf[3]
}

func main() {
	depth, _ := strconv.Atoi(os.Args[1])
	var started, exited sync.WaitGroup
	release := make(chan struct{})
	for i := 0; i < 100; i++ {
		started.Add(1)
		exited.Add(1)
		go func() {
			park(1, depth, &started, release)
			exited.Done()
		}()
	}
	started.Wait()
	runtime.Gosched()
	runtime.GC() // scans the parked stacks: startingStackSize = average in use + 928, rounded up
	if os.Args[2] == "exit" {
		close(release)
		exited.Wait() // their Gs are now free for reuse
	}
	size := make(chan uintptr)
	go func() {
		g := (*stack)(unsafe.Pointer(curg()))
		size <- g.hi - g.lo
	}()
	fmt.Println(<-size)
}
"""


ADAPTIVE_DEPTHS = (5, 20, 50, 100)


def load_recorded(path: Path | str | None = None) -> dict:
    """gostack/data/lessons_recorded.json (written by scripts/record_lessons.py)."""
    with open(path or RECORDED_PATH, encoding="utf-8") as f:
        return json.load(f)


def recorded_label(rec: dict | None = None) -> str:
    rec = rec or load_recorded()
    return _("recorded with {version} on {date}").format(version=rec["go_version"],
                                                          date=rec["recorded"])


def comparison(name: str, *, live: bool = False, recorded: dict | None = None):
    """realgo's side-by-side of the simulator and real Go for one of lesson_programs():
    a live run (``live=True``, needs Go) or the recorded one."""
    prog = lesson_programs()[name]
    if live:
        return realgo.compare(prog)
    return realgo.compare_recorded(prog, recorded if recorded is not None else load_recorded())


@dataclass(frozen=True)
class LiveGo:
    """Whether a lesson's live Go cells run now, and why not if they don't."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok


def live_go(force: bool = False) -> LiveGo:
    """Go is here and realgo's build cache is warm (or ``force``): live cells may run.

    The first build on a machine compiles Go's standard library (5-30 s), too long to risk
    in a lesson that must run in under 30 s; a lesson then shows its recorded results and
    says so.
    """
    a = realgo.available()
    if not a:
        return LiveGo(False, _("No Go here, so the recorded results stand ({why}).").format(
            why=a.reason))
    if not force and not realgo.cache_warm():
        return LiveGo(False, _("Go is here, but nothing was built with it yet: the first build "
                               "compiles Go's standard library (5-30 s, once), so the recorded "
                               "results stand. To run it anyway: live = "
                               "golessons.live_go(force=True)"))
    return LiveGo(True, a.reason)


def _go_files(src: str) -> dict[str, str]:
    return {"go.mod": "module lesson\n\ngo 1.27\n", "main.go": src,
            "curg_amd64.s": program.CURG_ASM}


def build_lesson_program(src: str):
    """Build one of the lessons' Go programs with realgo's cache (a realgo.Build)."""
    return realgo.build_files(_go_files(src), label="lesson")


def run_lesson_program(src: str, args: Sequence[str] = (), godebug: str | None = None,
                       timeout: float = 60) -> subprocess.CompletedProcess:
    """Build (cached) and run a lesson program in realgo's probe environment
    (GOMAXPROCS=1, GOGC=off; GODEBUG as given, else adaptivestackstart=0)."""
    b = build_lesson_program(src)
    env = realgo.run_env()
    if godebug is not None:
        env["GODEBUG"] = godebug
    return subprocess.run([str(b.binary), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def escape_decisions() -> list[str]:
    """`go build -gcflags=-m` on GO_ESCAPES: the lines about that file."""
    return [str(d) for d in realgo.escapes(GO_ESCAPES)]


_VARIES = re.compile(r"^p - u = ")


def pointer_demo() -> dict:
    """Run GO_POINTER: its deterministic lines, the varying one, and the compiler's frames."""
    b = build_lesson_program(GO_POINTER)
    r = run_lesson_program(GO_POINTER)
    if r.returncode != 0:
        raise RuntimeError(f"the pointer demo failed:\n{r.stderr[-2000:]}")
    lines = r.stdout.splitlines()
    return {
        "stable": [x for x in lines if not _VARIES.match(x)],
        "varies": [x for x in lines if _VARIES.match(x)],
        "frames": {k: v.frame for k, v in b.frames.items() if k in ("main.worker", "main.deep")},
        "moved_to_heap": [str(d) for d in b.decisions if d.moved_to_heap],
    }


def adaptive_sizes() -> dict[str, dict[str, int]]:
    """GO_ADAPTIVE's starting stack sizes, by parked depth, for the three set-ups."""
    out: dict[str, dict[str, int]] = {}
    for name, godebug, mode in (("default", "", "exit"),
                                ("adaptivestackstart=0", "adaptivestackstart=0", "exit"),
                                ("fresh G", "", "keep")):
        row = {}
        for d in ADAPTIVE_DEPTHS:
            r = run_lesson_program(GO_ADAPTIVE, (str(d), mode), godebug=godebug)
            if r.returncode != 0:
                raise RuntimeError(f"the adaptive-start demo failed:\n{r.stderr[-2000:]}")
            row[str(d)] = int(r.stdout.strip())
        out[name] = row
    return out



#: What a live rerun compares with the recording, in the lesson's words.
LIVE_SAME = {"growths": N_("go1.27.3, live: the same growths as recorded"),
             "growths and shrinks": N_("go1.27.3, live: the same growths and shrinks as "
                                       "recorded"),
             "sizes": N_("go1.27.3, live: the same sizes as recorded"),
             "escapes": N_("go1.27.3, live: the same escape decisions as recorded")}


def live_verdict(what: str, same: bool, detail: object, different: bool = True) -> str:
    """A live rerun against the recording: the same ``what`` as recorded, or ``detail``
    (the live table or sizes)."""
    if same:
        return _(LIVE_SAME[what])
    return _("go1.27.3, live:") + (" " + _("different:") + "\n" if different else " ") + str(
        detail)
