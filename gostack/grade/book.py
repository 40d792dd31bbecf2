"""The class's final scores: what grading gave, then overrides, then the late policy; the
regrade log; hand edits refused; gradebooks the learning platforms import as they are.

Every run recomputes each student's final scores from three inputs, in this order:

1. **graded**: each exercise's points from the student's ``results.json`` (what the autograder
   gave; that file is never changed afterwards);
2. **overrides** (``--overrides FILE.csv``): rows ``student, exercise, points, delta, comment,
   who, when``, applied in file order on every run (a row whose student starts with ``#``
   is a comment). ``points`` sets an exercise's points
   (0..its maximum), ``delta`` adds to them (the result is kept within 0..maximum). The
   exercise ``late`` is the late penalty itself: ``points 0`` waives it (an extension);
3. **late policy** (``--due``, ``--grace``, ``--late-penalty`` percent per day, ``--late-cap``):
   a submission made after the due date plus the grace period loses ``late-penalty`` percent
   of its points (after overrides) per started day, at most ``late-cap`` percent.

Submission times come from the download: Gradescope's ``:created_at:``; Canvas's download
carries no time, only ``_LATE`` in the file name, charged as one day late (the least its
marker can mean); Moodle's download and a folder per student carry neither, so no penalty
is applied and the summary counts them (an override with exercise ``late`` charges one).

``gradebook.csv`` is the grader's output, rewritten on every run: a hand edit there would be
undone, so a run that finds it changed since it last wrote it refuses to start (exit 2),
names the cells that differ and points to the overrides file; ``--discard-gradebook-edits``
keeps a backup (``gradebook.csv.edited-<time>``) and goes on. The last run's scores are kept
in ``gradebook-state.json``, and every change between runs is appended to
``regrades.jsonl`` (one JSON object per line, never rewritten) with why: first graded, a new
submission, regraded, an override, the late policy.

Exports (``--export canvas|moodle|csv``), each a file the platform imports unchanged; the
rules, checked by ``tests/test_book.py`` against hand-written expectations, are from:

* **Canvas** (Grades > Import). Sources: Ohio State's CarmenCanvas guide "Import a CSV file
  into Carmen Grades" (teaching.resources.osu.edu/toolsets/carmencanvas/guides/
  calculating-final-grades/import-csv-file-carmen-grades) and VCU's "Gradebook Action Menu"
  (ts.vcu.edu/askit/teaching-and-learning/canvas/faculty/grading-faculty/
  gradebook-action-menu-faculty/). The identity columns ``Student, ID, SIS User ID,
  SIS Login ID, Section`` come first (the student is found by name, ``ID`` or SIS id), then
  one column per assignment, named ``Assignment name (assignment id)`` as Canvas's own export
  names it; a new column name creates a new assignment; read-only columns (current and
  final scores) are ignored; Canvas's export writes a second row ``Points Possible``, which
  the import accepts and may be left out. We write the identity columns, one assignment
  column (``--export-name``) and the Points Possible row, a score on every row (0 for a
  roster student without a submission).
* **Moodle** (Grades > Import > CSV file). Sources: Moodle's ``grade/import/csv/index.php``
  and ``classes/load_data.php`` (github.com/moodle/moodle: the header row names the columns;
  the form maps one column, "Map from", to a user field, "Map to": user id, username, ID
  number or e-mail address; every other column to a grade item or to a grade item's
  feedback), and the import steps of aaronsamuel137/moodle-autograder's README (map from and
  to "Email address"). We write ``Email address`` (and ``ID number`` when the roster has
  it), the full name, the grade column (``--export-name``) and ``Feedback: <name>`` with the
  points per exercise and every adjustment.
* **csv**: one row per student, numbers only: id, e-mail and name when known, each
  exercise, the late penalty, the total and the maximum, for any other system.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import catalog
from .notebook import printable
from .report import write_atomic

LATE = "late"  # the overrides file's name for the late penalty
STATE = "gradebook-state.json"
LOG = "regrades.jsonl"
GRADEBOOK = "gradebook.csv"
EXPORTS = ("canvas", "moodle", "csv")
EXPORT_FILES = {"canvas": "export-canvas.csv", "moodle": "export-moodle.csv",
                "csv": "export.csv"}
OVERRIDE_COLUMNS = ("student", "exercise", "points", "delta", "comment", "who", "when")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


class BookError(Exception):
    """An overrides file, a late policy or an export that cannot be used; the message says
    where and what to do."""


def _num(x: float) -> str:
    return f"{round(x, 2):g}"


# ---------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    line: int
    student: str
    item: str  # an exercise id, or LATE
    points: float | None  # set to
    delta: float | None  # or add
    comment: str
    who: str
    when: str

    def text(self) -> str:
        """``02-newstack +3 (Prof. P, 2026-12-02): partial credit``."""
        what = "late penalty" if self.item == LATE else self.item
        change = (f"set to {_num(self.points)}" if self.points is not None
                  else f"{'+' if (self.delta or 0) >= 0 else ''}{_num(self.delta or 0)}")
        by = ", ".join(x for x in (self.who, self.when) if x)
        return f"{what} {change} ({by}): {self.comment}"


def read_overrides(path: Path, exercises: list[catalog.Exercise],
                   students: set[str]) -> list[Override]:
    """The overrides file's rows, checked: every row names a student of the class, an
    exercise graded in this run (or ``late``), exactly one of points and delta, and why."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BookError(f"cannot read the overrides file {printable(str(path))}: {e}") \
            from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in ("student", "exercise", "comment", "who") if c not in fields]
    if missing or not ({"points", "delta"} & set(fields)):
        raise BookError(f"the overrides file {printable(str(path))} needs the columns "
                        f"{', '.join(OVERRIDE_COLUMNS)} (points or delta may be left out); "
                        f"it has: {', '.join(map(printable, fields)) or 'none'}")
    ids = {e.id for e in exercises}
    out: list[Override] = []
    try:
        rows = [(reader.line_num, raw) for raw in reader]
    except csv.Error as e:
        raise BookError(f"{printable(str(path))}, line {reader.line_num}: not CSV ({e})") \
            from None
    for n, raw in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
               if isinstance(v, str)}
        if not any(row.values()) or row.get("student", "").startswith("#"):
            continue
        where = f"{printable(str(path))}, line {n}"
        sid = row.get("student", "")
        if sid not in students:
            near = ", ".join(printable(s) for s in sorted(students)[:5])
            raise BookError(f"{where}: no student {printable(sid)!r} in this class (ids look "
                            f"like {near})")
        key = row.get("exercise", "")
        if key.lower() == LATE:
            item = LATE
        else:
            try:
                item = catalog.find(key).id
            except KeyError:
                item = ""
            if item not in ids:
                raise BookError(f"{where}: exercise {printable(key)!r} is not graded in this "
                                f"run (one of {', '.join(sorted(ids))}, or {LATE!r} for the "
                                "late penalty)")
        values = {}
        for col in ("points", "delta"):
            if row.get(col):
                try:
                    values[col] = float(row[col])
                except ValueError:
                    raise BookError(f"{where}: {col} {printable(row[col])!r} is not a "
                                    "number") from None
                if not math.isfinite(values[col]):
                    raise BookError(f"{where}: {col} must be a finite number")
        if len(values) != 1:
            raise BookError(f"{where}: give exactly one of points (set to) and delta (add)")
        if not row.get("comment") or not row.get("who"):
            raise BookError(f"{where}: say why (comment) and who decided (who): students "
                            "read the comment in their feedback")
        top = None if item == LATE else catalog.BY_ID[item].max_points
        pts = values.get("points")
        if pts is not None and (pts < 0 or (top is not None and pts > top)):
            raise BookError(f"{where}: points {pts:g} is outside 0.."
                            + (f"{top:g} (the exercise's maximum)" if top is not None
                               else "the points the late penalty can take"))
        out.append(Override(n, sid, item, pts, values.get("delta"), row["comment"],
                            row["who"], row.get("when", "")))
    return out


