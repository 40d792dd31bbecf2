"""Functions as the runtime sees them: a frame size and a stack map (src/runtime/symtab.go).

Frame layout on amd64, from high to low addresses:

    E          return address (pushed by CALL, not part of the frame)
    E-8        saved BP       (part of the frame)
    ...        locals
    E-frame    SP after the prologue; a Local's offset counts up from here

A Local's kind is what the compiler's pointer bitmap records: only POINTER slots are
in the stack map, so only they are adjusted when the stack moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .arch import PTR_SIZE, STACK_SMALL
from .errors import FrameSizeError, LocalError


class Kind(Enum):
    POINTER = "pointer"  # *T, unsafe.Pointer: a 1 bit in the stack map
    UINTPTR = "uintptr"  # an address as an integer: invisible to the copier
    SCALAR = "scalar"  # int, float...: invisible to the copier


POINTER, UINTPTR, SCALAR = Kind.POINTER, Kind.UINTPTR, Kind.SCALAR


def _check_size(what: str, value: object, error: type[Exception] = FrameSizeError) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise error(f"{what} must be >= 0, got {value}")
    if value % PTR_SIZE:
        raise error(f"{what} must be a multiple of {PTR_SIZE} bytes, got {value}")
    return value


@dataclass(frozen=True)
class Local:
    """A typed 8-byte local at ``offset`` bytes above the frame's SP."""

    name: str
    kind: Kind
    offset: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise LocalError(f"a local needs a non-empty name, got {self.name!r}")
        if not isinstance(self.kind, Kind):
            raise LocalError(f"local {self.name!r}: kind must be a gostack.Kind, got {self.kind!r}")
        _check_size(f"local {self.name!r} offset", self.offset, LocalError)


@dataclass(frozen=True)
class Func:
    """A function: its TEXT-line ``$framesize`` (saved BP included) and typed locals."""

    name: str
    frame: int
    locals: tuple[Local, ...] = ()
    nosplit: bool = False
    # What the function calls, by symbol name ("runtime.panicBounds", "main.f"), for the
    # compiler's automatic-NOSPLIT rule; None: not said (leaf_nosplit_eligible is then False).
    calls: tuple[str, ...] | None = field(default=None, compare=False)
    _by_name: dict[str, Local] = field(init=False, repr=False, compare=False, hash=False)
    # Offsets of the stack map's 1 bits, precomputed for the copier.
    pointer_offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # How far below E the medium and huge prologues compare: max(0, frame - 128).
    check_extra: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise FrameSizeError(f"a function needs a non-empty name, got {self.name!r}")
        _check_size(f"{self.name}: frame", self.frame)
        object.__setattr__(self, "locals", tuple(self.locals))
        by_name: dict[str, Local] = {}
        room = self.frame - PTR_SIZE  # the top word is the saved BP
        for local in self.locals:
            if not isinstance(local, Local):
                raise LocalError(f"{self.name}: locals must be gostack.Local, got {local!r}")
            if local.name in by_name:
                raise LocalError(f"{self.name}: two locals named {local.name!r}")
            if local.offset + PTR_SIZE > room:
                raise LocalError(
                    f"{self.name}: local {local.name!r} at offset {local.offset} does not fit "
                    f"a {self.frame}-byte frame (locals end at {room}, below the saved BP)"
                )
            by_name[local.name] = local
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "check_extra", max(0, self.frame - STACK_SMALL))
        object.__setattr__(
            self,
            "pointer_offsets",
            tuple(lc.offset for lc in self.locals if lc.kind is Kind.POINTER),
        )

    def local(self, name: str) -> Local:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name) or "none"
            raise LocalError(f"{self.name} has no local {name!r} (locals: {known})") from None

    @property
    def leaf_nosplit_eligible(self) -> bool:
        """Whether the compiler marks this function NOSPLIT on its own (compiler_nosplit);
        False when its ``calls`` were not given."""
        return self.calls is not None and compiler_nosplit(self.frame, self.calls)


# cmd/internal/obj/x86/obj6.go isZeroArgRuntimeCall: runtime calls a leaf may make, and
# DUFFZERO/DUFFCOPY, which are no CALL in Go terms but use the stack like one.
ZERO_ARG_RUNTIME_CALLS = frozenset({"runtime.panicdivide", "runtime.panicwrap",
                                    "runtime.panicshift", "runtime.panicBounds",
                                    "runtime.panicExtend", "DUFFZERO", "DUFFCOPY"})


def compiler_nosplit(frame: int, calls: tuple[str, ...] | list[str] = ()) -> bool:
    """obj6.go preprocess on amd64: a function whose frame (saved BP included) is under
    StackSmall (128) and that makes no call is marked NOSPLIT (no prologue check). A
    call to one of ZERO_ARG_RUNTIME_CALLS is tolerated only while the frame is under
    StackSmall - 8 (120); any other call keeps the check."""
    if frame >= STACK_SMALL:
        return False
    for c in calls:
        if c not in ZERO_ARG_RUNTIME_CALLS or frame >= STACK_SMALL - 8:
            return False
    return True
