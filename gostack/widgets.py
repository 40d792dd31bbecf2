"""Interactive views for the lessons. Callbacks only render.

Each widget has a plain function behind it (``*_state``) that computes what the
widget shows for given inputs; tests call those, and the widget calls them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from IPython.display import display

from . import plot, prologue
from .arch import STACK_GUARD, STACK_SMALL
from .runtime import Runtime, Snapshot
from .symtab import Func
from .trace import Trace


@dataclass(frozen=True)
class DepthState:
    """A recursion stopped after ``calls`` calls: its stack and what happened so far."""

    frame: int
    calls: int
    snapshot: Snapshot
    trace: Trace

    @property
    def readout(self) -> str:
        grows = self.trace.grows
        last = (f"; last growth at call {grows[-1].call_index} "
                f"({grows[-1].old_size:,} → {grows[-1].new_size:,} B)") if grows else ""
        return (f"after {self.calls} calls of {self.frame}-byte frames: stack "
                f"{self.snapshot.size:,} B, used {self.snapshot.used:,} B, "
                f"{len(grows)} growths{last}")


def depth_state(frame: int = 168, calls: int = 6, entry: int = 56) -> DepthState:
    """Run a recursion of ``frame``-byte frames for ``calls`` calls from an ``entry`` frame."""
    g = Runtime(trace=False).go(Func("main.worker", frame=entry))
    rec = Func("main.rec", frame=frame)
    for _ in range(calls):
        g.call(rec)
    return DepthState(frame, calls, g.snapshot(), g.trace)


def show_in(out, fig) -> None:
    """Replace an Output widget's content with a figure.

    The figure is handed over (append_display_data) rather than captured with
    ``with out:``, whose captured display can race a headless executor (nbclient)
    and stall it until its timeout.
    """
    out.outputs = ()
    out.append_display_data(fig)
    plt.close(fig)


def depth_figure(state: DepthState):
    with plt.rc_context(plot.STYLE):
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4.2), width_ratios=(1, 2))
        plot.draw_stack(state.snapshot, a, label_frames=3)
        plot.draw_growth(state.trace, b, calls=max(state.calls, 1))
        fig.tight_layout()
    return fig


def show_depth(state: DepthState) -> None:
    fig = depth_figure(state)
    display(fig)
    plt.close(fig)


def stack_explorer(frame: int = 168, max_calls: int = 200):
    """A slider over the recursion depth; the stack and its growths follow."""
    import ipywidgets as w

    calls = w.IntSlider(value=6, min=0, max=max_calls, description="calls", continuous_update=False)
    size = w.Dropdown(options=[64, 128, 168, 616, 4096, 10280], value=frame, description="frame")
    text = w.HTML()
    out = w.Output()

    def update(*_):
        state = depth_state(size.value, calls.value)
        text.value = f"<code>{state.readout}</code>"
        show_in(out, depth_figure(state))

    calls.observe(update, "value")
    size.observe(update, "value")
    update()
    return w.VBox([w.HBox([calls, size]), text, out])


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
        verdict = ("<= stackguard0: call morestack" if self.fires
                   else "> stackguard0: the frame fits")
        return (f"{self.form.name.lower()} form; {what} is {self.compared:,} B below hi, the "
                f"guard {self.guard_used:,} B below hi: {verdict}")


def prologue_state(size: int = 2048, e_used: int = 1000, frame: int = 168) -> PrologueState:
    """Evaluate the real prologue check (gostack.prologue) at a position in the stack."""
    lo = 0xC000000000
    hi = lo + size
    fires = prologue.morestack_needed(hi - e_used, frame, lo + STACK_GUARD)
    return PrologueState(size, e_used, frame, prologue.form(frame), prologue.instructions(frame),
                         e_used + max(0, frame - STACK_SMALL), size - STACK_GUARD, fires)


def prologue_explorer(size: int = 2048):
    """Move E (the SP at entry) and the frame size; see whether morestack fires."""
    import ipywidgets as w

    used = w.IntSlider(value=1000, min=8, max=size, step=8, description="hi - E",
                       continuous_update=False)
    frame = w.Dropdown(options=[64, 128, 136, 168, 616, 4096, 4104, 10280], value=168,
                       description="frame")
    text = w.HTML()
    out = w.Output()

    def update(*_):
        state = prologue_state(size, used.value, frame.value)
        text.value = ("<code>" + state.readout + "</code><pre>"
                      + "\n".join(state.instructions) + "</pre>")
        show_in(out, prologue_figure(state))

    used.observe(update, "value")
    frame.observe(update, "value")
    update()
    return w.VBox([w.HBox([used, frame]), text, out])


def prologue_figure(state: PrologueState):
    with plt.rc_context(plot.STYLE):
        ax = plot.draw_prologue(state.size, state.e_used, state.frame)
        ax.figure.tight_layout()
    return ax.figure


def show_prologue(state: PrologueState) -> None:
    fig = prologue_figure(state)
    display(fig)
    plt.close(fig)
