"""What the grader writes: per student, Gradescope's results.json and a feedback file; for the
run, a gradebook CSV, an integrity report and a summary. Every file is written atomically
(a temporary file in the same folder, then a rename), so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from .. import __version__
from ..i18n import N_, _, korean, using
from . import catalog
from .grader import Outcome, StudentResult
from .notebook import printable

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# The feedback as graded; feedback.md is it plus the adjustments of the latest run (book.py).
GRADED_FEEDBACK = "graded-feedback.md"


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # backslashreplace: a lone surrogate that slipped through is escaped, never fatal.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def text(value: object) -> str:
    """Learner text (a message, a name, a file name) as one escaped line of a report."""
    return printable(str(value))


def fenced(value: str, info: str = "text") -> list[str]:
    """Multi-line learner text (printed output, a report quoting messages) as a fenced
    Markdown block: escaped but for its newlines, and fenced with more backticks than any
    run of them inside, so that no line of it can close the block early."""
    body = printable(value, keep="\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *body.split("\n"), fence]


# ---------------------------------------------------------------------------
# Failure kinds, named plainly; repeated messages folded
# ---------------------------------------------------------------------------

_CRASHES = [  # what sandbox.crash_reason says -> the kind, with its limit
    (re.compile(r"used more than ([\d.]+) s of CPU time"), "ran out of time (CPU limit {} s)"),
    (re.compile(r"took longer than ([\d.]+) s \(wall clock\)"),
     "ran out of time (wall-clock limit {} s)"),
    (re.compile(r"used up the ([\d.]+) s of wall-clock time"),
     "ran out of time (the submission's {} s budget)"),
    (re.compile(r"kept running ([\d.]+) s after one call"),
     "ran out of time (kept running {} s past a call's alarm)"),
    (re.compile(r"sent too much output"), "printed too much"),
    (re.compile(r"segmentation fault"), "crashed (segmentation fault)"),
    (re.compile(r"ran out of memory \(limit (\d+) MB\)"), "ran out of memory (limit {} MB)"),
    (re.compile(r"killed by signal (\w+)"), "was killed by signal {}"),
    (re.compile(r"ended the process early"), "ended the worker early (os._exit or a crash)"),
    (re.compile(r"wrote too large a file"), "wrote too large a file"),
]
_TIMEOUT = re.compile(r"^ran out of time: no answer after ([\d.]+) s per call")


def failure_kind(error: str | None) -> str | None:
    """A case's error (spec.outcome_error's text) or a worker's crash note as a plain kind:
    "ran out of time (1 s per call)", "raised NotImplementedError (not implemented)",
    "raised ValueError"... None for a case that was not run because of an earlier one."""
    if error is None:
        return "gave a wrong answer"
    m = _TIMEOUT.match(error)
    if m:
        return f"ran out of time ({m.group(1)} s per call)"
    if error.startswith("raised no result"):
        return None
    for pattern, kind in _CRASHES:
        m = pattern.search(error)
        if m:
            return kind.format(*m.groups())
    if error.startswith("raised SystemExit"):
        return "called sys.exit()"
    if error.startswith("raised NotImplementedError"):
        return "raised NotImplementedError (not implemented)"
    m = re.match(r"^raised ([\w.]+)", error)
    if m:
        return f"raised {m.group(1)}"
    return "returned an answer of the wrong kind"


def _problem_kind(problem: str) -> str:
    """An exercise zeroed as a whole (Outcome.problem), as a kind."""
    for needle, kind in (("no function named", "a function is missing or misnamed"),
                         ("no notebook for exercise", "no notebook"),
                         ("earlier exercises used up", "not graded (the submission's time "
                                                       "budget was used up)"),
                         ("calls gostack's reference", "called gostack's reference"),
                         ("changed gostack while", "changed gostack while graded"),
                         ("cannot be called as", "a function has the wrong parameters"),
                         ("could not read this notebook", "the grader could not read it")):
        if needle in problem:
            return kind
    return "the notebook could not be graded"


def fold(messages: list[str]) -> list[str]:
    """Identical messages once each, in first-seen order, with "×n" when repeated."""
    counts = Counter(messages)
    return [m if counts[m] == 1 else f"{m} ×{counts[m]}" for m in dict.fromkeys(messages)]


def outcome_kinds(o: Outcome) -> list[str]:
    """The kinds of failure of one student's exercise, each once."""
    if o.missing:
        return ["no notebook"]
    kinds = []
    if o.problem:
        kinds.append(_problem_kind(o.problem))
    if o.results and not o.problem:
        kinds += [failure_kind(f.error) for r in o.results for f in r.failures]
    kinds += [failure_kind(c) for c in o.notes if c.startswith(("case ", "after case",
                                                                 "while running", "the worker"))]
    return list(dict.fromkeys(k for k in kinds if k))


