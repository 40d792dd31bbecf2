"""Grading one student: find their notebooks, run each exercise in a worker, judge.

Everything that decides a score happens here, in the grader's process, on plain data: the
cases, the expected outputs (gostack's reference stages through :meth:`Exercise.run`), and
the comparison (:func:`catalog.judge`). Every student gets the same cases (visible and hidden
ones, from seeds fixed per exercise), so a score depends on the code alone, never on who
submitted it or where it is graded. ``vary=True`` (``--vary-per-student``) adds cases drawn
from a seed derived from the instructor's secret and the student's id.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog, integrity
from .catalog import AspectResult, Exercise
from .notebook import (
    MAX_FILE_BYTES,
    SubmissionError,
    bound_names,
    imported_modules,
    parse,
    printable,
    read_code_cells,
)
from .sandbox import Limits, Zygote, run_exercise
from .worker import PRELOADABLE

SEED_CONTEXT = "gostack-grade/v1"


def derive_seed(secret: bytes, student: str, exercise: str) -> int:
    """The hidden cases' seed: HMAC-SHA256(secret, context, exercise, student), 64 bits.
    Without the secret, one student's seed says nothing about another's."""
    msg = "\x00".join((SEED_CONTEXT, exercise, student)).encode()
    return int.from_bytes(hmac.new(secret, msg, hashlib.sha256).digest()[:8], "big")


# The worker's error lines start "cell N, line L:" (worker.main, the top-level statements).
_ERROR_AT = re.compile(r"cell (\d+), line (\d+):")


def _template_lines(parsed: list, ex: Exercise) -> set[tuple[int, int]]:
    """(cell, line) of the top-level statements the template handed out, unchanged: their
    failures (an experiment cell calling the switched-off reference, and what then lacks
    its result) are the kit's, not the learner's, so they make no note."""
    given = integrity.template_statements(ex)
    return {(p.cell.number, stmt.lineno) for p in parsed if p.tree is not None
            for stmt in p.tree.body if ast.dump(stmt) in given}


@dataclass
class Student:
    id: str  # as given (folder or file name, or the roster)
    files: list[Path] = field(default_factory=list)
    roster: dict[str, str] = field(default_factory=dict)
    folder: str = ""  # set by the batch when two ids would make the same folder name

    @property
    def key(self) -> str:
        """The id made safe as a folder name."""
        return self.folder or safe_name(self.id)

    def digest(self) -> str:
        """SHA-256 of the files' names and contents, read in chunks; a file over the size
        limit (it scores 0 anyway) counts by its size, so it is never read whole."""
        h = hashlib.sha256()
        for f in sorted(self.files):
            h.update(os.fsencode(f.name) + b"\0")
            try:
                size = f.stat().st_size
                if size > MAX_FILE_BYTES:
                    h.update(f"<{size} bytes>".encode())
                    continue
                with f.open("rb") as fh:
                    for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                        h.update(chunk)
            except OSError:
                h.update(b"<unreadable>")
        return h.hexdigest()

    def notebook_for(self, ex: Exercise) -> Path | None:
        """The file graded for ``ex``: the one named exactly after it (02-newstack.ipynb),
        else the first named like it, else the only file there is (unless that file is named
        after another exercise)."""
        named = [f for f in self.files if matches(f.name, ex)]
        exact = [f for f in named if f.stem == ex.id]
        if exact or named:
            return sorted(exact or named)[0]
        if len(self.files) == 1 and not any(matches(self.files[0].name, other)
                                            for other in catalog.EXERCISES):
            return self.files[0]
        return None


def matches(filename: str, ex: Exercise) -> bool:
    stem = filename.rsplit(".", 1)[0].lower()
    slug = ex.id[3:]
    return stem.startswith(ex.id[:2] + "-") or stem.startswith(ex.id[:2] + "_") or \
        stem == ex.id[:2] or slug in stem


def student_id(name: str) -> str:
    """A student id from a file or folder name: bytes that are not UTF-8 (a zip from another
    system) and control characters are written as escapes (caf\\xe9), so an id is one line
    of printable text in every report."""
    return printable(os.fsencode(name).decode("utf-8", "backslashreplace"))


def safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._@+-]", "_", text.strip()).lstrip(".")
    return name[:100] or "student"


@dataclass(frozen=True)
class AspectScore:
    """One aspect of one student's exercise as every report shows it."""

    result: AspectResult  # what the cases said (no cases when the exercise did not run)
    points: float
    zeroed: str | None = None  # why it scores 0 whatever the cases said

    @property
    def max_points(self) -> float:
        return self.result.max_points


