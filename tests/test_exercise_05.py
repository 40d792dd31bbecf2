"""Exercise 05's harness and cases, against values worked out by hand.

The check and the grader compare a learner's run with the reference's, both through the same
``Exercise.run``: a bug in that harness would cancel out. So the harness's output is checked
here against a table derived on paper (the reasoning is in the comments), and a deliberate
harness mutant (p and u swapped at the checkpoints) is shown to fail it. The visible boundary
programs are checked the same way, and every pooled program is vetted against the zoo.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import gostack as gs
import gostack.problems as pb
from gostack.grade import catalog
from gostack.grade.exercises import e05_growth_path as e05
from gostack.grade.spec import BadResult
from gostack.symtab import POINTER, SCALAR, UINTPTR, Local

ROOT = Path(__file__).resolve().parents[1]
EX = catalog.BY_ID["05-growth-path"]
LOCALS = (Local("x", SCALAR, 0), Local("p", POINTER, 8), Local("u", UINTPTR, 16))


def _hand_program() -> pb.Problem:
    """main.entry (frame 56) calls f (frame 512) three times, each p pointing at its
    caller's x, then a checkpoint."""
    f = gs.Func("main.f", 512, LOCALS)
    call = pb.Step("call", f, "caller")
    return pb.Problem(0, "whole", "grow", gs.Func("main.entry", 56, LOCALS),
                      (call, call, call, pb.Step("check")))


def _run(problem: pb.Problem) -> dict:
    case = {"tags": [], "args": problem.to_dict()}
    return catalog.reference_outputs(EX, [case])[0]


def _hand_expectations(out: dict) -> None:
    # On a 2,048-byte stack the prologue of a frame F > 128 fails when
    # hi - E + (F - 128) >= 2048 - 928 = 1120 (stackGuard is 928 bytes on linux/amd64).
    # entry: E = 32 + 8 = 40 below hi (newproc's reserve, a return address); SP = 40 + 56.
    # call 1: E = 96 + 8 = 104; 104 + 384 = 488 < 1120: no growth; SP = 104 + 512 = 616.
    # call 2: E = 624; 624 + 384 = 1,008 < 1120: no growth; SP = 1,136.
    # call 3: E = 1,144; 1,144 + 384 = 1,528 >= 1120: grows. newstack doubles to 4,096,
    #   enough: 1,144 + 512 + 928 = 2,584 <= 4,096. Checked again: 1,528 < 4096 - 928.
    [grow] = out["events"]
    kind, call, old, new, used, delta, old_lo, old_hi, new_lo, new_hi, adjusted = grow
    assert (kind, call, old, new, used) == ("grow", 3, 2048, 4096, 1144)
    assert (old_hi - old_lo, new_hi - new_lo) == (2048, 4096)
    assert delta == new_hi - old_hi  # every address of the used part moves by this much
    h0, h1 = old_hi, new_hi
    # adjustframe runs innermost first on the frames live at the growth (f2, f1, entry):
    # f2.p -> f1's x (SP 616 below hi), f1.p -> the entry's x (call 1 has no f caller:
    # the entry's x, at SP 96 below hi), entry.p -> its own x.
    assert adjusted == [["main.f", "p", h1 - 1136 + 8, h0 - 616, h1 - 616],
                        ["main.f", "p", h1 - 616 + 8, h0 - 96, h1 - 96],
                        ["main.entry", "p", h1 - 96 + 8, h0 - 96, h1 - 96]]
    # The checkpoint, frame by frame: [frame, x, p, u]. x is the frame's number (the entry
    # stores 1); p was moved by the growth; u, the uintptr copy taken at the call, was not.
    # Call 3's locals are written after its growth, on the new stack: p = u = f2's x there.
    assert out["checks"] == [[[0, 1, h1 - 96, h0 - 96],
                              [1, 1, h1 - 96, h0 - 96],
                              [2, 2, h1 - 616, h0 - 616],
                              [3, 3, h1 - 1136, h1 - 1136]]]
    # Prologue checks: entry, call 1, call 2, call 3 twice (fails, then passes on the new
    # stack). One newstack, one copy, three frames with pointers to adjust, no GC.
    assert out["calls"] == {"prologue": 5, "newsize": 1, "copystack": 1, "adjustframe": 3,
                            "shrink": 0}
    assert out["copies"] == [[old_lo, old_hi, new_lo, new_hi, delta]]
    assert out["adjusts"] == [] and out["error"] is None


