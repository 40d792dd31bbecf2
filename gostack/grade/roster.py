"""The class list: a plain CSV, or a learning platform's gradebook export read as it is.

* **Canvas** gradebook export (Grades > Export): columns ``Student, ID, SIS User ID,
  SIS Login ID, Section`` then one per assignment, and a second row ``Points Possible`` (newer
  exports add rows such as ``Manual Posting``; any row without an ``ID`` is skipped). ``ID``
  is Canvas's user id, the number in a Canvas download's file names. Canvas's "Test Student"
  row (Student View) is left out.
* **Moodle** grades export (Grades > Export > Plain text file): ``First name, Last name,
  ID number, Institution, Department, Email address`` then the grades. It has no participant
  id (a Moodle download's folders carry one), so a Moodle download matches it by full name.
  Moodle's *grading worksheet* (``Identifier, Full name, Email address, ...``) carries the
  participant id as "Participant 1234" and matches by it.
* **Any other CSV**: the id column is the first of :data:`ID_COLUMNS` it has.

``--roster-id-column``, ``--roster-name-column`` (several, comma-separated: "First
name,Last name") and ``--roster-email-column`` name the columns when the guess is wrong.
Only identity columns of an LMS export go to the gradebook (not its assignment columns);
every column of a plain CSV but its id does.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from .notebook import printable

ID_COLUMNS = ("id", "student_id", "sid", "student", "login", "username", "email")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID",
                   "Section")
MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Institution", "Department",
                   "Email address", "Identifier", "Full name")


class RosterError(Exception):
    """The roster cannot be read or used; the message says why."""


@dataclass
class Roster:
    kind: str  # "canvas", "moodle", "moodle worksheet" or "csv"
    id_column: str
    name_columns: tuple[str, ...]
    email_column: str | None
    rows: dict[str, dict[str, str]]  # id -> the row's columns for the gradebook
    columns: list[str]  # the columns copied to the gradebook, in order
    names: dict[str, str] = field(default_factory=dict)  # id -> full name as written
    emails: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        how = f"ids from column {self.id_column!r}"
        if self.name_columns:
            how += f", names from {' + '.join(map(repr, self.name_columns))}"
        return f"a {self.kind} roster ({len(self.rows)} students; {how})"


def _col(fields: list[str], wanted: str) -> str | None:
    lower = {f.strip().lower(): f for f in fields}
    return lower.get(wanted.strip().lower())


def _need(fields: list[str], wanted: str, option: str, path: Path) -> str:
    found = _col(fields, wanted)
    if found is None:
        raise RosterError(f"the roster {printable(str(path))} has no column {wanted!r} "
                          f"({option}); its columns: {', '.join(map(printable, fields[:12]))}")
    return found


def read(path: Path, id_column: str | None = None, name_columns: str | None = None,
         email_column: str | None = None) -> Roster:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise RosterError(f"cannot read the roster {printable(str(path))}: {e}") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f for f in (reader.fieldnames or []) if f is not None]
    has = {f.strip().lower() for f in fields}
    if {"student", "id"} <= has and ({"sis user id", "sis login id"} & has):
        kind, identity = "canvas", CANVAS_IDENTITY
        guess_id, guess_names, guess_email = "ID", ("Student",), None
    elif {"first name", "last name"} <= has and "email address" in has:
        kind, identity = "moodle", MOODLE_IDENTITY
        guess_id, guess_names, guess_email = "Email address", ("First name", "Last name"), \
            "Email address"
    elif {"identifier", "full name"} <= has:
        kind, identity = "moodle worksheet", MOODLE_IDENTITY
        guess_id, guess_names, guess_email = "Identifier", ("Full name",), \
            "Email address" if "email address" in has else None
    else:
        kind, identity = "csv", None
        guess_id = next((c for c in ID_COLUMNS if c in has), None)
        guess_names = tuple(c for c in ("name", "full name") if c in has)[:1]
        guess_email = next((c for c in ("email", "e-mail", "email address") if c in has),
                           None)
    if id_column:
        key = _need(fields, id_column, "--roster-id-column", path)
    elif guess_id is None:
        raise RosterError(f"the roster {printable(str(path))} needs a column named one of "
                          f"{', '.join(ID_COLUMNS)} (or pass --roster-id-column)")
    else:
        key = _need(fields, guess_id, "--roster-id-column", path)
    if name_columns:
        names = tuple(_need(fields, c, "--roster-name-column", path)
                      for c in name_columns.split(",") if c.strip())
    else:
        names = tuple(c for c in (_col(fields, n) for n in guess_names) if c)
    email = (_need(fields, email_column, "--roster-email-column", path) if email_column
             else (_col(fields, guess_email) if guess_email else None))
    # A plain CSV's columns but the id; an LMS export's identity columns, the id included
    # (a Moodle download's student id is a participant id, not the roster's).
    columns = [f for f in fields if f != key] if identity is None else \
        [f for f in fields if f in identity]
    roster = Roster(kind, key, names, email, {}, columns)
    for row in reader:
        sid = printable((row.get(key) or "").strip())  # the same form as a folder's id
        first = (row.get(fields[0]) or "").strip() if fields else ""
        if kind == "canvas" and not sid:
            continue  # "Points Possible", "Manual Posting" and the like
        if kind == "canvas" and first.lower() == "student, test":
            roster.notes.append(f"left out Canvas's Test Student (id {sid})")
            continue
        if kind == "moodle worksheet":
            sid = re.sub(r"^\D+\s*", "", sid) or sid  # "Participant 1234" -> "1234"
        if not sid:
            continue
        if sid in roster.rows:
            raise RosterError(f"the roster {printable(str(path))} lists the id {sid!r} twice")
        roster.rows[sid] = {k: (row.get(k) or "") for k in columns}
        full = " ".join((row.get(c) or "").strip() for c in names).strip()
        if full:
            roster.names[sid] = full
        if email and (row.get(email) or "").strip():
            roster.emails[sid] = (row.get(email) or "").strip()
    return roster


def _name_key(name: str) -> str:
    """A name compared loosely: letters and digits only, lower case, in sorted words, so
    "Smith, Jane", "Jane Smith" and Canvas's "smithjane" file-name form meet."""
    words = re.findall(r"\w+", name.lower())
    return "".join(sorted(words))


