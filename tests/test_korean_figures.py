"""The Korean edition's figures and readouts speak Korean (issue 15), lesson by lesson.

Each lesson's main figures are drawn under ``i18n.using("ko")`` and every visible text in them
is checked, as are the lesson's readouts and printed lines: a text either holds Hangul (a
translation from gostack's catalog) or is made of numbers, code and identifiers only
(``main.recA``, ``stackguard0``, ``SP``, ``KiB``...). An English sentence left untranslated
(``fits``, ``call index``, ``stack size when scanned``) fails, with the text named.

The expected words are independent of the code under test: the allowed identifiers are the Go
runtime's and the kit's names, listed here by hand; anything else in Latin letters must have
been translated.
"""

from __future__ import annotations

import re
import warnings

import matplotlib
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from gostack import i18n

matplotlib.use("Agg")

# Lower-case words that are code or units, not English (Go identifiers, registers' names,
# the stack's ends, units, the running example's locals).
CODE_WORDS = {
    "hi", "lo", "fc", "recv", "select", "memmove", "morestack", "newstack", "copystack",
    "stackalloc", "stackfree", "scanstack", "shrinkstack", "handoffp", "retake", "startm",
    "sysmon", "newm", "uintptr", "adjustframe", "no_adjust", "delta", "runtime", "go",
    "gogo", "int", "new", "elem", "sudog", "read", "nil", "poison", "syscall",
    # the scheduler's (lessons 09-12): proc.go's functions and fields, the probes' goroutines
    "main", "runnext", "runq", "newproc", "runqput", "runqputslow", "globrunqput", "schedule",
    "schedtick", "gopark", "goready", "goyield", "wakep", "preemptone", "gettid", "end",
}
# Messages Go itself prints, quoted as Go prints them (the lesson compares them with real runs).
GO_MESSAGES = ("fatal error: stack overflow", "runtime: goroutine stack exceeds",
               "-byte limit", "thread exhaustion",
               "fatal error: attempt to execute system stack code on user stack")


def english_words(text: str) -> list[str]:
    """The words of ``text`` that are neither code nor numbers nor units."""
    for quote in GO_MESSAGES:
        text = text.replace(quote, " ")
    text = re.sub(r"\$[^$]*\$", " ", text)  # mathtext tick labels: 2^{11}
    out = []
    for w in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text):
        w = w.rstrip(".")
        code = (any(c in w for c in "._#0123456789") or w != w.lower() or len(w) <= 2
                or w in CODE_WORDS)
        if not code:
            out.append(w)
    return out


def untranslated(text: str) -> bool:
    """An English sentence left in the Korean edition: no Hangul, English words."""
    return not i18n.korean(text) and bool(english_words(text))


def figure_texts(fig: Figure) -> list[str]:
    fig.canvas.draw()  # tick labels exist once drawn
    return [t.get_text() for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip()]


def assert_korean(texts, where: str) -> None:
    bad = [t for t in texts if untranslated(t)]
    assert not bad, f"{where}: English left in the Korean edition: {bad}"


@pytest.fixture
def ko():
    with warnings.catch_warnings():
        # A glyph missing from every font of a text (Hangul in DejaVu Sans alone) fails.
        warnings.filterwarnings("error", message="Glyph .* missing from font")
        with i18n.using("ko"):
            yield


def test_the_check_itself():
    """The rule catches English and lets code, numbers and Korean through."""
    assert untranslated("stack size when scanned") and untranslated("16,384: fits")
    assert untranslated("call index (log scale)")
    for ok in ("main.recA (160)", "stackguard0\n= lo + 928", "hi", "SP", "2,048 B", "GC 3",
               "스택 크기 (바이트)", "$\\mathdefault{2^{11}}$", "v := <-c (recv)", "32 KiB",
               "  LEAQ -32(SP), R12; CMPQ R12, 16(R14); JLS morestack",
               "fatal error: stack overflow", "*p = 42", "u == &x: False"):
        assert not untranslated(ok), ok


def _draw(fig_or_ax):
    return fig_or_ax if isinstance(fig_or_ax, Figure) else fig_or_ax.figure


