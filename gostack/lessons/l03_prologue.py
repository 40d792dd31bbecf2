"""Lesson 03, the prologue: one stack check, where E and the guard sit, and the explorer.

:func:`prologue_state` evaluates the real check (``gostack.prologue``) at a position in
the stack and returns what the explorer shows; :func:`draw_prologue` draws it;
:func:`prologue_explorer` wires the position of E and the frame size to both. Defaults
are the running example's recA (frame 160).
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import i18n, prologue
from ..arch import STACK_GUARD, STACK_SMALL
from ..i18n import _
from . import draw, view
from .draw import PALETTE
from .running import RUNNING_FRAMES

FRAME = RUNNING_FRAMES["main.recA"]


@dataclass(frozen=True)
class PrologueState:
    """One prologue check on a stack of ``size`` bytes with E at ``e_used`` below hi."""

    size: int
    e_used: int
    frame: int
    form: prologue.Form
    instructions: tuple[str, ...]
    compared: int  # bytes below hi of the value compared with stackguard0
    guard_used: int  # bytes below hi of stackguard0 = lo + 928
    fires: bool

    @property
    def readout(self) -> str:
        what = "SP" if self.frame <= STACK_SMALL else f"SP-{self.frame - STACK_SMALL}"
        verdict = (_("<= stackguard0: call morestack") if self.fires
                   else _("> stackguard0: the frame fits"))
        return _("{form} form; {what} is {compared:,} B below hi, the guard {guard:,} B below "
                 "hi: {verdict}").format(form=self.form.name.lower(), what=what,
                                         compared=self.compared, guard=self.guard_used,
                                         verdict=verdict)


@functools.lru_cache(maxsize=1024)  # a widget revisits states; the value is frozen
def prologue_state(size: int = 2048, e_used: int = 1000, frame: int = FRAME) -> PrologueState:
    """Evaluate the real prologue check (gostack.prologue) at a position in the stack."""
    lo = 0xC000000000
    hi = lo + size
    fires = prologue.morestack_needed(hi - e_used, frame, lo + STACK_GUARD)
    return PrologueState(size, e_used, frame, prologue.form(frame), prologue.instructions(frame),
                         e_used + max(0, frame - STACK_SMALL), size - STACK_GUARD, fires)


class _Prologue:
    """The artists of one prologue picture, built once and moved for each state.

    y grows downward (bytes below hi). Each label has a place of its own, so nothing
    overlaps at the <= equality the lesson is about: E-(F-128) on the left of the column,
    E on its right, the guard's label on the right too, off the column (inside it, it sat on
    the frame), pushed off E's label when the two are close.
    """

    def __init__(self, ax: Axes, size: int) -> None:
        self.ax, self.size = ax, size
        ax.add_patch(Rectangle((0, 0), 1, size, facecolor=PALETTE["free"],
                               edgecolor=PALETTE["edge"]))
        self.used = ax.add_patch(Rectangle((0, 0), 1, 0, facecolor=PALETTE["frame"][0],
                                           alpha=0.5, edgecolor="none"))
        self.frame = ax.add_patch(Rectangle((0, 0), 1, 0, facecolor=PALETTE["frame"][1],
                                            alpha=0.8, edgecolor="white"))
        guard = size - STACK_GUARD
        # Across the stack column only, so no label is struck through.
        ax.plot([0, 1], [guard, guard], color=PALETTE["guard"], linestyle="--", linewidth=1.2)
        self.guard = ax.annotate("stackguard0\n= lo + 928", xy=(1, guard), xytext=(1.2, guard),
                                 color=PALETTE["guard"], fontsize=7, va="center",
                                 arrowprops={"arrowstyle": "->", "color": PALETTE["guard"]})
        self.e = ax.annotate(_("E (SP at entry)"), xy=(1, 0), xytext=(1.2, 0), va="center",
                             fontsize=8, arrowprops={"arrowstyle": "->"})
        self.probe = ax.annotate("E - (F-128)", xy=(0, 0), xytext=(-0.95, 0), va="center",
                                 fontsize=8, arrowprops={"arrowstyle": "->"})
        ax.set_xlim(-1.0, 2.0)
        ax.set_xticks([])
        ax.set_yticks([0, size])
        ax.set_yticklabels(["hi", "lo"])
        ax.spines["bottom"].set_visible(False)

    def update(self, state: PrologueState) -> None:
        size, e_used, frame = state.size, state.e_used, state.frame
        guard, probe = state.guard_used, state.compared
        top = max(size, e_used + frame) * 1.02
        self.used.set_height(e_used)
        self.frame.set_y(e_used)
        self.frame.set_height(frame)
        self.frame.set_hatch("//" if state.fires else None)
        self.e.xy = (1, e_used)
        self.e.xyann = (1.2, e_used)
        self.guard.xyann = (1.2, self._guard_text_y(guard, e_used, top))
        self.probe.set_visible(frame > STACK_SMALL)
        self.probe.xy = (0, probe)
        self.probe.xyann = (-0.95, probe)
        verdict = "morestack" if state.fires else _("fits")
        self.ax.set_title(_("{form} form, frame {frame}: {verdict}").format(
                              form=state.form.name.lower(), frame=frame, verdict=verdict),
                          color=PALETTE["guard"] if state.fires else PALETTE["ok"])
        self.ax.set_ylim(top, 0)

    def _guard_text_y(self, guard: int, e_used: int, top: float) -> float:
        """Where the guard's label goes: beside its line, or pushed off E's label (about 12
        points tall, the guard's two lines about 20) far enough that they do not touch."""
        fig = self.ax.figure
        points = self.ax.get_position().height * fig.get_figheight() * 72  # the axes' height
        per_point = top / points  # bytes per point along y
        apart = (6 + 11 + 3) * per_point  # half of each label, and a gap
        if abs(guard - e_used) >= apart:
            return guard
        return e_used + apart if guard >= e_used else e_used - apart


def draw_prologue(state: PrologueState, ax: Axes | None = None) -> Axes:
    """One prologue check: E and the frame below it, E-(F-128) against the guard line."""
    with i18n.figure_fonts():
        ax = draw.axes(ax, (3.6, 5.0))
        _Prologue(ax, state.size).update(state)
    return ax


def prologue_figure(state: PrologueState, fig: Figure | None = None) -> Figure:
    """The picture of one check; a widget's figure (``fig``) is updated in place."""
    with draw.styled():
        art = draw.kept(fig, "prologue", state.size)
        if art is None:
            fig = draw.canvas(fig, (3.6, 5.0))
            art = draw.keep(fig, "prologue", state.size, _Prologue(fig.subplots(), state.size))
            # Laid out once for a middle state, so the layout (and every picture) is the
            # same whichever state the widget starts in.
            art.update(prologue_state(state.size, state.size // 2, FRAME))
            draw.fix_layout(fig)
        art.update(state)
    return fig


def show_prologue(state: PrologueState) -> None:
    view.show(prologue_figure(state))


def prologue_explorer(size: int = 2048, frame: int = FRAME):
    """Move E (the SP at entry) and the frame size; see whether morestack fires."""
    import ipywidgets as w


    used = w.IntSlider(value=1000, min=8, max=size, step=8, description=_("hi - E"),
                       continuous_update=False)
    frames = w.Dropdown(options=sorted({64, 128, 136, 160, 616, 4096, 4104, 10280, frame}),
                        value=frame, description=_("frame"))
    text = w.HTML()
    picture = view.Picture(prologue_figure)
    ahead = view.Prefetch(picture)  # the slider's neighbours, drawn while the kernel is idle

    def render(*_):
        key = (size, used.value, frames.value)
        state = prologue_state(*key)
        picture.show(key, lambda: state)  # then the text: both change at once
        ahead.after(((size, e, key[2]), functools.partial(prologue_state, size, e, key[2]))
                    for e in (key[1] + used.step, key[1] - used.step)
                    if used.min <= e <= used.max)
        # The verdict wraps (at most 26em wide), so the readout stays beside the picture on
        # a 1366-pixel screen instead of dropping under it, below the fold.
        text.value = ("<div style='max-width: 26em; line-height: 1.3'><code style='white-space: "
                      "normal; padding: 0'>"
                      + html.escape(state.readout) + "</code></div>"
                      + view.pre(state.instructions, size=12))

    used.observe(view.serial(render), "value")
    frames.observe(view.serial(render), "value")
    render()
    return view.box([[used, frames]], picture, beside=[text])


# ---- the lesson's printed lines (one source for both editions) ----------------------------

def size_line(g) -> str:
    """A new goroutine ``g``'s stack: its size and what the worker's frame uses."""
    return _("stack size hi - lo = {size} bytes; in use hi - sp = {used} = 40 + 40").format(
        size=g.hi - g.lo, used=g.used)


def after_call_line(g, frame: int = 160) -> str:
    return _("after a call of recA: hi - sp = {used}  (+{frame} frame, +8 return "
             "address)").format(used=g.used, frame=frame)


def guard_line(g) -> str:
    return _("the guard: stackguard0 - lo = {guard}").format(guard=g.stackguard0 - g.lo)


def recorded_header(recorded: dict) -> str:
    """data/prologues.json's toolchain: ``recorded with go1.27.3 linux/amd64``."""
    return _("recorded with {go} {goos}/{goarch}").format(
        go=recorded["go"], goos=recorded["goos"], goarch=recorded["goarch"])


def form_heading(p: dict) -> str:
    """One recorded prologue's heading: function, frame size, form."""
    return "\n" + _("{func} ${frame}: {form} form").format(func=p["func"], frame=p["frame"],
                                                          form=p["form"])


def same_line(same: bool, indent: str = "    ") -> str:
    return indent + _("gostack.prologue gives the same: {same}").format(same=same)


def wrap_line(wrapped: int, guard: int) -> str:
    return _("SP - (F-128) wraps to {wrapped:#x}, far above the guard {guard:#x}").format(
        wrapped=wrapped, guard=guard)


def morestack_line(called: bool) -> str:
    return _("morestack called: {called}").format(called=called)


def call_line(call: int, state: PrologueState) -> str:
    return _("call {call}: {readout}").format(call=call, readout=state.readout)


def grew_line(who: str, call: int, size: int) -> str:
    """``who``: "simulator" or a Go version; where the stack grew."""
    who = _("simulator") if who == "simulator" else _("{go} (recorded)").format(go=who)
    return _("{who}: grew at call {call} to {size}").format(who=who, call=call, size=size)


def guard_sum_lines() -> list[str]:
    """stackGuard's sum and the linker's NOSPLIT budget (internal/abi/stack.go,
    cmd/internal/objabi/stack.go), from gostack.arch."""
    from .. import arch

    return [f"stackGuard = StackNosplit {arch.STACK_NOSPLIT} + stackSystem {arch.STACK_SYSTEM}"
            f" + StackSmall {arch.STACK_SMALL} = {arch.STACK_GUARD}",
            _("linker NOSPLIT budget = {nosplit} - return address {ret} = {limit}").format(
                nosplit=arch.STACK_NOSPLIT, ret=arch.RETURN_ADDRESS_SIZE,
                limit=arch.NOSPLIT_LINK_LIMIT)]


def nosplit_line(g) -> str:
    """After a NOSPLIT leaf call: how far below the guard it ran, and that nothing grew."""
    return _("NOSPLIT leaf ran {below} bytes below the guard, no check, no growth: "
             "{none}").format(below=g.snapshot().guard - g.sp, none=not g.trace.grows)


def next_call_line(grow) -> str:
    return _("the next checked call, recA's 7th, grows the stack: {func} at call {call}, "
             "counting every call (worker 0, recA 1-6, the leaf 7)").format(
        func=grow.func, call=grow.call_index)


def still_line(g) -> str:
    """The trace's last three events and the stack's size: a preempted call did not grow."""
    events = [type(e).__name__ for e in g.trace[-3:]]
    return _("{events} | stack still {size} bytes").format(events=events, size=g.stack_size)


def systemstack_line(fn: dict) -> str:
    """A recorded //go:systemstack function's prologue (data/systemstack.json)."""
    return _("{func} ${frame}, //go:systemstack: {lines}; slow path {calls}").format(
        func=fn["func"], frame=fn["frame"], lines=" ; ".join(fn["lines"]), calls=fn["calls"])


def user_stack_line(g, error) -> str:
    """Where a //go:systemstack function on a goroutine stopped, and the runtime's throw."""
    return "\n" + _("on a goroutine, hi - SP = {used}, stackguard1 = {guard:#x}:").format(
        used=g.used, guard=error.stackguard1) + f"\n{error}"


def live_prologue_line(version: str, live, same: bool) -> str:
    """A prologue compiled here by realgo, beside the recorded one."""
    return _("live {version}: {func} ${frame} -> {lines}  (as recorded: {same})").format(
        version=version, func=live.func, frame=live.frame, lines=" ; ".join(live.lines),
        same=same)


def no_go_line() -> str:
    return _("Go is not installed here (make lab installs it); showing the recorded listing "
             "only.")
