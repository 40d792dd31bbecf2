"""Lesson 06, stack maps: which slots adjustpointers rewrites, and what breaks without it.

:func:`stack_map` is a function's pointer bitmap; :func:`adjust_run` runs the lesson's
experiment (a worker holding x, &x, uintptr(&x) and a heap pointer, then recA calls) with
adjustframe on or off and returns what each slot held and what following it now reads;
:func:`adjust_explorer` wires the three controls to it and to the stackfree step's
picture. :func:`pointer_sim` runs the simulator on the real-Go pointer demo's frames.

Section 5, the runtime's own pointers into a stack (issue 14): :func:`parked_recv` is a
receive whose stack GCs shrink while it waits (the sudog's elem follows, stack.go
adjustsudogs), on the recorded scene parked_shrink_ladder's frames; :func:`bp_move` and
:func:`draw_bp_move` show the saved frame pointers before and after a growth (adjustframe,
adjustctxt).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from .. import adjust as adj
from .. import arch, i18n
from ..i18n import _, ngettext
from ..runtime import Goroutine, Runtime, Snapshot, Stages
from ..symtab import POINTER, SCALAR, UINTPTR, Func, Local
from ..trace import Grow
from . import draw, stacks, view
from .draw import PALETTE, plural
from .l05_copystack import SlotRow, fmt_delta, slot_rows, slot_table, word_bytes
from .recorder import Phase, Recorder, Step, Tape
from .running import rec_body, running_funcs
from .stepper import StepPainter


def stack_map(func: Func) -> str:
    """The locals' pointer bitmap of a function, one bit per word from SP up (the saved BP
    slot at the top is not in it): 1 for a pointer slot, 0 for anything else."""
    words = (func.frame - arch.PTR_SIZE) // arch.PTR_SIZE
    bits = ["0"] * words
    for off in func.pointer_offsets:
        bits[off // arch.PTR_SIZE] = "1"
    return "".join(bits)


def pointer_worker() -> Func:
    """Lesson 06's worker: x := 42; p := &x; u := uintptr(unsafe.Pointer(&x)); h := new(int)."""
    return Func("main.worker", frame=56, locals=(
        Local("x", SCALAR, 0), Local("p", POINTER, 8), Local("u", UINTPTR, 16),
        Local("h", POINTER, 24)))


def _pointer_worker_body(g: Goroutine) -> None:
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", g.rt.new_object())


def _read(value: int) -> str:
    return _("poison {bytes}").format(bytes=word_bytes(value)) \
        if value in (arch.POISON_OLD, arch.POISON_NEW) \
        else f"{value:,}"


@dataclass(frozen=True)
class AdjustRun:
    """Lesson 06's worker, then ``calls`` calls of recA, with adjustment on or off."""

    calls: int
    adjust: bool
    poison: bool
    tape: Tape
    rows: tuple[SlotRow, ...]  # the worker's locals across the last move (none: no move)
    reads: tuple[str, ...]  # what following p, h and u gives now

    @property
    def picture(self) -> Step:
        """The last move's stackfree step (dangling pointers show), else the last step."""
        free = [s for s in self.tape if s.phase is Phase.FREE]
        return free[-1] if free else self.tape[-1]

    def lines(self) -> list[str]:
        """What the explorer shows beside the picture: the run, and what following p, h and
        u now gives (the slot table is :meth:`table`, printed once by the lesson)."""
        grows = self.tape.trace.grows
        how = "adjustframe" if self.adjust else "no_adjust"
        head = (_("{calls} of recA, {how}, poisoned old stacks: ") if self.poison else
                _("{calls} of recA, {how}, unpoisoned old stacks: ")).format(
                    calls=plural(self.calls, "call"), how=how)
        if not grows:
            return [head + _("the stack has not moved (2,048 B)"), "", *self.reads]
        g = grows[-1]
        moves = ngettext("{n} move", "{n} moves", len(grows)).format(n=len(grows))
        return [head + _("{moves}, the last at call {call}: {old:,} -> {new:,} B, delta "
                         "{delta}").format(moves=moves, call=g.call_index, old=g.old_size,
                                           new=g.new_size, delta=fmt_delta(g.delta)),
                "", *self.reads]

    def table(self) -> str:
        """The worker's slots across the last move (empty if the stack never moved)."""
        return slot_table(self.rows, headings=("before the last move", "after it")) \
            if self.rows else ""


