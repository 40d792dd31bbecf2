"""Exercise 09 (predict the execution order): the simulator's answers against go1.27.3's
(gostack/data/orderquiz_recorded.json, scripts/record_orderquiz.py) and against small
programs worked out by hand from runtime/proc.go and chan.go; the pools of programs
against the zoo they were vetted with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gostack.grade import catalog
from gostack.grade.exercises.e09_predict_order import POOLS, VISIBLE, variant
from gostack.sched import orderquiz as oq
from gostack.sched import run
from gostack.sched.render import fingerprint

EX = catalog.BY_ID["09-predict-the-order"]
DATA = Path(__file__).resolve().parents[1] / "gostack" / "data" / "orderquiz_recorded.json"
RECORDED = json.loads(DATA.read_text(encoding="utf-8"))


def _fn(code: str):
    ns: dict = {}
    exec(compile(code, "<zoo>", "exec"), ns)
    return ns["predict"]


@pytest.mark.parametrize("key", sorted(RECORDED["programs"]))
def test_the_answers_are_what_go_printed(key):
    """Most runs print the simulator's answer; every other run printed the order the model
    predicts when sysmon's first look preempts the runtime's init (one schedtick more:
    the 61-tick check comes one G earlier). Only the tick61 programs can tell them apart."""
    rec = RECORDED["programs"][key]
    cat, seed = key.split(":")
    p = oq.generate(int(seed), cat)
    assert rec["fingerprint"] == fingerprint(p.to_probe()), "re-record: the program changed"
    assert list(p.answer()) == rec["output"]
    assert rec["agreeing"] > rec["runs"] // 2
    early = list(run(p.to_probe(), sysmon_first_look=True).output)
    for other, _ in rec["others"]:
        assert cat == "tick61" and other == early


def test_every_category_and_every_visible_program_was_recorded():
    keys = set(RECORDED["programs"])
    assert RECORDED["go_version"] == "go1.27.3" and RECORDED["env"]["GOMAXPROCS"] == "1"
    for cat in oq.CATEGORIES:
        assert {f"{cat}:{s}" for s in VISIBLE[cat]} <= keys


# Worked out by hand: runnext = G5 and schedtick = 4 when main.main starts (gostack.sched's
# startup, as recorded); newproc -> runqput(next=true); chansend/chanrecv with a waiting
# partner -> goready -> runqput(next=true); the last wg.Done readies main the same way.
BY_HAND = [
    ("three goroutines: the last one started first",
     oq.Program(0, "spawn", (("go", "a", 3, 0),), {"a": (("emit", "a"),)}),
     ["a2", "a0", "a1", "end0"]),
    ("a nested go runs right after its parent ends, before the queue",
     oq.Program(0, "spawn", (("go", "a", 2, 0),), {"a": (("go", "x", 1, 0), ("emit", "a")),
                                                   "x": (("emit", "x"),)}),
     ["a1", "x0", "a0", "x0", "end0"]),
    ("Gosched: behind the local queue, main too",
     oq.Program(0, "gosched", (("go", "a", 2, 0), ("emit", "m"), ("gosched",), ("emit", "m")),
                {"a": (("emit", "a"), ("gosched",), ("emit", "a"))}),
     ["m0", "a1", "a0", "m0", "a1", "a0", "end0"]),
    ("the sender parks first; the receiver wakes it into runnext and records before it ends",
     oq.Program(0, "chan", (("go", "r", 1, 0), ("go", "s", 1, 0)),
                {"r": (("recv", "c"), ("emit", "r")), "s": (("emit", "s"), ("send", "c"))},
                ("c",)),
     ["s0", "r0", "end0"]),
    ("main receives: each sender it meets waiting goes to runnext",
     oq.Program(0, "chan", (("go", "s", 2, 0), ("recv", "c"), ("recv", "c")),
                {"s": (("emit", "s"), ("send", "c"))}, ("c",)),
     ["s1", "s0", "end0"]),
]


@pytest.mark.parametrize("why, program, want", BY_HAND, ids=[b[0][:32] for b in BY_HAND])
def test_the_simulator_agrees_with_the_hand_table(why, program, want):
    assert list(program.answer()) == want, why
    assert _fn(variant())(program) == want, why


def test_every_pooled_program_is_vetted_against_the_zoo():
    """On every program of a category's pool the solution and the correct variants give the
    simulator's answer, and each wrong answer is wrong exactly when it names the category:
    the visible, hidden and per-student cases all blame the same rule for the same bug."""
    right = [_fn(variant()), *(_fn(r.code) for r in EX.right)]
    wrong = [(w, _fn(w.code)) for w in EX.zoo]
    for cat, seeds in POOLS.items():
        shapes = set()
        for seed in seeds:
            p = oq.generate(seed, cat)
            shapes.add(repr((p.main, p.funcs)))
            want = list(p.answer())
            assert all(list(f(p)) == want for f in right), (cat, seed)
            for w, f in wrong:
                try:
                    got = list(f(p))
                except Exception:  # a wrong answer may crash: it is wrong
                    got = None
                assert (got != want) == (cat in w.breaks), (cat, seed, w.name)
        assert len(shapes) == len(seeds), f"{cat}: two seeds make the same program"


def test_programs_are_seeded_and_round_trip():
    for cat in oq.CATEGORIES:
        p = oq.generate(3, cat)
        assert p == oq.generate(3, cat) and oq.Program.from_dict(p.to_dict()) == p
        assert "func main()" in p.render_go()


def test_memorising_the_visible_answers_fails_every_aspect():
    visible = EX.visible_cases()
    known = {json.dumps(c["args"]): out for c, out in
             zip(visible, catalog.reference_outputs(EX, visible), strict=True)}
    hidden = EX.hidden_cases()
    outputs = [{"ok": known.get(json.dumps(c["args"]), ["end0"])} for c in hidden]
    results = catalog.judge(EX, hidden, outputs, catalog.reference_outputs(EX, hidden))
    assert not any(r.passed for r in results), [r.tag for r in results if r.passed]


def test_descriptions_list_only_the_functions_a_go_statement_starts():
    # generate(1, "spawn") defines x but starts only a: main is "go a(k) for k in 0..4"
    p = oq.generate(1, "spawn")
    assert "x" in p.funcs and p.started() == {"a"}
    assert p.describe().splitlines() == [
        'main: go a(k) for k in 0..4; wg.Wait(); record("end", 0)',
        'a(i): record("a", i); wg.Done()']
    for category in ("spawn", "gosched", "chan", "tick61"):
        for seed in range(100):
            text = oq.generate(seed, category).describe()
            for f in oq.generate(seed, category).funcs:  # described iff some line starts it
                assert (f"{f}(i):" in text) == (f"go {f}(" in text), (category, seed)
