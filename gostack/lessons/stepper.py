"""The stepper of lessons 05 and 07: a tape's steps, one at a time, with their pictures.

:class:`Cursor` is the stepping logic (step, back, jump, next growth), plain and tested
without a browser; :func:`step_figure` draws one step; :func:`stepper` wires buttons, a
1-based slider ("step 3 of 5" beside a 3) and, for lesson 07, an ipywidgets Play that
runs in the browser (it pauses where it is, and never blocks the kernel) to both.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from matplotlib.figure import Figure

from ..i18n import _
from . import draw, stacks, view
from .l05_copystack import word_bytes
from .recorder import Phase, Step


class Cursor:
    """A position in a sequence of steps: step, back, jump, play, next growth.

    Positions are clamped to the sequence: ``step`` at the end and ``back`` at the start
    stay put. ``play`` goes from here to the end (from the start if already at the end).
    ``next_growth`` jumps to the next step that starts a growth, or to the end if there is
    none. ``is_growth`` defaults to the step's ``starts_growth`` attribute.
    """

    def __init__(self, steps: Sequence[Any], position: int = 0, *,
                 is_growth: Callable[[Any], bool] | None = None) -> None:
        if len(steps) == 0:
            raise ValueError("a Cursor needs at least one step")
        self.steps = steps
        self._is_growth = is_growth or (lambda s: bool(getattr(s, "starts_growth", False)))
        self.position = 0
        self.jump(position)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def current(self) -> Any:
        return self.steps[self.position]

    @property
    def at_start(self) -> bool:
        return self.position == 0

    @property
    def at_end(self) -> bool:
        return self.position == len(self.steps) - 1

    def jump(self, position: int) -> int:
        """Go to ``position`` (negative counts from the end), clamped to the sequence."""
        if isinstance(position, bool) or not isinstance(position, int):
            raise TypeError(f"position must be an int, got {position!r}")
        if position < 0:
            position += len(self.steps)
        self.position = min(max(position, 0), len(self.steps) - 1)
        return self.position

    def step(self, n: int = 1) -> int:
        return self.jump(self.position + n) if n >= 0 else self.back(-n)

    def back(self, n: int = 1) -> int:
        return self.jump(max(self.position - n, 0))

    def peek(self) -> Any | None:
        """The next step, or None at the end."""
        return None if self.at_end else self.steps[self.position + 1]

    @property
    def growth_ahead(self) -> bool:
        """True if a step after this one starts a growth."""
        return any(self._is_growth(self.steps[i])
                   for i in range(self.position + 1, len(self.steps)))

    def next_growth(self) -> int:
        for i in range(self.position + 1, len(self.steps)):
            if self._is_growth(self.steps[i]):
                return self.jump(i)
        return self.jump(len(self.steps) - 1)

    def play(self, max_steps: int | None = None) -> Iterator[int]:
        """Yield each position from the next one to the end (or ``max_steps`` of them)."""
        if self.at_end:
            self.jump(0)
            yield 0
        count = 0
        while not self.at_end and (max_steps is None or count < max_steps):
            count += 1
            yield self.step()


# Fixed layouts (fractions of the figure), wide enough for the longest labels ("hi"/"lo" left
# of an axis, "stackguard0 = lo + 928" inside it): no layout pass per step, and
# nothing moves between steps.
ONE_STACK = (4.2, 4.6), ((0.2, 0.07, 0.77, 0.85),)
TWO_STACKS = (8.4, 4.6), ((0.1, 0.07, 0.375, 0.8), (0.6, 0.07, 0.375, 0.8))


class StepPainter:
    """Draws steps: a stack alone, or the old and new stacks of a move. Each kind has its
    own figure, built once with a fixed layout; a later step of that kind updates its
    artists in place (:class:`gostack.lessons.stacks.StackArt`, ``MoveArt``)."""

    def __init__(self, *, pointer_frames: int = 3) -> None:
        self.pointer_frames = pointer_frames
        self._one: tuple[Figure, stacks.StackArt] | None = None
        self._two: tuple[Figure, stacks.MoveArt] | None = None

    @staticmethod
    def _figure(layout) -> tuple[Figure, list]:
        size, rects = layout
        fig = draw.canvas(None, size)
        return fig, [fig.add_axes(r) for r in rects]

    def __call__(self, step: Step, fig: Figure | None = None) -> Figure:
        """The figure showing ``step`` (``fig``, the figure shown before, is not needed:
        the painter keeps its own)."""
        with draw.styled():
            if step.new is None:
                if self._one is None:
                    fig, (ax,) = self._figure(ONE_STACK)
                    self._one = fig, stacks.StackArt(ax, label_frames=4)
                fig, art = self._one
                art.update(step.stack, title=_("{phase}: stack {size:,} B").format(
                               phase=_(step.phase.value), size=step.stack.size),
                           pointers=stacks.step_pointers(step.stack, self.pointer_frames))
                return fig
            if self._two is None:
                fig, axs = self._figure(TWO_STACKS)
                self._two = fig, stacks.MoveArt(axs)
            fig, move = self._two
            freed = None
            if step.phase is Phase.FREE:
                words = {lc.value for f in step.stack.frames for lc in f.locals}
                freed = word_bytes(words.pop()) if len(words) == 1 else _("(stale contents)")
            move.update(step.stack, step.new, pointer_frames=self.pointer_frames,
                        titles=(_("old stack {size:,} B").format(size=step.stack.size),
                                _("new stack {size:,} B").format(size=step.new.size)),
                        copied=step.phase in (Phase.COPY, Phase.ADJUST), freed=freed)
            fig.suptitle(_(step.phase.value), fontsize=10)
            return fig


def step_figure(step: Step, fig: Figure | None = None, *, pointer_frames: int = 3) -> Figure:
    """One step: the stack, or the old and the new stack side by side during a move (a new
    figure; a widget keeps a :class:`StepPainter`, which redraws its own)."""
    return StepPainter(pointer_frames=pointer_frames)(step)


def show_step(step: Step, *, pointer_frames: int = 3) -> None:
    """Display one step's picture (see step_figure)."""
    view.show(step_figure(step, pointer_frames=pointer_frames))


