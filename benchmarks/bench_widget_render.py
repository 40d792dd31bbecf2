"""How long a lesson widget takes to make its picture for a new state, in the kernel alone.

For each widget (lessons 00, 02, 03 and 04), walk through the states a learner visits (a
slider stepped one notch at a time, then each dropdown option) and time, per state, the
two ways of making its PNG, in one run, so the ratio holds whatever the machine's load:

  rebuild   what the widgets did before: a fresh figure per state (new axes, every artist
            drawn again by the lesson's draw_* functions), tight_layout, savefig to PNG, with
            matplotlib 3.11's default text hinting (the font's own);
  in place  what they do now (view.Picture): the same figure, its artists moved
            (set_data, set_text...), its layout fixed once, only the panels that changed
            drawn again, the pixels encoded straight to PNG, FreeType's autohinter.

The state itself (the simulator's run, lesson 02's population) is timed apart: it is the
same either way. Neither path caches PNGs here (a widget does, for states it has shown).
Prints p50 and p95 per widget and the split of the in-place time (figure update, canvas
draw, PNG encode). Times on a shared machine swing with its load (printed): compare within
one run.

    python benchmarks/bench_widget_render.py            # every widget, 30 states each
    python benchmarks/bench_widget_render.py -k 04 -n 60
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gostack import population as pp  # noqa: E402
from gostack.lessons import draw, stacks, view  # noqa: E402
from gostack.lessons import l00_welcome as l00  # noqa: E402
from gostack.lessons import l02_small_stacks as l02  # noqa: E402
from gostack.lessons import l03_prologue as l03  # noqa: E402
from gostack.lessons import l04_newstack as l04  # noqa: E402
from gostack.trace import Trace  # noqa: E402


@dataclass
class Widget:
    name: str
    states: list  # the keys a learner visits, in order
    state: Callable  # key -> the state the widget renders
    figure: Callable  # (state, fig or None) -> fig
    rebuild: Callable  # state -> a new figure built as the widget built it before


def _fresh(size, **subplots):
    fig = draw.canvas(None, size)
    return fig, fig.subplots(**subplots) if subplots else fig.subplots()


def _old_depth(st):
    fig, (a, b) = _fresh((9, 4.2), nrows=1, ncols=2, width_ratios=(1, 2))
    stacks.draw_stack(st.snapshot, a, label_frames=3)
    draw.draw_growth(st.trace, b, calls=max(st.calls, 1))
    return fig


def _old_policies(both):
    state, base = both
    fig, axs = _fresh((10.0, 0.45 * (len(base) + 1) + 1.4), nrows=1, ncols=2, sharey=True,
                      width_ratios=(3, 2))
    l02.draw_policies(base, tuple(axs), highlight=state)
    return fig


def _old_prologue(st):
    fig, ax = _fresh((3.6, 5.0))
    l03.draw_prologue(st, ax)
    return fig


def _old_growth(run):
    fig, (a, b) = _fresh((9.5, 3.4), nrows=1, ncols=2, width_ratios=(3, 2))
    draw.draw_growth(Trace(list(run.grows)), a, calls=max(run.calls, 1),
                     title=f"{run.frame:,}-byte frames: {draw.plural(len(run.grows), 'growth')}"
                     + (" then overflow" if run.overflow else ""))
    l04._draw_fit_loop(run, b)
    return fig


def _walk(slider: list, options: list, fixed: Callable) -> list:
    """A slider stepped through ``slider``, then each option of a dropdown."""
    return [fixed(s, None) for s in slider] + [fixed(None, o) for o in options]


def widgets(n: int) -> list[Widget]:
    lineups: dict = {}

    def l02_state(key):
        n_, initial, policy, seed = key
        if (n_, seed) not in lineups:
            lineups[n_, seed] = pp.lineup(n_, seed)
        return pp.explorer_state(*key), lineups[n_, seed]

    l02_keys = ([(10_000 - 100 * k, None, pp.CONTIGUOUS, 1) for k in range(min(n, 6))]
                + [(10_000, None, pp.CONTIGUOUS, seed) for seed in range(2, 2 + min(n, 6))]
                + [(10_000, None, p, 1) for p in pp.Policy]
                + [(10_000, size, pp.Policy.SEGMENTED, 1)
                   for _, size in pp.initial_choices(pp.Policy.SEGMENTED)])
    return [
        Widget("00 stack_explorer", _walk(
            list(range(6, 6 + n)), [64, 128, 616, 4096, 10280],
            lambda s, o: (160, s) if s is not None else (o, 6 + n)),
            lambda k: l00.depth_state(*k), l00.depth_figure, _old_depth),
        Widget("02 explorer", l02_keys, l02_state,
               lambda st, fig: l02.policies_figure(*st, fig), _old_policies),
        Widget("03 prologue_explorer", _walk(
            list(range(1000, 1000 + 8 * n, 8)), [64, 128, 136, 616, 4096, 4104, 10280],
            lambda s, o: (2048, s, 160) if s is not None else (2048, 1000, o)),
            lambda k: l03.prologue_state(*k), l03.prologue_figure, _old_prologue),
        Widget("04 growth_explorer", _walk(
            list(range(400, 400 + 10 * n, 10)), [64, 616, 4096, 10272, 65536],
            lambda s, o: (160, s) if s is not None else (o, 400)),
            lambda k: l04.growth_run(k[0], k[1], entry=40), l04.growth_figure, _old_growth),
    ]


def rebuild_png(widget: Widget, state) -> bytes:
    """The old way: a new figure for every state, laid out and saved by savefig."""
    with matplotlib.rc_context({**draw.STYLE, "text.hinting": "default"}):
        fig = widget.rebuild(state)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def encode_only(fig) -> bytes:
    from PIL import Image

    w, h = fig.canvas.get_width_height()
    buf = io.BytesIO()
    Image.frombuffer("RGBA", (w, h), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert(
        "RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=30, help="slider steps per widget (default 30)")
    ap.add_argument("-k", dest="select", default="", help="only widgets whose name contains this")
    args = ap.parse_args(argv)
    print(f"load average at the start: {os.getloadavg()[0]:.1f}")
    rows = []
    for w in widgets(args.n):
        if args.select not in w.name:
            continue
        states, t_state = [], []
        for key in w.states:
            t0 = time.perf_counter()
            states.append(w.state(key))
            t_state.append(time.perf_counter() - t0)
        rebuild_png(w, states[0])  # warm: fonts, caches
        old, new, parts = [], [], {"update": [], "draw": [], "encode": []}
        fig = None
        fig = w.figure(states[0], fig)
        view.png(fig, crop=False)
        for st in states:
            t0 = time.perf_counter()
            rebuild_png(w, st)
            old.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fig = w.figure(st, fig)
            t1 = time.perf_counter()
            view.png(fig, crop=False)  # what a widget sends: the canvas drawn, then encoded
            t2 = time.perf_counter()
            encode_only(fig)  # the same pixels encoded again: the encoding's share
            t3 = time.perf_counter()
            new.append(t2 - t0)
            parts["update"].append(t1 - t0)
            parts["draw"].append((t2 - t1) - (t3 - t2))
            parts["encode"].append(t3 - t2)
        rows.append((w.name, len(states), t_state, old, new, parts))
        print(_line(rows[-1]), flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print("| widget | states | state p50 | rebuild p50 | rebuild p95 | in place p50 | "
          "in place p95 | p50 ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, n, t_state, old, new, _ in rows:
        print(f"| {name} | {n} | {1e3 * statistics.median(t_state):.1f} | "
              f"{1e3 * pct(old, 50):.0f} | {1e3 * pct(old, 95):.0f} | {1e3 * pct(new, 50):.0f} | "
              f"{1e3 * pct(new, 95):.0f} | {pct(old, 50) / pct(new, 50):.1f}x |")
    print("(milliseconds per state; state = the simulator's computation, the same either way)")
    return 0


def _line(row) -> str:
    name, n, t_state, old, new, parts = row
    split = ", ".join(f"{k} {1e3 * statistics.median(v):.1f}" for k, v in parts.items())
    return (f"{name}: {n} states; rebuild p50 {1e3 * pct(old, 50):.0f} p95 "
            f"{1e3 * pct(old, 95):.0f} ms; in place p50 {1e3 * pct(new, 50):.0f} p95 "
            f"{1e3 * pct(new, 95):.0f} ms ({split} ms at p50 each; "
            f"{pct(old, 50) / pct(new, 50):.1f}x)")


if __name__ == "__main__":
    sys.exit(main())