@dataclass
class Outcome:
    """One exercise of one student."""

    exercise: Exercise
    notebook: str | None = None
    results: list[AspectResult] = field(default_factory=list)
    problem: str | None = None  # why every aspect scored 0, when one reason explains it
    notes: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    patched: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    near_copies: list[tuple[str, str, float]] = field(default_factory=list)
    fingerprint: str | None = None
    output: str = ""
    cases: int = 0
    visible: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    crashed: bool = False
    missing: bool = False  # no notebook for this exercise

    def aspect_points(self) -> list[AspectScore]:
        """Each aspect's points and, when the whole exercise is zeroed (a reference call,
        monkeypatching, a fatal problem), why: the one place every report reads a score from."""
        by_tag = {r.tag: r for r in self.results}
        scores = []
        for a in self.exercise.aspects:
            r = by_tag.get(a.tag) or AspectResult(a.tag, a.title, 0.0, a.points, 0, 0, ())
            zeroed = self.problem or (None if a.tag in by_tag else "not graded")
            scores.append(AspectScore(r, 0.0 if zeroed else r.points, zeroed))
        return scores

    @property
    def points(self) -> float:
        return round(sum(s.points for s in self.aspect_points()), 3)

    @property
    def max_points(self) -> float:
        return self.exercise.max_points


@dataclass
class StudentResult:
    student: Student
    outcomes: list[Outcome]
    seconds: float
    error: str | None = None  # a failure of the grader itself

    @property
    def points(self) -> float:
        return round(sum(o.points for o in self.outcomes), 3)

    @property
    def max_points(self) -> float:
        return sum(o.max_points for o in self.outcomes)