def test_the_harness_records_what_was_worked_out_by_hand():
    _hand_expectations(_run(_hand_program()))


def test_a_harness_that_swaps_p_and_u_fails_the_hand_table(monkeypatch):
    real = pb.Problem._check

    def swapped(g):
        return tuple(pb.Check(c.frame, c.u, c.p, c.x) for c in real(g))

    monkeypatch.setattr(pb.Problem, "_check", staticmethod(swapped))
    with pytest.raises(AssertionError):
        _hand_expectations(_run(_hand_program()))


def test_the_answer_key_text_shows_each_growth_from_its_old_size():
    text = _hand_program().question(show_answers=True)
    assert "call    3:     2,048 ->     4,096 bytes (main.f)" in text


# --- the visible boundary programs -------------------------------------------------------

def _view(tag: str, seed: int, category: str) -> list:
    p = pb.generate(seed, "whole", category)
    aspect = next(a for a in EX.aspects if a.tag == tag)
    case = {"tags": [tag], "args": p.to_dict()}
    return aspect.project(case, catalog.reference_outputs(EX, [case])[0])


def test_prologue_boundary_program():
    # 1384186213: main.entry (frame 80), then main.emit (frame 368) 41 times.
    # E of call k = 40 + 80 + 8 + (k - 1) * (368 + 8) = 128 + 376 (k - 1).
    # The prologue fails when E + (368 - 128) >= size - 928:
    #   2,048: E >= 880: call 3 (E = 880, exactly on the boundary: a `<` misses it);
    #   4,096: E >= 2,928: call 9 (E = 3,136); 8,192: E >= 7,024: call 20 (E = 7,272);
    #   16,384: E >= 15,216: call 41 would need E = 15,168: no fourth growth.
    # 41 prologue checks of emit, one of the entry, one more after each of 3 growths.
    assert _view("prologue", 1384186213, "grow") == [
        ["grows at", 3], ["grows at", 9], ["grows at", 20], ["calls", "prologue", 45]]


def test_newsize_boundary_program():
    # 217452450: entry (frame 72); eval (frame 104) x35; visit (frame 28,512); eval x59;
    # visit x2. Eval's E = 120 + 112 (k - 1): grows at 1,120 (call 10) and 3,168 (call 29).
    # Call 36 (visit): E = 120 + 35 * 112 = 4,040; it needs 4,040 + 28,512 + 928 = 33,480
    # bytes: 16,384 and 32,768 are too small, 65,536 fits (without the 928-byte guard,
    # 32,552 would fit in 32,768: the case that catches a newstack forgetting it).
    # Calls 37-95: E = 4,040 + 28,512 + 8 + 112 (j - 37) stays below 65,536 - 928.
    # Call 96 (visit): E = 4,040 + 28,520 + 59 * 112 = 39,168; 39,168 + 28,384 >= 64,608:
    # grows; 39,168 + 28,512 + 928 = 68,608 <= 131,072: one doubling.
    assert _view("newsize", 217452450, "huge") == [
        ["size", 2048, 4096], ["size", 4096, 8192], ["size", 8192, 65536],
        ["size", 65536, 131072]]


def test_overflow_boundary_program():
    # 989059947: max_stack 32,768; entry (frame 96), sort (frame 88) 384 times.
    # E = 144 + 96 (k - 1); growths at E >= 1,120 (call 12), 3,168 (33), 7,264 (76),
    # 15,456 (161: to 32,768, exactly max_stack: allowed) and 31,840 (call 332: 65,536 >
    # 32,768: fatal error: stack overflow).
    assert _view("overflow", 989059947, "overflow") == [["overflow", 332, 32768]]


