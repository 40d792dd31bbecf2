"""Every lesson's explorer in the Korean edition: every control a learner reads is Korean.

Each explorer is built under ``set_language("ko")`` (no browser) and its widget tree walked:
every description (label, button) and every dropdown option's label holds Hangul, or is a
Go name, a size or a number (``spawn_10``, ``adjustframe``, ``syscall.Nanosleep 50 ms``,
``N``, ``1,000``, ``4 KiB``, ``2 KiB (Go 1.4+)``, ``8 MiB (ulimit -s 8192)``).
"""

from __future__ import annotations

import re

import pytest

from gostack.i18n import korean, set_language

pytest.importorskip("ipywidgets")

# A Go name (a probe, a function, a syscall), possibly with a duration; or a number.
# A size, possibly with the Go release or the ulimit that set it.
GO_OR_NUMBER = re.compile(r"^(N|[\d,]+|[a-z]\w*_\w+|adjustframe|syscall\.\w+ \d+ ms"
                          r"|[\d,]+ [KM]iB( \((Go [\d.]+\+?|ulimit -s \d+)\))?)$")


def _controls(widget) -> list[tuple[str, str]]:
    """(kind, text) for every description and option label under ``widget``."""
    found = []
    for child in getattr(widget, "children", ()):
        found += _controls(child)
    desc = getattr(widget, "description", "")
    if desc:
        found.append((type(widget).__name__, desc))
    for label in getattr(widget, "_options_labels", ()):
        found.append((type(widget).__name__ + " option", label))
    return found


def _explorers():
    from gostack.lessons import l00_welcome as l00
    from gostack.lessons import l02_small_stacks as l02
    from gostack.lessons import l03_prologue as l03
    from gostack.lessons import l04_newstack as l04
    from gostack.lessons import l06_stack_maps as l06
    from gostack.lessons import l08_beyond as l08
    from gostack.lessons import l09_why_scheduler as l09
    from gostack.lessons import l10_run_queues as l10
    from gostack.lessons import l11_blocking as l11
    from gostack.lessons import l12_stealing_preemption as l12

    return {"00": l00.stack_explorer, "02": l02.explorer, "03": l03.prologue_explorer,
            "04": l04.growth_explorer, "06": l06.adjust_explorer, "08": l08.shrink_explorer,
            "09": l09.blocking_explorer, "10": l10.queues_explorer,
            "11": l11.blocking_explorer, "12": l12.timeline_explorer}


@pytest.fixture
def korean_kit():
    set_language("ko")
    yield
    set_language(None)


@pytest.mark.parametrize("lesson", ["00", "02", "03", "04", "06", "08", "09", "10", "11", "12"])
def test_explorer_controls_are_korean(lesson, korean_kit):
    box = _explorers()[lesson]()
    controls = _controls(box)
    assert controls, "no controls found"
    english = [(kind, text) for kind, text in controls
               if not korean(text) and not GO_OR_NUMBER.match(text)]
    assert not english, english


def test_english_controls_unchanged():
    """The English edition keeps its words (the browser plans click on them)."""
    set_language("en")
    try:
        texts = {text for _kind, text in _controls(_explorers()["10"]())}
    finally:
        set_language(None)
    assert {"probe", "step", "◀ back", "step ▶", "next run »"} <= texts


def test_policy_dropdown_relabels_in_korean(korean_kit):
    """Lesson 02: a policy change refills the initial-size options, still in Korean; the
    values stay the model's (a size, or None for adaptive)."""
    from gostack.lessons import l02_small_stacks as l02
    from gostack.population import Policy

    box = l02.explorer()
    pol, init = (d for d in _walk(box) if type(d).__name__ == "Dropdown")
    pol.value = Policy.ADAPTIVE
    assert init.options == (("GC마다 계산", None),)
    pol.value = Policy.FIXED
    assert [v for _label, v in init.options] == [8 << 20, 2 << 20]
    assert pol.options[0] == ("고정 스택", Policy.FIXED)


def test_part1_english_controls_unchanged():
    """Part 1's English labels, as lesson 08's notebook and the browser plans name them."""
    set_language("en")
    try:
        texts = {text for _kind, text in _controls(_explorers()["08"]())}
    finally:
        set_language(None)
    assert {"calls", "back to", "worker", "GCs", "40 (running example)"} <= texts


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)
