"""The Korean edition's last English (issue 15): realgo's comparison tables (lessons 04, 07,
08), lesson 04's overflow note, the EscapeError lesson 06 prints, and lessons 09, 11 and 12,
whose cached values must not carry the language they were first computed in.

Expected English comes from the committed English notebooks (what learners read there); the
Korean side is checked with test_korean_figures' rule (Hangul, or code and numbers only).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from test_korean_figures import assert_korean, ko  # noqa: F401  (ko is a fixture)

import gostack
from gostack import golessons, i18n

ROOT = Path(__file__).resolve().parents[1]


def english_output(notebook: str, code: str) -> str:
    """The committed output of the English notebook's cell whose source holds ``code``."""
    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and code in "".join(c["source"]))
    return "".join(cell["outputs"][0]["text"])


def columns(text: str) -> int:
    """Display columns of ``text`` in a monospaced font (Hangul takes two), counted here."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_comparison_tables_stay_english_in_english():
    with i18n.using("en"):
        rec = golessons.load_recorded()
        table = golessons.comparison("lesson_big_frame", recorded=rec).table()
    printed = english_output("04-newstack.ipynb", "big_real.table()")
    assert printed.splitlines()[1:] == table.splitlines()


@pytest.mark.parametrize("name", ["lesson_big_frame", "lesson_small_limit", "lesson_shrink",
                                  "lesson_running"])
def test_comparison_tables_speak_korean(ko, name):  # noqa: F811
    table = golessons.comparison(name, recorded=golessons.load_recorded()).table()
    lines = table.splitlines()
    assert_korean(lines, f"{name} table")
    assert lines[-1] == "  => 일치"
    # The real side's column starts at the same display column in the header and every row,
    # though the row names and the header are Hangul (two columns a letter).
    header, rows = lines[2], [x for x in lines[3:-1] if "호출" in x]
    start = columns(header[:header.index("기록한")])
    for row in rows:
        second = row.index("호출", row.index("호출") + 1) if row.count("호출") > 1 else None
        if second is not None:
            assert columns(row[:second]) == start, (header, row)


def test_a_disagreeing_table_says_so_in_korean(ko):  # noqa: F811
    from gostack import realgo

    good = golessons.comparison("lesson_small_limit", recorded=golessons.load_recorded())
    bad = realgo.Comparison(good.program, good.frames, good.nosplit, good.sim,
                            type(good.real)(growths=good.real.growths[:-1],
                                            shrinks=(), gc_growths=(), overflow=None),
                            "go1.27.3", ("the probe changed since it was recorded: run "
                                         "scripts/record_go.py",))
    lines = bad.table().splitlines()
    assert lines[-1] == "  => 불일치"
    assert any(x.startswith("!!") for x in lines)
    assert_korean(lines, "disagreeing table")


def test_overflow_note_speaks_korean(ko):  # noqa: F811
    from gostack.lessons import l04_lines
    from gostack.lessons import l04_newstack as l04

    with pytest.raises(gostack.StackOverflow) as e:
        g = gostack.Runtime(trace=False, max_stack=32768).go(gostack.Func("main.worker", frame=40))
        for _ in range(400):
            g.call(gostack.Func("main.recA", frame=160))
    lines = l04_lines.overflow_lines(e.value)
    assert l04.overflow_lines is l04_lines.overflow_lines  # lesson 04's cell calls l04's
    # Go's own words stay; the kit's note is Korean.
    assert lines[0] == "runtime: goroutine stack exceeds 32768-byte limit"
    assert lines[2] == "fatal error: stack overflow"
    assert lines[1].startswith("runtime: sp=0x… stack=[0x…, 0x…]   (sp = hi-")
    assert i18n.korean(lines[1]) and "바이트 스택" in lines[1]


def test_escape_error_speaks_korean():
    """Lesson 06 prints the reason after the message's first ': '."""
    def reason() -> str:
        rt = gostack.Runtime()
        g = rt.go(gostack.Func("main.worker", frame=40, locals=[
            gostack.Local("x", gostack.SCALAR, 0)]))
        with pytest.raises(gostack.EscapeError) as e:
            rt.heap_store(rt.new_object(), g.addr("x", 0))
        return str(e.value).split(": ", 1)[1]

    with i18n.using("en"):
        assert reason() == "the compiler would have moved that variable to the heap"
    with i18n.using("ko"):
        assert i18n.korean(reason()) and "힙" in reason()


# ---- lessons 09, 11, 12: English first, then Korean, from the same caches ----------------

@pytest.fixture
def english_then_korean():
    """Compute in English (filling the lesson's caches), then switch the whole kit to Korean
    as a Korean notebook does; back to choosing the language afterwards."""
    gostack.set_language("en")
    try:
        yield lambda: gostack.set_language("ko")
    finally:
        gostack.set_language(None)


def test_lesson_09_cache_keeps_no_english(english_then_korean):
    from gostack.lessons import l09_why_scheduler as l09

    l09.blocking_run.cache_clear()
    english = l09.blocking_run("read", 20).lines()
    assert not any(i18n.korean(x) for x in english)
    english_then_korean()
    korean = l09.blocking_run("read", 20).lines()
    assert l09.blocking_run.cache_info().hits >= 1  # the same cached value
    assert all(i18n.korean(x) for x in korean), korean


def test_lesson_11_caches_keep_no_english(english_then_korean):
    from gostack.lessons import l11_blocking as l11

    l11.blocking_state.cache_clear()
    l11.syscall_pair.cache_clear()
    english = [*l11.blocking_state("raw", 20).lines(), *l11.syscall_story(l11.syscall_pair()[1])]
    assert not any(i18n.korean(x) for x in english)
    english_then_korean()
    korean = [*l11.blocking_state("raw", 20).lines(), *l11.syscall_story(l11.syscall_pair()[1])]
    assert l11.blocking_state.cache_info().hits >= 1 and l11.syscall_pair.cache_info().hits >= 1
    assert all(i18n.korean(x) for x in korean), korean


def test_lesson_12_cache_keeps_no_english(english_then_korean):
    from gostack.lessons import l12_stealing_preemption as l12

    l12.timeline_run.cache_clear()
    name = "a 20 ms loop without calls, 1 P"
    english = [*l12.timeline_run(name).lines(), *l12.preempt_story(name)]
    assert not any(i18n.korean(x) for x in english)
    english_then_korean()
    state = l12.timeline_run(name)
    assert l12.timeline_run.cache_info().hits >= 1
    assert i18n.korean(state.title) and i18n.korean(state.lines()[1])
    assert_korean([*state.lines(), *l12.preempt_story(name)], "lesson 12 after English")


# A standing rule for every Korean notebook's committed outputs: no line of the kit's own
# English prose. Go's words stay as Go prints them: a Go listing's lines (tab-indented, as
# gofmt writes them), the runtime's "fatal error:" lines, and what lesson 06's Go program
# prints.
ENGLISH_RUN = r"\b[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}\b"
GO_SAYS = ("\t", "fatal error: ", "p - u = ")


def _korean_notebooks() -> list[Path]:
    return sorted(p for d in ("notebooks", "exercises", "solutions")
                  for p in (ROOT / d / "ko").glob("*.ipynb"))


@pytest.mark.parametrize("path", _korean_notebooks(),
                         ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_korean_outputs_have_no_english_prose(path):
    import re

    hangul = re.compile("[\uac00-\ud7a3]")
    found = []
    for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            for line in "".join(text).splitlines():
                if (re.search(ENGLISH_RUN, line) and not hangul.search(line)
                        and not line.startswith(GO_SAYS)):
                    found.append(f"cell {number}: {line}")
    assert found == []
