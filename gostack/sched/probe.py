"""One description of a scheduler probe, for the model and for real Go.

A :class:`Probe` is a main function and goroutine functions, each a tuple of
statements. Every goroutine function is ``func name(i int)``; ``main`` has ``i = 0``.
Statements:

* :class:`Emit` records ``tag`` with ``i`` (and the loop's ``j``): token ``w3`` or ``w3.1``;
* :class:`Go` starts ``count`` goroutines ``go func(first + k)``, k = 0, 1, ...;
* :class:`Gosched`: ``runtime.Gosched()``;
* :class:`Send` sends ``i << 16 | (j + 1)`` on a channel; :class:`Recv` receives and, with a
  tag, records it: token ``r0<w3`` (``<closed`` when the channel was closed);
  :class:`Close` closes it;
* :class:`WgAdd`, :class:`WgDone`, :class:`WgWait` on a sync.WaitGroup;
* :class:`Lock`, :class:`Unlock` on a sync.Mutex;
* :class:`CondWait`, :class:`CondSignal`, :class:`CondBroadcast` on a sync.Cond
  (``sync.NewCond(&mutex)``; Wait must hold the mutex, as in Go);
* :class:`LockThread`, :class:`UnlockThread`: ``runtime.LockOSThread()`` and
  ``UnlockOSThread()`` (a goroutine must unlock before it returns: a locked goroutine's
  exit ends its thread, which the model leaves to stage 2);
* :class:`Loop` repeats its body ``count`` times with ``j`` = 0, 1, ... (no nesting);
* :class:`Goid` records ``tag`` with the goroutine's goid (read from ``runtime.Stack``):
  token ``g3@7``.

Channels (with their capacity), WaitGroups, Mutexes and Conds (with their Mutex) are
globals, declared by name. A tag is recorded by one kind of statement only (Emit, Goid or
Recv): the program's output keeps the tag, not the statement.

Errors: :class:`ProbeError` for a probe that is not a valid program;
:class:`OutOfScope` when the model refuses a valid one it cannot predict (a time slice
long enough for sysmon's preemption, a Mutex wait long enough for starvation mode, a
goroutine exiting locked to its thread). Timers, ``select``, the netpoller and GC have
no statement here at all.
What a probe observes is the list of tokens, in the order they were recorded. The
program ends when main returns: a probe must make main wait for what it wants to see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..errors import GostackError, ProgramError


class ProbeError(ProgramError):
    """The probe is not a valid program (unknown name, bad tag, nested loop...)."""


class OutOfScope(GostackError, NotImplementedError):
    """A valid probe whose order depends on what stage 1 leaves out (wall time, threads)."""


_IDENT = re.compile(r"^[a-z][A-Za-z0-9]*$")
_RESERVED = frozenset("""main out rec goid dump i j k v ok b n buf runtime sync
    go func for if var int len make append print string byte chan range return""".split())


@dataclass(frozen=True)
class Emit:
    tag: str


@dataclass(frozen=True)
class Goid:
    tag: str


@dataclass(frozen=True)
class Go:
    func: str
    count: int = 1
    first: int = 0


@dataclass(frozen=True)
class Gosched:
    pass


@dataclass(frozen=True)
class Send:
    chan: str


@dataclass(frozen=True)
class Recv:
    chan: str
    tag: str | None = None


@dataclass(frozen=True)
class Close:
    chan: str


@dataclass(frozen=True)
class WgAdd:
    n: int
    wg: str = "wg"


@dataclass(frozen=True)
class WgDone:
    wg: str = "wg"


@dataclass(frozen=True)
class WgWait:
    wg: str = "wg"


@dataclass(frozen=True)
class Lock:
    mutex: str = "mu"


@dataclass(frozen=True)
class Unlock:
    mutex: str = "mu"


@dataclass(frozen=True)
class CondWait:
    cond: str = "cv"


@dataclass(frozen=True)
class CondSignal:
    cond: str = "cv"


@dataclass(frozen=True)
class CondBroadcast:
    cond: str = "cv"


@dataclass(frozen=True)
class LockThread:
    """runtime.LockOSThread(): the goroutine runs only on its current M from now on."""


@dataclass(frozen=True)
class UnlockThread:
    """runtime.UnlockOSThread()."""


@dataclass(frozen=True)
class Loop:
    count: int
    body: tuple = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", tuple(self.body))


Stmt = Emit | Goid | Go | Gosched | Send | Recv | Close | WgAdd | WgDone | WgWait | Lock \
    | Unlock | CondWait | CondSignal | CondBroadcast | LockThread | UnlockThread | Loop


@dataclass(frozen=True)
class Probe:
    """A main and goroutine functions; see the module docstring."""

    name: str
    main: tuple
    funcs: Mapping[str, tuple] = field(default_factory=dict)
    chans: Mapping[str, int] = field(default_factory=dict)  # name -> capacity
    wgs: tuple[str, ...] = ()
    mutexes: tuple[str, ...] = ()
    conds: Mapping[str, str] = field(default_factory=dict)  # name -> its Mutex
    summary: str = ""
    #: main keeps the P for one long time slice (thousands of ``go`` statements): on a
    #: loaded machine it can pass sysmon's 10 ms and be preempted (stage 2), so real runs
    #: print the model's order only some of the time.
    long_slice: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "main", tuple(self.main))
        object.__setattr__(self, "funcs", {k: tuple(v) for k, v in self.funcs.items()})
        object.__setattr__(self, "chans", dict(self.chans))
        object.__setattr__(self, "wgs", tuple(self.wgs))
        object.__setattr__(self, "mutexes", tuple(self.mutexes))
        object.__setattr__(self, "conds", dict(self.conds))
        for c, m in self.conds.items():
            if m not in self.mutexes:
                raise ProbeError(f"{self.name}: Cond {c!r}: no Mutex {m!r}")
        if not re.match(r"^[a-z0-9][a-z0-9_]*$", self.name):
            raise ProbeError(f"probe name {self.name!r}: use lower-case letters, digits, _")
        names = [*self.funcs, *self.chans, *self.wgs, *self.mutexes, *self.conds]
        for n in names:
            if not _IDENT.match(n) or n in _RESERVED:
                raise ProbeError(f"{self.name}: {n!r} is not a usable Go name")
        if len(set(names)) != len(names):
            raise ProbeError(f"{self.name}: names must be distinct: {names}")
        object.__setattr__(self, "_kinds", {})  # tag -> the statement kind recording it
        for where, body in self.bodies():
            self._check(where, body, in_loop=False)

    def __hash__(self) -> int:
        return hash(self.name)

    def bodies(self) -> Iterator[tuple[str, tuple]]:
        yield "main", self.main
        yield from self.funcs.items()

    def _check(self, where: str, body: tuple, in_loop: bool) -> None:
        for s in body:
            if isinstance(s, Loop):
                if in_loop:
                    raise ProbeError(f"{self.name}.{where}: loops do not nest")
                if s.count < 0:
                    raise ProbeError(f"{self.name}.{where}: negative loop count")
                self._check(where, s.body, True)
            elif isinstance(s, Go):
                if s.func not in self.funcs:
                    raise ProbeError(f"{self.name}.{where}: no function {s.func!r}")
                if s.count < 0 or s.first < 0 or s.first + s.count > 65535:
                    raise ProbeError(f"{self.name}.{where}: go {s.func}: args 0..65535")
            elif isinstance(s, Send | Recv | Close):
                if s.chan not in self.chans:
                    raise ProbeError(f"{self.name}.{where}: no channel {s.chan!r}")
            elif isinstance(s, WgAdd | WgDone | WgWait):
                if s.wg not in self.wgs:
                    raise ProbeError(f"{self.name}.{where}: no WaitGroup {s.wg!r}")
            elif isinstance(s, Lock | Unlock):
                if s.mutex not in self.mutexes:
                    raise ProbeError(f"{self.name}.{where}: no Mutex {s.mutex!r}")
            elif isinstance(s, CondWait | CondSignal | CondBroadcast):
                if s.cond not in self.conds:
                    raise ProbeError(f"{self.name}.{where}: no Cond {s.cond!r}")
            elif isinstance(s, Emit | Goid) or (isinstance(s, Recv) and s.tag):
                pass
            elif not isinstance(s, Gosched | LockThread | UnlockThread):
                raise ProbeError(f"{self.name}.{where}: not a statement: {s!r} (stage 1 "
                                 "has no timers, select, netpoller or GC statements)")
            tag = getattr(s, "tag", None)
            if tag is not None and not re.match(r"^[a-z]+$", tag):
                raise ProbeError(f"{self.name}.{where}: tag {tag!r}: lower-case letters only")
            if tag is not None:
                kind = type(s).__name__
                if self._kinds.setdefault(tag, kind) != kind:
                    raise ProbeError(f"{self.name}.{where}: tag {tag!r} is recorded by "
                                     f"{self._kinds[tag]} and {kind}: one kind per tag")

    @property
    def tags(self) -> tuple[str, ...]:
        """Every tag, in first-use order (the Go program records their index)."""
        out: list[str] = []

        def walk(body: tuple) -> None:
            for s in body:
                if isinstance(s, Loop):
                    walk(s.body)
                tag = getattr(s, "tag", None)
                if tag and tag not in out:
                    out.append(tag)

        for _, body in self.bodies():
            walk(body)
        return tuple(out)

    def max_records(self) -> int:
        """An upper bound on the tokens one run records (the Go slice's capacity)."""
        memo: dict[str, int] = {}

        def count(body: tuple, depth: int) -> int:
            if depth > 8:
                raise ProbeError(f"{self.name}: goroutines start goroutines too deeply")
            n = 0
            for s in body:
                if isinstance(s, Loop):
                    n += s.count * count(s.body, depth)
                elif isinstance(s, Go):
                    if s.func not in memo:
                        memo[s.func] = count(self.funcs[s.func], depth + 1)
                    n += s.count * memo[s.func]
                elif isinstance(s, Emit | Goid) or (isinstance(s, Recv) and s.tag):
                    n += 1
            return n

        return count(self.main, 0)


def token(tag: str, i: int, j: int, value: int | None = None, goid: int | None = None,
          closed: bool = False) -> str:
    """The text of one record: ``w3``, ``w3.1``, ``r0<w3``, ``r0<closed``, ``g3@7``."""
    t = f"{tag}{i}" + (f".{j}" if j >= 0 else "")
    if goid is not None:
        return f"{t}@{goid}"
    if closed:
        return f"{t}<closed"
    if value is not None:
        vi, vj = value >> 16, (value & 0xFFFF) - 1
        return f"{t}<{vi}" + (f".{vj}" if vj >= 0 else "")
    return t
