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

from .. import i18n
from .. import population as pp
from ..arch import STACK_GUARD
from ..i18n import N_, _, ngettext
from ..population import Policy, Summary, fmt_bytes
from ..segmented import GO1_1
from . import draw, view
from .draw import PALETTE

# --------------------------------------------------------------------------- words
# population.label and Summary.readout in the language in use (gostack.population keeps
# the model, and its English words; the lesson shows these).


def label(policy: Policy | str, initial: int | None = None) -> str:
    """A configuration's short name, e.g. 'contiguous, 2 KiB start (Go 1.4+)'."""
    p = Policy(policy)
    size = pp.DEFAULT_INITIAL[p] if initial is None and p is not pp.ADAPTIVE else initial
    if p is pp.FIXED:
        return _("threads, {size} stacks").format(size=fmt_bytes(size))
    if p is pp.SEGMENTED:
        era = "Go 1.1" if size == GO1_1.stack_min else "Go 1.2"
        return _("segmented, {size} ({era})").format(size=fmt_bytes(size), era=era)
    if p is pp.CONTIGUOUS:
        era = {2048: " (Go 1.4+)", 8192: " (Go 1.3)"}.get(size, "")
        return _("contiguous, {size} start{era}").format(size=fmt_bytes(size), era=era)
    return _("adaptive start (Go 1.19+)")


def moves(s: Summary) -> str:
    """'227 copies', '1 copy', '1,110 new segments', '0 moves'."""
    n = s.moves
    if s.policy is pp.SEGMENTED:
        return ngettext("{n:,} new segment", "{n:,} new segments", n).format(n=n)
    if s.policy is pp.FIXED:
        return ngettext("{n:,} move", "{n:,} moves", n).format(n=n)
    return ngettext("{n:,} copy", "{n:,} copies", n).format(n=n)


def readout(s: Summary) -> str:
    """One configuration's costs in one line (what the explorer shows)."""
    who = (ngettext("{n:,} thread", "{n:,} threads", s.n) if s.policy is pp.FIXED
           else ngettext("{n:,} goroutine", "{n:,} goroutines", s.n)).format(n=s.n)
    kernel = (_(" ({kernel} of it kernel)").format(kernel=fmt_bytes(s.kernel))
              if s.kernel else "")
    text = _("{label}: {who}, reserved {reserved}, resident {resident}{kernel}, used {used}, "
             "waste {waste} ({share:.0%}), {moves}, {copied} copied").format(
        label=label(s.policy, s.initial), who=who, reserved=fmt_bytes(s.reserved),
        resident=fmt_bytes(s.resident), kernel=kernel, used=fmt_bytes(s.used),
        waste=fmt_bytes(s.waste), share=s.waste_fraction, moves=moves(s),
        copied=fmt_bytes(s.bytes_copied))
    if s.overflows:
        text += ngettext(", {n:,} overflow", ", {n:,} overflows", s.overflows).format(
            n=s.overflows)
    return text


# --------------------------------------------------------------------------- figures

def draw_population(used: Sequence[int], ax: Axes | None = None, *,
                    title: str | None = None) -> Axes:
    """How many goroutines use how many bytes at their deepest point (two bins per
    doubling, log axis), with the guard line of a 2, 4 and 8 KiB stack: what each holds
    before it grows."""
    with i18n.figure_fonts():
        return _draw_population(used, draw.axes(ax, (7.2, 3.0)), title)


def _draw_population(used: Sequence[int], ax: Axes, title: str | None) -> Axes:
    k0, k1 = max(64, min(used)).bit_length() - 1, max(used).bit_length()
    bins = [2 ** (k / 2) for k in range(2 * k0, 2 * k1 + 1)]
    ax.hist(used, bins=bins, color=PALETTE["frame"][0], edgecolor="white", linewidth=0.5)
    ax.set_xscale("log", base=2)
    top = ax.get_ylim()[1] * 1.3
    ax.set_ylim(0, top)
    for size in (2048, 4096, 8192):
        x = size - STACK_GUARD
        ax.axvline(x, color=PALETTE["guard"], linestyle="--", linewidth=1)
        note = _("{size} stack:\nguard at\n{guard:,} B").format(size=fmt_bytes(size), guard=x)
        ax.text(x * 1.05, top * 0.98, note, color=PALETTE["guard"], fontsize=7, va="top")
    ticks = [2 ** k for k in range(k0, k1 + 1)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_bytes(t).replace(" ", "\u00a0") for t in ticks], fontsize=7)
    ax.minorticks_off()
    ax.set_xlabel(_("bytes in use at the deepest point (hi − SP)"))
    ax.set_ylabel(_("goroutines"))
    ax.set_title(title or _("{n:,} goroutines (a model: log-normal bytes used)").format(
        n=len(used)))
    return ax


