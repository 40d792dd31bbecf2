"""Where submissions come from: a folder per student, or a learning platform's download.

``gostack grade SUBS --layout auto|folders|canvas|moodle|gradescope`` (default ``auto``).
Each layout turns what is on disk into :class:`Submission` objects (one per student) whose
``notebook_for(exercise)`` is the one file graded for that exercise. The conventions below
are the platforms' documented "download all submissions" forms, written from their
documentation and Moodle's source (``mod/assign``'s ``download_submissions``), not from
guesses; each parser says which form it reads:

* **folders**: one sub-folder of notebooks per student, or one notebook per student; the
  folder's or file's name is the student id (what ``gostack grade`` always read).
* **canvas**: Canvas's "Download Submissions" zip, unzipped: one flat folder of files named
  ``<lastnamefirstname>_<user_id>_<submission_id>_<original name>``, with ``_LATE`` after
  the name for a late submission. Canvas renames a file uploaded again under the same name
  with ``-1``, ``-2``... before the extension. The student id is Canvas's user id, the
  ``ID`` column of a Canvas gradebook export.
* **moodle**: Moodle's assignment "Download all submissions", unzipped: one folder per
  submission named ``<Full Name>_<participant id>_assignsubmission_file_`` (older Moodles:
  flat files with that prefix before the original name). The participant id is per
  assignment (``get_uniqueid_for_user``), not the user id: a Moodle *grading worksheet*
  carries it (``Identifier``: "Participant 1234"), a grades export does not, so rosters
  from a grades export match by full name.
* **gradescope**: Gradescope's "Export Submissions", unzipped: ``submission_metadata.yml``
  beside one ``submission_<id>/`` folder per submission; the yml maps each folder to its
  submitters (``:name:``, ``:sid:``, ``:email:``) and ``:created_at:``. The student id is
  chosen as in the Gradescope autograder (e-mail, then sid, then name), so a local regrade
  uses the same id as the bundle did.

**Several notebooks for one exercise** in one student's submission (``02-newstack.ipynb``
and ``02-newstack-Copy1.ipynb``, a Canvas re-upload ``02-newstack-1.ipynb``, a browser's
``02-newstack (1).ipynb``) are all reported, and one is graded by :data:`RULE`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import catalog
from .catalog import Exercise
from .grader import Student, student_id
from .notebook import SUFFIXES, SubmissionError, parse, printable, read_code_cells

LAYOUTS = ("auto", "folders", "canvas", "moodle", "gradescope")

RULE = ("when one submission holds several notebooks for an exercise, the graded one is: "
        "one whose functions are written over one still the unsolved template; then the "
        "newest upload (Canvas: the higher submission id, then the higher -N re-upload "
        "suffix); then the name the exercise asks for (02-newstack.ipynb) over a copy "
        "(-Copy1, ' (1)'); then the first by name. The others are listed in the summary "
        "and the student's feedback")

# Canvas: <name>[_LATE]_<user id>_<submission id>_<original name>
CANVAS = re.compile(r"^(?P<name>[^_]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                    re.IGNORECASE)
# Moodle: <Full Name>_<participant id>_assignsubmission_<plugin>_[<original name>]
MOODLE_DIR = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_"
                         r"(?P<file>.+)$")
GRADESCOPE_META = "submission_metadata.yml"

# Suffixes a copy of a notebook gets: Jupyter's "Make a Copy", a browser's second download.
_JUPYTER_COPY = re.compile(r"^(?P<stem>.+?)-Copy(?P<n>\d+)$", re.IGNORECASE)
_BROWSER_COPY = re.compile(r"^(?P<stem>.+?) \((?P<n>\d+)\)$")
_CANVAS_REUPLOAD = re.compile(r"^(?P<stem>.+?)-(?P<n>\d+)$")


class LayoutError(Exception):
    """The submissions cannot be read as the layout asked (or detected): the message says
    what was found and what to pass instead."""


@dataclass(frozen=True)
class Meta:
    """What the platform says about a submission (for rosters, and a late policy later)."""

    layout: str
    lms_id: str | None = None  # Canvas user id, Moodle participant id, Gradescope sid
    name: str | None = None  # as the platform wrote it (Canvas: lastnamefirstname)
    email: str | None = None
    submission: str | None = None  # Canvas submission id, Gradescope submission folder
    late: bool = False  # Canvas's _LATE marker
    submitted_at: str | None = None  # Gradescope's :created_at:, as written
    members: tuple[str, ...] = ()  # a Gradescope group's other submitters' ids


@dataclass(frozen=True)
class Upload:
    """One file of a submission, with the name the student gave it."""

    path: Path
    name: str  # the original file name (the platform's prefix removed)
    submission: int = 0  # Canvas submission id (a newer submission has a higher one)
    reupload: int = 0  # Canvas's -N re-upload suffix

    @property
    def copy(self) -> bool:
        stem = Path(self.name).stem
        return bool(_JUPYTER_COPY.match(stem) or _BROWSER_COPY.match(stem))


@dataclass(frozen=True)
class Duplicate:
    exercise: str
    graded: str
    others: tuple[str, ...]
    why: str

    def text(self) -> str:
        return (f"{self.exercise}: {len(self.others) + 1} notebooks; graded {self.graded} "
                f"({self.why}); not graded: {', '.join(self.others)}")


@dataclass
class Submission(Student):
    """A student as a layout found them: the graded file per exercise chosen up front."""

    meta: Meta | None = None
    uploads: list[Upload] = field(default_factory=list)
    chosen: dict[str, Path] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)

    def notebook_for(self, ex: Exercise) -> Path | None:
        if ex.id in self.chosen:
            return self.chosen[ex.id]
        named = [u for u in self.uploads if exercises_of(u.name)]
        if len(self.uploads) == 1 and not named:  # one notebook named after no exercise
            return self.uploads[0].path
        return None


@dataclass
class Found:
    """What :func:`load` found."""

    layout: str
    detected: str  # one line: what was detected, and from what
    students: list[Submission]
    ignored: list[str]

    @property
    def duplicates(self) -> list[tuple[str, Duplicate]]:
        return [(s.id, d) for s in self.students for d in s.duplicates]


def exercises_of(filename: str) -> list[Exercise]:
    """The exercises a file is named after: the one its number says (02-..., 02_...), else
    those whose slug is in its name (copystack-and-adjust.ipynb: 03 and 04)."""
    stem = filename.rsplit(".", 1)[0].lower()
    m = re.match(r"^(\d\d)(?:[-_ ]|$)", stem)
    if m:
        return [e for e in catalog.EXERCISES if e.id[:2] == m.group(1)]
    return [e for e in catalog.EXERCISES if e.id[3:] in stem]


def exercise_of(filename: str) -> Exercise | None:
    found = exercises_of(filename)
    return found[0] if len(found) == 1 else None


def exercises_named(students: list[Submission]) -> list[Exercise]:
    """The exercises some submitted file is named after, in catalogue order."""
    found = {e.id for s in students for u in s.uploads for e in exercises_of(u.name)}
    return [e for e in catalog.EXERCISES if e.id in found]


# ---------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------


def _skipped(name: str) -> str | None:
    """Why an entry is never a submission: hidden, or the folder macOS adds to a zip."""
    if name.startswith("."):
        return "a hidden file or folder"
    if name == "__MACOSX":
        return "macOS's zip metadata"
    return None


def _entries(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out += [c for c in sorted(p.iterdir()) if not _skipped(c.name)]
        else:
            out.append(p)
    return out


def _kind(entry: Path) -> str | None:
    """The platform an entry's name belongs to, if any."""
    name = entry.name
    if entry.is_dir():
        if MOODLE_DIR.match(name):
            return "moodle"
        if name == GRADESCOPE_META or (entry / GRADESCOPE_META).is_file():
            return "gradescope"
        return None
    if name == GRADESCOPE_META:
        return "gradescope"
    if MOODLE_FILE.match(name):
        return "moodle"
    if entry.suffix in SUFFIXES and CANVAS.match(name):
        return "canvas"
    return None