@dataclass
class Match:
    """Which roster entry each submission is (student id -> roster id)."""

    to_roster: dict[str, str]
    unmatched: list[str]  # submissions in no roster entry
    without: list[str]  # roster ids with no submission
    how: str  # one line: what matched on what

    def warning(self) -> str | None:
        parts = []
        if self.unmatched:
            n = len(self.unmatched)
            parts.append(f"{n} {'submission matches' if n == 1 else 'submissions match'} no "
                         f"roster entry ({', '.join(map(printable, self.unmatched[:5]))}"
                         + (", ..." if n > 5 else "") + ")")
        if self.without:
            n = len(self.without)
            parts.append(f"{n} roster {'entry has' if n == 1 else 'entries have'} no "
                         f"submission ({', '.join(map(printable, self.without[:5]))}"
                         + (", ..." if n > 5 else "") + ")")
        return "; ".join(parts) or None


def match(roster: Roster, students: list) -> Match:
    """Each submission's roster entry: by id (the student id, or the platform's id, e-mail
    or, for a Moodle grading worksheet, participant id), else by e-mail, else by full name
    when exactly one entry has it. ``students`` are grader.Student objects (a layout's
    Submission carries ``meta``)."""
    by_email = {}
    for rid, e in roster.emails.items():
        by_email.setdefault(e.lower(), []).append(rid)
    by_name: dict[str, list[str]] = {}
    for rid, n in roster.names.items():
        by_name.setdefault(_name_key(n), []).append(rid)
    # Canvas file names carry "lastnamefirstname": one word, so compare without spaces too.
    by_joined: dict[str, list[str]] = {}
    for rid, n in roster.names.items():
        by_joined.setdefault("".join(re.findall(r"\w+", n.lower())), []).append(rid)
    lower_ids = {}
    for rid in roster.rows:
        lower_ids.setdefault(rid.lower(), []).append(rid)
    to_roster: dict[str, str] = {}
    used: dict[str, str] = {}
    counts = {"id": 0, "e-mail": 0, "name": 0}
    for s in students:
        meta = getattr(s, "meta", None)
        found, how = None, None
        for cand in (s.id, getattr(meta, "lms_id", None), getattr(meta, "email", None)):
            if cand and cand in roster.rows:
                found, how = cand, "id"
                break
            if cand and len(lower_ids.get(cand.lower(), [])) == 1:
                found, how = lower_ids[cand.lower()][0], "id"
                break
        email = getattr(meta, "email", None) or (s.id if "@" in s.id else None)
        if found is None and email and len(by_email.get(email.lower(), [])) == 1:
            found, how = by_email[email.lower()][0], "e-mail"
        name = getattr(meta, "name", None)
        if found is None and name:
            hits = by_name.get(_name_key(name)) or by_joined.get(
                "".join(re.findall(r"\w+", name.lower())))
            if hits and len(hits) == 1:
                found, how = hits[0], "name"
        if found is not None and found not in used:
            to_roster[s.id] = found
            used[found] = s.id
            counts[how] += 1
    unmatched = sorted(s.id for s in students if s.id not in to_roster)
    without = sorted(rid for rid in roster.rows if rid not in used)
    how = ", ".join(f"{n} by {k}" for k, n in counts.items() if n) or "none"
    return Match(to_roster, unmatched, without,
                 f"roster: {roster.describe()}; matched {len(to_roster)} of {len(students)} "
                 f"submissions ({how})")
