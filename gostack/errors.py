"""Typed errors. Runtime failures carry the runtime's own words; misuse names the bad input."""

from __future__ import annotations


class GostackError(Exception):
    """Base of every error gostack raises on purpose."""


class ProgramError(GostackError, ValueError):
    """The simulated program is not a valid Go program (bad frame, unknown local...)."""


class FrameSizeError(ProgramError):
    """A frame size that the Go compiler could never print on a TEXT line."""


class LocalError(ProgramError):
    """A local that does not exist in the frame, or does not fit it."""


class LocalKindError(ProgramError):
    """A value of the wrong kind for a local (a Go pointer into a uintptr, ...)."""


class EscapeError(ProgramError):
    """A pointer the compiler's escape analysis would never let point at a stack."""


class EmptyStackError(GostackError, IndexError):
    """ret or a frame lookup on a goroutine with no frames left."""


class GoroutineExited(GostackError, RuntimeError):
    """The goroutine returned from its entry function (or died) and cannot run."""


class RuntimeThrow(GostackError, RuntimeError):
    """A fatal error of the Go runtime (`throw`): the real program would exit with status 2."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        self.throw_message = message
        self.details = details
        super().__init__("\n".join((*details, f"fatal error: {message}")))


class StackOverflow(RuntimeThrow):
    """newstack refused to grow past max_stack: `fatal error: stack overflow`.

    ``call_index`` is the call whose prologue asked for the stack that does not fit.
    """

    def __init__(
        self,
        limit: int,
        *,
        sp: int = 0,
        lo: int = 0,
        hi: int = 0,
        call_index: int | None = None,
        func: str | None = None,
        new_size: int | None = None,
    ) -> None:
        self.limit = limit
        self.sp, self.lo, self.hi = sp, lo, hi
        self.call_index = call_index
        self.func = func
        self.new_size = new_size
        super().__init__(
            "stack overflow",
            (
                f"runtime: goroutine stack exceeds {limit}-byte limit",
                f"runtime: sp={sp:#x} stack=[{lo:#x}, {hi:#x}]",
            ),
        )

    @property
    def size(self) -> int:
        """Size of the stack that could not grow."""
        return self.hi - self.lo


class InvalidPointer(RuntimeThrow):
    """adjustpointers found 0 < p < 4096 in a pointer slot: `invalid pointer found on stack`."""

    def __init__(self, func: str, addr: int, value: int) -> None:
        self.func, self.addr, self.value = func, addr, value
        super().__init__(
            "invalid pointer found on stack",
            (f"runtime: bad pointer in frame {func} at {addr:#x}: {value:#x}",),
        )


class NosplitOverflow(RuntimeThrow):
    """A NOSPLIT chain ran SP below the stack; the real linker rejects such a program."""

    def __init__(self, func: str, over: int) -> None:
        self.func, self.over = func, over
        super().__init__(
            "nosplit stack overflow",
            (f"{func}: nosplit stack overflow, {over} bytes below the stack",),
        )


class NosplitLinkError(ProgramError):
    """The program would not link: a chain of NOSPLIT functions needs more than
    StackNosplit - callSize bytes (792 on amd64, 1592 with -race), the linker's check
    in cmd/link/internal/ld/stackcheck.go (doStackCheck). The message is the linker's:
    the root, then the chain, each step's growth, and how far over the limit it is
    (or "infinite cycle" for NOSPLIT recursion).

    ``chain`` is ((func, growth), ...) from the root: growth is the frame plus the
    return address for each call, the callee's frame for the last one.
    """

    def __init__(self, chain: tuple[tuple[str, int], ...], limit: int,
                 cycle: bool = False) -> None:
        self.chain, self.limit, self.cycle = tuple(chain), limit, cycle
        self.root = self.chain[0][0]
        self.height = sum(g for _, g in self.chain)
        self.over = None if cycle else self.height - limit
        lines = [f"{self.root}: nosplit stack over {limit} byte limit", f"{self.root}<1>"]
        for i, (_, growth) in enumerate(self.chain):
            indent = "    " * (i + 1)
            nxt = self.chain[i + 1][0] if i + 1 < len(self.chain) else None
            if cycle and nxt is None:
                nxt = self.root
            lines.append(f"{indent}grows {growth} bytes" + (f", calls {nxt}<1>" if nxt else ""))
        indent = "    " * len(self.chain)
        lines.append(f"{indent}infinite cycle" if cycle
                     else f"{indent}{self.over} bytes over limit")
        super().__init__("\n".join(lines))


class MorestackOnSystemStack(RuntimeThrow):
    """A prologue check failed on g0 or gsignal: morestack looks at which G it is on before
    anything else and refuses (src/runtime/asm_amd64.s morestack: "Cannot grow scheduler
    stack (m->g0)", "Cannot grow signal stack (m->gsignal)"). Those stacks never grow.

    ``sp`` is g.sched.sp as morestack saved it: E, the entry SP of ``func``.
    """

    stack = "system stack"

    def __init__(self, func: str, *, sp: int, lo: int, hi: int) -> None:
        self.func, self.sp, self.lo, self.hi = func, sp, lo, hi
        super().__init__(f"morestack on {self.stack}", self._details())

    def _details(self) -> tuple[str, ...]:
        return ()


class MorestackOnG0(MorestackOnSystemStack):
    """`fatal error: morestack on g0` (src/runtime/proc.go badmorestackg0: on linux it prints
    the bounds and sched.sp, a traceback, then throws on the crash stack)."""

    stack = "g0"

    def _details(self) -> tuple[str, ...]:
        return (f"runtime: morestack on g0, stack [{self.lo:#x} {self.hi:#x}], "
                f"sp={self.sp:#x}, called from",)


class MorestackOnGsignal(MorestackOnSystemStack):
    """`fatal: morestack on gsignal` (src/runtime/proc.go badmorestackgsignal writes only
    this line, no throw; morestack then calls runtime.abort)."""

    stack = "gsignal"

    def __init__(self, func: str, *, sp: int, lo: int, hi: int) -> None:
        super().__init__(func, sp=sp, lo=lo, hi=hi)
        self.args = ("fatal: morestack on gsignal",)

    def __str__(self) -> str:
        return self.args[0]


class SystemStackOnUserStack(RuntimeThrow):
    """A //go:systemstack function's check failed, so its slow path called morestackc, which
    always throws (src/runtime/stack.go morestackc). On a goroutine's own stack it always
    fails: stackguard1 is ~0 there (proc.go malg)."""

    def __init__(self, func: str, *, sp: int, stackguard1: int) -> None:
        self.func, self.sp, self.stackguard1 = func, sp, stackguard1
        super().__init__("attempt to execute system stack code on user stack")