def adjust_run(calls: int = 7, *, adjust: bool = True, poison: bool = True) -> AdjustRun:
    """Run lesson 06's experiment; the adjustframe stage is the reference or no_adjust.

    Only the calls from the last growth on are recorded as steps (that is all the run
    shows); the calls before it run plainly, since recording every call of a deep run
    costs a snapshot of the whole stack per call. Its words are in the language in use.
    """
    return _adjust_run(calls, adjust, poison, i18n.language())


@functools.lru_cache(maxsize=256)  # a widget revisits states; the value is frozen
def _adjust_run(calls: int, adjust: bool, poison: bool, _lang: str) -> AdjustRun:
    stages = Stages() if adjust else Stages().replace(adjustframe=adj.no_adjust)
    rt = Runtime(poison=poison, stages=stages)
    r = Recorder(pointer_worker(), runtime=rt, body=_pointer_worker_body)
    rec = running_funcs()[1]
    # Where the stack last grows depends on frame sizes only, not on adjustment or poison.
    probe = Runtime(trace=False).go(pointer_worker())
    for _i in range(calls):
        probe.call(rec)
    last_growth = probe.trace.grows[-1].call_index if probe.trace.grows else calls + 1
    for i in range(1, calls + 1):  # each recA holds &worker.x and a pointer to its own buf
        if i < last_growth:
            r.g.call(rec)
            rec_body(r.g)
        else:
            r.call(rec, rec_body)
    tape, g = r.tape(), r.g
    heap = g.load("h", 0)
    rows: tuple[SlotRow, ...] = ()
    if tape.trace.grows:
        last = len(tape.trace.grows) - 1
        check, *_between, free = tape.growth(last, (Phase.CHECK, Phase.FREE))
        freed = [(e.old_lo, e.old_hi) for e in tape.trace.grows[:last]]
        rows = slot_rows(check.stack, free.new, tape.trace.grows[last], heap=[heap],
                         frames=(0,), freed=freed)
    x, p, u = g.addr("x", 0), g.load("p", 0), g.load("u", 0)
    reads = (
        f"*p = {_read(rt.read(p))}" + ("" if p == x else _("   (p no longer points to x)")),
        f"*h = {_read(rt.heap_load(heap))}" + _("   (new(int), on the heap: it never moves)"),
        f"u == &x: {u == x}" + ("" if u == x else f"   *(*int)(u) = {_read(rt.read(u))}"),
    )
    return AdjustRun(calls, adjust, poison, tape, rows, reads)


def adjust_explorer(calls: int = 7, *, adjust: bool = True, poison: bool = True):
    """Adjustment on or off, poisoning on or off, and the number of calls in; the worker's
    slots across the last move, what p, h and u now read, and the stackfree step out
    (the default state is adjust_run()'s with the same arguments)."""
    import ipywidgets as w

    stage = w.ToggleButtons(options=[("adjustframe", True), ("no_adjust", False)],
                            value=adjust, description=_("stage"))
    poisoned = w.Checkbox(value=poison, description=_("poison old stacks"))
    depth = w.IntSlider(value=calls, min=0, max=100, description=_("calls"),
                        continuous_update=False)
    text = w.HTML()
    painter = StepPainter()
    picture = view.Picture(lambda run, fig: painter(run.picture))

    ahead = view.Prefetch(picture)

    def state(key):
        return lambda: adjust_run(key[0], adjust=key[1], poison=key[2])

    def render(*_):
        calls, on, poison = key = (depth.value, stage.value, poisoned.value)
        picture.render(key, state(key))  # the picture first: text and picture change together
        text.value = view.pre(adjust_run(calls, adjust=on, poison=poison).lines())
        picture.show(key, state(key))
        nexts = [(c, on, poison) for c in (calls + 1, calls - 1) if 0 <= c <= depth.max]
        ahead.after((k, state(k)) for k in [*nexts, (calls, not on, poison),
                                            (calls, on, not poison)])

    for wid in (stage, poisoned, depth):
        wid.observe(view.serial(render), "value")
    render()
    return view.box([[stage, poisoned], depth], picture, beside=[text])


