"""The runtime's own stacks, g0 and gsignal, which never grow (src/runtime, go1.27.3).

Every thread running Go code (an M) has two Gs besides the goroutines it runs: g0, whose
stack the scheduler and newstack run on, and gsignal, whose stack signal handlers run on.
Their stacks are fixed:

- g0 of an M the runtime starts: ``malg(16384 * sys.StackGuardMultiplier)`` (proc.go
  allocm), 16 KiB, 32 KiB under -race; with cgo the thread's own stack (``malg(-1)``);
- g0 of m0, the main thread: the 64 KiB below the OS stack's entry SP (asm_amd64.s rt0_go);
- gsignal: ``malg(32 * 1024)`` (os_linux.go mpreinit).

Each G has two guards (runtime2.go type g). stackguard0, at offset 16, is what ordinary
prologues compare with: lo + 928 everywhere (or stackPreempt). stackguard1, at offset
24, is what //go:systemstack prologues compare with (obj6.go stacksplit, ``CFunc()``):
lo + 928 on g0 (proc.go mstart0) and gsignal (proc.go mcommoninit), but ``^uintptr(0)``
on a goroutine (proc.go malg), so such a function on a goroutine's stack always fails
its check; its slow path calls morestackc, which throws (stack.go morestackc).

When an ordinary check fails on g0 or gsignal, morestack looks at the G before anything
else and dies instead of calling newstack (asm_amd64.s morestack, proc.go
badmorestackg0 and badmorestackgsignal). :class:`SystemStack` runs calls on such a stack
with the real check (gostack.prologue) and raises those errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from . import prologue
from .arch import (
    G0_STACK_SIZE,
    G0_STACK_SIZE_RACE,
    GSIGNAL_STACK_SIZE,
    M0_G0_STACK_SIZE,
    RETURN_ADDRESS_SIZE,
    STACK_GUARD,
    STACK_GUARD_RACE,
    STACKGUARD1_USER,
)
from .errors import (
    EmptyStackError,
    MorestackOnG0,
    MorestackOnGsignal,
    ProgramError,
    SystemStackOnUserStack,
)
from .i18n import N_, _, text_width
from .symtab import Func


@dataclass(frozen=True)
class SystemFunc(Func):
    """A function marked //go:systemstack: its check compares SP with stackguard1, and its
    slow path calls morestackc (obj6.go stacksplit). Only the runtime may use the pragma
    (noder.go: "//go:systemstack only allowed in runtime")."""

    @property
    def systemstack(self) -> bool:
        return True


def is_systemstack(func: Func) -> bool:
    """Whether ``func``'s prologue compares with stackguard1 (a :class:`SystemFunc`)."""
    return isinstance(func, SystemFunc)


class Which(Enum):
    """Whose stack: the three kinds of G an M runs code on."""

    GOROUTINE = "goroutine"
    G0 = "g0"
    GSIGNAL = "gsignal"


@dataclass(frozen=True)
class StackSpec:
    """One kind of stack: its size, its two guards (as offsets from lo), whether it grows."""

    name: str
    which: Which
    size: int | None  # bytes; None: the thread's own stack, sized by the OS or by cgo
    guard0: int  # stackguard0 - lo
    guard1: int | None  # stackguard1 - lo; None: ^uintptr(0), every systemstack check fails
    source: str

    @property
    def grows(self) -> bool:
        """Only a goroutine's stack grows: morestack refuses g0 and gsignal."""
        return self.which is Which.GOROUTINE

    def row(self) -> str:
        """The spec as one line of a table, in the language in use."""
        size = _("thread's") if self.size is None else f"{self.size:,} B"
        g1 = "~0" if self.guard1 is None else f"lo + {self.guard1}"
        grows = _("grows") if self.grows else _("never grows")

        def ljust(text: str, width: int) -> str:  # Hangul takes two columns
            return text + " " * (width - text_width(text))

        return (f"{ljust(_(self.name), 16)} {' ' * (9 - text_width(size))}{size}  "
                f"stackguard1 = {g1:<9} {ljust(grows, 11)}  ({self.source})")


def specs(race: bool = False, cgo: bool = False) -> tuple[StackSpec, ...]:
    """The stacks of one M on linux/amd64: a goroutine's, g0's (m0's and another M's), and
    gsignal's. ``race``: StackGuardMultiplier 2; ``cgo``: g0 is the thread's stack."""
    guard = STACK_GUARD_RACE if race else STACK_GUARD
    g0 = None if cgo else (G0_STACK_SIZE_RACE if race else G0_STACK_SIZE)
    return (
        StackSpec(N_("goroutine (new)"), Which.GOROUTINE, 2048, guard, None,
                  "proc.go newproc1, malg"),
        StackSpec(N_("g0 of m0"), Which.G0, M0_G0_STACK_SIZE, guard, guard,
                  "asm_amd64.s rt0_go, proc.go mstart0"),
        StackSpec(N_("g0 of another M"), Which.G0, g0, guard, guard,
                  "proc.go allocm, mstart0"),
        StackSpec("gsignal", Which.GSIGNAL, GSIGNAL_STACK_SIZE, guard, guard,
                  "os_linux.go mpreinit, proc.go mcommoninit"),
    )


