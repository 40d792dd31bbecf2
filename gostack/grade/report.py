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
from collections import defaultdict
from pathlib import Path

from .. import __version__
from . import catalog
from .grader import Outcome, StudentResult
from .notebook import printable

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


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


def _aspect_output(o: Outcome, r: catalog.AspectResult, hide: bool) -> str:
    from ..exercises import failing_cases

    hidden = r.cases - r.visible
    failed_v = sum(1 for f in r.failures if f.case["id"].startswith("v"))
    failed_h = len(r.failures) - failed_v
    lines = [f"visible cases: {r.visible - failed_v}/{r.visible} passed; "
             f"hidden cases: {hidden - failed_h}/{hidden} passed"]
    lines += failing_cases(o.exercise, r, hide)
    return printable("\n".join(lines), keep="\n")


def results_json(result: StudentResult, visibility: str = "visible",
                 hide_hidden_inputs: bool = True) -> dict:
    """Gradescope's native results.json: one test per aspect of each exercise, scored by
    :meth:`Outcome.aspect_points` (as every other report is)."""
    tests = []
    for o in result.outcomes:
        ex = o.exercise
        for k, s in enumerate(o.aspect_points(), start=1):
            r = s.result
            if s.zeroed:
                output = f"0 points: {text(s.zeroed)}"
            else:
                output = _aspect_output(o, r, hide_hidden_inputs)
            tests.append({
                "name": f"{ex.id} · {r.title}", "number": f"{ex.number}.{k}",
                "score": s.points, "max_score": s.max_points,
                "status": "passed" if s.points == s.max_points else "failed",
                "output": output, "visibility": visibility, "tags": [ex.id],
            })
        notes = _notes(o)
        if notes:
            tests.append({"name": f"{ex.id} · notes", "number": f"{ex.number}.0", "score": 0.0,
                          "max_score": 0.0, "output": "\n".join(notes),
                          "visibility": visibility, "tags": [ex.id]})
    summary = [f"{o.exercise.id}: {o.points:g}/{o.max_points:g}" for o in result.outcomes]
    out = f"gostack grade {__version__} · {result.points:g}/{result.max_points:g} points\n"
    out += "\n".join(summary)
    if result.error:
        out += f"\nThe grader failed on this submission: {text(result.error)}"
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


def _notes(o: Outcome) -> list[str]:
    notes = []
    if o.notebook:
        notes.append(f"graded notebook: {text(o.notebook)}")
    if o.problem and o.results:
        notes.append(f"why 0 points: {text(o.problem)}")
    notes += [text(n) for n in o.notes]
    return notes if len(notes) > 1 or (notes and not notes[0].startswith("graded")) else []


def feedback_md(result: StudentResult, hide_hidden_inputs: bool = True) -> str:
    """The student's feedback: per exercise, the same report as the check cells (points per
    aspect from :meth:`Outcome.aspect_points`), notes and printed output. Everything the
    learner's code or files said is escaped, inside fenced blocks it cannot close."""
    from ..exercises import report

    lines = [f"# Feedback for {text(result.student.id)}", "",
             f"Total: **{result.points:g}/{result.max_points:g}** points "
             f"(gostack grade {__version__}).", ""]
    if hide_hidden_inputs:
        lines += ["Failing hidden cases are counted; their inputs, and what your code said "
                  "on them, are not shown.", ""]
    if result.error:
        lines += ["The grader failed on this submission:", "", *fenced(result.error), ""]
    for o in result.outcomes:
        lines += [f"## {o.exercise.id}: {o.points:g}/{o.max_points:g}", ""]
        scores = o.aspect_points()
        body = [f"notebook: {text(o.notebook)}"] if o.notebook else []
        body.append(report(o.exercise, [s.result for s in scores], o.cases, hidden=True,
                           hide_hidden_inputs=hide_hidden_inputs,
                           points=[s.points for s in scores], zeroed=o.problem))
        if o.notes:
            body += ["notes:", *(f"- {text(note)}" for note in o.notes)]
        lines += [*fenced("\n".join(body)), ""]
        if o.output.strip():
            quoted = "\n".join(printable(o.output.strip(), keep="\n").split("\n")[:20])
            lines += ["What your code printed while it was graded (not used for scoring):",
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


def write_student(out: Path, result: StudentResult, manifest: dict, visibility: str,
                  hide_hidden_inputs: bool = True) -> None:
    """Write the student's files. If their report cannot be made (an answer of a shape no
    formatter expected), the student gets a 0-point report that says so: an earlier run's
    files are always replaced, never left standing."""
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
    write_atomic(folder / "feedback.md", feedback)
    write_atomic(folder / "integrity.json", json.dumps(integ, indent=1))
    write_atomic(folder / "manifest.json", json.dumps(manifest, indent=1))  # last: "done"


def gradebook_csv(rows: list[dict], exercises: list[str], extra: list[str]) -> str:
    buf = io.StringIO()
    fields = ["student", *extra, *exercises, "total", "max", "status"]
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
    """Markdown and JSON: reference calls, monkeypatching, mentions, near-copies, and groups
    of students whose code for an exercise is identical."""
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
    same = [(ex_id, fp, sids) for (ex_id, fp), sids in sorted(groups.items()) if len(sids) > 1]
    lines = ["# Integrity report", "",
             "Scores already reflect the first two sections (0 points for the exercise). "
             "The others are signals for a human to look at, not verdicts: short functions "
             "written independently can coincide.", ""]

    def section(title: str, rows: list[tuple[str, str, str]]) -> None:
        lines.extend([f"## {title} ({len(rows)})", ""])
        lines.extend(f"- **{text(s)}**, {text(e)}: {text(t)}" for s, e, t in rows)
        lines.append("" if rows else "None.\n")

    section("Calls to gostack's reference implementation while graded", calls)
    section("Changes to gostack (monkeypatching) while graded", patches)
    section("Mentions of reference functions in the code", mentions)
    section("Near-copies of the reference source", copies)
    lines += [f"## Identical submissions across students ({len(same)} groups)", ""]
    lines += [f"- {text(ex_id)}: {', '.join(map(text, sids))} (code digest {text(fp)})"
              for ex_id, fp, sids in same]
    lines.append("" if same else "None.\n")
    data = {"reference_calls": calls, "monkeypatching": patches, "mentions": mentions,
            "near_copies": copies,
            "identical": [{"exercise": e, "digest": fp, "students": s} for e, fp, s in same]}
    return "\n".join(lines), data
