"""Lesson 01, what an OS thread costs: the figure comparing threads, goroutines and generators.

The measurements are ``gostack.oscost``'s (it returns the panels); this module only draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, NullLocator

from .. import i18n
from ..i18n import N_, _
from ..oscost import fmt_bytes, fmt_ns
from .draw import PALETTE, STYLE

COST_COLORS = {"thread": PALETTE["grow"], "goroutine": PALETTE["ok"], "other": PALETTE["uintptr"]}


COST_NAMES = {"thread": N_("OS thread"), "goroutine": N_("goroutine"),
              "other": N_("Python generator")}


def _cost_ticks(unit: str, lo: float, hi: float) -> list[float]:
    """Round ticks from the last one at or below ``lo`` to the first one at or above ``hi``:
    powers of 32 bytes (32 B, 1 KiB, 32 KiB, ...), or powers of 10 ns."""
    base = 32.0 if unit == "bytes" else 10.0
    t = base if unit == "bytes" else 1.0
    while t * base <= lo:
        t *= base
    ticks = [t]
    while ticks[-1] < hi:
        ticks.append(ticks[-1] * base)
    return ticks


def draw_cost_comparison(panels: Sequence[tuple[str, str, Sequence]], axes=None, *,
                         title: str | None = None):
    """Horizontal bars on log axes, one panel per (title, unit, bars); unit is "bytes" or
    "ns". Each bar has ``label``, ``value`` and ``who`` ("thread", "goroutine", "other"),
    which picks the colour. Titles and labels are shown in the language in use (oscost
    gives them in English). Returns the list of Axes."""
    with i18n.figure_fonts():
        return _draw_cost_comparison(panels, axes, title)


def _draw_cost_comparison(panels, axes, title):
    if axes is None:  # pyplot's, as lesson 01 shows it with plt.show()
        with plt.rc_context(STYLE):
            fig, axes = plt.subplots(
                len(panels), 1, figsize=(7.6, 0.9 + 0.34 * sum(len(p[2]) for p in panels)),
                gridspec_kw={"height_ratios": [len(p[2]) for p in panels]})
        axes = [axes] if isinstance(axes, Axes) else list(axes)
    for ax, (name, unit, bars) in zip(axes, panels, strict=True):
        fmt = fmt_bytes if unit == "bytes" else fmt_ns
        ys = range(len(bars))
        values = [b.value for b in bars]
        ax.barh(list(ys), values, color=[COST_COLORS[b.who] for b in bars], height=0.65)
        ax.set_xscale("log")
        ticks = _cost_ticks(unit, min(values) / 2, max(values) * 10)
        ax.set_xlim(ticks[0], ticks[-1])
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(lambda v, _pos, fmt=fmt: fmt(v))
        ax.set_yticks(list(ys))
        ax.set_yticklabels([_(b.label) for b in bars])
        ax.invert_yaxis()
        for y, b in zip(ys, bars, strict=True):
            ax.text(b.value * 1.12, y, fmt(b.value), va="center", fontsize=8)
        ax.set_title(_(name), loc="left")
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
    fig = axes[0].figure
    handles = [Rectangle((0, 0), 1, 1, color=COST_COLORS[k]) for k in COST_COLORS]
    fig.legend(handles, [_(n) for n in COST_NAMES.values()], loc="lower center", ncols=3,
               frameon=False, fontsize=8)
    top = 1.0
    if title:
        import textwrap

        text = textwrap.fill(title, 95)
        fig.suptitle(text, x=0.01, ha="left", fontsize=9)
        top -= 0.15 * (text.count("\n") + 1) / fig.get_figheight()  # ~0.15 in a line
    fig.tight_layout(rect=(0, 0.035, 1, top))
    return axes



# ---- the lesson's printed lines, in the language in use (its cells print these) ----------

def comparison_title(cost) -> str:
    """The comparison figure's title (``cost``: oscost.thread_cost())."""
    return _("OS threads vs goroutines; goroutines {label}").format(label=cost.go.label)


def reservation_line(cost) -> str:
    """What one new thread's stack reserves, by ulimit -s."""
    st = cost.reservation
    limit = fmt_bytes(st.rlimit_stack) if st.rlimit_stack else "unlimited"
    return _("ulimit -s {limit}: a new thread's stack is {stack} + a {guard} guard page").format(
        limit=limit, stack=fmt_bytes(st.live_thread_stack), guard=fmt_bytes(st.guard))


def address_space_lines(cost) -> list[str]:
    """How many threads fit under the address-space limit, for two stack sizes."""
    demo = cost.address_space
    return [_("stack {stack:>8}: {n:>5,} threads fit under {limit}").format(
                stack=fmt_bytes(stack), n=n, limit=fmt_bytes(demo.limit))
            for stack, n in [(demo.default_stack, demo.default_threads),
                             (demo.small_stack, demo.small_threads)]]


def goroutine_line(cost) -> str:
    """The largest goroutine run: its stack, resident memory and creation time."""
    go = cost.go.largest
    return _("a goroutine: {stack:,.0f} B of stack, {resident} resident, created in {cpu} of "
             "CPU; {n:,} of them in one process").format(
        stack=go.stack, resident=fmt_bytes(go.resident), cpu=fmt_ns(go.create_cpu_ns), n=go.n)


def creation_lines(cost) -> list[str]:
    """What creating a thread costs (Python's and pthread's), and a goroutine."""
    out = [_("{kind:>7}: CPU {cpu} per thread, resident {resident}").format(
               kind=c.kind, cpu=fmt_ns(c.cpu_ns), resident=fmt_bytes(c.resident))
           for c in cost.creation.values()]
    out.append(_("goroutine: CPU {cpu} per goroutine").format(
        cpu=fmt_ns(cost.go.largest.create_cpu_ns)))
    return out