_LO = 0xC000100000  # a made-up address for the stacks below; only offsets matter


class SystemStack:
    """g0's or gsignal's stack: calls go down from hi with the real prologue check, and the
    check that would call morestack raises instead (morestack on g0 / on gsignal, or
    morestackc's throw for a //go:systemstack function). Nothing here ever grows."""

    def __init__(self, which: Which, size: int, *, lo: int = _LO, race: bool = False) -> None:
        if which is Which.GOROUTINE:
            raise ProgramError("a goroutine's stack grows: use gostack.Runtime().go(...)")
        self.which, self.lo, self.hi = which, lo, lo + size
        # mstart0 (g0) and mcommoninit (gsignal) set stackguard1 to lo + stackGuard too.
        self.stackguard0 = self.stackguard1 = lo + (STACK_GUARD_RACE if race else STACK_GUARD)
        self._frames: list[Func] = []
        self._used = 0

    @classmethod
    def g0(cls, race: bool = False, m0: bool = False) -> SystemStack:
        """The g0 of an M the runtime started (16 KiB, 32 KiB under -race), or of m0."""
        size = M0_G0_STACK_SIZE if m0 else (G0_STACK_SIZE_RACE if race else G0_STACK_SIZE)
        return cls(Which.G0, size, race=race)

    @classmethod
    def gsignal(cls, race: bool = False) -> SystemStack:
        """An M's signal stack: 32 KiB whatever the build."""
        return cls(Which.GSIGNAL, GSIGNAL_STACK_SIZE, race=race)

    @property
    def size(self) -> int:
        return self.hi - self.lo

    @property
    def used(self) -> int:
        """hi - SP."""
        return self._used

    @property
    def sp(self) -> int:
        return self.hi - self._used

    @property
    def frames(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._frames)

    def check_fails(self, func: Func) -> bool:
        """Whether ``func``'s prologue, called now, would take its slow path."""
        if func.nosplit:
            return False
        guard = self.stackguard1 if is_systemstack(func) else self.stackguard0
        return prologue.morestack_needed(self.sp - RETURN_ADDRESS_SIZE, func.frame, guard)

    def call(self, func: Func) -> None:
        """CALL func: its check, then its frame; a failed check is fatal here."""
        e = self.sp - RETURN_ADDRESS_SIZE
        if self.check_fails(func):
            if is_systemstack(func):
                raise SystemStackOnUserStack(func.name, sp=e, stackguard1=self.stackguard1)
            error = MorestackOnG0 if self.which is Which.G0 else MorestackOnGsignal
            raise error(func.name, sp=e, lo=self.lo, hi=self.hi)
        self._frames.append(func)
        self._used += RETURN_ADDRESS_SIZE + func.frame

    def ret(self) -> None:
        if not self._frames:
            raise EmptyStackError(f"{self.which.value}: no frame to return from")
        self._used -= RETURN_ADDRESS_SIZE + self._frames.pop().frame

    def depth_reached(self, func: Func, limit: int = 1 << 20) -> tuple[int, Exception]:
        """Call ``func`` over and over until the stack refuses: (the call that failed,
        counted from 1, and the error)."""
        for n in range(1, limit + 1):
            try:
                self.call(func)
            except (MorestackOnG0, MorestackOnGsignal, SystemStackOnUserStack) as e:
                return n, e
        raise ProgramError(f"{func.name}: no failure in {limit} calls")


def check_on_goroutine(g, func: Func) -> None:
    """The prologue of ``func`` about to run on goroutine ``g`` (a gostack Goroutine). A
    :class:`SystemFunc`'s check compares with the goroutine's stackguard1, ^uintptr(0), which
    every SP is below, so it always calls morestackc and dies; any other function passes.
    ``Goroutine.call`` runs this for every SystemFunc."""
    if is_systemstack(func) and not func.nosplit:
        e = g.sp - RETURN_ADDRESS_SIZE
        if prologue.morestack_needed(e, func.frame, STACKGUARD1_USER):
            raise SystemStackOnUserStack(func.name, sp=e, stackguard1=STACKGUARD1_USER)


def call_on_goroutine(g, func: Func) -> None:
    """CALL ``func`` on goroutine ``g``: ``g.call(func)``, which checks it as
    :func:`check_on_goroutine` says."""
    g.call(func)
