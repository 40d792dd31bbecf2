"""What the grader writes: per student, Gradescope's results.json and a feedback file; for the
run, a gradebook CSV, an integrity report and a summary. Every file is written atomically
(a temporary file in the same folder, then a rename), so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import json
import os
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


def _aspect_output(o: Outcome, r: catalog.AspectResult, hide: bool = False) -> str:
    hidden = r.cases - r.visible
    failed_v = sum(1 for f in r.failures if f.case["id"].startswith("v"))
    failed_h = len(r.failures) - failed_v
    lines = [f"visible cases: {r.visible - failed_v}/{r.visible} passed; "
             f"hidden cases: {hidden - failed_h}/{hidden} passed"]
    worst = r.smallest(visible_only=hide)
    if worst is not None:
        which = "visible" if worst.case["id"].startswith("v") else "hidden"
        lines.append(f"smallest failing input ({which}, 1 of {len(r.failures)}):")
        lines += ["  " + line for line in catalog.explain(o.exercise, r.tag, worst).splitlines()]
    return "\n".join(lines)


def results_json(result: StudentResult, visibility: str = "visible",
                 hide_hidden_inputs: bool = False) -> dict:
    """Gradescope's native results.json: one test per aspect of each exercise."""
    tests = []
    for o in result.outcomes:
        ex = o.exercise
        for k, aspect in enumerate(ex.aspects, start=1):
            r = next((x for x in o.results if x.tag == aspect.tag), None)
            if o.problem or r is None:
                score, output = 0.0, f"0 points: {o.problem or 'not graded'}"
            else:
                score, output = r.points, _aspect_output(o, r, hide_hidden_inputs)
            tests.append({
                "name": f"{ex.id} · {aspect.title}", "number": f"{ex.number}.{k}",
                "score": score, "max_score": aspect.points,
                "status": "passed" if score == aspect.points else "failed",
                "output": output, "visibility": visibility, "tags": [ex.id],
            })
        notes = _notes(o)
        if notes:
            tests.append({"name": f"{ex.id} · notes", "number": f"{ex.number}.0", "score": 0.0,
                          "max_score": 0.0, "output": "\n".join(notes),
                          "visibility": visibility, "tags": [ex.id]})
    summary = [f"{o.exercise.id}: {o.points:g}/{o.max_points:g}" for o in result.outcomes]
    text = f"gostack grade {__version__} · {result.points:g}/{result.max_points:g} points\n"
    text += "\n".join(summary)
    if result.error:
        text += f"\nThe grader failed on this submission: {result.error}"
    return {
        "score": result.points,
        "output": text,
        "output_format": "text",  # plain text: learner messages cannot inject markup
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "execution_time": round(result.seconds, 2),
        "tests": tests,
        "extra_data": {"student": result.student.id, "grader": f"gostack {__version__}",
                       "exercises": {o.exercise.id: o.points for o in result.outcomes}},
    }


def _notes(o: Outcome) -> list[str]:
    notes = []
    if o.notebook:
        notes.append(f"graded notebook: {o.notebook}")
    if o.problem and o.results:
        notes.append(f"why 0 points: {o.problem}")
    notes += o.notes
    return notes if len(notes) > 1 or (notes and not notes[0].startswith("graded")) else []


def feedback_md(result: StudentResult, hide_hidden_inputs: bool = False) -> str:
    """The student's feedback: per exercise, the same report as the check cells, plus notes."""
    from ..exercises import report

    lines = [f"# Feedback for {result.student.id}", "",
             f"Total: **{result.points:g}/{result.max_points:g}** points "
             f"(gostack grade {__version__}).", ""]
    if result.error:
        lines += [f"The grader failed on this submission: {result.error}", ""]
    for o in result.outcomes:
        lines += [f"## {o.exercise.id}: {o.points:g}/{o.max_points:g}", ""]
        if o.notebook:
            lines += [f"Notebook: `{o.notebook}`", ""]
        if o.problem:
            lines += [f"**0 points:** {printable(o.problem)}", ""]
        if o.results and not o.problem:
            lines += [*_block(report(o.exercise, o.results, o.cases, hidden=True,
                                     hide_hidden_inputs=hide_hidden_inputs)), ""]
        for note in o.notes:
            lines.append(f"- {_one_line(note)}")
        if o.notes:
            lines.append("")
        if o.output.strip():
            quoted = "\n".join(o.output.strip().splitlines()[:20])
            lines += ["What your code printed while it was graded (not used for scoring):",
                      "", *_block(quoted), ""]
    return "\n".join(lines)


def _block(text: str) -> list[str]:
    """An indented code block: unlike a fenced one, no content can close it early (the
    texts quote learner code, messages and output)."""
    return ["    " + line for line in text.splitlines()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def integrity_json(result: StudentResult) -> dict:
    return {o.exercise.id: {"fingerprint": o.fingerprint, "references": o.references,
                            "patched": o.patched, "mentions": o.mentions,
                            "near_copies": [list(n) for n in o.near_copies]}
            for o in result.outcomes}


def write_student(out: Path, result: StudentResult, manifest: dict, visibility: str,
                  hide_hidden_inputs: bool = False) -> None:
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
        lines.extend(f"- **{printable(s)}**, {e}: {printable(t)}" for s, e, t in rows)
        lines.append("" if rows else "None.\n")

    section("Calls to gostack's reference implementation while graded", calls)
    section("Changes to gostack (monkeypatching) while graded", patches)
    section("Mentions of reference functions in the code", mentions)
    section("Near-copies of the reference source", copies)
    lines += [f"## Identical submissions across students ({len(same)} groups)", ""]
    lines += [f"- {ex_id}: {', '.join(sids)} (code digest {fp})" for ex_id, fp, sids in same]
    lines.append("" if same else "None.\n")
    data = {"reference_calls": calls, "monkeypatching": patches, "mentions": mentions,
            "near_copies": copies,
            "identical": [{"exercise": e, "digest": fp, "students": s} for e, fp, s in same]}
    return "\n".join(lines), data