def detect(paths: list[Path]) -> tuple[str, str]:
    """The layout of ``paths`` and one line saying why; :class:`LayoutError` when they do
    not say it clearly."""
    for p in paths:
        if p.suffix.lower() == ".zip" and p.is_file():
            raise LayoutError(f"{printable(str(p))} is a zip: unzip it first (unzip "
                              f"{printable(p.name)} -d {printable(p.stem)}), then grade the "
                              "folder")
    if len(paths) == 1 and paths[0].is_dir():
        inner = [c for c in paths[0].iterdir() if (c / GRADESCOPE_META).is_file()]
        if len(inner) == 1 and len([c for c in paths[0].iterdir()
                                    if not _skipped(c.name)]) == 1:
            paths = inner
    if any((p / GRADESCOPE_META).is_file() for p in paths if p.is_dir()):
        if len(paths) > 1:
            raise LayoutError("a Gradescope export (submission_metadata.yml) is graded alone: "
                              "pass only its folder")
        where = printable(str(paths[0]))
        return "gradescope", f"a Gradescope export ({GRADESCOPE_META} in {where})"
    entries = [e for e in _entries(paths) if e.is_dir() or e.suffix in SUFFIXES]
    kinds = Counter(_kind(e) for e in entries)
    lms = {k: n for k, n in kinds.items() if k}
    plain = kinds.get(None, 0)
    if len(lms) > 1:
        found = ", ".join(f"{n} named like a {k.capitalize()} download" for k, n in sorted(
            lms.items()))
        raise LayoutError(f"cannot tell the layout: {found}; grade each download separately, "
                          "or pass --layout")
    if lms:
        (kind, n), = lms.items()
        if plain:
            examples = ", ".join(printable(e.name) for e in entries if _kind(e) is None)[:120]
            raise LayoutError(
                f"cannot tell the layout: {_are(n)} named like a {kind.capitalize()} "
                f"download and {plain} {'is' if plain == 1 else 'are'} not ({examples}): pass "
                f"--layout {kind} (the others are then ignored) or --layout folders")
        return kind, f"a {kind.capitalize()} download ({n} {_plural(n, kind)})"
    named = [e for e in entries if not e.is_dir() and exercise_of(e.name) is not None
             and Path(e.name).stem.lower() in {x.id for x in catalog.EXERCISES}]
    if named and len(named) == len([e for e in entries if not e.is_dir()]) and len(paths) == 1 \
            and paths[0].is_dir():
        raise LayoutError(
            f"{printable(str(paths[0]))} holds notebooks named after exercises "
            f"({', '.join(printable(e.name) for e in named[:3])}): is it one student's "
            "submission? Pass the folder that holds a folder per student, or --layout folders "
            "to grade each file as a student")
    dirs = sum(1 for e in entries if e.is_dir())
    files = len(entries) - dirs
    counts = [f"{n} {what}{'' if n == 1 else 's'}" for n, what in ((dirs, "folder"),
                                                                  (files, "notebook")) if n]
    return "folders", f"one student per folder or notebook ({', '.join(counts) or 'none'})"


