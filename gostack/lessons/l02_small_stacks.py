"""Lesson 02, small stacks: a population of goroutines under every stack design Go has used.

The model is ``gostack.population`` (plain values: a :class:`~gostack.population.Summary`
per policy); this module draws it (:func:`draw_population`, :func:`draw_stack_sizes`,
:func:`draw_policies`) and wires the explorer's controls (:func:`explorer`) to both.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from .. import population as pp
from ..arch import STACK_GUARD
from ..population import Policy, Summary, fmt_bytes
from . import draw, view
from .draw import PALETTE


def draw_population(used: Sequence[int], ax: Axes | None = None, *,
                    title: str | None = None) -> Axes:
    """How many goroutines use how many bytes at their deepest point (two bins per
    doubling, log axis), with the guard line of a 2, 4 and 8 KiB stack: what each holds
    before it grows."""
    ax = draw.axes(ax, (7.2, 3.0))
    k0, k1 = max(64, min(used)).bit_length() - 1, max(used).bit_length()
    bins = [2 ** (k / 2) for k in range(2 * k0, 2 * k1 + 1)]
    ax.hist(used, bins=bins, color=PALETTE["frame"][0], edgecolor="white", linewidth=0.5)
    ax.set_xscale("log", base=2)
    top = ax.get_ylim()[1] * 1.3
    ax.set_ylim(0, top)
    for size in (2048, 4096, 8192):
        x = size - STACK_GUARD
        ax.axvline(x, color=PALETTE["guard"], linestyle="--", linewidth=1)
        ax.text(x * 1.05, top * 0.98, f"{fmt_bytes(size)} stack:\nguard at\n{x:,} B",
                color=PALETTE["guard"], fontsize=7, va="top")
    ticks = [2 ** k for k in range(k0, k1 + 1)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_bytes(t).replace(" ", "\u00a0") for t in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel("bytes in use at the deepest point (hi − SP)")
    ax.set_ylabel("goroutines")
    ax.set_title(title or f"{len(used):,} goroutines (a model: log-normal bytes used)")
    return ax


def draw_stack_sizes(summaries: Sequence, ax: Axes | None = None, *,
                     title: str | None = None) -> Axes:
    """Goroutines per final stack size, one bar colour per policy (log scale: the tail shows)."""

    ax = draw.axes(ax, (6.4, 3.0))
    sizes = sorted({s for summ in summaries for s, _ in summ.sizes})
    width = 0.8 / len(summaries)
    for i, summ in enumerate(summaries):
        counts = dict(summ.sizes)
        xs = [j + (i - (len(summaries) - 1) / 2) * width for j in range(len(sizes))]
        ax.bar(xs, [counts.get(s, 0) for s in sizes], width=width, label=summ.label,
               color=PALETTE["frame"][i % len(PALETTE["frame"])])
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([fmt_bytes(s) for s in sizes], fontsize=8)
    ax.set_xlabel("stack size at the deepest point")
    ax.set_ylabel("goroutines (log scale)")
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or "where the goroutines end up")
    return ax


def draw_policies(summaries: Sequence, axes: tuple[Axes, Axes] | None = None, *,
                  highlight=None) -> tuple[Axes, Axes]:
    """Two panels, one row per policy: resident memory split into used and waste (with the
    reserve when it is larger), and the growth work: copies or new segments, bytes copied.
    ``highlight`` (a Summary) is drawn as an extra row on top."""


    rows = list(summaries) + ([highlight] if highlight is not None else [])
    if axes is None:  # a pyplot figure, as draw.axes makes
        import matplotlib.pyplot as plt

        with draw.styled():
            _, axes = plt.subplots(1, 2, figsize=(10.0, 0.45 * len(rows) + 1.4), sharey=True,
                                   width_ratios=(3, 2))
    mem, work = axes
    ys = list(range(len(rows)))
    mib = 1 << 20
    for y, s in zip(ys, rows, strict=True):
        edge = PALETTE["pointer"] if s is highlight else "none"
        mem.barh(y, s.used / mib, color=PALETTE["frame"][0], edgecolor=edge, linewidth=1.5)
        mem.barh(y, (s.waste - s.kernel) / mib, left=s.used / mib, color=PALETTE["guard_zone"],
                 edgecolor=edge, linewidth=1.5)
        if s.kernel:  # a thread's kernel memory (lesson 01), at the end of its bar
            mem.barh(y, s.kernel / mib, left=(s.resident - s.kernel) / mib,
                     color=PALETTE["reserve"], hatch="///", edgecolor=edge, linewidth=1.5)
        note = fmt_bytes(s.resident)
        if s.reserved > s.resident:
            note += f"  (reserved {fmt_bytes(s.reserved)})"
        mem.text(s.resident / mib, y, "  " + note, va="center", fontsize=7)
        work.barh(y, s.moves, color=PALETTE["grow"], edgecolor=edge, linewidth=1.5)
        work.text(s.moves, y, f"  {s.moves:,} {s.move_kind}, {fmt_bytes(s.bytes_copied)} copied",
                  va="center", fontsize=7)
    labels = [s.label for s in rows]
    if highlight is not None:
        labels[-1] = "your choice: " + labels[-1]
    mem.set_yticks(ys)
    mem.set_yticklabels(labels, fontsize=8)
    if highlight is not None:
        mem.get_yticklabels()[-1].set_color(PALETTE["pointer"])
    mem.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    mem.set_xlim(0, max(s.resident for s in rows) / mib * 1.45)
    mem.set_xlabel("MiB (resident)")
    kernel = any(s.kernel for s in rows)
    mem.set_title("memory: used (dark), waste (light)"
                  + (", kernel (hatched)" if kernel else ""))
    work.set_xlim(0, max(max(s.moves for s in rows), 1) * 2.3)
    work.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    work.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    work.set_xlabel("stack copies / new segments")
    work.set_title("growth work")
    n = rows[0].n
    mem.figure.suptitle(f"{n:,} goroutines, each at its deepest point", fontsize=10)
    return mem, work


def policies_figure(state: Summary, base: Sequence[Summary],
                    fig: Figure | None = None) -> Figure:
    """The explorer's figure: the lineup ``base`` with ``state`` highlighted on top."""
    with draw.styled():
        fig = draw.canvas(fig, (10.0, 0.45 * (len(base) + 1) + 1.4))
        draw_policies(base, tuple(fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))),
                      highlight=state)
        fig.tight_layout()
    return fig