def _html(step: Step, position: int, total: int) -> str:
    where = _("step {n} of {total}").format(n=position + 1, total=total)
    return (f"<b>{html.escape(where)}</b>: {html.escape(step.title)}"
            f"<pre style='font-size: 11px; line-height: 1.25; {view.PRE_STYLE}'>"
            f"{html.escape(chr(10).join(step.lines))}</pre>")


# ipywidgets 8's Play has a stop button (■) that sets its value to its minimum: jslinked to
# the slider, it sent the learner back to step 1. Play has no switch for it (only for the
# repeat button), so a style hides it on our Plays: ▶/⏸ alone plays and pauses, and the
# learner stays at the step shown.
PLAY_CLASS = "gostack-play"
PLAY_STYLE = f"<style>.{PLAY_CLASS} > button:nth-of-type(2) {{ display: none; }}</style>"


def stepper(steps: Sequence[Step], *, start: int = 0, play: bool = True,
            pointer_frames: int = 3, interval_ms: int = 700):
    """Buttons (back, step, and with ``play`` next growth), a slider and, with ``play``, a
    Play control; at step ``start`` (0-based, as the tape indexes it) first.

    The slider counts from 1, as the readout does. The buttons move a :class:`Cursor` and
    the slider follows it; rendering reads ``cursor.current`` and nothing else. A button
    that could not move the cursor is disabled (back at the start, step at the end, next
    growth with none ahead). Play advances the slider every ``interval_ms`` in the browser
    (jslink), so the kernel only renders each step; its one button plays and pauses, and
    pausing leaves the slider where it is (the stop button, back to step 1, is hidden).
    """
    import ipywidgets as w

    cur = Cursor(steps, start)
    n = len(steps)
    slider = w.IntSlider(value=cur.position + 1, min=1, max=n, description=_("step"),
                         continuous_update=False, layout=w.Layout(width="420px"))
    back, fwd = w.Button(description=_("◀ back")), w.Button(description=_("step ▶"))
    grow = w.Button(description=_("next growth »"))
    text = w.HTML()
    picture = view.Picture(StepPainter(pointer_frames=pointer_frames))

    ahead = view.Prefetch(picture)

    def render(*_):
        cur.jump(slider.value - 1)
        here = cur.position
        picture.render(here, lambda: steps[here])  # the picture first: text and picture
        back.disabled, fwd.disabled = cur.at_start, cur.at_end  # then change together
        grow.disabled = not cur.growth_ahead
        text.value = _html(cur.current, here, n)
        picture.show(here, lambda: steps[here])
        nexts = [here + 1, here - 1, Cursor(steps, here).next_growth()]
        ahead.after((i, lambda i=i: steps[i]) for i in dict.fromkeys(nexts) if 0 <= i < n)

    def move(fn: Callable[[], int]) -> Callable:
        return lambda _b: setattr(slider, "value", fn() + 1)

    fwd.on_click(move(cur.step))
    back.on_click(move(cur.back))
    grow.on_click(move(cur.next_growth))
    slider.observe(view.serial(render), "value")
    render()
    controls: list = [back, fwd]  # back left of step, as the arrows point
    if play:
        player = w.Play(value=slider.value, min=1, max=n, interval=interval_ms,
                        description=_("play"), show_repeat=False)
        player.add_class(PLAY_CLASS)
        w.jslink((player, "value"), (slider, "value"))
        controls += [grow, player, w.HTML(PLAY_STYLE)]
    return view.box([controls, slider], picture, beside=[text])