class Grader:
    """Grades students one at a time (thread-safe: --jobs runs several at once)."""

    def __init__(self, exercises: list[Exercise], secret: bytes, limits: Limits,
                 uid_base: int | None = None, vary: bool = False) -> None:
        self.exercises = exercises
        self.secret = secret
        self.vary = vary
        self.limits = limits
        self.uid_base = uid_base
        self._visible: dict[str, tuple[list[dict], list]] = {}
        self._lock = threading.Lock()
        self._zygotes: dict[int, Zygote] = {}
        self.fork_server = True

    def _zygote(self, slot: int) -> Zygote | None:
        """The slot's fork server (one per slot: a slot grades one student at a time)."""
        if not self.fork_server:
            return None
        with self._lock:
            z = self._zygotes.get(slot)
            if z is None or not z.alive:
                if z is not None:
                    z.close()
                try:
                    z = self._zygotes[slot] = Zygote()
                except OSError:
                    return None
            return z

    def adopt(self, slot: int, zygote: Zygote) -> None:
        with self._lock:
            self._zygotes[slot] = zygote

    def close(self) -> None:
        with self._lock:
            for z in self._zygotes.values():
                z.close()
            self._zygotes.clear()

    def fixed(self, ex: Exercise) -> tuple[list[dict], list]:
        """The visible and hidden cases every student gets, with their expected outputs."""
        with self._lock:
            if ex.id not in self._visible:
                cases = ex.visible_cases() + ex.hidden_cases()
                self._visible[ex.id] = (cases, catalog.reference_outputs(ex, cases))
            return self._visible[ex.id]

    def cases(self, ex: Exercise, student_id: str) -> tuple[list[dict], list]:
        cases, expected = self.fixed(ex)
        if not self.vary:
            return cases, expected
        extra = ex.varied_cases(derive_seed(self.secret, student_id, ex.id))
        return cases + extra, expected + catalog.reference_outputs(ex, extra)

    def grade(self, student: Student, slot: int = 0) -> StudentResult:
        start = time.monotonic()
        uid = None if self.uid_base is None else self.uid_base + slot
        zygote = self._zygote(slot)
        # All of this student's exercises (a fork server's start is not theirs to pay for).
        deadline = time.monotonic() + self.limits.student_budget
        outcomes = [self.grade_exercise(student, ex, uid, zygote, deadline)
                    for ex in self.exercises]
        return StudentResult(student, outcomes, time.monotonic() - start)

    def grade_exercise(self, student: Student, ex: Exercise, uid: int | None,
                       zygote: Zygote | None = None, deadline: float | None = None) -> Outcome:
        start = time.monotonic()
        out = Outcome(ex)
        path = student.notebook_for(ex)
        if path is None:
            names = ", ".join(f.name for f in student.files) or "no notebooks"
            out.problem = (f"no notebook for exercise {ex.id} (expected a file named like "
                           f"{ex.id}.ipynb; found: {names})")
            out.missing = True
            return out
        out.notebook = path.name
        if deadline is not None and start >= deadline:
            out.problem = (f"not graded: your earlier exercises used up the "
                           f"{self.limits.student_budget:g} s of grading time a submission gets "
                           "(endless loops or slow cells?)")
            return out
        try:
            cells = read_code_cells(path)
        except SubmissionError as e:
            out.problem = str(e)
            return out
        try:  # the grader's own reading of the code: bounded, whatever the code's shape
            parsed = parse(cells)
            bound = bound_names(parsed)
        except (RecursionError, MemoryError, ValueError, SyntaxError) as e:
            out.problem = f"the grader could not read this notebook's code ({_short(e)})"
            return out
        out.notes += [f"syntax error, cell skipped: {p.error}" for p in parsed if p.error]
        missing = [n for n in ex.names if n not in bound]
        if missing:
            out.problem = _missing_message(missing, bound, parsed)
            return out
        try:  # signals for the integrity report only: a failure is a note, never a score
            out.mentions = integrity.reference_mentions(parsed, ex)
            out.near_copies = integrity.near_copies(parsed, ex)
            out.fingerprint = integrity.fingerprint(parsed, ex)
        except Exception as e:  # RecursionError on code nested thousands deep, and the like
            out.mentions, out.near_copies, out.fingerprint = [], [], None
            out.notes.append("the integrity checks could not analyse this notebook's code "
                             f"({_short(e)}); the score does not depend on them")
        try:
            preload = sorted(imported_modules(parsed) & PRELOADABLE)
        except (RecursionError, MemoryError):
            preload = []
        cases, expected = self.cases(ex, student.id)
        out.cases, out.visible = len(cases), sum(1 for c in cases if c["id"].startswith("v"))
        run = run_exercise(ex.id, [(p.cell.number, p.cell.source) for p in parsed
                                   if p.tree is not None], cases, self.limits, uid, preload,
                           zygote, deadline)
        out.cpu_seconds = run.cpu_seconds
        out.output = run.output
        given = _template_lines(parsed, ex)
        out.notes += [f"this statement failed: {e}" for e in run.errors
                      if _ERROR_AT.match(e) is None
                      or (int(_ERROR_AT.match(e)[1]), int(_ERROR_AT.match(e)[2])) not in given]
        if run.skipped:
            what = "statement was" if run.skipped == 1 else "statements were"
            out.notes.append(f"{run.skipped} top-level {what} not run (the grader runs "
                             "imports, definitions and assignments only)")
        out.notes += run.crashes
        out.crashed = bool(run.crashes)
        outputs = [run.outputs[i] for i in range(len(cases))]
        try:
            out.results = catalog.judge(ex, cases, outputs, expected)
        except Exception:  # a forged answer of the wrong shape: it scores nothing
            unreadable = {"bad": "the worker's answer could not be read"}
            out.results = catalog.judge(ex, cases, [unreadable] * len(cases), expected)
        out.references = run.references
        out.patched = run.patched
        if run.fatal:
            out.problem = "; ".join(run.fatal)
        elif run.references:
            out.problem = (f"your code calls gostack's reference implementation "
                           f"({', '.join(run.references)}) instead of its own: this exercise "
                           "scores 0. Write the function yourself.")
        elif run.patched:
            out.problem = (f"your code changed gostack while it was being graded "
                           f"({', '.join(run.patched[:3])}): this exercise scores 0.")
        out.seconds = time.monotonic() - start
        return out


def _short(e: BaseException) -> str:
    first = next((ln for ln in str(e).splitlines() if ln.strip()), "")
    return f"{type(e).__name__}: {first}"[:200] if first else type(e).__name__


def _missing_message(missing: list[str], bound: dict[str, int], parsed) -> str:
    import difflib

    parts = []
    for name in missing:
        close = difflib.get_close_matches(name, list(bound), n=1, cutoff=0.6)
        hint = f" (there is {close[0]!r}: a typo?)" if close else ""
        parts.append(f"no function named {name!r}{hint}")
    broken = [p.error for p in parsed if p.error]
    if broken:
        parts.append("a cell with a syntax error was skipped: " + broken[0])
    return "; ".join(parts)

