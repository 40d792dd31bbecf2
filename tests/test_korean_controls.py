"""Part 2's explorers in the Korean edition: every control a learner reads is Korean.

Each explorer is built under ``set_language("ko")`` (no browser) and its widget tree walked:
every description (label, button) and every dropdown option's label holds Hangul, or is a
Go name or a number (``spawn_10``, ``syscall.Nanosleep 50 ms``, ``N``, ``1,000``).
"""

from __future__ import annotations

import re

import pytest

from gostack.i18n import korean, set_language

pytest.importorskip("ipywidgets")

# A Go name (a probe, a function, a syscall), possibly with a duration; or a number.
GO_OR_NUMBER = re.compile(r"^(N|[\d,]+|[a-z]\w*_\w+|syscall\.\w+ \d+ ms)$")


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
    from gostack.lessons import l09_why_scheduler as l09
    from gostack.lessons import l10_run_queues as l10
    from gostack.lessons import l11_blocking as l11
    from gostack.lessons import l12_stealing_preemption as l12

    return {"09": l09.blocking_explorer, "10": l10.queues_explorer,
            "11": l11.blocking_explorer, "12": l12.timeline_explorer}


@pytest.fixture
def korean_kit():
    set_language("ko")
    yield
    set_language(None)


@pytest.mark.parametrize("lesson", ["09", "10", "11", "12"])
def test_part2_explorer_controls_are_korean(lesson, korean_kit):
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