# ---------------------------------------------------------------------------
# Late policy
# ---------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)(\.\d+)?\s*"
                    r"(Z|UTC|[+-]\d\d:?\d\d)?$")


def parse_time(text: str) -> datetime:
    """A time as ISO 8601 (``2026-12-01T23:59``, ``2026-12-01 23:59:00 -05:00``) or as
    Gradescope writes it (``2026-11-30 23:59:00.000000000 +00:00``). Without a zone: UTC."""
    m = _STAMP.match(text.strip())
    if not m:
        raise ValueError(f"not a date and time: {text!r} (write 2026-12-01T23:59+01:00)")
    day, clock, _frac, zone = m.groups()
    if clock.count(":") == 1:
        clock += ":00"
    stamp = datetime.fromisoformat(f"{day}T{clock}")
    if zone in (None, "Z", "UTC"):
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        hh, mm = int(zone[1:3]), int(zone[-2:])
        tz = timezone(sign * timedelta(hours=hh, minutes=mm))
    return stamp.replace(tzinfo=tz)


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h``, ``1d``; a bare number is minutes."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (write 15m, 2h or 1d)")
    unit = {"s": "seconds", "m": "minutes", "": "minutes", "h": "hours", "d": "days"}[m[2]]
    return timedelta(**{unit: float(m[1])})