def show_policies(state: Summary, base: Sequence[Summary]) -> None:
    """Show the explorer's figure for one state (its static view)."""
    view.show(policies_figure(state, base))


def explorer(n: int = 10_000, initial: int | None = None,
             policy: Policy | str = pp.CONTIGUOUS, seed: int = 1):
    """N, policy, initial size and seed in; a readout and the lineup with your choice out."""
    import ipywidgets as w

    n, size, p, seed = pp.explorer_args(n, initial, policy, seed)
    n_slider = w.IntSlider(value=n, min=100, max=10_000, step=100, description="N",
                           continuous_update=False)
    pol = w.Dropdown(options=[(q.value, q) for q in Policy], value=p, description="policy")
    init = w.Dropdown(options=list(pp.initial_choices(p)), value=size, description="initial")
    seed_box = w.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed")
    text = w.HTML()
    picture = view.Picture(lambda both, fig: policies_figure(*both, fig))
    busy = [False]  # a policy change resets the initial dropdown: render once, not twice
    lineups: dict[tuple[int, int], tuple[Summary, ...]] = {}  # by (N, seed)

    def lineup(n: int, seed: int) -> tuple[Summary, ...]:
        if (n, seed) not in lineups:
            lineups[n, seed] = pp.lineup(n, seed)
        return lineups[n, seed]

    def render(*_):
        if busy[0]:
            return
        key = (n_slider.value, init.value, pol.value, seed_box.value)
        state = pp.explorer_state(*key)
        text.value = view.code(state.readout)
        picture.show(key, lambda: (state, lineup(key[0], key[3])))

    def on_policy(change):
        busy[0] = True
        init.options = list(pp.initial_choices(change["new"]))
        init.value = pp.DEFAULT_INITIAL[change["new"]]
        busy[0] = False
        render()

    pol.observe(on_policy, "value")
    for ctl in (n_slider, init, seed_box):
        ctl.observe(render, "value")
    render()
    return view.box([[n_slider, seed_box], [pol, init], text], picture)