def test_lessons_00_to_02(ko):
    from gostack import population as pp
    from gostack.lessons import l00_welcome as l00
    from gostack.lessons import l02_small_stacks as l02
    from gostack.runtime import Runtime
    from gostack.symtab import Func

    state = l00.depth_state(160, 20)
    assert_korean(figure_texts(l00.depth_figure(state)), "lesson 00 depth figure")
    assert_korean([state.readout], "lesson 00 readout")
    g = Runtime().go(Func("main.worker", frame=40))
    for _i in range(100):
        g.call(Func("main.recA", frame=160))
    assert_korean([l00.growth_line(e) for e in g.trace.grows], "lesson 00 growths")
    pop = pp.population(1_000, seed=1)
    threads, go14 = pp.simulate(pop, "fixed"), pp.simulate(pop, "contiguous", 2048)
    lines = [*l02.usage_lines(pop), *l02.per_thread_lines(threads, pop.n),
             l02.never_grow_line(go14, pop.n), l02.adaptive_line(pop), l02.readout(go14)]
    assert_korean(lines, "lesson 02 lines")


def test_lesson_03(ko):
    from gostack.lessons import l03_prologue as l03

    for e_used, frame in ((1000, 160), (1200, 160), (100, 64)):
        state = l03.prologue_state(2048, e_used, frame)
        assert_korean(figure_texts(l03.prologue_figure(state)), "lesson 03 figure")
        assert_korean([state.readout], "lesson 03 readout")


def test_lesson_04(ko):
    from gostack.lessons import l04_newstack as l04

    for run in (l04.growth_run(10272, 30), l04.growth_run(160, 400, limit=32768)):
        assert_korean(figure_texts(l04.growth_figure(run)), "lesson 04 growth figure")
        assert_korean([*run.lines(), *l04.explorer_lines(run)], "lesson 04 lines")
    assert_korean(figure_texts(_draw(l04.draw_amortised(l04.copy_cost(160, 2000)))),
                  "lesson 04 copy cost")


def _tape_texts(tape) -> list[str]:
    return [line for s in tape for line in (s.title, *s.lines)]


def test_lessons_05_and_07(ko):
    """Lesson 05's slot table, allocation paths and address map; the stepper's pictures and
    steps, which lesson 07 walks through (every phase of a growth)."""
    from gostack.lessons import l05_copystack as l05
    from gostack.lessons import stepper
    from gostack.lessons.recorder import Phase
    from gostack.lessons.running import running_example

    tape = running_example(30)
    assert_korean(_tape_texts(tape), "recorder steps")
    shown = set()
    for step in tape:
        if step.phase not in shown:
            shown.add(step.phase)
            assert_korean(figure_texts(stepper.step_figure(step)), f"step {step.phase.name}")
    assert {Phase.CHECK, Phase.COPY, Phase.ADJUST, Phase.FREE, Phase.RETRY} <= shown
    check, copy = tape.growth(0, (Phase.CHECK, Phase.COPY))
    rows = l05.slot_rows(copy.stack, copy.new, tape.trace.grows[0], frames=(0, -1))
    assert_korean(l05.slot_table(rows).splitlines(), "lesson 05 slot table")
    assert_korean([l05.alloc_path(s) for s in (2048, 32768)], "lesson 05 stackalloc paths")
    assert_korean(figure_texts(_draw(l05.draw_address_map(tape.trace.grows))),
                  "lesson 05 address map")


def test_lesson_06(ko):
    import matplotlib.pyplot as plt

    from gostack.lessons import l06_stack_maps as l06

    run = l06.adjust_run(20, adjust=False, poison=True)
    assert_korean([*run.lines(), *run.table().splitlines()], "lesson 06 readout")
    fig, ax = plt.subplots()  # made outside the lesson's fonts, as a lesson cell makes it
    try:
        l06.draw_stack_map(l06.pointer_worker(), ax)
        assert_korean(figure_texts(fig), "lesson 06 stack map")
    finally:
        plt.close(fig)
    move = l06.bp_move()
    assert_korean(figure_texts(l06.draw_bp_move(move)), "lesson 06 frame pointers")
    assert_korean(move.rows(), "lesson 06 frame pointer table")


