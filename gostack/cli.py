"""Command line: `gostack trace` prints the growth of a simple recursion."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .arch import GO_VERSION, MAX_STACK_DEFAULT
from .errors import GostackError, StackOverflow
from .runtime import Runtime
from .symtab import Func
from .trace import Trace


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _size(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    return value


def _count(text: str) -> int:
    value = _size(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gostack",
        description=f"Simulate goroutine stack growth exactly as {GO_VERSION} linux/amd64 does.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser(
        "trace",
        help="print the growth events of a simple recursion",
        description="Start a goroutine whose entry function calls FUNC recursively CALLS "
        "times and print every stack growth: the call index whose prologue failed, the "
        "old and new stack sizes, the bytes copied and the delta.",
    )
    t.add_argument("--frame", type=_size, required=True,
                   help="frame size of the recursive function, the $framesize on its TEXT "
                   "line (includes the saved BP, excludes the return address); multiple of 8")
    t.add_argument("--calls", type=_count, required=True,
                   help="how many recursive calls to make (call indexes 1..CALLS)")
    t.add_argument("--entry-frame", type=_size, default=56,
                   help="frame size of the goroutine's entry function, call index 0 (default 56)")
    t.add_argument("--max-stack", type=_size, default=MAX_STACK_DEFAULT,
                   help="stack limit in bytes, like debug.SetMaxStack (default 1000000000)")
    t.add_argument("--func", default="main.rec", help="name of the recursive function")
    t.add_argument("--gc", type=_count, default=0, metavar="N",
                   help="after returning to the entry, call runtime.GC() N times and show shrinks")
    sub.add_parser("verify-go", add_help=False,
                   help="compare the simulator with the real Go runtime (see verify-go --help)")
    sub.add_parser("grade", add_help=False,
                   help="grade a folder of student notebooks (see grade --help)")
    return parser


def _table(trace: Trace) -> list[str]:
    rows = [f"{'call':>6}  {'function':<12} {'old size':>11} {'new size':>11} "
            f"{'used':>10} {'delta':>12}"]
    for e in trace.grows:
        rows.append(f"{e.call_index:>6}  {e.func:<12} {e.old_size:>11,} {e.new_size:>11,} "
                    f"{e.used:>10,} {e.delta:>+12,}")
    for e in trace.shrinks:
        rows.append(f"{'GC ' + str(e.gc):>6}  {'(shrink)':<12} {e.old_size:>11,} "
                    f"{e.new_size:>11,} {e.used:>10,} {e.delta:>+12,}")
    return rows


def run_trace(args: argparse.Namespace) -> int:
    rt = Runtime(max_stack=args.max_stack, trace=False)
    rec = Func(args.func, frame=args.frame)
    entry = Func("main.entry", frame=args.entry_frame)
    print(f"# {GO_VERSION} linux/amd64: entry frame {args.entry_frame}, "
          f"{args.func} frame {args.frame}, {args.calls} calls")
    try:
        g = rt.go(entry)
        for _ in range(args.calls):
            g.call(rec)
    except StackOverflow as e:
        # rt.go itself overflows when the entry frame is too big for the limit.
        print("\n".join(_table(rt.goroutines[-1].trace if rt.goroutines else Trace())))
        print(f"call {e.call_index}: {str(e).splitlines()[0]}")
        print("fatal error: stack overflow")
        return 2
    for _ in range(args.calls):
        g.ret()
    for _ in range(args.gc):
        g.runtime_gc()
    print("\n".join(_table(g.trace)))
    print(f"# {len(g.trace.grows)} growths, {len(g.trace.shrinks)} shrinks, "
          f"final stack {g.stack_size:,} bytes")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify-go"]:
        from .realgo import verify_main

        return verify_main(argv[1:])
    if argv[:1] == ["grade"]:
        from .grade import main as grade_main

        return grade_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return run_trace(args)
    except GostackError as e:
        print(f"gostack: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