@dataclass(frozen=True)
class LatePolicy:
    due: datetime
    grace: timedelta
    per_day: float  # percent of the points, per started day late
    cap: float  # percent, at most

    def describe(self) -> str:
        grace = f" + {self.grace} grace" if self.grace else ""
        return (f"due {self.due.isoformat()}{grace}; -{self.per_day:g}% per started day late, "
                f"at most -{self.cap:g}%")

    def days_late(self, submitted: datetime) -> int:
        over = submitted - (self.due + self.grace)
        return max(0, math.ceil(over / timedelta(days=1))) if over > timedelta(0) else 0

    def percent(self, days: int) -> float:
        return min(self.cap, days * self.per_day)


def late_policy(due: str | None, grace: str | None, per_day: float | None,
                cap: float | None) -> LatePolicy | None:
    if due is None:
        if grace is not None or per_day is not None or cap is not None:
            raise BookError("--grace, --late-penalty and --late-cap need --due")
        return None
    if per_day is None:
        raise BookError("--due needs --late-penalty PCT (percent of the points per started "
                        "day late; 0 reports lateness without a penalty)")
    try:
        when = parse_time(due)
        extra = parse_duration(grace) if grace else timedelta(0)
    except ValueError as e:
        raise BookError(f"--due/--grace: {e}") from None
    cap = 100.0 if cap is None else cap
    if not (0 <= per_day <= 100) or not (0 <= cap <= 100):
        raise BookError("--late-penalty and --late-cap are percentages: 0..100")
    return LatePolicy(when, extra, per_day, cap)


@dataclass(frozen=True)
class Late:
    """How late one submission was, and on what evidence."""

    days: int
    percent: float
    basis: str  # the evidence, for the feedback


def lateness(meta, policy: LatePolicy) -> Late | None:
    """None when the download says nothing about when this student submitted."""
    layout = getattr(meta, "layout", None)
    when = getattr(meta, "submitted_at", None)
    if when:
        try:
            t = parse_time(when)
        except ValueError:
            return None
        days = policy.days_late(t)
        return Late(days, policy.percent(days), f"submitted {t.isoformat()}")
    if layout == "canvas":
        if getattr(meta, "late", False):
            return Late(1, policy.percent(1), "Canvas marks the submission late (_LATE in "
                        "its file names) and its download has no time: charged 1 day")
        return Late(0, 0.0, "Canvas does not mark the submission late")
    return None


