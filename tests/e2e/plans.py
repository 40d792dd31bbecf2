"""What the browser tests do with each notebook: which lessons have widgets, and what to try.

Lessons are found by the "widget" tag that gostack.nbtools puts on a cell whose output was a
widget view, so a new lesson with a widget is covered as soon as it lands, by the generic plan:
every slider moved by keyboard and by mouse, every dropdown set to another option, every button
clicked, every text box retyped; after each action the readout must change (and the picture too,
if the widget has one), with no error on screen.

An entry in LESSON_PLANS makes that precise for one widget cell (found by a piece of its source):
the actions in order, what the widget then holds, what the readout must then say, and whether
the picture must change. A plan must still touch every widget in its cell (the test checks), so a
widget added to a lesson without extending its plan fails loudly instead of going untested.

EXERCISE_PLANS lists exercise notebooks to solve in the browser: the cell to fill in (its answer
comes from the same cell of the notebook in solutions/), the check cell to run, and what its
feedback says before and at full marks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# The widget kinds the harness knows (their ipywidgets 8 DOM classes are in jlab.py).
SLIDER, DROPDOWN, BUTTON, TOGGLE, CHECKBOX, TEXT, PLAY = (
    "slider", "dropdown", "button", "toggle", "checkbox", "text", "play")

# A regex the readout must match (re.search), or a function making one from the values the
# cell's widgets hold after the action ({description label: value as displayed}).
Expect = str | Callable[[dict[str, str]], str] | None


@dataclass(frozen=True)
class Act:
    """One thing a learner does to one widget of a cell.

    ``how``: "keys" (press ``keys`` on a slider's handle), "drag" (drag a slider's handle to
    ``to``, a fraction of its track), "select" (a dropdown option by label; None: the next one),
    "click" (a button), "type" (replace a text box's value with ``to`` and press Enter),
    "toggle" (a toggle-buttons option by label), "check" (flip a checkbox), "play" (press a
    Play's play button, see it move its slider, press pause, see it stop).
    ``widget``: its description label (e.g. "calls"), a button's text, or its index among the
    cell's widgets of that kind.
    ``value``: a regex the widget's own displayed value must then match in full.
    ``readout``: a regex the readout text must then match, or a function of the widgets' values
    returning one; None: no particular text.
    ``picture``: the picture must change (its image's data-URI src differs from before).
    ``changes``: the readout text must differ from before.
    """

    how: str
    widget: str | int = 0
    keys: tuple[str, ...] = ()
    to: float | str | None = None
    value: str | None = None
    readout: Expect = None
    picture: bool = True
    changes: bool = True

    @property
    def kind(self) -> str:
        return {"keys": SLIDER, "drag": SLIDER, "select": DROPDOWN, "click": BUTTON,
                "type": TEXT, "toggle": TOGGLE, "check": CHECKBOX, "play": PLAY}[self.how]

    def label(self) -> str:
        extra = "+".join(self.keys) if self.keys else ("" if self.to is None else str(self.to))
        return f"{self.how}-{self.widget}" + (f"-{extra}" if extra else "")


@dataclass(frozen=True)
class CellPlan:
    """The actions for the widget cell whose source contains ``match``."""

    match: str
    acts: tuple[Act, ...]


@dataclass(frozen=True)
class LessonPlan:
    notebook: str  # relative to the repository root
    cells: tuple[CellPlan, ...] = ()
    run_all_timeout_s: float = 120


@dataclass(frozen=True)
class ExercisePlan:
    """An exercise to solve in the browser; None fields are found from the notebooks."""

    notebook: str  # exercises/NAME.ipynb; its answers are in solutions/NAME.ipynb
    answer_cells: tuple[str, ...] | None = None  # pieces of the sources of the cells to fill in
    check_cell: str | None = None  # a piece of the source of the check cell
    before: str = r"Score: 0/\d+(\.\d+)? points"  # the feedback as handed out
    full_marks: str = r"Score: (\d+(?:\.\d+)?)/\1 points"  # the feedback once solved
    run_all_timeout_s: float = 120


# --- expected readouts -----------------------------------------------------------------------
# They come from gostack's own state functions, the ones the widgets render: the numbers are
# tested without a browser; here the question is whether the learner's screen shows them for the
# values the widgets now hold.

def _num(shown: str) -> int:
    """The number a widget shows: "1,008" -> 1008, "1 MiB" -> 1048576, "616.0" -> 616."""
    m = re.match(r"\s*([\d,]+)(?:\.0+)?\s*(KiB|MiB|GiB)?", shown)
    if not m:
        raise ValueError(f"no number in {shown!r}")
    return int(m[1].replace(",", "")) * {"KiB": 1 << 10, "MiB": 1 << 20,
                                          "GiB": 1 << 30}.get(m[2] or "", 1)


def _lines(lines) -> str:
    return r"\s*\n\s*".join(re.escape(line.strip()) for line in lines)


def _depth_readout(v: dict) -> str:
    from gostack.lessons import l00_welcome as l00
    return re.escape(l00.depth_state(frame=_num(v["frame"]), calls=_num(v["calls"])).readout)


def _prologue_readout(v: dict) -> str:
    from gostack.lessons import l03_prologue as l03
    state = l03.prologue_state(2048, _num(v["hi - E"]), _num(v["frame"]))
    return _lines([state.readout, *state.instructions])


def _growth_readout(v: dict) -> str:
    from gostack.lessons import l04_newstack as l04
    run = l04.growth_run(_num(v["frame"]), _num(v["calls"]), entry=40, limit=_num(v["limit"]))
    return _lines(l04.explorer_lines(run))


def _population_readout(v: dict) -> str:
    from gostack import population as pp
    initial = dict(pp.initial_choices(v["policy"]))[v["initial"]]
    return re.escape(pp.explorer_state(_num(v["N"]), initial, v["policy"],
                                       _num(v["seed"])).readout)


def _adjust_readout(v: dict) -> str:
    from gostack.lessons import l06_stack_maps as l06
    run = l06.adjust_run(_num(v["calls"]), adjust=v["stage"] == "adjustframe",
                         poison=v["poison old stacks"] == "True")
    return _lines(run.lines())


def _shrink_readout(v: dict) -> str:
    from gostack.lessons import l08_beyond as l08
    run = l08.shrink_run(_num(v["calls"]), _num(v["back to"]), _num(v["GCs"]),
                         worker=_num(v["worker"]))
    return _lines(run.lines())


def _blocking_readout(v: dict) -> str:
    from gostack.lessons import l09_why_scheduler as l09
    kind = {label: k for k, label in l09.KINDS.items()}[v["waiting on"]]
    return _lines(l09.blocking_run(kind, _num(v["N"])).lines())


def _queues_readout(v: dict) -> str:
    """Lesson 10's step-through: "step k of n" and the event of step k of the probe shown."""
    from gostack.lessons import l10_run_queues as l10
    st = l10.steps(v["probe"])
    k = _num(v["step"])
    return rf"step {k} of {len(st)}[\s\S]*" + re.escape(st[k - 1].text)


def _queues_last_readout(v: dict) -> str:
    """End on lesson 10's slider: the last step of the probe now shown, whatever probe the
    slider started with."""
    from gostack.lessons import l10_run_queues as l10
    total = len(l10.steps(v["probe"]))
    return rf"step {total} of {total}[\s\S]*" + re.escape(l10.steps(v["probe"])[-1].text)


def _blocking11_readout(v: dict) -> str:
    from gostack.lessons import l11_blocking as l11
    kind = {label: k for k, label in l11.KINDS.items()}[v["blocked in"]]
    return _lines(l11.blocking_state(kind, _num(v["N"])).lines())


def _timeline_readout(v: dict) -> str:
    from gostack.lessons import l12_stealing_preemption as l12
    return _lines(l12.timeline_run(v["workload"], _num(v["seed"])).lines())


def _step_readout(v: dict) -> str:
    """A stepper (gostack.lessons.stepper) counts from 1 on its slider and in its readout:
    "step k of n" beside k."""
    return rf"(?m)^step {_num(v['step'])} of \d+:"


def _stepper(play: bool) -> tuple[Act, ...]:
    """Every control of a stepper, each checked against the step the slider then shows.

    Play (lesson 07) is an ipywidgets Play jslinked to the slider: it must move the slider
    on its own in the browser and stop when paused (jlab.play_then_pause); the readout then
    shows the step the slider stopped at."""
    acts = (Act("click", "step ▶", readout=_step_readout),
            Act("click", "◀ back", readout=_step_readout),
            Act("keys", "step", keys=("End",), readout=_step_readout),
            Act("drag", "step", to=0.5, readout=_step_readout))
    if play:
        acts += (Act("keys", "step", keys=("Home",), value="1", readout=_step_readout),
                 Act("click", "next growth »", readout=_step_readout),
                 Act("keys", "step", keys=("Home",), value="1", readout=_step_readout),
                 Act("play", 0, readout=_step_readout))
    return acts


# --- the registry ----------------------------------------------------------------------------

LESSON_PLANS: dict[str, LessonPlan] = {p.notebook: p for p in (
    LessonPlan("notebooks/00-welcome.ipynb", cells=(
        CellPlan("stack_explorer(", acts=(
            # The lesson's own words: "Move the slider to 7 to see the new, 4096-byte stack".
            Act("keys", "calls", keys=("ArrowRight",), value="7",
                readout=r"after 7 calls of 160-byte frames: stack 4,096 B, .*1 growth; "
                        r"last growth at call 7 \(2,048 → 4,096 B\)"),
            Act("drag", "calls", to=0.5, readout=_depth_readout),
            Act("select", "frame", to="4096", value="4096", readout=_depth_readout),
            Act("keys", "calls", keys=("Home",), value="0",
                readout=r"after 0 calls of 4,096-byte frames: stack 2,048 B, .*0 growths"),
        )),
    )),
    LessonPlan("notebooks/02-small-stacks.ipynb", cells=(
        CellPlan("l02.explorer()", acts=(
            Act("keys", "N", keys=("ArrowLeft",), value="9900", readout=_population_readout),
            Act("drag", "N", to=0.25, readout=_population_readout),
            Act("select", "policy", to="fixed", value="fixed", readout=_population_readout),
            Act("select", "initial", readout=_population_readout),
            Act("type", "seed", to="7", value="7", readout=_population_readout),
        )),
    )),
    LessonPlan("notebooks/03-prologue.ipynb", cells=(
        CellPlan("prologue_explorer(", acts=(
            Act("keys", "hi - E", keys=("ArrowRight",), value="1008", readout=_prologue_readout),
            # The <= equality the lesson is about: SP-32 exactly on the guard, 1,120 B below hi.
            Act("keys", "hi - E", keys=("ArrowRight",) * 10, value="1088",
                readout=r"SP-32 is 1,120 B below hi, the guard 1,120 B below hi: <= stackguard0"),
            Act("drag", "hi - E", to=0.9, readout=_prologue_readout),
            Act("select", "frame", to="4096", value="4096", readout=_prologue_readout),
        )),
    )),
    LessonPlan("notebooks/04-newstack.ipynb", cells=(
        CellPlan("growth_explorer(", acts=(
            Act("keys", "calls", keys=("ArrowRight",), value="410", readout=_growth_readout),
            Act("drag", "calls", to=0.1, readout=_growth_readout),
            Act("select", "frame", to="616", value="616", readout=_growth_readout),
            Act("select", "limit", to="32,768 (SetMaxStack)", readout=_growth_readout),
        )),
    )),
    LessonPlan("notebooks/05-copystack.ipynb", cells=(
        CellPlan("stepper(copy_steps", acts=_stepper(play=False)),
    )),
    LessonPlan("notebooks/06-stack-maps.ipynb", cells=(
        CellPlan("adjust_explorer(", acts=(
            Act("toggle", "stage", to="adjustframe", value="adjustframe",
                readout=_adjust_readout),
            Act("check", "poison old stacks", value="False", readout=_adjust_readout),
            Act("keys", "calls", keys=("ArrowLeft",), value="6",
                readout=r"6 calls of recA, .*the stack has not moved"),
            Act("drag", "calls", to=0.9, readout=_adjust_readout),
        )),
    )),
    LessonPlan("notebooks/07-whole-newstack.ipynb", cells=(
        CellPlan("stepper(tape", acts=_stepper(play=True)),
    )),
    LessonPlan("notebooks/08-beyond-growth.ipynb", cells=(
        CellPlan("shrink_explorer(", acts=(
            Act("keys", "calls", keys=("ArrowRight",), value="410", readout=_shrink_readout),
            # "back to" follows "calls" all the way: End reaches the new maximum (it once
            # stopped at the slider's first one, 400).
            Act("keys", "calls", keys=("End",), value="2000", readout=_shrink_readout),
            Act("keys", "back to", keys=("End",), value="2000", readout=_shrink_readout),
            Act("drag", "calls", to=0.3, readout=_shrink_readout),
            # Parked deeper: the quarter rule stops the halving sooner.
            Act("drag", "back to", to=0.05, readout=_shrink_readout),
            Act("keys", "back to", keys=("ArrowRight",), readout=_shrink_readout),
            Act("select", "worker", to="56", readout=_shrink_readout),
            Act("keys", "GCs", keys=("ArrowLeft",), value="7", readout=_shrink_readout),
            Act("drag", "GCs", to=0.3, readout=_shrink_readout),
        )),
    )),
    LessonPlan("notebooks/09-why-a-scheduler.ipynb", cells=(
        CellPlan("blocking_explorer(", acts=(
            # The lesson's questions: 10,000 channel waiters, then 10,000 pipe reads.
            Act("select", "waiting on", to="channel receive", value="channel receive",
                readout=r"0 threads created, 0 handoffs by sysmon"),
            Act("select", "N", to="10,000", value="10,000",
                readout=r"10,000 goroutines in a channel receive[\s\S]*: 0 threads created"),
            Act("select", "waiting on", to="pipe read (blocking syscall)",
                readout=r'9,999 threads created[\s\S]*"thread exhaustion" \(checkmcount\)'),
            Act("select", "waiting on", to="syscall.Nanosleep 50 ms", readout=_blocking_readout),
            Act("select", "N", to="60", value="60", readout=_blocking_readout),
        )),
    )),
    LessonPlan("notebooks/10-run-queues.ipynb", cells=(
        CellPlan("queues_explorer(", acts=(
            Act("click", "step ▶", readout=_queues_readout),
            Act("click", "◀ back", readout=_queues_readout),
            # The lesson's question: after main parks, which goroutine runs? (w9, then G5)
            Act("keys", "step", keys=("ArrowRight",) * 21, value="22",
                readout=r"main parks \(gopark: sync\.WaitGroup\.Wait\)"),
            Act("click", "next run »", readout=r"schedule: w9 from runnext"),
            Act("click", "next run »", readout=r"schedule: G5 from the ring.s head"),
            Act("drag", "step", to=0.8, readout=_queues_readout),
            Act("keys", "step", keys=("End",), readout=_queues_readout),
            Act("select", "probe", to="main_gosched", value="main_gosched",
                readout=_queues_readout),
            # After a probe change End reaches that probe's last step (it once stopped at
            # spawn_10's 58: the browser's slider kept its first range).
            Act("keys", "step", keys=("End",), readout=_queues_last_readout),
            Act("select", "probe", to="spawn_300", value="spawn_300", readout=_queues_readout),
            Act("keys", "step", keys=("End",), readout=_queues_last_readout),
        )),
    )),
    LessonPlan("notebooks/11-blocking.ipynb", cells=(
        CellPlan("blocking_explorer(", acts=(
            # The lesson's question: 100 os.File readers, then 100 syscall.Read callers.
            Act("select", "blocked in", to="pipe read through os.File (netpoller)",
                value=r"pipe read through os\.File \(netpoller\)",
                readout=r"0 threads created, 0 handoffs by sysmon \(no netpoller"),
            Act("select", "N", to="100", value="100",
                readout=r"100 goroutines in a pipe read through os\.File[\s\S]*: 0 threads"),
            Act("select", "blocked in", to="pipe read by syscall.Read (blocking)",
                readout=r"99 threads created, 100 handoffs[\s\S]*range 73-99 in 10 runs"),
            Act("select", "blocked in", to="channel receive", readout=_blocking11_readout),
            Act("select", "N", to="2", value="2", readout=_blocking11_readout),
        )),
    )),
    LessonPlan("notebooks/12-stealing-and-preemption.ipynb", cells=(
        CellPlan("timeline_explorer(", acts=(
            # The lesson's questions: another seed; the loop without the signal; on 2 Ps.
            Act("keys", "seed", keys=("ArrowRight",), value="1",
                readout=r"seed 1[\s\S]*P3 steals 8 of P0's ring"),
            Act("drag", "seed", to=0.7, readout=_timeline_readout),
            Act("select", "workload", to="the same, GODEBUG=asyncpreemptoff=1",
                value="the same, GODEBUG=asyncpreemptoff=1",
                readout=r"G26, the loop, ran to its end at 20\.04 ms: nothing stopped it"),
            Act("select", "workload", to="a 20 ms loop without calls, 1 P",
                readout=r"G26, the loop, stopped at 11\.22 ms by the signal"),
            Act("select", "workload", to="a 20 ms loop without calls, 2 Ps",
                readout=_timeline_readout),
        )),
    )),
)}

# Exercises to solve in the browser (the cells to fill in and the check cell are found from the
# notebooks' "solution" and "check" tags). Empty: the first exercise that has a solution notebook.
EXERCISE_PLANS: tuple[ExercisePlan, ...] = (
    ExercisePlan("exercises/01-prologue.ipynb"),
)


# --- discovery -------------------------------------------------------------------------------

def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")).get("cells", [])


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def widget_cells(path: Path) -> list[int]:
    """Indexes of the code cells that showed a widget when executed: tagged "widget" by
    gostack.nbtools (which strips the widget views themselves), or still holding a view."""
    return [i for i, c in enumerate(_cells(path))
            if c.get("cell_type") == "code"
            and ("widget" in c.get("metadata", {}).get("tags", [])
                 or any(WIDGET_MIME in o.get("data", {}) for o in c.get("outputs", [])))]


def cell_index(path: Path, match: str) -> int:
    hits = [i for i, c in enumerate(_cells(path)) if match in _source(c)]
    if len(hits) != 1:
        raise LookupError(f"{path.name}: {len(hits)} cells contain {match!r}, expected exactly 1")
    return hits[0]


@dataclass(frozen=True)
class LessonCase:
    """One lesson to test: its widget cells, each with a plan (or None: the generic plan)."""

    notebook: str
    cells: tuple[tuple[int, CellPlan | None], ...]
    run_all_timeout_s: float = 120


def lessons(root: Path = ROOT) -> list[LessonCase]:
    """Every lesson in notebooks/ that has widgets, or a plan."""
    cases = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        rel = path.relative_to(root).as_posix()
        plan = LESSON_PLANS.get(rel)
        planned = {cell_index(path, cp.match): cp for cp in plan.cells} if plan else {}
        indexes = sorted(set(widget_cells(path)) | set(planned))
        if indexes:
            cases.append(LessonCase(rel, tuple((i, planned.get(i)) for i in indexes),
                                    plan.run_all_timeout_s if plan else 120))
    return cases


SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class ExerciseCase:
    notebook: str
    answers: tuple[tuple[int, str], ...]  # (cell index, code the learner writes there)
    check: int  # index of the check cell
    before: str
    full_marks: str
    run_all_timeout_s: float = 120


def _answer(solution_source: str) -> str:
    """A solution cell as a learner would write it: without the authoring markers."""
    return "\n".join(line for line in solution_source.split("\n")
                     if line.strip() not in SOLUTION_MARKERS)


def _exercise_case(plan: ExercisePlan, root: Path) -> ExerciseCase | None:
    exercise = root / plan.notebook
    solution = root / "solutions" / exercise.name
    if not (exercise.is_file() and solution.is_file()):
        return None
    ex_cells, sol_cells = _cells(exercise), _cells(solution)
    if len(ex_cells) != len(sol_cells):
        raise LookupError(f"{exercise.name}: {len(ex_cells)} cells, but its solution has "
                          f"{len(sol_cells)} (run the exercise generator)")
    tagged = {tag: [i for i, c in enumerate(ex_cells) if c.get("cell_type") == "code"
                    and tag in c.get("metadata", {}).get("tags", [])]
              for tag in ("solution", "check")}
    if plan.answer_cells is None:  # tagged "solution", or else the cells the generator stubbed
        answers = tagged["solution"] or [
            i for i, (e, s) in enumerate(zip(ex_cells, sol_cells, strict=True))
            if e.get("cell_type") == "code" and _source(e) != _source(s)]
    else:
        answers = [cell_index(exercise, m) for m in plan.answer_cells]
    if not answers:
        raise LookupError(f"{exercise.name}: no cell to fill in")
    if plan.check_cell is None:  # the first check cell after the answers
        checks = [i for i in tagged["check"] if i > max(answers)] or [
            i for i, c in enumerate(ex_cells) if i > max(answers)
            and c.get("cell_type") == "code" and "check" in _source(c)]
        if not checks:
            raise LookupError(f"{exercise.name}: no check cell after cell {max(answers)}")
        check = checks[0]
    else:
        check = cell_index(exercise, plan.check_cell)
    return ExerciseCase(plan.notebook,
                        tuple((i, _answer(_source(sol_cells[i]))) for i in answers),
                        check, plan.before, plan.full_marks, plan.run_all_timeout_s)


def exercise_cases(root: Path = ROOT) -> list[ExerciseCase]:
    """The planned exercises that have landed; with no plan, the first exercise that has a
    solution notebook."""
    if EXERCISE_PLANS:
        found = [_exercise_case(p, root) for p in EXERCISE_PLANS]
    else:
        found = []
        for path in sorted((root / "exercises").glob("*.ipynb")):
            case = _exercise_case(ExercisePlan(path.relative_to(root).as_posix()), root)
            if case:
                found = [case]
                break
    return [c for c in found if c]