def pointer_sim(frames: dict[str, int]) -> tuple[int, int]:
    """The simulator on GO_POINTER's shape: (stack size after deep(100), number of moves)."""
    g = Runtime(trace=False).go(Func("main.worker", frame=frames["main.worker"]))
    deep = Func("main.deep", frame=frames["main.deep"])
    for _i in range(101):  # deep(100) .. deep(0)
        g.call(deep)
    return g.stack_size, len(g.trace.grows)


def draw_stack_map(func, ax: Axes | None = None) -> Axes:
    """One frame word by word, SP at the bottom: its locals by kind, the saved BP and the
    return address above, and the stack map's bit for each word (1: a pointer)."""
    with i18n.figure_fonts():
        return _stack_map(func, draw.axes(ax, (3.4, 4.2)))


def _stack_map(func, ax: Axes) -> Axes:
    kinds = {lc.offset: lc for lc in func.locals}
    words = func.frame // 8
    colors = {"pointer": PALETTE["pointer"], "uintptr": PALETTE["uintptr"],
              "scalar": PALETTE["frame"][3]}
    for w in range(words + 1):
        off = 8 * w
        if w == words:
            label, color, bit = _("return address"), PALETTE["reserve"], ""
        elif w == words - 1:
            label, color, bit = _("saved BP"), PALETTE["reserve"], ""
        elif off in kinds:
            lc = kinds[off]
            label, color = f"{lc.name}  ({_(lc.kind.value)})", colors[lc.kind.value]
            bit = "1" if lc.kind.value == "pointer" else "0"
        else:
            label, color, bit = "", PALETTE["free"], "0"
        ax.add_patch(Rectangle((0, w), 1, 1, facecolor=color, edgecolor=PALETTE["edge"],
                               linewidth=0.6))
        ax.text(0.5, w + 0.5, label, ha="center", va="center", fontsize=8)
        ax.text(-0.08, w + 0.5, f"SP+{off}", ha="right", va="center", fontsize=7)
        ax.text(1.15, w + 0.5, bit, ha="center", va="center", fontsize=9,
                fontweight="bold", color=PALETTE["pointer"] if bit == "1" else PALETTE["edge"])
    ax.text(1.15, words + 1.2, _("map"), ha="center", fontsize=8)
    ax.set_xlim(-0.7, 1.4)
    ax.set_ylim(0, words + 1.6)
    ax.axis("off")
    ax.set_title(_("{name}: frame {frame} B").format(name=func.name, frame=func.frame),
                 fontsize=9)
    return ax



# ---- the runtime's own pointers into a stack: a sudog's elem, the saved frame pointers ----

@dataclass(frozen=True)
class ParkedRecv:
    """A goroutine blocked in ``v := <-c`` while GCs shrink its stack, then sent ``sent``:
    where v was when it parked and when the value arrived, and what v reads then."""

    sizes: tuple[int, ...]  # the stack's size when it parked, then after each shrink
    v_before: int  # &v when it parked (the sudog's elem)
    v_after: int  # &v when the sender's value arrived
    sent: int
    got: int  # v after the receive

    def lines(self) -> list[str]:
        moved = self.v_after - self.v_before
        return [_("parked in v := <-c on a {size:,}-byte stack; &v = {addr:#x}").format(
                    size=self.sizes[0], addr=self.v_before),
                _("while it waits, each GC halves the stack: ")
                + " -> ".join(f"{s:,}" for s in self.sizes),
                _("the sender's {sent} lands at {addr:#x} (sudog.elem moved by {delta}); "
                  "v = {got}").format(sent=self.sent, addr=self.v_after,
                                      delta=fmt_delta(moved), got=self.got)]