# ---------------------------------------------------------------------------
# Final scores
# ---------------------------------------------------------------------------


@dataclass
class Final:
    student: str
    graded: dict[str, float]  # what the autograder gave, per exercise
    exercises: dict[str, float]  # after overrides
    penalty: float = 0.0  # points taken by the late policy (after a 'late' override)
    late: Late | None = None
    applied: list[str] = field(default_factory=list)  # overrides' texts, in order
    notes: list[str] = field(default_factory=list)  # for the feedback
    submission: str | None = None  # the submission's digest (None: no submission)

    @property
    def total(self) -> float:
        return round(max(0.0, sum(self.exercises.values()) - self.penalty), 2)


def finals(graded: dict[str, dict[str, float]], exercises: list[catalog.Exercise],
           overrides: list[Override], policy: LatePolicy | None, metas: dict,
           digests: dict[str, str | None]) -> dict[str, Final]:
    """Each student's final scores: graded, then overrides in file order, then the late
    policy on what the overrides left."""
    out: dict[str, Final] = {}
    by_student: dict[str, list[Override]] = {}
    for o in overrides:
        by_student.setdefault(o.student, []).append(o)
    for sid, per in graded.items():
        f = Final(sid, {e.id: float(per.get(e.id, 0.0)) for e in exercises},
                  {e.id: float(per.get(e.id, 0.0)) for e in exercises},
                  submission=digests.get(sid))
        late_set: list[Override] = []
        for o in by_student.get(sid, []):
            if o.item == LATE:
                late_set.append(o)
                continue
            top = catalog.BY_ID[o.item].max_points
            before = f.exercises[o.item]
            after = o.points if o.points is not None else before + (o.delta or 0.0)
            kept = min(top, max(0.0, after))
            f.exercises[o.item] = round(kept, 3)
            f.applied.append(o.text())
            note = (f"{o.item}: {_num(before)} -> {_num(kept)} points, by override: "
                    f"{o.text()}")
            if kept != after:
                note += f"; kept within 0..{top:g}"
            f.notes.append(note)
        if policy is not None and sid in metas:
            f.late = lateness(metas.get(sid), policy)
            if f.late is not None and f.late.days:
                base = sum(f.exercises.values())
                f.penalty = round(base * f.late.percent / 100, 2)
                f.notes.append(f"late: {f.late.days} day{'s' if f.late.days != 1 else ''} "
                               f"after the due date and grace ({f.late.basis}): "
                               f"-{f.late.percent:g}% of {_num(base)} = -{_num(f.penalty)} "
                               f"points ({policy.describe()})")
            elif f.late is not None:
                f.notes.append(f"on time ({f.late.basis}; {policy.describe()})")
            else:
                f.notes.append("no late penalty: the download says nothing about when this "
                               "was submitted")
        for o in late_set:
            before = f.penalty
            after = o.points if o.points is not None else before + (o.delta or 0.0)
            f.penalty = round(max(0.0, after), 2)
            f.applied.append(o.text())
            f.notes.append(f"late penalty: {_num(before)} -> {_num(f.penalty)} points, by "
                           f"override: {o.text()}")
        out[sid] = f
    return out


