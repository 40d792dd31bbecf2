"""Architecture constants of go1.27 on linux/amd64, written as the runtime derives them.

Each value names the Go source it mirrors. Derived values are formulas, never
literals, so a lesson can show where 928 comes from and a test can check it.
"""

from __future__ import annotations

GO_VERSION = "go1.27.3"
GOOS = "linux"
GOARCH = "amd64"

# src/internal/runtime/sys: pointer and register size.
PTR_SIZE = 8
# The CALL instruction pushes one return address (src/runtime/sys_x86.go).
RETURN_ADDRESS_SIZE = PTR_SIZE

# src/internal/abi/stack.go
STACK_NOSPLIT_BASE = 800  # abi.StackNosplitBase: budget for chains of NOSPLIT functions
STACK_SMALL = 128  # abi.StackSmall: SP may run this far below the guard after a check
STACK_BIG = 4096  # abi.StackBig: above this the prologue needs an underflow-safe check

# src/internal/runtime/sys/consts.go: 1, +1 on AIX, +1 on OpenBSD, +1 for -race.
STACK_GUARD_MULTIPLIER = 1

# src/runtime/stack.go
STACK_SYSTEM = 0  # stackSystem: extra OS space (4096 on Windows, 0 on Linux)
STACK_MIN = 2048  # stackMin: every new goroutine starts with this much


def _round_up_pow2(n: int) -> int:
    """Smallest power of two >= n (stack.go smears the top bit: fixedStack0..6)."""
    return 1 << (n - 1).bit_length()


FIXED_STACK = _round_up_pow2(STACK_MIN + STACK_SYSTEM)  # fixedStack: 2048
STACK_NOSPLIT = STACK_NOSPLIT_BASE * STACK_GUARD_MULTIPLIER  # stackNosplit: 800
STACK_GUARD = STACK_NOSPLIT + STACK_SYSTEM + STACK_SMALL  # stackGuard: 800 + 0 + 128 = 928

# src/cmd/link/internal/ld/stackcheck.go: a NOSPLIT chain may use StackNosplit
# minus the caller's return address.
NOSPLIT_LINK_LIMIT = STACK_NOSPLIT - RETURN_ADDRESS_SIZE  # 792

# src/runtime/proc.go main: decimal on purpose so the message looks round.
MAX_STACK_DEFAULT = 1_000_000_000  # maxstacksize on 64-bit
MAX_STACK_CEILING = 2 * MAX_STACK_DEFAULT  # maxstackceiling: stackalloc takes a uint32

# src/runtime/proc.go newproc1: sp = hi - 4*PtrSize - MinFrameSize (0 on amd64).
NEWPROC_RESERVE = 4 * PTR_SIZE  # 32 bytes left unused at the top of a new stack
# The entry function's E: the reserve plus the fake return PC (goexit) gostartcall pushes.
ENTRY_USED = NEWPROC_RESERVE + RETURN_ADDRESS_SIZE  # 40

# A goroutine inside runtime.GC() is parked below its caller's frame by the frames
# runtime.GC (48) -> gcWaitOnMark (40) -> gopark (24), each plus a return address
# (go tool objdump of go1.27.3 linux/amd64; facts sheet experiment d).
GC_PARK_FRAMES = (48, 40, 24)
GC_PARK_DEPTH = sum(f + RETURN_ADDRESS_SIZE for f in GC_PARK_FRAMES)  # 136