def _are(n: int) -> str:
    return "1 entry is" if n == 1 else f"{n} entries are"


def _plural(n: int, kind: str) -> str:
    unit = {"canvas": "file", "moodle": "folder or file"}.get(kind, "entry")
    return unit if n == 1 else {"file": "files", "folder or file": "folders or files"}.get(
        unit, "entries")


# ---------------------------------------------------------------------------
# Reading each layout
# ---------------------------------------------------------------------------


def load(paths: list[Path], layout: str = "auto") -> Found:
    if layout not in LAYOUTS:
        raise LayoutError(f"unknown layout {layout!r} (one of {', '.join(LAYOUTS)})")
    if layout == "auto":
        layout, detected = detect(paths)
    else:
        detected = f"--layout {layout}"
    if layout == "gradescope" and len(paths) == 1 and not (paths[0] / GRADESCOPE_META).exists():
        inner = [c for c in paths[0].iterdir() if (c / GRADESCOPE_META).is_file()] \
            if paths[0].is_dir() else []
        if len(inner) == 1:  # the folder the zip was unpacked into
            paths = inner
    reader = {"folders": _folders, "canvas": _canvas, "moodle": _moodle,
              "gradescope": _gradescope}[layout]
    students, ignored = reader(paths)
    if layout != "folders":
        detected += f", {len(students)} {'student' if len(students) == 1 else 'students'}"
    if layout != "folders" and not students:
        raise LayoutError(f"no {layout.capitalize()} submission found in "
                          f"{', '.join(printable(str(p)) for p in paths)}: is this the "
                          "unzipped download? (see --layout)")
    for s in students:
        choose(s)
    return Found(layout, detected, students, ignored)


class _Ids:
    """Student ids, kept apart when two names escape to the same text."""

    def __init__(self) -> None:
        self.by_id: dict[str, Submission] = {}
        self.names: dict[str, str] = {}

    def get(self, name: str, meta: Meta | None = None) -> Submission:
        sid = student_id(name)
        n = 1
        while self.names.setdefault(sid, name) != name:
            n += 1
            sid = f"{student_id(name)} ({n})"
        return self.by_id.setdefault(sid, Submission(sid, meta=meta))

    def add(self, s: Submission, uploads: list[Upload]) -> None:
        for u in uploads:
            if u.path not in s.files:
                s.files.append(u.path)
                s.uploads.append(u)