def test_shrink_boundary_program():
    # 1300353307: entry (frame 56), emit (frame 488) 42 times, 26 returns, 4 GCs.
    # After the returns 16 emit frames remain: hi - SP = 40 + 56 + 16 * 496 = 8,032; the
    # GC scans with runtime.GC's own frames below it (136 bytes): used = 8,168.
    # The stack is 32,768 bytes (growths at calls 3, 7, 15, 32). It shrinks when
    # used + 800 < 32,768 / 4 = 8,192: 8,968 is not: no GC shrinks it. (Forget the 800
    # and 8,168 < 8,192 halves it at GC 1.)
    assert _view("shrink", 1300353307, "shrink") == [
        ["gc", n, 32768, 8168, None] for n in (1, 2, 3, 4)]


def test_a_shrinking_program():
    # 441328720: entry (frame 40), lex (frame 904) 39 times, 26 returns, 4 GCs.
    # Lex's E = 88 + 912 (k - 1); its prologue fails at E + 776 >= size - 928: calls 2, 4,
    # 9, 17 (E = 14,680: exactly 16,384 - 928 - 776) and 35: the stack is 65,536 bytes.
    # After the returns 13 lex frames remain: 80 + 13 * 912 = 11,936, + 136 for runtime.GC's
    # frames: used = 12,072. GC 1: 12,072 + 800 = 12,872 < 65,536 / 4: halves to 32,768.
    # GC 2 on: 12,872 >= 32,768 / 4 = 8,192: kept.
    assert _view("shrink", 441328720, "shrink") == [
        ["gc", 1, 65536, 12072, 32768]] + [["gc", n, 32768, 12072, None] for n in (2, 3, 4)]
    assert _view("prologue", 441328720, "shrink")[:5] == [
        ["grows at", k] for k in (2, 4, 9, 17, 35)]


def test_the_visible_cases_are_the_boundary_programs():
    cases = EX.visible_cases()
    seeds = [c["args"]["seed"] for c in cases if "diagnose" not in c["args"]]
    assert seeds == [1384186213, 217452450, 989059947, 1300353307, 441328720]
    diagnoses = [tuple(c["args"]["diagnose"]) for c in cases if "diagnose" in c["args"]]
    # The four mysteries (D, A, C, B), a limit one step too strict, two broken copies.
    assert diagnoses == [
        (1384186213, "grow", "prologue", "late"), (217452450, "huge", "newsize", "tight"),
        (989059947, "overflow", "newsize", "limit-inclusive"),
        (1384186213, "grow", "copystack", "nothing-moved"),
        (1384186213, "grow", "copystack", "negated-delta"),
        (1384186213, "grow", "adjustframe", "uintptrs-too"),
        (1300353307, "shrink", "shrink", "eager")]


# --- every pooled program blames the right stage -----------------------------------------