def uniform_error(o: Outcome) -> str | None:
    """The message, when every case of an exercise that scored nothing failed with the same
    one (an unsolved exercise: NotImplementedError): said once, not once per rule."""
    if o.problem or not o.results or any(r.points for r in o.results):
        return None
    errors = {f.error for r in o.results for f in r.failures}
    n = sum(len(r.failures) for r in o.results)
    if len(errors) != 1 or None in errors or not n or any(not r.failures for r in o.results):
        return None
    (error,) = errors
    return f"{error} (every case: ×{n})" if n > 1 else error


def _aspect_output(o: Outcome, r: catalog.AspectResult, hide: bool) -> str:
    from ..exercises import failing_cases

    hidden = r.cases - r.visible
    failed_v = sum(1 for f in r.failures if f.case["id"].startswith("v"))
    failed_h = len(r.failures) - failed_v
    lines = [_("visible cases: {vp}/{v} passed; hidden cases: {hp}/{h} passed").format(
        vp=r.visible - failed_v, v=r.visible, hp=hidden - failed_h, h=hidden)]
    lines += failing_cases(o.exercise, r, hide)
    return printable("\n".join(lines), keep="\n")


def results_json(result: StudentResult, visibility: str = "visible",
                 hide_hidden_inputs: bool = True) -> dict:
    """Gradescope's native results.json: one test per aspect of each exercise, scored by
    :meth:`Outcome.aspect_points` (as every other report is)."""
    tests = []
    for o in result.outcomes:
        ex = o.exercise
        same = uniform_error(o)
        for k, s in enumerate(o.aspect_points(), start=1):
            r = s.result
            if s.zeroed or same:
                output = _("0 points: {why}").format(why=text(_localized(s.zeroed or same)))
            else:
                output = _aspect_output(o, r, hide_hidden_inputs)
            tests.append({
                "name": f"{ex.id} · {_(r.title)}", "number": f"{ex.number}.{k}",
                "score": s.points, "max_score": s.max_points,
                "status": "passed" if s.points == s.max_points else "failed",
                "output": output, "visibility": visibility, "tags": [ex.id],
            })
        notes = _notes(o, _duplicate_notes(result, ex.id))
        if notes:
            tests.append({"name": f"{ex.id} · " + _("notes"), "number": f"{ex.number}.0",
                          "score": 0.0, "max_score": 0.0, "output": "\n".join(notes),
                          "visibility": visibility, "tags": [ex.id]})
    summary = [f"{o.exercise.id}: {o.points:g}/{o.max_points:g}" for o in result.outcomes]
    out = f"gostack grade {__version__} · " + _("{points}/{max} points").format(
        points=f"{result.points:g}", max=f"{result.max_points:g}") + "\n"
    out += "\n".join(summary)
    if result.error:
        out += "\n" + _("The grader failed on this submission: {error}").format(
            error=text(result.error))
    return {
        "score": result.points,
        "output": out,
        "output_format": "text",  # plain text: learner messages cannot inject markup
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "execution_time": round(result.seconds, 2),
        "tests": tests,
        "extra_data": {"student": text(result.student.id), "grader": f"gostack {__version__}",
                       "exercises": {o.exercise.id: o.points for o in result.outcomes}},
    }


def _duplicate_notes(result: StudentResult, ex_id: str) -> list[str]:
    """The layout's report of several notebooks for this exercise (layouts.Duplicate)."""
    return [f"several notebooks for this exercise: graded {text(d.graded)} ({text(d.why)}); "
            f"not graded: {', '.join(map(text, d.others))}"
            for d in getattr(result.student, "duplicates", []) if d.exercise == ex_id]