def _notebooks(folder: Path, ignored: list[str]) -> list[Path]:
    files = []
    for f in sorted(folder.rglob("*")):
        if f.is_symlink():
            ignored.append(f"{printable(str(f))} (a symbolic link)")
        elif (f.is_file() and f.suffix in SUFFIXES and not f.name.startswith(".")
              and ".ipynb_checkpoints" not in f.parts):
            files.append(f)
    return files


def _folders(paths: list[Path]) -> tuple[list[Submission], list[str]]:
    """A notebook file is one student (its name is the id); a folder holds one student per
    notebook file or per sub-folder."""
    ids, ignored = _Ids(), []
    for path in paths:
        if path.is_file():
            ids.add(ids.get(path.stem, Meta("folders")), [Upload(path, path.name)])
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if _skipped(child.name):
                    ignored.append(f"{printable(str(child))} ({_skipped(child.name)})")
                elif child.is_symlink():  # a link could point at anyone's files
                    ignored.append(f"{printable(str(child))} (a symbolic link)")
                elif child.is_dir():
                    ids.add(ids.get(child.name, Meta("folders")),
                            [Upload(f, f.name) for f in _notebooks(child, ignored)])
                elif child.suffix in SUFFIXES:
                    ids.add(ids.get(child.stem, Meta("folders")), [Upload(child, child.name)])
                else:
                    ignored.append(printable(str(child)))
        else:
            ignored.append(f"{printable(str(path))} (not found)")
    return list(ids.by_id.values()), ignored


def _flat(paths: list[Path], ignored: list[str]) -> list[Path]:
    out = []
    for path in paths:
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if _skipped(child.name):
                    ignored.append(f"{printable(str(child))} ({_skipped(child.name)})")
                elif child.is_symlink():
                    ignored.append(f"{printable(str(child))} (a symbolic link)")
                else:
                    out.append(child)
        else:
            ignored.append(f"{printable(str(path))} (not found)")
    return out


def _canvas(paths: list[Path]) -> tuple[list[Submission], list[str]]:
    ids, ignored = _Ids(), []
    for f in _flat(paths, ignored):
        m = CANVAS.match(f.name) if f.is_file() else None
        if m is None or f.suffix not in SUFFIXES:
            why = "not a notebook" if m else "not named like a Canvas download"
            ignored.append(f"{printable(str(f))} ({why})")
            continue
        original = m["file"]
        stem, suffix = original.rsplit(".", 1) if "." in original else (original, "")
        reupload = 0
        r = _CANVAS_REUPLOAD.match(stem)
        if r and not _JUPYTER_COPY.match(stem):  # 02-newstack-1: the first re-upload
            stem, reupload = r["stem"], int(r["n"])
            original = f"{stem}.{suffix}" if suffix else stem
        s = ids.get(m["uid"], Meta("canvas", m["uid"], m["name"], submission=m["sub"],
                                   late=bool(m["late"])))
        if m["late"] and s.meta is not None and not s.meta.late:
            s.meta = Meta("canvas", m["uid"], m["name"], submission=m["sub"], late=True)
        ids.add(s, [Upload(f, original, int(m["sub"]), reupload)])
    return list(ids.by_id.values()), ignored


def _moodle(paths: list[Path]) -> tuple[list[Submission], list[str]]:
    ids, ignored = _Ids(), []
    for entry in _flat(paths, ignored):
        if entry.is_dir():
            m = MOODLE_DIR.match(entry.name)
            if m is None:
                ignored.append(f"{printable(str(entry))} (not named like a Moodle download)")
                continue
            files = _notebooks(entry, ignored)
            uploads = [Upload(f, f.name) for f in files]
            skipped = [f for f in entry.rglob("*") if f.is_file() and f not in files
                       and not f.is_symlink()]
        else:
            m = MOODLE_FILE.match(entry.name)
            if m is None:
                ignored.append(f"{printable(str(entry))} (not named like a Moodle download)")
                continue
            ok = entry.suffix in SUFFIXES
            uploads = [Upload(entry, m["file"])] if ok else []
            skipped = [] if ok else [entry]
        ignored += [f"{printable(str(f))} (not a notebook)" for f in skipped]
        if m["plugin"] != "file" and not uploads:  # online text, comments: nothing to grade
            continue
        s = ids.get(m["pid"], Meta("moodle", m["pid"], m["name"]))
        ids.add(s, uploads)
    return list(ids.by_id.values()), ignored