def _stages(code: str = "") -> dict:
    nb = nbformat.read(ROOT / "solutions" / "05-growth-path.ipynb", as_version=4)
    ns: dict = {}
    sources = [c.source for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    for source in ["import gostack as gs", *sources, code]:
        exec(source, ns)
    return {n: ns[n] for n in EX.names}


@pytest.mark.parametrize("category", list(e05.POOLS))
def test_pooled_programs_isolate_each_stage(category):
    """On every pooled program (visible, hidden and per-student cases all come from these),
    each wrong stage changes its own rule's view and no other; the pools hold no copy."""
    pool = e05.POOLS[category]
    assert len(set(pool)) == len(pool) >= 20
    tags = e05.TAGS[category]
    zoo = [(w, _stages(w.code)) for w in EX.zoo]
    aspects = [a for a in EX.aspects if a.tag in tags]
    for seed in pool[::4]:  # a quarter of each pool: the zoo test covers what is drawn
        case = {"tags": tags, "args": pb.generate(seed, "whole", category).to_dict()}
        want = catalog.reference_outputs(EX, [case])[0]
        for wrong, fns in zoo:
            got = EX.run(fns, case)
            for a in aspects:
                if a.tag not in wrong.breaks:
                    assert a.project(case, got) == a.project(case, want), (
                        seed, wrong.name, a.tag)


def test_a_run_on_the_inline_prologue_fails_the_prologue_rule(monkeypatch):
    """The simulator has an inline copy of the reference prologue (its fast path). A run
    that slips onto it makes no call of the learner's prologue, and that alone fails the
    prologue rule, even when every growth lands where it should."""
    import gostack.runtime as rt

    fns = _stages()
    case = {"tags": ["prologue"], "args": pb.generate(1384186213, "whole", "grow").to_dict()}
    want = catalog.reference_outputs(EX, [case])[0]
    real = rt.Goroutine.__init__

    def fast(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self._reference_prologue = True

    monkeypatch.setattr(rt.Goroutine, "__init__", fast)
    got = EX.run(fns, case)
    assert got["events"] == want["events"] and got["calls"]["prologue"] == 0
    aspect = next(a for a in EX.aspects if a.tag == "prologue")
    assert aspect.project(case, got) != aspect.project(case, want)
    assert "the runtime called your prologue stage 0 times" in aspect.fmt(
        aspect.project(case, want), aspect.project(case, got))


# --- the diagnosis: broken_stage(reference, observed) -------------------------------------
#
# The expected answer of a diagnosis case does not come from a classifier: it is the stage
# that was swapped for a wrong one when the case was made. The reference classifier is
# checked against that truth on every pooled case; the first differences of the visible
# cases are worked out here by hand from the programs above.

def _diagnosis(stage: str, seed: int, category: str, variant: str) -> dict:
    return e05._diagnosis_case(stage, seed, category, variant)


def _first_difference(case: dict) -> tuple[dict | None, dict | None]:
    ref, obs = case["args"]["reference"], case["args"]["observed"]
    for i in range(max(len(ref), len(obs))):
        a = ref[i] if i < len(ref) else None
        b = obs[i] if i < len(obs) else None
        if a != b:
            return a, b
    return None, None


def test_mystery_d_is_a_prologue_one_word_late():
    # 1384186213 (see test_prologue_boundary_program): emit's call 3 enters with E = 880,
    # exactly on the boundary (880 + 240 = 1,120 = 2,048 - 928). The reference grows there;
    # a prologue that checks SP + 8 (one word late) does not, and grows at call 4 instead
    # (E = 1,256), to the same 4,096 bytes. The first difference is a growth at another
    # call: only the prologue decides when. (Later growths land past the boundary: the same.)
    case = _diagnosis("prologue", 1384186213, "grow", "late")
    a, b = _first_difference(case)
    assert (a["call"], a["used"], a["new_size"]) == (3, 880, 4096)
    assert (b["call"], b["used"], b["new_size"]) == (4, 1256, 4096)
    assert catalog.reference_outputs(EX, [case]) == [{"said": "prologue"}]


def test_mystery_a_is_newsize_with_no_room_for_the_guard():
    # 217452450 (see test_newsize_boundary_program): call 36 (visit, frame 28,512) grows an
    # 8,192-byte stack with E = 4,040. The reference needs 4,040 + 28,512 + 928 = 33,480:
    # 65,536. Without the guard 32,552 fits in 32,768, so that runtime grows to 32,768, its
    # prologue fails again on the new stack (4,040 + 28,384 > 32,768 - 928) and it grows a
    # second time at call 36. The first difference is at the same call, in the size: newsize.
    case = _diagnosis("newsize", 217452450, "huge", "tight")
    a, b = _first_difference(case)
    assert (a["call"], a["old_size"], a["new_size"]) == (36, 8192, 65536)
    assert (b["call"], b["old_size"], b["new_size"]) == (36, 8192, 32768)
    nxt = case["args"]["observed"][case["args"]["observed"].index(b) + 1]
    assert (nxt["call"], nxt["old_size"], nxt["new_size"]) == (36, 32768, 65536)
    assert catalog.reference_outputs(EX, [case]) == [{"said": "newsize"}]


def test_a_limit_one_step_too_strict_is_newsize():
    # 989059947 (see test_overflow_boundary_program): call 161 grows to 32,768 bytes, exactly
    # max_stack, which is allowed. A newstack that refuses size >= max_stack dies there: an
    # overflow where the reference grows, at the same call. newstack decides both.
    case = _diagnosis("newsize", 989059947, "overflow", "limit-inclusive")
    a, b = _first_difference(case)
    assert (a["event"], a["call"], a["new_size"]) == ("grow", 161, 32768)
    assert (b["event"], b["call"]) == ("overflow", 161)
    assert catalog.reference_outputs(EX, [case]) == [{"said": "newsize"}]


def test_mystery_c_is_adjustframe_moving_uintptrs():
    # 1384186213: the reference's first growth (call 3) adjusts 2 pointers into the old
    # stack. u is a copy of p taken at the call, so every frame whose p points into the
    # stack has a u that does too: an adjustframe that moves uintptrs as well moves exactly
    # twice as many, 4, at the same call, size and delta. x is intact at the checkpoint
    # (only the copy carries it, and the copy is the reference's): adjustframe.
    case = _diagnosis("adjustframe", 1384186213, "grow", "uintptrs-too")
    a, b = _first_difference(case)
    assert (a["call"], a["delta"], a["adjusted"]) == (3, b["delta"], 2)
    assert (b["call"], b["adjusted"]) == (3, 4)
    xs = [[e["x"] for e in t if e["event"] == "check"]
          for t in (case["args"]["reference"], case["args"]["observed"])]
    assert xs[0] == xs[1] == [1, 1] + list(range(2, 42))
    assert catalog.reference_outputs(EX, [case]) == [{"said": "adjustframe"}]


def test_a_copy_that_moved_nothing_is_copystack_though_only_the_count_differs():
    # The same program, a copystack that returns the right delta but writes each word back
    # at its old address: the new stack's frames are empty, so adjustframe finds 0 pointers
    # (the grow line differs only in that count, as in mystery C), and every frame that
    # existed at a growth reads x = 0 at the checkpoint. x is a scalar only the copy
    # carries: copystack. (Frames 21 to 41, called after the last growth at call 20, keep
    # their x: they were written on the new stack.)
    case = _diagnosis("copystack", 1384186213, "grow", "nothing-moved")
    a, b = _first_difference(case)
    assert (a["call"], a["delta"], a["adjusted"]) == (3, b["delta"], 2)
    assert b["adjusted"] == 0
    xs = [e["x"] for e in case["args"]["observed"] if e["event"] == "check"]
    assert xs[:20] == [0] * 20 and xs[21:] == list(range(21, 42))
    assert catalog.reference_outputs(EX, [case]) == [{"said": "copystack"}]


def test_a_negated_delta_is_copystack():
    # Same program: the copy is right, the delta it returns has the wrong sign. The grow
    # line at call 3 differs in its delta alone: copystack computes it.
    case = _diagnosis("copystack", 1384186213, "grow", "negated-delta")
    a, b = _first_difference(case)
    assert (a["call"], a["new_size"]) == (b["call"], b["new_size"]) == (3, 4096)
    assert b["delta"] == -a["delta"] != 0
    assert catalog.reference_outputs(EX, [case]) == [{"said": "copystack"}]


def test_mystery_b_is_a_shrink_without_the_margin():
    # 1300353307 (see test_shrink_boundary_program): GC 1 finds 8,168 bytes in use on 32,768.
    # 8,168 + 800 >= 8,192: the reference keeps the stack; forgetting the 800 halves it. The
    # first difference is GC 1's shrink (the reference scans GC 2 there); the growth back at
    # call 58 comes later and follows from it.
    case = _diagnosis("shrink", 1300353307, "shrink", "eager")
    a, b = _first_difference(case)
    assert (a["event"], a["gc"]) == ("gc", 2)
    assert (b["event"], b["gc"], b["old_size"], b["new_size"]) == ("shrink", 1, 32768, 16384)
    assert any(e["event"] == "grow" and e["call"] == 58 for e in case["args"]["observed"])
    assert catalog.reference_outputs(EX, [case]) == [{"said": "shrink"}]


def test_the_mysteries_are_visible_diagnosis_cases():
    for name, ((_, cat, seed), stage, fn) in pb.MYSTERIES.items():
        variant = next(v for v, f in pb.WRONG_STAGES[stage].items() if f is fn)
        assert (seed, cat, variant) in e05.DIAGNOSES[stage][:e05.VISIBLE_DIAGNOSES[stage]], name
        assert pb.MYSTERY_ANSWERS[name].startswith(stage)


def _classifier(code: str):
    ns: dict = {}
    exec(code, ns)
    return ns["broken_stage"]


@pytest.mark.parametrize("stage", list(e05.DIAGNOSES))
def test_pooled_diagnoses_blame_the_swapped_stage(stage):
    """On every pooled diagnosis case: the traces differ, the reference and every correct
    classifier name the stage that was swapped, every wrong classifier names it unless that
    stage's rule is one it breaks; and the wrong classifiers break their rules on the
    visible cases."""
    pool = e05.DIAGNOSES[stage]
    assert len(set(pool)) == len(pool) >= 20
    wrongs = [(w, _classifier(w.code)) for w in EX.zoo if "def broken_stage" in w.code]
    rights = [(r, _classifier(r.code)) for r in EX.right if "def broken_stage" in r.code]
    assert len(wrongs) >= 4 and len(rights) >= 2
    tag = f"blame-{stage}"
    caught = set()
    for k, (seed, cat, variant) in enumerate(pool):
        case = _diagnosis(stage, seed, cat, variant)
        ref, obs = case["args"]["reference"], case["args"]["observed"]
        assert ref != obs, (seed, cat, variant)
        assert e05.reference_broken_stage(ref, obs) == stage, (seed, cat, variant)
        for r, fn in rights:
            assert fn(ref, obs) == stage, (r.name, seed, cat, variant)
        for w, fn in wrongs:
            if tag not in w.breaks:
                assert fn(ref, obs) == stage, (w.name, seed, cat, variant)
            elif k < e05.VISIBLE_DIAGNOSES[stage] and fn(ref, obs) != stage:
                caught.add(w.name)
    assert caught == {w.name for w, _ in wrongs if tag in w.breaks}


def test_a_diagnosis_case_is_plain_data_and_calls_broken_stage_only():
    """The learner's function gets both traces as data, never a runtime to run: the grader
    switches the reference stages off while learner code runs."""
    import json

    case = _diagnosis("adjustframe", 1384186213, "grow", "uintptrs-too")
    assert json.loads(json.dumps(case)) == case
    called = []

    def broken_stage(reference, observed):
        called.append((reference, observed))
        reference.clear()  # a learner's function may mutate its inputs: the case keeps them
        return "adjustframe"

    def stage(*args):
        raise AssertionError("a stage was called on a diagnosis case")

    fns = {n: stage for n in EX.names} | {"broken_stage": broken_stage}
    assert EX.run(fns, case) == {"said": "adjustframe"}
    assert len(called) == 1 and case["args"]["reference"]


def test_broken_stage_must_name_one_of_the_five_stages():
    case = _diagnosis("shrink", 1300353307, "shrink", "eager")
    for answer, words in (("shrinkstack", "not one of"), (3, "not a str")):
        fns = {"broken_stage": lambda r, o, a=answer: a}
        with pytest.raises(BadResult, match=words):
            EX.run(fns, case)

    def unwritten(reference, observed):
        raise NotImplementedError()

    with pytest.raises(BadResult, match="still raises NotImplementedError"):
        EX.run({"broken_stage": unwritten}, case)