def _notes(o: Outcome, extra: list[str] | None = None) -> list[str]:
    notes = []
    if o.notebook:
        notes.append(_("graded notebook: {name}").format(name=text(o.notebook)))
    notes += extra or []
    if o.problem and o.results:
        notes.append(_("why 0 points: {why}").format(why=text(o.problem)))
    notes += [text(_note(n)) for n in o.notes]
    return notes if len(notes) > 1 or (notes and not o.notebook) else []


def feedback_md(result: StudentResult, hide_hidden_inputs: bool = True) -> str:
    """The student's feedback: per exercise, the same report as the check cells (points per
    aspect from :meth:`Outcome.aspect_points`), notes and printed output. Everything the
    learner's code or files said is escaped, inside fenced blocks it cannot close."""
    from ..exercises import report

    lines = [_("# Feedback for {student}").format(student=text(result.student.id)), "",
             _("Total: **{points}/{max}** points (gostack grade {version}).").format(
                 points=f"{result.points:g}", max=f"{result.max_points:g}",
                 version=__version__), ""]
    if hide_hidden_inputs:
        lines += [_("Failing hidden cases are counted; their inputs, and what your code said "
                    "on them, are not shown."), ""]
    if result.error:
        lines += [_("The grader failed on this submission:"), "", *fenced(result.error), ""]
    for o in result.outcomes:
        lines += [f"## {o.exercise.id}: {o.points:g}/{o.max_points:g}", ""]
        scores = o.aspect_points()
        body = [_("notebook: {name}").format(name=text(o.notebook))] if o.notebook else []
        body.append(report(o.exercise, [s.result for s in scores], o.cases, hidden=True,
                           hide_hidden_inputs=hide_hidden_inputs,
                           points=[s.points for s in scores],
                           zeroed=o.problem or uniform_error(o)))
        notes = (_duplicate_notes(result, o.exercise.id)
                 + [text(_note(n)) for n in fold(o.notes)])
        if notes:
            body += [_("notes:"), *(f"- {note}" for note in notes)]
        lines += [*fenced("\n".join(body)), ""]
        if o.output.strip():
            quoted = "\n".join(printable(o.output.strip(), keep="\n").split("\n")[:20])
            lines += [_("What your code printed while it was graded (not used for scoring):"),
                      "", *fenced(quoted), ""]
    return "\n".join(lines)


def integrity_json(result: StudentResult) -> dict:
    return {o.exercise.id: {"fingerprint": o.fingerprint,
                            "references": [text(x) for x in o.references],
                            "patched": [text(x) for x in o.patched],
                            "mentions": [text(x) for x in o.mentions],
                            "near_copies": [[text(n), text(r), ratio]
                                            for n, r, ratio in o.near_copies]}
            for o in result.outcomes}


def _localized(message: str) -> str:
    from .spec import localize_error

    return localize_error(message)


#: The grader's notes on a notebook (grader.py, worker.py), for :func:`spec.localize_lines`.
NOTES = (
    N_("this statement failed: cell {cell}, line {line}: {error}"),
    N_("{n} top-level statement was not run (the grader runs imports, definitions and "
       "assignments only)"),
    N_("{n} top-level statements were not run (the grader runs imports, definitions and "
       "assignments only)"),
    N_("PermissionError: not allowed while grading: reading {path} (gostack's source is not "
       "available while grading)"),
    N_("ReferenceUsed: {name} is gostack's reference implementation; it is switched off while "
       "grading: write your own"),
)


def _note(message: str) -> str:
    """A note in the language in use (the notes are kept, and read, in English)."""
    from .spec import localize_lines

    return localize_lines(message, NOTES)