def read_gradescope_metadata(path: Path) -> dict[str, dict]:
    """``submission_metadata.yml`` (Gradescope's export; Ruby symbols as keys) read without
    a YAML library: submission folder -> {"submitters": [{name, sid, email}], "created_at"}.
    Only what the grader needs is read; other keys are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LayoutError(f"cannot read {printable(str(path))}: {e}") from None
    subs: dict[str, dict] = {}
    current: dict | None = None
    in_submitters = False
    person: dict | None = None
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        if indent == 0:
            key = line.rstrip(":").strip("'\"")
            current = subs.setdefault(key, {"submitters": []}) if line.endswith(":") else None
            in_submitters, person = False, None
            continue
        if current is None:
            continue
        if indent <= 2 and not line.startswith("-"):
            key, _, value = line.partition(": ")
            key = key.rstrip(":").lstrip(":")
            in_submitters, person = key == "submitters", None
            if value:
                current[key] = _scalar(value)
            continue
        if in_submitters:
            if line.startswith("- "):
                person = {}
                current["submitters"].append(person)
                line = line[2:].strip()
            if person is not None and line.startswith(":"):
                key, _, value = line[1:].partition(": ")
                person[key.rstrip(":")] = _scalar(value)
    return subs


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def _gradescope(paths: list[Path]) -> tuple[list[Submission], list[str]]:
    if len(paths) != 1 or not (paths[0] / GRADESCOPE_META).is_file():
        raise LayoutError(f"--layout gradescope needs the unzipped export: one folder with "
                          f"{GRADESCOPE_META} in it")
    root = paths[0]
    meta = read_gradescope_metadata(root / GRADESCOPE_META)
    ids, ignored = _Ids(), []
    for child in sorted(root.iterdir()):
        if child.name == GRADESCOPE_META or child.name.startswith("."):
            continue
        if child.is_symlink() or not child.is_dir():
            ignored.append(f"{printable(str(child))} (not a submission folder)")
            continue
        info = meta.get(child.name)
        if info is None:
            ignored.append(f"{printable(str(child))} (not in {GRADESCOPE_META})")
            continue
        people = info.get("submitters") or [{}]
        first = people[0]
        # The autograder's order (gradescope._student_id): e-mail, sid, name.
        key = first.get("email") or first.get("sid") or first.get("name") or child.name
        others = tuple(p.get("email") or p.get("sid") or p.get("name") or ""
                       for p in people[1:])
        s = ids.get(key, Meta("gradescope", first.get("sid"), first.get("name"),
                              first.get("email"), child.name,
                              submitted_at=info.get("created_at"), members=others))
        ids.add(s, [Upload(f, f.name) for f in _notebooks(child, ignored)])
    return list(ids.by_id.values()), ignored


# ---------------------------------------------------------------------------
# Several notebooks for one exercise
# ---------------------------------------------------------------------------


def is_template(path: Path, ex: Exercise) -> bool:
    """True when the notebook's functions for ``ex`` are missing or still the handed-out
    ``raise NotImplementedError`` stubs (or it cannot be read at all)."""
    from .integrity import unsolved

    try:
        return unsolved(parse(read_code_cells(path)), ex)
    except (SubmissionError, RecursionError, MemoryError, ValueError):
        return True


def choose(s: Submission) -> None:
    """Fill ``s.chosen`` and ``s.duplicates`` by :data:`RULE`."""
    by_ex: dict[str, list[Upload]] = {}
    for u in s.uploads:
        for ex in exercises_of(u.name):
            by_ex.setdefault(ex.id, []).append(u)
    for ex_id, ups in by_ex.items():
        ex = catalog.BY_ID[ex_id]
        if len(ups) == 1:
            s.chosen[ex_id] = ups[0].path
            continue
        template = {u.path: is_template(u.path, ex) for u in ups}

        def rank(u: Upload, ex: Exercise = ex, template: dict = template) -> tuple:
            exact = Path(u.name).stem.lower() == ex.id
            return (not template[u.path], u.submission, u.reupload, not u.copy, exact)

        ordered = sorted(sorted(ups, key=lambda u: u.name), key=rank, reverse=True)
        best, second = ordered[0], ordered[1]
        a, b = rank(best), rank(second)
        if a[0] != b[0]:
            why = f"{second.name} is still the unsolved template"
        elif a[1:3] != b[1:3]:
            why = "the newest upload"
        elif a[3:] != b[3:]:
            why = "the name the exercise asks for"
        else:
            why = "the first by name"
        s.chosen[ex_id] = best.path
        s.duplicates.append(Duplicate(ex_id, best.name, tuple(u.name for u in ordered[1:]),
                                      why))
