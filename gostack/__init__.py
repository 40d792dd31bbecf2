"""gostack: how goroutines work. Go's goroutine stacks and its scheduler (G, M, P), simulated
exactly (go1.27, linux/amd64).

    import gostack as gs
    rt = gs.Runtime()
    g = rt.go(gs.Func("main.entry", frame=40))
    g.call(gs.Func("main.rec", frame=168))
    g.trace.grows

Modules follow the runtime's stages: arch (constants), prologue (the check),
newstack (sizing), stackalloc, copystack, adjust (stack maps), shrink, runtime
(goroutines), trace (events), segmented (Go <= 1.2 stacks).
"""

from .adjust import Adjusted, AdjustInfo, FrameRef
from .arch import GO_VERSION, STACK_GUARD, STACK_MIN
from .errors import (
    EmptyStackError,
    EscapeError,
    FrameSizeError,
    GoroutineExited,
    GostackError,
    InvalidPointer,
    LocalError,
    LocalKindError,
    NosplitLinkError,
    NosplitOverflow,
    ProgramError,
    RuntimeThrow,
    StackOverflow,
)
from .i18n import set_language
from .runtime import (
    REFERENCE,
    Frame,
    FrameState,
    Goroutine,
    LocalState,
    Runtime,
    Snapshot,
    Stages,
    Status,
)
from .stackalloc import Stack
from .symtab import POINTER, SCALAR, UINTPTR, Func, Kind, Local
from .trace import GC, Call, Event, Grow, Overflow, Park, Preempt, Ret, Shrink, Trace, Unpark

__version__ = "0.1.0"

__all__ = [
    "AdjustInfo",
    "Adjusted",
    "Call",
    "EmptyStackError",
    "EscapeError",
    "Event",
    "Frame",
    "FrameRef",
    "FrameSizeError",
    "FrameState",
    "Func",
    "GC",
    "GO_VERSION",
    "Goroutine",
    "GoroutineExited",
    "GostackError",
    "Grow",
    "InvalidPointer",
    "Kind",
    "Local",
    "LocalError",
    "LocalKindError",
    "LocalState",
    "NosplitLinkError",
    "NosplitOverflow",
    "Overflow",
    "POINTER",
    "Park",
    "Preempt",
    "ProgramError",
    "REFERENCE",
    "Ret",
    "Runtime",
    "RuntimeThrow",
    "SCALAR",
    "STACK_GUARD",
    "STACK_MIN",
    "Shrink",
    "Snapshot",
    "Stack",
    "StackOverflow",
    "Stages",
    "Status",
    "Trace",
    "UINTPTR",
    "Unpark",
    "__version__",
    "set_language",
]