# A blocked goroutine is parked where mcall saved its SP (asm_amd64.s mcall: sched.sp
# is the SP of mcall's caller, after that caller's prologue), so GC scans it from
# there (mgcmark.go scanstack; stack.go shrinkstack uses hi - sched.sp + stackNosplit).
# Each chain below is the runtime frames between the user frame that blocks and
# that SP: (function, $framesize of its TEXT line, NOSPLIT), from
# `go build -gcflags=runtime=-S` of go1.27.3 linux/amd64, and its depth was confirmed
# by real runs reading g.sched.sp (offset 56 of runtime.g) of each parked goroutine.
# goparkunlock is inlined into semacquire1; runtime.Gosched is inlined into its
# caller, so mcall saves the caller's own SP: depth 0.
PARK_CHAINS: dict[str, tuple[tuple[str, int, bool], ...]] = {
    # v := <-c: chanrecv1 (chan.go) -> chanrecv -> gopark (proc.go)
    "recv": (("runtime.chanrecv1", 32, True), ("runtime.chanrecv", 112, False),
             ("runtime.gopark", 24, False)),
    # c <- v: chansend1 -> chansend -> gopark
    "send": (("runtime.chansend1", 40, True), ("runtime.chansend", 104, False),
             ("runtime.gopark", 24, False)),
    # select with two or more cases, no default: selectgo (select.go) -> gopark
    "select": (("runtime.selectgo", 312, False), ("runtime.gopark", 24, False)),
    # time.Sleep (time.go, linknamed) -> gopark
    "sleep": (("time.Sleep", 80, False), ("runtime.gopark", 24, False)),
    # runtime.Gosched, inlined: mcall(gosched_m) from the user frame
    "gosched": (),
    # sync.Mutex.Lock (fast path inlined) -> internal/sync.(*Mutex).lockSlow ->
    # runtime_SemacquireMutex (sema.go) -> semacquire1 -> gopark
    "mutex": (("internal/sync.(*Mutex).lockSlow", 72, False),
              ("internal/sync.runtime_SemacquireMutex", 48, False),
              ("runtime.semacquire1", 96, False), ("runtime.gopark", 24, False)),
    # sync.WaitGroup.Wait -> runtime_SemacquireWaitGroup -> semacquire1 -> gopark
    "wg": (("sync.(*WaitGroup).Wait", 32, False),
           ("sync.runtime_SemacquireWaitGroup", 48, False),
           ("runtime.semacquire1", 96, False), ("runtime.gopark", 24, False)),
    # syscall.Read (inlined) -> syscall.read 56 -> syscall.Syscall 88 (NOSPLIT) ->
    # runtime.entersyscall, which saves its caller's SP as gp.syscallsp (proc.go
    # reentersyscall): not a park (_Gsyscall), and scanstack scans from syscallsp but
    # isShrinkStackSafe refuses (stack.go): the shrink is deferred (gp.preemptShrink).
    "syscall": (("syscall.read", 56, False), ("syscall.Syscall", 88, True)),
}
PARK_DEPTH = {op: sum(f + RETURN_ADDRESS_SIZE for _, f, _ in chain)
              for op, chain in PARK_CHAINS.items()}
# recv 192, send 192, select 352, sleep 120, gosched 0, mutex 272, wg 232, syscall 160
# (measured: g.sched.sp, or g.syscallsp at offset 104, of blocked goroutines)

# -race builds (Runtime(race=True)): src/internal/runtime/sys/consts.go adds 1 to
# StackGuardMultiplier when isRace (consts_race.go); cmd/internal/objabi/stack.go's
# stackGuardMultiplier does the same for the compiler and linker (issue #54291).
STACK_GUARD_MULTIPLIER_RACE = STACK_GUARD_MULTIPLIER + 1  # 2
STACK_NOSPLIT_RACE = STACK_NOSPLIT_BASE * STACK_GUARD_MULTIPLIER_RACE  # 1600
STACK_GUARD_RACE = STACK_NOSPLIT_RACE + STACK_SYSTEM + STACK_SMALL  # 1728
NOSPLIT_LINK_LIMIT_RACE = STACK_NOSPLIT_RACE - RETURN_ADDRESS_SIZE  # 1592
# The park chains of a -race build (go build -race -gcflags=runtime=-S, objdump of the
# instrumented sync package; depths confirmed by reading g.sched.sp): chansend and
# selectgo have bigger frames, runtime.Gosched and sync.Mutex.Lock are not inlined.
PARK_CHAINS_RACE: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "recv": PARK_CHAINS["recv"],
    "send": (("runtime.chansend1", 40, True), ("runtime.chansend", 112, False),
             ("runtime.gopark", 24, False)),
    "select": (("runtime.selectgo", 344, False), ("runtime.gopark", 24, False)),
    "sleep": PARK_CHAINS["sleep"],
    "gosched": (("runtime.Gosched", 16, True),),
    "mutex": (("sync.(*Mutex).Lock", 16, False), ("internal/sync.(*Mutex).Lock", 24, False),
              *PARK_CHAINS["mutex"]),
    "wg": (("sync.(*WaitGroup).Wait", 56, False), *PARK_CHAINS["wg"][1:]),
}
PARK_DEPTH_RACE = {op: sum(f + RETURN_ADDRESS_SIZE for _, f, _ in chain)
                   for op, chain in PARK_CHAINS_RACE.items()}