def parked_recv(frames: dict[str, int], *, calls: int = 400, gcs: int = 8,
                sent: int = 42) -> ParkedRecv:
    """The recorded scene parked_shrink_ladder on the simulator: the entry (with v in its
    frame) recurses ``calls`` deep, blocks there in a receive and is woken, returns, blocks
    in a receive into v, ``gcs`` GCs run, then a sender hands over ``sent`` through the
    sudog's elem (chan.go send -> sendDirect)."""
    rt = Runtime(trace=True)
    g = rt.go(Func("main.worker1", frame=frames["main.worker1"],
                   locals=(Local("v", SCALAR, 0),)))
    rec = Func("main.rec1", frame=frames["main.rec1"])
    for _i in range(calls):
        g.call(rec)
    g.park("recv")
    g.unpark()
    for _i in range(calls):
        g.ret()
    g.park("recv", elem="v")
    before, size = g.addr("v"), g.stack_size
    for _i in range(gcs):
        rt.gc()
    g.unpark(sent)
    sizes = (size, *(e.new_size for e in g.trace.shrinks))
    return ParkedRecv(sizes, before, g.addr("v"), sent, g.load("v"))


@dataclass(frozen=True)
class BPMove:
    """The saved frame pointers across a growth: the chain before and after the move."""

    before: Snapshot
    after: Snapshot
    grow: Grow

    def rows(self, n: int = 4) -> list[str]:
        """The innermost ``n`` links common to both chains: each slot and the saved BP in
        it, before and after, and how far each moved."""
        old, new = self.before.bp_chain(), self.after.bp_chain()[1:]  # after: + the new frame
        pad = _pad_left
        holds = pad(_("holds"), 14)
        out = [pad(_("before: slot"), 14) + f" {holds}   " + pad(_("after: slot"), 14)
               + f" {holds}   " + _("both moved by")]
        for (slot, saved), (slot2, saved2) in list(zip(old, new, strict=True))[:n]:
            moved = {slot2 - slot, saved2 - saved}
            by = fmt_delta(moved.pop()) if len(moved) == 1 else \
                _("{a} and {b}").format(a=fmt_delta(slot2 - slot), b=fmt_delta(saved2 - saved))
            out.append(f"{slot:>#14x} {saved:>#14x}   {slot2:>#14x} {saved2:>#14x}   {by}")
        return out