def test_lesson_08(ko):
    import matplotlib.pyplot as plt

    from gostack.lessons import l08_beyond as l08
    from gostack.lessons import l08_parked as l08p

    run = l08.shrink_run(400, 0, 8)
    assert_korean(figure_texts(l08.shrink_figure(run)), "lesson 08 shrink figure")
    assert_korean([*run.lines(), *l08.shrink_table(run.rows).splitlines()], "lesson 08 lines")
    runs = l08p.parked_runs()
    fig, axes = plt.subplots(1, 2)
    try:
        l08p.draw_parked(runs, {}, axes)
        assert_korean(figure_texts(fig), "lesson 08 parked figure")
    finally:
        plt.close(fig)
    lines = [*l08p.parked_table(runs).splitlines(),
             *l08p.async_table(l08p.async_points()).splitlines(),
             *l08p.deferred_lines(l08p.deferred_shrink(calls=400, stay=2, gcs=2)).splitlines()]
    assert_korean(lines, "lesson 08 tables")


def test_lesson_09(ko):
    from gostack.lessons import l09_why_scheduler as l09

    states = [l09.blocking_run(kind, 20) for kind in ("chan", "read")]
    assert_korean(figure_texts(l09.threads_figure(states)), "lesson 09 threads figure")
    assert_korean([line for s in states for line in s.lines()], "lesson 09 readout")
    assert_korean(l09.handoff_story(), "lesson 09 handoffs")
    assert_korean(l09.threads_table(range(3)).splitlines(), "lesson 09 table")


def test_english_stays_english():
    """The same calls in English give the English words (the catalog is not applied)."""
    from gostack.lessons import l03_prologue as l03
    from gostack.lessons import l04_newstack as l04

    with i18n.using("en"):
        assert l03.prologue_state(2048, 1000, 160).readout.endswith(
            "> stackguard0: the frame fits")
        assert l04.growth_run(160, 400).lines()[0] == (
            "400 calls of a 160-byte frame (entry frame 40, limit 1,000,000,000 B): 6 growths")


