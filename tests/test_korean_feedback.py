"""Exercise feedback in the Korean edition: what a failing case says is Korean.

Every wrong answer of every bug zoo is checked under ``set_language("ko")``; each line of the
report may hold code, numbers, Go names and what the learner's code raised, but no English
prose (its common words, outside quotes and parentheses). Exercise 05's trace
lines (``reference:``/``observed:``) are the traces' own format: only their label is Korean.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from test_zoo import functions

from gostack import exercises as ex
from gostack.grade import catalog
from gostack.i18n import set_language

# English prose words; code (put G6 next, record("a", i), for k in 0..1) has none of them
PROSE = re.compile(r"(?<![\w.\-/])(the|of|is|are|with|from|expected|got|nothing|empty|difference|"
                   r"bytes|grows|held|into|outside|above|below|stays|keeps|halves|then|and|"
                   r"not|an|at|to)(?![\w.(\-/])")
QUOTED = re.compile(r"\([^()]*\)|'[^']*'|\"[^\"]*\"")
# exercise 05's trace lines: a format the grader compares (only the label is translated)
KEPT = ("reference:", "observed:", "참조 구현(reference):", "관측(observed):")


def _report(exercise, code: str) -> str:
    with contextlib.redirect_stdout(io.StringIO()):
        fns = functions(exercise, code)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ex.check(exercise.id, **fns)
    return out.getvalue()


def english_lines(report: str) -> list[str]:
    found = []
    for line in report.splitlines():
        text = line.strip()
        if text.startswith(KEPT) or "예외 발생" in text:  # the learner's exception, as raised
            continue
        if PROSE.search(QUOTED.sub("", text)):
            found.append(text)
    return found


@pytest.fixture
def korean():
    set_language("ko")
    yield
    set_language(None)


@pytest.mark.parametrize("exercise", catalog.EXERCISES, ids=lambda e: e.id[:2])
def test_every_wrong_answer_is_explained_in_korean(exercise, korean):
    for wrong in exercise.zoo:
        report = _report(exercise, wrong.code)
        assert "✘" in report, (exercise.id, wrong.name)
        assert not english_lines(report), (exercise.id, wrong.name, english_lines(report))


def test_the_detector_sees_the_old_english():
    """What the learner review quoted (exercise 08 before it was translated) is caught."""
    old = ("시도: the spawn_1 probe: a P with runnext=G5, ring [] (empty)\n"
           "기댓값: the gets hand out [G6, G5] (2 Gs)\n"
           "first difference, get 2: expected G5, got nothing (the P is empty)")
    assert len(english_lines(old)) == 3


def test_exercise_lines_are_korean(korean):
    """What the exercises' code cells print through ``ex.say``/``ex.line``: Korean, with the
    English fields, and table rows that still line up (a Hangul syllable is 2 columns)."""
    from string import Formatter

    from gostack.i18n import _, text_width
    from gostack.i18n import korean as has_hangul

    def fields(s):
        return sorted(f for _t, f, _s, _c in Formatter().parse(s) if f)

    for name, english in ex.LINES.items():
        text = _(english)
        assert has_hangul(text), name
        assert fields(text) == fields(english), name
    # exercise 03: the header keeps its columns; the reveal's label column is 28 wide
    header = ex.line("copy-header")
    assert text_width(header) == len(ex.LINES["copy-header"])
    assert [text_width(header[:header.index(c) + len(c)]) for c in ("스택", "새 스택")] == [32, 54]
    rows = [ex.line(r, right=952, yours=None, verdict=ex.line("not-answered"),
                    fits=ex.line("fits-from-lo", need=1088))
            for r in ("free-as-copied", "free-from-lo", "free-fits")]
    assert {text_width(r[:r.index(" 952")]) for r in rows} == {28 + 3}