def feedback_section(f: Final) -> str:
    """What the student reads under their graded feedback: every adjustment, and the
    final total. Empty when nothing was adjusted."""
    if not f.notes:
        return ""
    lines = ["", "## After grading: overrides and the late policy", ""]
    lines += [f"- {printable(n)}" for n in f.notes]
    graded = sum(f.graded.values())
    lines += ["", f"Graded {_num(graded)} points; final total: **{_num(f.total)}** points.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# State between runs, the regrade log, hand edits
# ---------------------------------------------------------------------------


def sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def read_state(out: Path) -> dict:
    try:
        data = json.loads((out / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_hand_edits(out: Path, discard: bool) -> str | None:
    """Refuse (BookError) when gradebook.csv differs from what the grader last wrote; with
    ``discard``, back it up and return a loud warning instead."""
    path = out / GRADEBOOK
    state = read_state(out)
    now = sha256(path)
    if now is None or not state.get("gradebook_sha256"):
        return None  # no gradebook yet, or one written before the grader kept a state
    accepted = {state.get("gradebook_sha256")}
    if state.get("pending"):  # the last run stopped between its state and its gradebook
        accepted.add(state.get("previous_gradebook_sha256"))
    if now in accepted:
        return None
    changed = _edited_cells(path, state)
    what = ("; ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5
                                     else "")) if changed else \
        "no score differs; other cells or the formatting do"
    if not discard:
        raise BookError(
            f"{printable(str(path))} was changed since gostack grade wrote it ({what}). This "
            "run would overwrite it: put score changes in an overrides file (--overrides "
            "FILE.csv with columns student,exercise,points,delta,comment,who,when), which "
            "every run applies and the feedback shows; then pass --discard-gradebook-edits "
            "(the edited file is kept as a backup) or move the file away")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{GRADEBOOK}.edited-{stamp}")
    shutil.copy2(path, backup)
    return (f"WARNING: {printable(str(path))} was edited by hand ({what}); the edits are "
            f"NOT applied and the file is rewritten; the edited file is kept as "
            f"{printable(str(backup))}. Put score changes in --overrides FILE.csv")


def _edited_cells(path: Path, state: dict) -> list[str]:
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    last = state.get("students", {})
    changed = []
    for row in rows:
        sid = (row.get("student") or "").lstrip("'")
        old = last.get(sid)
        if old is None:
            continue
        values = {**old.get("exercises", {}), "late_penalty": old.get("penalty", 0),
                  "total": old.get("total", 0)}
        for col, want in values.items():
            got = row.get(col)
            try:
                same = got is not None and float(got) == float(want)
            except ValueError:
                same = False
            if not same:
                changed.append(f"{printable(sid)}, {col}: {_num(float(want))} -> "
                               f"{printable(got or '')}")
    return changed


def _record(f: Final) -> dict:
    return {"submission": f.submission, "graded": f.graded, "exercises": f.exercises,
            "overrides": f.applied, "late": None if f.late is None else
            {"days": f.late.days, "percent": f.late.percent, "basis": f.late.basis},
            "penalty": f.penalty, "total": f.total}


def changes(old: dict | None, new: dict, policy: str | None, old_policy: str | None,
            exercises: list[str]) -> list[dict]:
    """What changed for one student between two runs' records, and why."""
    if old is None:
        items = [{"item": e, "old": None, "new": new["exercises"][e],
                  "why": ["first graded" if new["submission"] else "no submission"]}
                 for e in exercises]
        if new["penalty"]:
            items.append({"item": "late penalty", "old": None, "new": new["penalty"],
                          "why": [f"late policy: {new['late']['basis']}" if new["late"]
                                  else "override"]})
        return items
    out = []
    new_ovr = [o for o in new["overrides"] if o not in old.get("overrides", [])]
    gone_ovr = [o for o in old.get("overrides", []) if o not in new["overrides"]]
    for e in exercises:
        before, after = old.get("exercises", {}).get(e), new["exercises"][e]
        if before == after:
            continue
        why = []
        if e not in old.get("exercises", {}):
            why.append("exercise added to the run")
        elif old.get("graded", {}).get(e) != new["graded"][e]:
            why.append("new submission" if old.get("submission") != new["submission"]
                       else "regraded (same submission: --force, another grader version or "
                            "secret)")
        why += [f"override: {o}" for o in new_ovr if o.startswith(f"{e} ")]
        why += [f"override removed: {o}" for o in gone_ovr if o.startswith(f"{e} ")]
        out.append({"item": e, "old": before, "new": after, "why": why or ["recomputed"]})
    before, after = old.get("penalty", 0.0), new["penalty"]
    if before != after:
        why = [f"override: {o}" for o in new_ovr if o.startswith("late penalty")]
        why += [f"override removed: {o}" for o in gone_ovr if o.startswith("late penalty")]
        if policy != old_policy:
            why.append(f"late policy: {policy or 'none'} (was {old_policy or 'none'})")
        if old.get("late") != new["late"] and new["late"]:
            why.append(f"late policy: {new['late']['basis']}")
        if sum(old.get("exercises", {}).values()) != sum(new["exercises"].values()):
            why.append("the points the late penalty is a percentage of changed")
        out.append({"item": "late penalty", "old": before, "new": after,
                    "why": why or ["recomputed"]})
    return out


def record_run(out: Path, book: dict[str, Final], exercises: list[str],
               policy: LatePolicy | None, gradebook_text: str) -> int:
    """Append this run's changes to the regrade log, then save the state and the
    gradebook. Returns how many students' scores changed."""
    state = read_state(out)
    old_students = state.get("students", {})
    old_policy = state.get("policy")
    desc = policy.describe() if policy else None
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_id = hashlib.sha256(f"{now}{os.getpid()}".encode()).hexdigest()[:12]
    lines, records = [], {}
    for sid, f in sorted(book.items()):
        rec = records[sid] = _record(f)
        diff = changes(old_students.get(sid), rec, desc, old_policy, exercises)
        if diff:
            old_total = old_students.get(sid, {}).get("total")
            lines.append(json.dumps({"time": now, "run": run_id, "student": sid,
                                     "total": [old_total, rec["total"]], "changes": diff},
                                    ensure_ascii=False))
    for sid in sorted(set(old_students) - set(book)):
        lines.append(json.dumps({"time": now, "run": run_id, "student": sid,
                                 "total": [old_students[sid].get("total"), None],
                                 "changes": [{"item": "all", "old": None, "new": None,
                                              "why": ["not in this run's class (no "
                                                      "submission, not in the roster)"]}]},
                                ensure_ascii=False))
    if lines:  # append-only: opened for appending, never rewritten
        with open(out / LOG, "a", encoding="utf-8") as log:
            log.write("\n".join(lines) + "\n")
            log.flush()
            os.fsync(log.fileno())
    new_hash = hashlib.sha256(gradebook_text.encode("utf-8", "backslashreplace")).hexdigest()
    state = {"gradebook_sha256": new_hash, "policy": desc, "exercises": exercises,
             "students": records}
    # The state names the new gradebook before it is written; until it is (a crash in
    # between), the file on disk, our own previous one, is no hand edit either.
    write_atomic(out / STATE, json.dumps({**state, "pending": True,
                                          "previous_gradebook_sha256": sha256(out / GRADEBOOK)},
                                         indent=1))
    write_atomic(out / GRADEBOOK, gradebook_text)
    write_atomic(out / STATE, json.dumps(state, indent=1))
    return len(lines)


# ---------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------


@dataclass
class Person:
    """What an export knows about one student."""

    id: str
    name: str = ""
    email: str = ""
    roster: dict[str, str] = field(default_factory=dict)  # the roster row's columns
    canvas_id: str = ""  # Canvas's user id
    submitted: bool = True


def _writer(buf: io.StringIO):
    return csv.writer(buf, lineterminator="\r\n")


def _cell(value: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def canvas_csv(people: list[Person], book: dict[str, Final], name: str,
               max_points: float) -> tuple[str, list[str]]:
    """Canvas's gradebook import; the second value lists students left out (no Canvas id)."""
    buf = io.StringIO()
    w = _writer(buf)
    w.writerow([*CANVAS_IDENTITY, name])
    w.writerow(["    Points Possible", "", "", "", "", _num(max_points)])
    left = []
    for p in people:
        cid = p.roster.get("ID") or p.canvas_id
        if not cid:
            left.append(p.id)
            continue
        w.writerow([_cell(p.roster.get("Student") or p.name), cid,
                    _cell(p.roster.get("SIS User ID", "")),
                    _cell(p.roster.get("SIS Login ID", "")),
                    _cell(p.roster.get("Section", "")), _num(book[p.id].total)])
    return buf.getvalue(), left


def moodle_csv(people: list[Person], book: dict[str, Final], name: str,
               exercises: list[str]) -> tuple[str, list[str]]:
    """Moodle's CSV grade import: identity columns, the grade, its feedback."""
    has_id_number = any(p.roster.get("ID number") for p in people)
    head = ["Email address"] + (["ID number"] if has_id_number else []) + \
        ["Full name", name, f"Feedback: {name}"]
    buf = io.StringIO()
    w = _writer(buf)
    w.writerow(head)
    left = []
    for p in people:
        email = p.roster.get("Email address") or p.email
        if not email and not (has_id_number and p.roster.get("ID number")):
            left.append(p.id)
            continue
        f = book[p.id]
        parts = [f"{e} {_num(f.exercises[e])}" for e in exercises]
        feedback = "; ".join(parts) + "".join(f". {n}" for n in f.notes) + \
            ("" if p.submitted else ". No submission")
        row = [_cell(email)] + ([_cell(p.roster.get("ID number", ""))] if has_id_number
                                else [])
        w.writerow(row + [_cell(p.name), _num(f.total), _cell(printable(feedback))])
    return buf.getvalue(), left


def plain_csv(people: list[Person], book: dict[str, Final], exercises: list[str],
              max_points: float) -> str:
    buf = io.StringIO()
    w = _writer(buf)
    w.writerow(["student", "email", "name", *exercises, "late_penalty", "total", "max"])
    for p in people:
        f = book[p.id]
        w.writerow([_cell(p.id), _cell(p.email), _cell(p.name),
                    *(_num(f.exercises[e]) for e in exercises), _num(f.penalty),
                    _num(f.total), _num(max_points)])
    return buf.getvalue()


def write_exports(out: Path, kinds: list[str], people: list[Person], book: dict[str, Final],
                  exercises: list[str], max_points: float, name: str) -> list[str]:
    """Write each export; lines for the summary (where, and who was left out)."""
    said = []
    for kind in kinds:
        path = out / EXPORT_FILES[kind]
        left: list[str] = []
        if kind == "canvas":
            text, left = canvas_csv(people, book, name, max_points)
        elif kind == "moodle":
            text, left = moodle_csv(people, book, name, exercises)
        else:
            text = plain_csv(people, book, exercises, max_points)
        write_atomic(path, text)
        line = f"export {kind}: {path.name} ({len(people) - len(left)} students)"
        if left:
            why = {"canvas": "no Canvas user id: grade a Canvas download or pass a Canvas "
                             "gradebook export as --roster",
                   "moodle": "no e-mail or ID number: pass Moodle's grades export as "
                             "--roster"}[kind]
            line += (f"; left out {len(left)} ({why}): "
                     f"{', '.join(map(printable, left[:5]))}")
        said.append(line)
    return said


def check_exports(kinds: list[str], layout: str, roster_kind: str | None) -> None:
    """Refuse, before grading, an export this class cannot fill."""
    if "canvas" in kinds and layout != "canvas" and roster_kind != "canvas":
        raise BookError("--export canvas needs Canvas's user ids: grade a Canvas download, or "
                        "pass the Canvas gradebook export (Grades > Export) as --roster")
    if "moodle" in kinds and roster_kind not in ("moodle", "moodle worksheet") and \
            layout != "gradescope":
        raise BookError("--export moodle needs each student's e-mail or ID number: pass "
                        "Moodle's grades export (Grades > Export > Plain text file) as "
                        "--roster")