def draw_stack_sizes(summaries: Sequence, ax: Axes | None = None, *,
                     title: str | None = None) -> Axes:
    """Goroutines per final stack size, one bar colour per policy (log scale: the tail shows)."""

    with i18n.figure_fonts():
        return _draw_stack_sizes(summaries, draw.axes(ax, (6.4, 3.0)), title)


def _draw_stack_sizes(summaries: Sequence, ax: Axes, title: str | None) -> Axes:
    sizes = sorted({s for summ in summaries for s, _ in summ.sizes})
    width = 0.8 / len(summaries)
    for i, summ in enumerate(summaries):
        counts = dict(summ.sizes)
        xs = [j + (i - (len(summaries) - 1) / 2) * width for j in range(len(sizes))]
        ax.bar(xs, [counts.get(s, 0) for s in sizes], width=width,
               label=label(summ.policy, summ.initial),
               color=PALETTE["frame"][i % len(PALETTE["frame"])])
    ax.set_yscale("log")
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels([fmt_bytes(s) for s in sizes], fontsize=8)
    ax.set_xlabel(_("stack size at the deepest point"))
    ax.set_ylabel(_("goroutines (log scale)"))
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or _("where the goroutines end up"))
    return ax


_MIB = 1 << 20


def _limits(rows: Sequence[Summary]) -> tuple[float, float]:
    """The two panels' x limits for these rows: room for each bar's note."""
    return (max(s.resident for s in rows) / _MIB * 1.45,
            max(max(s.moves for s in rows), 1) * 2.3)


def _bar(ax: Axes, y: int, width: float, **kw) -> list:
    """One horizontal bar, as ax.barh draws it, without a container left behind (a
    widget's figure removes and redraws its bars)."""
    bars = ax.barh(y, width, **kw)
    ax.containers.remove(bars)
    return list(bars)


def _draw_row(mem: Axes, work: Axes, y: int, s: Summary, *, highlight: bool = False,
              animated: bool = False) -> list:
    """One policy's row in both panels; returns its artists."""
    edge = PALETTE["pointer"] if highlight else "none"
    kw = {"edgecolor": edge, "linewidth": 1.5, "animated": animated}
    out = [*_bar(mem, y, s.used / _MIB, color=PALETTE["frame"][0], **kw),
           *_bar(mem, y, (s.waste - s.kernel) / _MIB, left=s.used / _MIB,
                 color=PALETTE["guard_zone"], **kw)]
    if s.kernel:  # a thread's kernel memory (lesson 01), at the end of its bar
        out += _bar(mem, y, s.kernel / _MIB, left=(s.resident - s.kernel) / _MIB,
                    color=PALETTE["reserve"], hatch="///", **kw)
    note = fmt_bytes(s.resident)
    if s.reserved > s.resident:
        note += _("  (reserved {reserved})").format(reserved=fmt_bytes(s.reserved))
    out.append(mem.text(s.resident / _MIB, y, "  " + note, va="center", fontsize=7,
                        animated=animated))
    out += _bar(work, y, s.moves, color=PALETTE["grow"], **kw)
    out.append(work.text(s.moves, y, "  " + _("{moves}, {copied} copied").format(
        moves=moves(s), copied=fmt_bytes(s.bytes_copied)), va="center", fontsize=7,
        animated=animated))
    return out


def _decorate(mem: Axes, work: Axes, rows: Sequence[Summary], labels: list[str],
              limits: tuple[float, float], *, highlight: bool) -> None:
    ys = list(range(len(labels)))
    mem.set_yticks(ys)
    mem.set_yticklabels(labels, fontsize=8)
    if highlight:
        mem.get_yticklabels()[-1].set_color(PALETTE["pointer"])
    mem.set_ylim(len(labels) - 0.5, -0.5)  # first row on top
    mem.set_xlim(0, limits[0])
    mem.set_xlabel(_("MiB (resident)"))
    kernel = any(s.kernel for s in rows)
    mem.set_title(_("memory: used (dark), waste (light), kernel (hatched)") if kernel
                  else _("memory: used (dark), waste (light)"))
    work.set_xlim(0, limits[1])
    work.xaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    work.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    work.set_xlabel(_("stack copies / new segments"))
    work.set_title(_("growth work"))