def submission_language(result: StudentResult, lang: str = "auto") -> str:
    """The language of a student's feedback: ``lang``, or with "auto" the edition the
    submission was made from (Korean when the markdown of a notebook it handed in, which
    comes from the handed-out exercise, is in Hangul; else English)."""
    if lang != "auto":
        return lang
    from .grader import MAX_FILE_BYTES

    for f in sorted(getattr(result.student, "files", [])):
        try:
            if f.suffix != ".ipynb" or f.stat().st_size > MAX_FILE_BYTES:
                continue
            nb = json.loads(f.read_text(encoding="utf-8", errors="replace"))
            cells = nb.get("cells", []) if isinstance(nb, dict) else []
            md = [c.get("source", "") for c in cells
                  if isinstance(c, dict) and c.get("cell_type") == "markdown"]
            if korean("".join("".join(x) if isinstance(x, list) else str(x) for x in md)):
                return "ko"
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return "en"


def write_student(out: Path, result: StudentResult, manifest: dict, visibility: str,
                  hide_hidden_inputs: bool = True, lang: str = "auto") -> None:
    """Write the student's files, in the submission's language (:func:`submission_language`).
    If their report cannot be made (an answer of a shape no formatter expected), the student
    gets a 0-point report that says so: an earlier run's files are always replaced, never
    left standing."""
    with using(submission_language(result, lang)):
        _write_student(out, result, manifest, visibility, hide_hidden_inputs)


def _write_student(out: Path, result: StudentResult, manifest: dict, visibility: str,
                   hide_hidden_inputs: bool = True) -> None:
    folder = out / "students" / result.student.key
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()  # not the grader's: something put a file or a link in its place
    try:
        data = results_json(result, visibility, hide_hidden_inputs)
        feedback = feedback_md(result, hide_hidden_inputs)
        integ = integrity_json(result)
    except Exception as e:
        result.error = f"its report could not be written ({type(e).__name__}: {e})"[:500]
        result.outcomes = []
        data = results_json(result, visibility, hide_hidden_inputs)
        feedback, integ = feedback_md(result, hide_hidden_inputs), {}
    write_atomic(folder / "results.json", json.dumps(data, indent=1))
    write_atomic(folder / GRADED_FEEDBACK, feedback)
    write_atomic(folder / "feedback.md", feedback)
    write_atomic(folder / "integrity.json", json.dumps(integ, indent=1))
    write_atomic(folder / "grading.json", json.dumps(grading_json(result), indent=1))
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=1))  # last: "done"


def grading_json(result: StudentResult) -> dict:
    """What the class summary needs of one student, kept beside their results, so that a
    resumed run's summary covers students graded by earlier runs exactly as a full run's."""
    sid = result.student.id
    problems = []
    if result.error:
        problems.append(f"{sid}: the grader failed: {result.error}")
    for o in result.outcomes:
        where = f"{sid}, {o.exercise.id}"
        if o.problem and not o.missing:
            problems.append(f"{where}: {o.problem[:160]}")
        elif o.crashed:
            crashes = [n for n in o.notes if n.startswith(("case ", "after case",
                                                          "while running", "the worker"))]
            kinds = [failure_kind(c) or c for c in crashes] or [o.notes[-1]]
            problems.append(f"{where}: the worker " + "; ".join(fold(kinds)))
    return {
        "student": text(sid),
        "points": {o.exercise.id: o.points for o in result.outcomes},
        "kinds": {o.exercise.id: outcome_kinds(o) for o in result.outcomes},
        "problems": [text(p) for p in problems],
        "missing": sum(1 for o in result.outcomes if o.missing),
        "error": text(result.error) if result.error else None,
        "duplicates": [text(d.text()) for d in getattr(result.student, "duplicates", [])],
    }