# recv 192, send 200, select 384, sleep 120, gosched 24, mutex 328, wg 256 (measured)

# runtime.GC() runs on its caller's stack, so it can grow it. Its deepest checks on
# go1.27.3 linux/amd64 (real tracebacks and `go tool objdump`; realgo corpus gc_*_edge_*):
# - the process's first GC, before the scan: GC 48 -> gcStart 272 -> gcBgMarkStartWorkers 48
#   -> chanrecv1 -> chanrecv -> acquireSudog -> newobject -> mallocgc ->
#   mallocgcSmallScanNoHeader (frame 88, small form) with E = SP - 752;
# - every GC, after the scan, in the sweep: GC -> sweepone -> sweepLocked.sweep ->
#   spanSet.push -> atomicHeadTailIndex.incTail (frame 32, small form) with E = SP - 544.
GC_ENTRY_CHECK = ("runtime.GC", GC_PARK_FRAMES[0], RETURN_ADDRESS_SIZE)  # its own prologue
GC_FIRST_CHECK = ("runtime.mallocgcSmallScanNoHeader", 88, 752)  # (func, frame, SP - E)
GC_SWEEP_CHECK = ("runtime.(*atomicHeadTailIndex).incTail", 32, 544)

# src/runtime/stack.go sentinels; all sit above stackPoisonMin.
UINTPTR_MASK = (1 << 64) - 1
STACK_PREEMPT = UINTPTR_MASK & -1314  # 0xfffffffffffffade
STACK_FORK = UINTPTR_MASK & -1234
STACK_FORCE_MOVE = UINTPTR_MASK & -275
STACK_POISON_MIN = UINTPTR_MASK & -4096

# src/runtime/stack.go fillstack under stackPoisonCopy.
POISON_NEW = 0xFDFDFDFDFDFDFDFD  # new stack before the copy
POISON_OLD = 0xFCFCFCFCFCFCFCFC  # old stack before it is freed

# src/runtime/malloc.go: smaller non-nil pointers are "invalid pointer found on stack".
MIN_LEGAL_POINTER = 4096

# src/runtime/malloc.go: per-P stack cache and the orders it serves (2, 4, 8, 16 KiB).
STACK_CACHE_SIZE = 32 * 1024  # _StackCacheSize, also the span size for small stacks
NUM_STACK_ORDERS = 4  # _NumStackOrders on linux
PAGE_SIZE = 8192  # gc.PageShift = 13

# The runtime's own stacks (issue 14). src/runtime/runtime2.go type g: stack.lo at 0,
# stack.hi at 8, stackguard0 at 16, stackguard1 at 24 ("offset known to cmd/internal/obj/*");
# cmd/internal/obj/x86/obj6.go stacksplit loads 2*PtrSize, or 3*PtrSize for a
# //go:systemstack function (cursym.CFunc()), whose slow path calls runtime.morestackc.
G_STACKGUARD0_OFFSET = 2 * PTR_SIZE  # 16
G_STACKGUARD1_OFFSET = 3 * PTR_SIZE  # 24
# src/runtime/proc.go malg: every G it allocates gets stackguard1 = ^uintptr(0), so a
# //go:systemstack prologue on a goroutine's stack always fails (runtime2.go's comment).
STACKGUARD1_USER = UINTPTR_MASK
# src/runtime/proc.go allocm: without cgo, an M's g0 is malg(16384 * sys.StackGuardMultiplier)
# (with cgo, or where the OS allocates thread stacks, malg(-1): the thread's own stack).
G0_STACK_SIZE = 16384 * STACK_GUARD_MULTIPLIER  # 16384
G0_STACK_SIZE_RACE = 16384 * STACK_GUARD_MULTIPLIER_RACE  # 32768
# src/runtime/os_linux.go mpreinit: mp.gsignal = malg(32 * 1024), "Linux wants >= 2K".
GSIGNAL_STACK_SIZE = 32 * 1024
# src/runtime/asm_amd64.s rt0_go: m0's g0 is the 64 KiB below the OS stack's entry SP
# (LEAQ (-64*1024)(SP), BX: stack.lo, and both guards until mstart0 adds stackGuard).
M0_G0_STACK_SIZE = 64 * 1024