def draw_policies(summaries: Sequence, axes: tuple[Axes, Axes] | None = None, *,
                  highlight=None) -> tuple[Axes, Axes]:
    """Two panels, one row per policy: resident memory split into used and waste (with the
    reserve when it is larger), and the growth work: copies or new segments, bytes copied.
    ``highlight`` (a Summary) is drawn as an extra row on top."""
    rows = list(summaries) + ([highlight] if highlight is not None else [])
    if axes is None:  # a pyplot figure, as draw.axes makes
        import matplotlib.pyplot as plt

        with draw.styled(), i18n.figure_fonts():
            _fig, axes = plt.subplots(1, 2, figsize=(10.0, 0.45 * len(rows) + 1.4), sharey=True,
                                   width_ratios=(3, 2))
    mem, work = axes
    with i18n.figure_fonts():
        for y, s in enumerate(rows):
            _draw_row(mem, work, y, s, highlight=s is highlight)
        labels = [label(s.policy, s.initial) for s in rows]
        if highlight is not None:
            labels[-1] = _("your choice: {label}").format(label=labels[-1])
        _decorate(mem, work, rows, labels, _limits(rows), highlight=highlight is not None)
        mem.figure.suptitle(_deepest(rows[0].n), fontsize=10)
    return mem, work


def _deepest(n: int) -> str:
    return _("{n:,} goroutines, each at its deepest point").format(n=n)


class _Policies:
    """policies_figure's artists: the lineup's rows, drawn again only for another lineup
    (N, seed) or when the choice needs wider panels, and the highlighted row, the learner's
    choice, redrawn for every state over a copy of the rest (draw.Panels, animated)."""

    def __init__(self, fig: Figure, rows: int) -> None:
        self.fig = fig
        self.mem, self.work = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
        self.rows = rows
        self.title = fig.suptitle("", fontsize=10)
        # The choice's label, where its tick label would be (animated with its row).
        self.label = self.mem.annotate("", xy=(0, rows - 1), xycoords=("axes fraction", "data"),
                                       xytext=(-7, 0), textcoords="offset points", ha="right",
                                       va="center", fontsize=8, color=PALETTE["pointer"],
                                       animated=True)
        self.choice: list = []
        self.drawn: tuple | None = None

    def update(self, state: Summary, base: Sequence[Summary]) -> None:
        rows = list(base) + [state]
        limits = _limits(rows)
        key = (tuple(base), limits)
        for a in self.choice:
            a.remove()
        if key != self.drawn:
            for ax in (self.mem, self.work):
                for a in [*ax.patches, *ax.texts]:
                    if a is not self.label:
                        a.remove()
            for y, s in enumerate(base):
                _draw_row(self.mem, self.work, y, s)
            _decorate(self.mem, self.work, rows, [label(s.policy, s.initial) for s in base]
                      + [""], limits, highlight=False)
            self.title.set_text(_deepest(base[0].n))
            self.drawn = key
        self.choice = _draw_row(self.mem, self.work, len(base), state, highlight=True,
                                animated=True)
        self.label.set_text(_("your choice: {label}").format(
            label=label(state.policy, state.initial)))
        self.panels.set_keys([key])
        self.panels.dynamic = [(*self.choice, self.label)]


def _longest_choice(n: int, seed: int) -> Summary:
    """The explorer's choice with the longest label (its layout leaves room for it)."""
    labels = [(len(label(p, size)), p, size) for p in Policy
              for _, size in pp.initial_choices(p)]
    _, p, size = max(labels, key=lambda t: t[0])
    return pp.explorer_state(n, size, p, seed)


def policies_figure(state: Summary, base: Sequence[Summary],
                    fig: Figure | None = None) -> Figure:
    """The explorer's figure: the lineup ``base`` with ``state`` highlighted on top; a
    widget's figure (``fig``) redraws only the highlighted row when the lineup is the same."""
    with draw.styled(), i18n.figure_fonts():
        art = draw.kept(fig, "policies", len(base))
        if art is None:
            fig = draw.canvas(fig, (10.0, 0.45 * (len(base) + 1) + 1.4))
            art = draw.keep(fig, "policies", len(base), _Policies(fig, len(base) + 1))
            art.panels = draw.panels(fig, [([art.mem, art.work, art.title], 0.0, 1.0)])
            art.update(_longest_choice(base[0].n, base[0].seed), base)
            draw.fix_layout(fig)
        art.update(state, base)
    return fig


def show_policies(state: Summary, base: Sequence[Summary]) -> None:
    """Show the explorer's figure for one state (its static view)."""
    view.show(policies_figure(state, base))