def _pad_left(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` columns (Hangul takes two)."""
    return " " * (width - i18n.text_width(text)) + text


def bp_move(calls: int = 7) -> BPMove:
    """Lesson 06's worker and ``calls`` calls of recA; the snapshots just before the call
    that grows the stack and just after it (its own frame added)."""
    g = Runtime().go(pointer_worker())
    rec = running_funcs()[1]
    before = g.snapshot()
    for _call in range(calls):
        snap = g.snapshot()
        g.call(rec)
        if g.trace.grows:
            before = snap
            break
    return BPMove(before, g.snapshot(), g.trace.grows[0])


def draw_bp_move(move: BPMove, fig=None, frames: int = 4):
    """The top of both stacks on one scale, the same ``frames`` saved BPs in each (the
    growing call's new frame left out) arced left of the column to the caller's slot, each
    slot labelled with its address: the arcs sit at the same offsets from hi, the
    addresses differ by delta."""
    with i18n.figure_fonts():
        return _bp_move(move, draw.canvas(fig, (8.4, 4.8)), frames)


def _bp_move(move: BPMove, fig, frames: int):
    axs = [fig.add_axes(r) for r in ((0.17, 0.04, 0.33, 0.82), (0.64, 0.04, 0.33, 0.82))]
    g = move.grow
    top = -(-(move.after.used + 160) // 256) * 256  # the frames in use, and a little more
    art = stacks.MoveArt(axs)
    art.update(move.before, move.after, pointer_frames=0, copied=False)  # no memmove arrow
    for side, snap, skip, title in (
            (art.old, move.before, 0, _("before: stack {size:,} B").format(size=g.old_size)),
            (art.new, move.after, 1, _("after: stack {size:,} B").format(size=g.new_size))):
        side.update(snap, title=title, span=top, bps=stacks.bp_links(snap, frames, skip))
        ax = side.ax
        ax.set_ylim(top, 0)
        ax.set_yticks([0], ["hi"])
        ax.spines["left"].set_bounds(0, min(top, snap.size))
        for text in ax.texts:  # the guard's label, if the guard is below the part shown
            text.set_clip_on(True)
        for slot, _saved in snap.bp_chain()[skip:skip + frames + 1]:
            ax.text(-0.3, snap.hi - slot, f"{slot:#x}", ha="right", va="center", fontsize=7,
                    color=stacks.BP_COLOR)
    fig.suptitle(_("the top {top:,} B of each stack: each saved BP (address at left) holds "
                   "its caller's; call {call} moved all by {delta}").format(
                       top=top, call=g.call_index, delta=fmt_delta(g.delta)),
                 fontsize=9)
    return fig


def show_bp_move(move: BPMove) -> None:
    """Display draw_bp_move's picture."""
    with draw.styled():
        view.show(draw_bp_move(move))


# ---- the lesson's printed lines (one source for both editions) ----------------------------

def corrupted_line(error: Exception) -> str:
    """check_running_example's failure, as the lesson prints it."""
    return _("stack is corrupted: {error}").format(error=error)


def parked_lines(real: list[int], simulated: list[int], exit_status: int) -> list[str]:
    """The sizes a parked goroutine shrinks through, real Go's beside the simulator's."""
    return [_("go1.27.3, recorded: shrinks while parked {sizes}, exit status {status}").format(
                sizes=real, status=exit_status),
            _("the simulator:      shrinks while parked {sizes}").format(sizes=simulated)]


def fp_lines(fp: dict, agrees: bool) -> list[str]:
    """A recorded frame-pointer chain before and after a growth (offsets from hi)."""
    out = []
    for when, word in (("before", _("before")), ("after", _("after"))):
        size, chain = fp[when]
        word += " " * (6 - i18n.text_width(word))
        out.append(word + " " + _("stack {size:>5,} B: saved-BP slots at {slots}").format(
            size=size, slots=", ".join(f"hi-{c}" for c in chain)))
    return out + [_("closure: context moved with its stack: {moved}").format(moved=fp["ctxt"][2]),
                  _("the simulator agrees: {agrees}").format(agrees=agrees)]


def pointer_sim_line(size: int, moves: int) -> str:
    return _("simulator with the same frames: stack {size:,} bytes after {moves} moves").format(
        size=size, moves=moves)


def reads_lines(g: Goroutine, rt: Runtime) -> list[str]:
    """What the worker's p, h and u read after the move (lesson 06's four expressions)."""
    return [f"*p              = {g.deref('p', 0)}",
            f"*h              = {rt.heap_load(g.load('h', 0))} "
            + _("(the heap object, untouched)"),
            f"u == &x         = {g.load('u', 0) == g.addr('x', 0)}",
            f"*(*int)(u)      = {word_bytes(rt.read(g.load('u', 0)))} "
            + _("(the freed, poisoned old stack)")]


def after_move_line(value: object, looks_right: bool = False) -> str:
    """``*p`` read after a move that adjusted nothing."""
    label = _("after the move:")
    return (label + " " * (18 - i18n.text_width(label)) + f"*p = {value}"
            + (" " + _("(looks right: the old, freed copy)") if looks_right else ""))


def after_store_line(p: object, x: object) -> str:
    label = _("after x = 43:")
    return label + " " * (18 - i18n.text_width(label)) + f"*p = {p}  x = {x}"


def stack_map_line(f: Func) -> str:
    """A function's frame size and its stack map (one bit per word, 1: a pointer)."""
    return f"{f.name:<12} " + _("frame {frame:>3}: stack map {bits}").format(
        frame=f.frame, bits=stack_map(f))