def test_lesson_10(ko):
    from gostack.lessons import l10_run_queues as l10

    lines = [*l10.rules_lines(), *l10.compare_lines(("spawn_3", "spawn_5000")),
             *l10.landmark_lines("spawn_300", ("w299", "w127", "w0", "w1")),
             l10.overflow_line()]
    assert_korean(lines, "lesson 10 lines")
    for name in ("spawn_10", "spawn_300", "main_gosched", "chan_ready_runnext",
                 "wg_done_wakes_main", "tick61_once"):
        steps = l10.steps(name)
        assert_korean([line for s in steps for line in s.lines()], f"lesson 10 steps {name}")
        assert_korean(figure_texts(l10.queues_figure(name, len(steps) // 2)),
                      f"lesson 10 queues {name}")
    assert_korean([l10._html(l10.steps("spawn_10")[0], 0, 3)], "lesson 10 step header")


def test_lesson_11(ko):
    from gostack.lessons import l11_blocking as l11

    short, long = l11.syscall_pair()
    lines = [*l11.syscall_story(short), *l11.syscall_story(long),
             *l11.threads_table().splitlines(), *l11.claim_lines()]
    assert_korean(lines, "lesson 11 lines")
    assert_korean(figure_texts(l11.syscall_pair_figure()), "lesson 11 syscall figure")
    for kind in l11.KINDS:
        for n in l11.NS:
            state = l11.blocking_state(kind, n)
            assert_korean(state.lines(), f"lesson 11 readout {kind} {n}")
    assert_korean(figure_texts(l11.TimelinePainter()(l11.blocking_state("raw", 100))),
                  "lesson 11 explorer figure")


def test_lesson_12(ko):
    from gostack.lessons import l12_stealing_preemption as l12

    rows = l12.claim_rows(l12.CLAIMS, seeds=range(3))
    lines = [*(r.line() for r in rows), *l12.steal_orders(), *l12.grab_table(),
             *l12.median_lines(seeds=range(3)), *l12.preempt_story(),
             *l12.preempt_story("the same, GODEBUG=asyncpreemptoff=1"), *l12.preempt_table()]
    assert_korean(lines, "lesson 12 lines")
    states = [l12.timeline_run(name) for name in l12.WORKLOADS]
    assert_korean([line for s in states for line in s.lines()], "lesson 12 readouts")
    assert_korean(figure_texts(l12.timeline_figure(states[:2])), "lesson 12 timelines")
    assert_korean(figure_texts(l12.TimelinePainter()(states[3])), "lesson 12 explorer")


def test_lesson_09_claims(ko):
    """Lesson 09's claims of gostack.sched.stats, as the lesson prints them."""
    from gostack.lessons import l09_why_scheduler as l09

    assert_korean([r.line() for r in l09.claim_rows(range(3))], "lesson 09 claims")


def test_english_stays_english_10_to_12():
    """Lessons 10-12 in English print what the English notebooks show (recorded there)."""
    from gostack.lessons import l10_run_queues as l10
    from gostack.lessons import l11_blocking as l11
    from gostack.lessons import l12_stealing_preemption as l12

    with i18n.using("en"):
        assert l10.overflow_line() == (
            "ring overflows in the simulator: spawn_300 1, spawn_5000 37")
        assert l10.compare_lines(("spawn_3",))[0] == (
            "spawn_3            11 real runs (1 distinct order): 11 as the model, 0 one tick "
            "later,  0 other; sysmon quiet: 5/5 as the model")
        assert l11.claim_lines()[0] == (
            "real 10/10  20 goroutines reading os.File pipes: no thread created")
        assert l12.grab_table()[3] == (
            "victim ring  0 + runnext (passes 1-3): the thief takes nothing; 0 left in the ring")


def test_lesson_01(ko):
    """Lesson 01's tables and verdict, from the recorded measurements (the lesson's own are
    live, the words the same)."""
    from gostack import oscost
    from gostack.oscost.threads import Series, load_recorded_threads, verdict

    rec = load_recorded_threads()
    go = oscost.recorded_costs()
    series = Series(rec["threads"].results, {10_000: "skipped"})
    lines = [*verdict(rec["threads"]).text().splitlines(),
             *oscost.memory_table(series).splitlines(), *rec["lazy"].text().splitlines(),
             *oscost.ladder_table(rec["switch"].values()).splitlines(),
             *oscost.ladder_table(go.rungs.values()).splitlines(), go.label]
    assert_korean(lines, "lesson 01 lines")


def test_lessons_03_and_04_printed_lines(ko):
    """The sentences lessons 03 and 04 print from their code cells, and the tables of
    gostack.systemstack and golessons they show."""
    import gostack as gs
    from gostack import golessons, systemstack
    from gostack.lessons import l03_prologue as l03
    from gostack.lessons import l04_lines
    from gostack.lessons import l04_newstack as l04

    g = gs.Runtime().go(gs.Func("main.worker", frame=40))
    lines = [l03.size_line(g)]
    g.call(gs.Func("main.recA", frame=160))
    grow = l04.growth_run(frame=160, calls=30).grows[0]
    cost = l04.copy_cost(160, 2000)
    label = golessons.recorded_label()
    lines += [l03.after_call_line(g), l03.guard_line(g), l03.wrap_line(0x1F00, 0x13A0),
              l03.recorded_header({"go": "go1.27.3", "goos": "linux", "goarch": "amd64"}),
              l03.form_heading({"func": "main.rec", "frame": 168, "form": "medium"}),
              l03.same_line(True), l03.morestack_line(True),
              l03.call_line(113, l03.prologue_state(16384, 15320, 128)),
              l03.grew_line("simulator", 114, 32768), l03.grew_line("go1.27.3", 114, 32768),
              *l03.guard_sum_lines(), l03.nosplit_line(g), l03.next_call_line(grow),
              label, l04_lines.frames_line(label, {"main.worker": 40}),
              l04_lines.grows_line(grow), l04_lines.grows_line(grow, instead=True),
              l04_lines.exit_line(label, 2), l04_lines.overflow_at_line(52225, "main.recBig"),
              l04_lines.copied_line(cost), *(s.row() for s in systemstack.specs())]
    assert_korean(lines, "lessons 03 and 04 printed lines")


def test_lessons_05_to_08_printed_lines(ko):
    """The sentences lessons 05-08 print from their code cells (moved into gostack)."""
    from types import SimpleNamespace

    import gostack as gs
    from gostack import golessons, segmented
    from gostack.lessons import l05_copystack as l05
    from gostack.lessons import l06_stack_maps as l06
    from gostack.lessons import l08_beyond as l08
    from gostack.lessons import recorder, running
    from gostack.lessons.recorder import Phase

    rt = gs.Runtime(poison=True)
    tape = running.running_example(calls=7, runtime=rt)
    grow = tape.trace.grows[0]
    steps = {s.phase: s for s in tape.growth(0)}
    probe = SimpleNamespace(call_index=7, old_size=2048, new_size=4096, delta=86016,
                            pointer_delta=86016)
    fp = {"before": (2048, [704, 88]), "after": (8192, [704, 88]), "ctxt": (0, 0, True)}
    hs = l08.hot_split(frame=160, args=16, iterations=100)
    at = segmented.compare_with_contiguous(segmented.hot_split_program(
        [160] * hs.boundary, 160, 100, loop_args=16))
    adaptive = {"default": {"5": 2048, "20": 8192}, "fresh G": {"5": 2048, "20": 2048}}
    worker, rec = running.running_funcs()
    lines = [l05.copy_line(grow), l05.delta_line(grow), l05.delta_row(grow),
             l05.probe_row(probe), l05.probe_verdict([probe]),
             *l05.after_free_lines(rt, steps[Phase.FREE].stack, steps[Phase.RETRY].stack),
             l06.corrupted_line(AssertionError("recA#1: p")),
             *l06.parked_lines([65536, 32768], [65536, 32768], 0), *l06.fp_lines(fp, True),
             l06.pointer_sim_line(32768, 4), running.func_line(worker), running.func_line(rec),
             running.tape_line(tape, calls=7), running.checked_line(200),
             *recorder.phase_names(recorder.GROWTH_PHASES),
             *recorder.phase_counts(tape, (Phase.CALL, *recorder.GROWTH_PHASES)),
             *l08.hot_split_lines(hs), *l08.at_boundary_lines(at),
             *l08.adaptive_rows(adaptive, (5, 20)),
             *(golessons.live_verdict(w, True, "") for w in golessons.LIVE_SAME)]
    assert_korean(lines, "lessons 05-08 printed lines")


def test_lesson_06_reads(ko):
    """Lesson 06's reads after a move: the notes in parentheses and the labels."""
    import gostack as gs
    from gostack.lessons import l06_stack_maps as l06

    rt = gs.Runtime(poison=True)
    g = rt.go(l06.pointer_worker())
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", rt.new_object())
    for _i in range(7):
        g.call(gs.Func("main.recA", frame=160))
    lines = [*l06.reads_lines(g, rt), l06.after_move_line(42, looks_right=True),
             l06.after_move_line("fc fc"), l06.after_store_line(42, 43)]
    assert not [t for t in lines[1::2][:2] if not i18n.korean(t)], lines
    assert_korean(lines[4:], "lesson 06 after the move")


def test_lesson_03_system_stack_lines(ko):
    import gostack as gs
    from gostack import systemstack
    from gostack.errors import SystemStackOnUserStack
    from gostack.lessons import l03_prologue as l03

    g = gs.Runtime().go(gs.Func("main.worker", frame=40))
    scan = {"func": "runtime.scanstack", "frame": 272, "calls": "runtime.morestackc",
            "lines": ["LEAQ -144(SP), R12", "JLS morestack"]}
    lines = [l03.still_line(g), l03.systemstack_line(scan)]
    with pytest.raises(SystemStackOnUserStack) as e:
        systemstack.call_on_goroutine(g, systemstack.SystemFunc("runtime.scanstack", frame=272))
    lines += l03.user_stack_line(g, e.value).splitlines()
    assert_korean(lines, "lesson 03 system stack lines")


def test_lessons_03_and_06_more_lines(ko):
    from types import SimpleNamespace

    from gostack.lessons import l03_prologue as l03
    from gostack.lessons import l06_stack_maps as l06

    live = SimpleNamespace(func="main.rec", frame=168, lines=("LEAQ -40(SP), R12",))
    assert_korean([l03.live_prologue_line("go1.27.3", live, True), l03.no_go_line(),
                   l06.stack_map_line(l06.pointer_worker())], "lessons 03 and 06 more lines")