# The dropdowns' labels (their values stay Policy members and sizes): gostack.population's
# English words, marked here for the catalog.
_OPTION_WORDS = (N_("fixed"), N_("segmented"), N_("contiguous"), N_("adaptive"),
                 N_("computed at each GC"))


def _initial_options(policy: Policy | str) -> list[tuple[str, int | None]]:
    """The initial-size dropdown's (label, value) pairs, labels in the language in use."""
    return [(_(text), size) for text, size in pp.initial_choices(policy)]


def _choice(policy: Policy | str, initial: int | None) -> int:
    """The index of ``initial`` among the explorer's choices for ``policy``."""
    return [v for _, v in pp.initial_choices(policy)].index(initial)


def explorer(n: int = 10_000, initial: int | None = None,
             policy: Policy | str = pp.CONTIGUOUS, seed: int = 1):
    """N, policy, initial size and seed in; a readout and the lineup with your choice out."""
    import ipywidgets as w

    n, size, p, seed = pp.explorer_args(n, initial, policy, seed)
    n_slider = w.IntSlider(value=n, min=100, max=10_000, step=100, description="N",
                           continuous_update=False)
    pol = w.Dropdown(options=[(_(q.value), q) for q in Policy], value=p,
                     description=_("policy"))
    # Selected by index: adaptive's one option has the value None, and a Dropdown given the
    # value None selects nothing (a blank select in the browser).
    init = w.Dropdown(options=_initial_options(p), index=_choice(p, size),
                      description=_("initial"))
    seed_box = w.BoundedIntText(value=seed, min=0, max=2**31 - 1, description=_("seed"))
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
        picture.show(key, lambda: (state, lineup(key[0], key[3])))  # then the text: both
        text.value = view.code(readout(state))  # change at once

    def on_policy(change):
        # The new options and their default reach the browser in one message (hold_sync):
        # never a select showing an option index of the old list. The flag is reset
        # whatever happens, or every later render would be skipped: a frozen widget.
        busy[0] = True
        try:
            with init.hold_sync():
                init.options = _initial_options(change["new"])
                init.index = _choice(change["new"], pp.DEFAULT_INITIAL[change["new"]])
        finally:
            busy[0] = False
        render()

    pol.observe(view.serial(on_policy), "value")
    for ctl in (n_slider, init, seed_box):
        ctl.observe(view.serial(render), "value")
    render()
    return view.box([[n_slider, seed_box], [pol, init], text], picture)


# ---- the lesson's printed lines, in the language in use (its cells print these) ----------

def usage_lines(pop: pp.Population) -> list[str]:
    """How many bytes the goroutines use at their deepest point: three quantiles, the
    deepest, and how many distinct workloads."""
    used = sorted(pop.used)
    out = [_("{q:.0%} of the goroutines use at most {used:>6,} bytes").format(
               q=q, used=used[int(q * pop.n) - 1]) for q in (0.5, 0.9, 0.99)]
    out.append(_("the deepest uses {used:,} bytes; {n} distinct workloads").format(
        used=used[-1], n=len(pop.shapes)))
    return out


def per_thread_lines(threads: Summary, n: int) -> list[str]:
    """A fixed-stack thread's memory on average, and what lesson 01 measured of it."""
    tm = pp.thread_memory()  # lesson 01's measurement, recorded in gostack/data
    source = _("lesson 01's measurement ({threads:,} threads, {machine}, {date})").format(
        threads=tm.threads, machine=tm.machine, date=tm.date)
    return [_("per thread: {reserved} reserved, {resident} resident on average").format(
                reserved=fmt_bytes(threads.reserved / n), resident=fmt_bytes(threads.resident / n)),
            _("of which a thread's own: {resident} VmRSS + {kernel} kernel memory, from "
              "{source}").format(resident=fmt_bytes(tm.resident), kernel=fmt_bytes(tm.kernel),
                                 source=source)]


def never_grow_line(s: Summary, n: int) -> str:
    """How many goroutines of a 2 KiB start never grow, and what growing copied."""
    return _("2 KiB start: {never:,} goroutines never grow; {copied} copied per goroutine on "
             "average").format(never=dict(s.sizes)[2048], copied=fmt_bytes(s.bytes_copied / n))


def adaptive_line(pop: pp.Population) -> str:
    """The adaptive start's arithmetic: the average scanned + 928, rounded up."""
    mean = sum(pop.used) // pop.n
    return _("average scanned {mean:,} B + 928 = {total:,} B -> startingStackSize {size:,} B"
             ).format(mean=mean, total=mean + 928, size=pp.adaptive_start_size(pop.used))