def gradebook_csv(rows: list[dict], exercises: list[str], extra: list[str]) -> str:
    buf = io.StringIO()
    fields = ["student", *extra, *exercises, "late_penalty", "total", "max", "status"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    w.writerow({f: _cell(f) for f in fields})  # the header: roster columns are text too
    for row in rows:
        w.writerow({k: _cell(v) for k, v in row.items()})
    return buf.getvalue()


def _cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (=, +, -, @) gets a leading
    apostrophe; the grader's own numbers are never negative, so none is touched."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def integrity_report(per_student: dict[str, dict]) -> tuple[str, dict]:
    """Markdown and JSON: reference calls, monkeypatching, students whose code is identical
    in several exercises, mentions, near-copies, and groups of students whose code for one
    exercise is identical; the strongest evidence first in each part.

    A pair's evidence is the sum, over the exercises where their code is identical, of
    1 / (the number of other students with that same code): two students alone with the
    same code in all seven exercises score 7; two of thirty who wrote the same short correct
    answer to one exercise score 1/29."""
    from .integrity import fingerprint_size

    calls, patches, mentions, copies = [], [], [], []
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sid, data in sorted(per_student.items()):
        for ex_id, d in sorted(data.items()):
            if d.get("references"):
                calls.append((sid, ex_id, ", ".join(d["references"])))
            if d.get("patched"):
                patches.append((sid, ex_id, ", ".join(d["patched"][:3])))
            if d.get("mentions"):
                mentions.append((sid, ex_id, "; ".join(d["mentions"][:3])))
            for name, ref, ratio in d.get("near_copies", []):
                copies.append((sid, ex_id, f"{name} is {ratio:.0%} similar to {ref}"))
            if d.get("fingerprint"):
                groups[(ex_id, d["fingerprint"])].append(sid)
    same = [(ex_id, fp, sids) for (ex_id, fp), sids in groups.items() if len(sids) > 1]
    # Smaller groups of longer code first: thirty students sharing a one-line answer is the
    # weakest signal there is.
    same.sort(key=lambda g: (len(g[2]), -(fingerprint_size(g[1]) or 0), g[0], g[2]))
    shared: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for ex_id, _fp, sids in same:
        for a, b in combinations(sorted(sids), 2):
            shared[(a, b)].append((ex_id, len(sids)))
    pairs = []
    for (a, b), exs in shared.items():
        if len(exs) < 2:
            continue
        solved = len({e for e, d in per_student.get(a, {}).items() if d.get("fingerprint")}
                     & {e for e, d in per_student.get(b, {}).items() if d.get("fingerprint")})
        score = round(sum(1 / (n - 1) for _, n in exs), 2)
        pairs.append({"students": [a, b], "exercises": sorted(e for e, _ in exs),
                      "solved_by_both": solved, "evidence": score})
    pairs.sort(key=lambda p: (-p["evidence"], -len(p["exercises"]), p["students"]))
    pairs = pairs[:200]
    lines = ["# Integrity report", "",
             "Scores already reflect the first two sections (0 points for the exercise). "
             "The others are signals for a human to look at, not verdicts, strongest first: "
             "short functions written independently can coincide. Code handed out with the "
             "exercise (its template notebook) is never counted.", ""]

    def section(title: str, rows: list[tuple[str, str, str]]) -> None:
        lines.extend([f"## {title} ({len(rows)})", ""])
        lines.extend(f"- **{text(s)}**, {text(e)}: {text(t)}" for s, e, t in rows)
        lines.append("" if rows else "None.\n")

    section("Calls to gostack's reference implementation while graded", calls)
    section("Changes to gostack (monkeypatching) while graded", patches)
    lines += [f"## Students whose code is identical in several exercises ({len(pairs)} "
              "pairs)", ""]
    lines += [f"- **{text(p['students'][0])}** and **{text(p['students'][1])}**: identical in "
              f"{len(p['exercises'])} of the {p['solved_by_both']} exercises both solved "
              f"({', '.join(map(text, p['exercises']))}; evidence {p['evidence']:g})"
              for p in pairs]
    lines.append("" if pairs else "None.\n")
    section("Mentions of reference functions in the code", mentions)
    section("Near-copies of the reference source", copies)
    lines += [f"## Identical code for one exercise across students ({len(same)} groups)", ""]
    for ex_id, fp, sids in same:
        size = fingerprint_size(fp)
        lines.append(f"- {text(ex_id)}: {', '.join(map(text, sorted(sids)))} (code digest "
                     f"{text(fp.partition('/')[0])}"
                     + (f", {size} syntax nodes" if size else "") + ")")
    lines.append("" if same else "None.\n")
    data = {"reference_calls": calls, "monkeypatching": patches, "identical_pairs": pairs,
            "mentions": mentions, "near_copies": copies,
            "identical": [{"exercise": e, "digest": fp, "students": sorted(s),
                           "size": fingerprint_size(fp)} for e, fp, s in same]}
    return "\n".join(lines), data
