"""``gostack grade``: grade student notebooks out of process, in parallel, resumably.

    gostack grade submissions/ --out graded/ --exercises 02,03 --jobs 2
    gostack grade submissions/ --out graded/ --roster roster.csv --secret-file secret.txt
    gostack grade canvas-download/ --out graded/ --roster canvas-gradebook.csv
    gostack grade --gradescope-bundle autograder.zip --exercises 02

Output (in --out): students/<id>/results.json (Gradescope's format), feedback.md,
integrity.json, grading.json and manifest.json; gradebook.csv, integrity.md, summary.txt and
summary.json. The summary always covers the whole class, students graded by earlier runs
included: only :data:`RUN_ONLY` differ between a resumed run and a full one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .. import __version__
from . import book, catalog, integrity, layouts, report
from . import roster as rosters
from .grader import Grader, Student, StudentResult, safe_name
from .notebook import printable
from .sandbox import DEFAULT_UID_BASE, Limits, Zygote, self_test

SECRET_ENV = "GOSTACK_GRADE_SECRET"
# The summary's fields that describe this run rather than the class.
RUN_ONLY = ("graded", "skipped", "seconds", "seconds_per_student", "regrade_log_students")


class UsageError(Exception):
    pass


class Interrupted(Exception):
    """Ctrl-C: what is written stays; a rerun skips it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="gostack grade",
        description="Grade the gostack exercises in student notebooks. Learner code runs in "
        "a separate, limited worker process; scores are computed in the grader from plain "
        "data. Every student gets the same visible and hidden cases, so the same code "
        "always gets the same score.",
        epilog="Several notebooks for one exercise in one submission: " + layouts.RULE
        + ". Exit status 0 when the run completed (students whose code failed included), 1 "
        "when submissions and the roster do not match (without --allow-unmatched), 2 on a "
        "usage error.")
    p.add_argument("submissions", nargs="*", type=Path, metavar="SUBMISSION",
                   help="a notebook (one student: the file name is the id), a folder with "
                   "one notebook or one sub-folder of notebooks per student, or an unzipped "
                   "Canvas, Moodle or Gradescope download (see --layout)")
    p.add_argument("--layout", choices=layouts.LAYOUTS, default="auto",
                   help="how the submissions are laid out (default auto: detected, and said "
                   "on one line; mixed or unclear input is refused). folders: a folder or "
                   "notebook per student, its name the id; canvas: Canvas's 'Download "
                   "Submissions' (name_userid_submissionid_file; the id is Canvas's user id); "
                   "moodle: Moodle's 'Download all submissions' (Full Name_participantid_"
                   "assignsubmission_file_); gradescope: Gradescope's 'Export Submissions' "
                   "(submission_metadata.yml; the id is the e-mail, as in the bundle)")
    p.add_argument("--out", type=Path, help="output folder (created if needed)")
    p.add_argument("--roster", type=Path, help="the class list: a Canvas gradebook export, a "
                   "Moodle grades export or grading worksheet, read as they are, or any CSV "
                   "with a column id (or student_id, sid, email...); students without a "
                   "submission get a row with 0 points")
    p.add_argument("--roster-id-column", metavar="COLUMN", help="the roster's column that "
                   "holds the submissions' ids (default: Canvas 'ID', the user id in its file "
                   "names; Moodle 'Email address' or a worksheet's 'Identifier'; else id, "
                   "student_id, sid...)")
    p.add_argument("--roster-name-column", metavar="COLUMN[,COLUMN]", help="the roster's "
                   "name column(s), joined by a space (default: Canvas 'Student', Moodle "
                   "'First name,Last name'); submissions whose id matches nothing match a "
                   "unique full name (a Moodle download carries names, not ids)")
    p.add_argument("--roster-email-column", metavar="COLUMN", help="the roster's e-mail "
                   "column (default: Moodle 'Email address', else email): matches Gradescope "
                   "submitters")
    p.add_argument("--allow-unmatched", action="store_true", help="exit 0 even when "
                   "submissions match no roster entry or roster entries have no submission "
                   "(the warning stays)")
    p.add_argument("--overrides", type=Path, metavar="FILE.csv", help="score changes "
                   "decided by hand, applied on every run and shown in the feedback: columns "
                   "student,exercise,points,delta,comment,who,when (points sets an "
                   "exercise's points, delta adds to them; exercise 'late' is the late "
                   "penalty, points 0 waives it). Never edit gradebook.csv: a run refuses "
                   "to overwrite a hand-edited one")
    p.add_argument("--due", metavar="TIME", help="the due date, ISO 8601 "
                   "(2026-12-01T23:59+01:00; no zone: UTC), for the late policy; submission "
                   "times: Gradescope's created_at; Canvas's _LATE counts as 1 day late "
                   "(its download has no time); Moodle and folders: no time, no penalty")
    p.add_argument("--grace", metavar="DURATION", help="time after --due still on time "
                   "(15m, 2h, 1d; default 0)")
    p.add_argument("--late-penalty", type=float, metavar="PCT", help="percent of the points "
                   "taken per started day late (needed with --due)")
    p.add_argument("--late-cap", type=float, metavar="PCT", help="the most the late penalty "
                   "takes, in percent (default 100)")
    p.add_argument("--export", action="append", choices=book.EXPORTS, default=[],
                   help="also write a gradebook the platform imports as it is (repeatable): "
                   "canvas (export-canvas.csv: Grades > Import), moodle (export-moodle.csv: "
                   "Grades > Import > CSV file, map 'Email address'), csv (export.csv)")
    p.add_argument("--export-name", metavar="NAME", default="gostack exercises",
                   help="the exported grade column: for Canvas an existing assignment's "
                   "'Name (id)' as its gradebook export shows it, or a new name to create "
                   "one; for Moodle the column you map to a grade item (default %(default)r)")
    p.add_argument("--discard-gradebook-edits", action="store_true", help="when "
                   "gradebook.csv was edited by hand since the last run: keep it as "
                   "gradebook.csv.edited-TIME and rewrite it (default: refuse to run)")
    p.add_argument("--templates", type=Path, metavar="DIR", help="the handed-out exercise "
                   "notebooks, whose code the integrity report never counts as evidence "
                   "(default: the kit's exercises/ folder)")
    p.add_argument("--exercises", help="comma-separated exercises to grade (numbers, slugs "
                   "or ids, e.g. 02,copystack); default: those the notebooks are named after")
    p.add_argument("--vary-per-student", action="store_true",
                   help="add hidden cases drawn for each student from the instructor's secret "
                   "and the student's id (off by default: they are drawn like the hidden cases "
                   "every student gets, and cannot change the score of a known wrong answer)")
    p.add_argument("--secret-file", type=Path, help="instructor secret for --vary-per-student "
                   f"(else ${SECRET_ENV}, else OUT/secret.txt, created on the first run; with "
                   "--gradescope-bundle FILE.zip, else FILE-secret.txt beside the bundle, "
                   "created if missing, 0600, its path printed)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="students graded in "
                   "parallel (default 1; use the number of cores)")
    p.add_argument("--force", action="store_true",
                   help="regrade students already graded (default: skip them)")
    p.add_argument("--cpu-limit", type=float, default=Limits.cpu, metavar="S",
                   help=f"CPU seconds per worker (default {Limits.cpu:g})")
    p.add_argument("--wall-limit", type=float, default=Limits.wall, metavar="S",
                   help=f"wall-clock seconds per exercise of a student (default {Limits.wall:g})")
    p.add_argument("--memory-limit", type=int, default=Limits.memory_mb, metavar="MB",
                   help=f"address space per worker (default {Limits.memory_mb})")
    p.add_argument("--case-timeout", type=float, default=Limits.case_timeout, metavar="S",
                   help=f"seconds per call of a learner function (default {Limits.case_timeout:g})")
    p.add_argument("--student-budget", type=float, default=Limits.student_budget, metavar="S",
                   help="wall-clock seconds over all of one student's exercises (default "
                   f"{Limits.student_budget:g})")
    p.add_argument("--visibility", choices=report.VISIBILITIES, default="visible",
                   help="Gradescope visibility of the tests (default visible)")
    p.add_argument("--hidden-inputs", choices=("hide", "show"), default="hide",
                   help="hide (default): feedback counts failing hidden cases and never "
                   "shows their inputs, nor what the code printed, raised or returned on "
                   "them; show: also explain the smallest failing hidden case, meant for "
                   "after the due date (students who resubmit could otherwise collect the "
                   "hidden inputs one by one)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--sandbox-uid", type=int, default=DEFAULT_UID_BASE, metavar="UID",
                       help="when run as root, workers run as UID, UID+1, ... (one per job) "
                       f"with RLIMIT_NPROC=1 (default {DEFAULT_UID_BASE})")
    group.add_argument("--no-sandbox-uid", action="store_true",
                       help="keep the grader's user id for workers")
    p.add_argument("--lang", choices=("auto", "en", "ko"), default="auto",
                   help="the language of each student's feedback (default auto: Korean for a "
                   "submission made from the Korean edition, exercises/ko/, else English); "
                   "scores never depend on it")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--gradescope-bundle", type=Path, metavar="FILE.zip",
                   help="build a Gradescope autograder bundle (setup.sh, run_autograder) "
                   "for --exercises and exit")
    p.add_argument("--gradescope-run", action="store_true", help=argparse.SUPPRESS)
    return p


def limits_of(args: argparse.Namespace) -> Limits:
    for name in ("cpu_limit", "wall_limit", "case_timeout", "student_budget"):
        if getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0")
    if args.memory_limit < 64:
        raise UsageError("--memory-limit must be at least 64 (MB)")
    return Limits(cpu=args.cpu_limit, wall=args.wall_limit, memory_mb=args.memory_limit,
                  case_timeout=args.case_timeout, student_budget=args.student_budget)


def parse_exercises(text: str | None) -> list[catalog.Exercise] | None:
    if not text:
        return None
    try:
        found = [catalog.find(k) for k in text.split(",") if k.strip()]
    except KeyError as e:
        raise UsageError(str(e.args[0])) from None
    return [e for e in catalog.EXERCISES if e in found]


def load_secret(args: argparse.Namespace, out: Path | None) -> tuple[bytes, str]:
    """The secret and where it came from."""
    if args.secret_file:
        try:
            text = args.secret_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise UsageError(f"cannot read --secret-file {args.secret_file}: {e.strerror}") \
                from None
        where = str(args.secret_file)
    elif os.environ.get(SECRET_ENV):
        text, where = os.environ[SECRET_ENV].strip(), f"${SECRET_ENV}"
    elif out is not None:
        path = out / "secret.txt"
        if not path.exists():
            report.write_atomic(path, secrets.token_hex(32) + "\n", mode=0o600)
        text, where = path.read_text(encoding="utf-8").strip(), str(path)
    else:
        raise UsageError("no instructor secret: pass --secret-file FILE")
    if len(text) < 16:
        raise UsageError(f"the secret in {where} is too short (16 characters at least)")
    return text.encode(), where


def bundle_secret_path(bundle: Path) -> Path:
    """Where a bundle built without --secret-file keeps its secret: beside it,
    autograder.zip -> autograder-secret.txt."""
    return bundle.with_name(f"{bundle.stem}-secret.txt")


class Progress:
    """On a terminal, one updating line with the rate and the time left (tqdm), at most 80
    columns; in a log (stderr not a terminal), a plain line at the first and last student and
    whenever 10% more are done or 30 s have passed."""

    EVERY_S = 30.0

    def __init__(self, total: int, quiet: bool, stream=None) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self._last = (self.start, -1)  # when, and at which tenth, a log line was written
        self._lock = threading.Lock()
        self._bar = None
        if not quiet and self.tty and total:
            try:
                from tqdm import tqdm
            except ImportError:  # a bare Python (Gradescope's image): log lines instead
                self.tty = False
            else:
                import shutil

                width = min(80, shutil.get_terminal_size((80, 24)).columns)
                self._bar = tqdm(total=total, file=self.stream, ncols=width, unit="student",
                                 dynamic_ncols=False, leave=True, smoothing=0.1,
                                 bar_format="{n_fmt}/{total_fmt} |{bar}| {rate_fmt} "
                                            "ETA {remaining}{postfix}")

    def step(self, line: str) -> None:
        with self._lock:
            self.done += 1
            if self.quiet:
                return
            if self._bar is not None:
                self._bar.set_postfix_str(line[:24], refresh=False)
                self._bar.update(1)
                if self.done == self.total:
                    self._bar.close()
                return
            now = time.monotonic()
            tenth = 10 * self.done // max(1, self.total)
            if self.done in (1, self.total) or tenth > self._last[1] or \
                    now - self._last[0] >= self.EVERY_S:
                self._last = (now, tenth)
                elapsed = now - self.start
                left = elapsed / self.done * (self.total - self.done)
                self.stream.write(f"[{self.done}/{self.total}] {line} · {_clock(elapsed)} "
                                  f"elapsed, about {_clock(left)} left\n")
                self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except UsageError as e:
        print(f"gostack grade: error: {e}", file=sys.stderr)
        return 2
    except (Interrupted, KeyboardInterrupt) as e:
        done = f"{e.args[0]} students graded; " if isinstance(e, Interrupted) else ""
        print(f"\ngostack grade: interrupted: {done}run the same command again to grade the "
              "rest (students already graded are skipped)", file=sys.stderr)
        return 130


def _main(args: argparse.Namespace) -> int:
    from . import gradescope

    limits = limits_of(args)
    exercises = parse_exercises(args.exercises)
    if args.gradescope_bundle:
        if not exercises:
            raise UsageError("--gradescope-bundle needs --exercises (what the bundle grades)")
        if args.secret_file or os.environ.get(SECRET_ENV):
            secret, where = load_secret(args, None)
            saved = f"secret: from {where}"
        else:  # the instructor must hold the bundle's secret to regrade locally
            path = bundle_secret_path(args.gradescope_bundle)
            made = not path.exists()
            if made:
                report.write_atomic(path, secrets.token_hex(32) + "\n", mode=0o600)
            args.secret_file = path
            secret, where = load_secret(args, None)
            saved = (f"secret: {'wrote' if made else 'reused'} {where} (mode 0600; keep it "
                     f"private, and pass --secret-file {where} to regrade these submissions "
                     "locally)")
        gradescope.build_bundle(args.gradescope_bundle, exercises, secret, limits,
                                args.visibility, args.hidden_inputs == "hide",
                                args.vary_per_student)
        print(f"wrote {args.gradescope_bundle}: upload it as the autograder of a Gradescope "
              f"programming assignment ({', '.join(e.id for e in exercises)})")
        print(saved)
        return 0
    if not sys.platform.startswith("linux"):
        # the worker's sandbox is Linux's (setuid drop, rlimits, Landlock, /proc/self/fd)
        raise UsageError(f"grading runs students' code in a Linux sandbox, and this system is "
                         f"{sys.platform}: grade on Linux (a VM, a container, or Gradescope "
                         "with --gradescope-bundle, which works from here)")
    if args.gradescope_run:
        return gradescope.run_in_container()
    if not args.submissions:
        raise UsageError("no submissions given")
    if args.out is None:
        raise UsageError("--out DIR is required")
    if args.jobs < 1:
        raise UsageError("--jobs must be >= 1")
    try:
        found = layouts.load(args.submissions, args.layout)
    except layouts.LayoutError as e:
        raise UsageError(str(e)) from None
    students = found.students
    roster, matched = None, None
    if args.roster:
        try:
            roster = rosters.read(args.roster, args.roster_id_column, args.roster_name_column,
                                  args.roster_email_column)
        except rosters.RosterError as e:
            raise UsageError(str(e)) from None
        matched = rosters.match(roster, students)
        if students and roster.rows and not matched.to_roster:
            raise UsageError(
                f"no submission matches the roster {printable(str(args.roster))} ("
                f"{roster.describe()}): submission ids look like "
                f"{', '.join(printable(s.id) for s in students[:3])}, the roster's like "
                f"{', '.join(printable(r) for r in list(roster.rows)[:3])}; pass "
                "--roster-id-column (or --roster-name-column)")
    if args.templates:
        integrity.TEMPLATES = args.templates
    if exercises is None:
        exercises = layouts.exercises_named(students)
        if not exercises:
            raise UsageError("cannot tell which exercises these notebooks are (no file is "
                             "named like 02-newstack.ipynb): pass --exercises, e.g. 02")
    try:
        policy = book.late_policy(args.due, args.grace, args.late_penalty, args.late_cap)
        book.check_exports(args.export, found.layout, roster.kind if roster else None)
        class_ids = {s.id for s in students} | set(matched.without if matched else [])
        overrides = (book.read_overrides(args.overrides, exercises,
                                         class_ids) if args.overrides else [])
        edited = book.check_hand_edits(args.out, args.discard_gradebook_edits)
    except book.BookError as e:
        raise UsageError(str(e)) from None
    if edited:
        print(f"gostack grade: {edited}", file=sys.stderr)
    args.policy, args.overrides_read = policy, overrides
    args.out.mkdir(parents=True, exist_ok=True)
    secret, secret_from = load_secret(args, args.out)
    if not args.quiet:
        print(f"gostack grade: submissions: {found.detected}", file=sys.stderr)
    if matched is not None:
        _warn_unmatched(matched, args, "before grading")
    uid_base = None
    isolation = "same user id as the grader; processes refused by the worker's audit hook"
    try:
        zygote: Zygote | None = Zygote()  # slot 0's fork server, warmed up by the self-test
    except OSError:
        zygote = None
    if os.geteuid() == 0 and not args.no_sandbox_uid:
        ok, why = self_test(limits, args.sandbox_uid, zygote)
        if ok:
            uid_base = args.sandbox_uid
            isolation = (f"user ids {uid_base}..{uid_base + args.jobs - 1} (one per job), "
                         "RLIMIT_NPROC=1, plus the audit hook")
        else:
            isolation += f" (the sandbox uid did not start a worker: {why[:200]})"
    if uid_base is None:
        ok, why = self_test(limits, None, zygote)
        if not ok:
            if zygote is not None:
                zygote.close()
            print(f"gostack grade: error: the grading worker does not start: {why}",
                  file=sys.stderr)
            return 1
    from .sandbox import landlock_abi

    abi = landlock_abi()
    isolation += (f"; Landlock (ABI {abi}): each worker reads only the Python installation "
                  "and gostack, writes only its scratch folder" if abi else
                  "; no Landlock (none in this kernel, or GOSTACK_NO_LANDLOCK=1): no kernel "
                  "wall around the files")
    grader = Grader(exercises, secret, limits, uid_base, vary=args.vary_per_student)
    if zygote is not None:
        grader.adopt(0, zygote)
    try:
        code = run_batch(args, grader, found, roster, matched, isolation, secret_from)
    finally:
        grader.close()
    if matched is not None and _warn_unmatched(matched, args, "after grading") and \
            not args.allow_unmatched:
        return 1
    return code


def _warn_unmatched(matched: rosters.Match, args: argparse.Namespace, when: str) -> bool:
    """A loud warning when the roster and the submissions disagree; True if they do."""
    warning = matched.warning()
    if warning:
        tail = ("(--allow-unmatched: exit status 0)" if args.allow_unmatched else
                "exit status 1 unless --allow-unmatched; check --roster-id-column")
        print(f"gostack grade: WARNING ({when}): {warning}; {tail}", file=sys.stderr)
    return bool(warning)


def _manifest(student: Student, grader: Grader) -> dict:
    import hashlib
    import hmac

    try:
        digest = student.digest()
    except Exception as e:  # never stop the run: this student is graded (and fails) alone
        digest = f"unreadable ({type(e).__name__})"
    return {"student": student.id, "submission_sha256": digest,
            "files": [f.name for f in student.files],
            "exercises": [e.id for e in grader.exercises],
            # Which secret graded this (to notice a changed one), not the secret's hash.
            "secret_id": hmac.new(grader.secret, b"gostack-grade/manifest",
                                  hashlib.sha256).hexdigest()[:16] if grader.vary else None,
            "grader": __version__}


def _already(out: Path, student: Student, manifest: dict) -> bool:
    folder = out / "students" / student.key
    try:
        old = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / "results.json").exists() and all(
        old.get(k) == manifest[k] for k in ("submission_sha256", "exercises", "secret_id"))


def run_batch(args, grader: Grader, found: layouts.Found, roster: rosters.Roster | None,
              matched: rosters.Match | None, isolation: str, secret_from: str) -> int:
    out: Path = args.out
    students: list[Student] = list(found.students)
    start = time.monotonic()
    keys: dict[str, str] = {}
    for s in students:  # two ids that make the same folder name: keep them apart
        key = s.key
        while key in keys.values():
            key += "_"
        keys[s.id] = key
        if roster is not None and matched is not None and s.id in matched.to_roster:
            s.roster = roster.rows[matched.to_roster[s.id]]
    todo, skipped = [], []
    for s in students:
        s.folder = keys[s.id]
        manifest = _manifest(s, grader)
        if not args.force and _already(out, s, manifest):
            skipped.append(s)
        else:
            todo.append((s, manifest))
    progress = Progress(len(todo), args.quiet)
    results: dict[str, StudentResult] = {}
    slots: list[int] = list(range(args.jobs))
    slot_lock = threading.Lock()
    stopping = threading.Event()  # Ctrl-C: a student cut short must not be written as graded

    def work(student: Student, manifest: dict) -> StudentResult:
        with slot_lock:
            slot = slots.pop()
        try:
            try:
                result = grader.grade(student, slot)
            except Exception as e:  # one student must never stop the run
                result = StudentResult(student, [], 0.0, error=f"{type(e).__name__}: {e}")
            if not stopping.is_set():
                report.write_student(out, result, manifest, args.visibility,
                                     args.hidden_inputs == "hide", args.lang)
            return result
        finally:
            with slot_lock:
                slots.append(slot)

    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        futures = {pool.submit(work, s, m): s for s, m in todo}
        for fut in as_completed(futures):
            s = futures[fut]
            try:
                r = fut.result()
            except Exception as e:  # e.g. the output folder became unwritable
                r = StudentResult(s, [], 0.0, error=f"{type(e).__name__}: {e}")
            results[s.id] = r
            progress.step(f"{s.id}: {r.points:g}/{r.max_points:g} ({r.seconds:.1f} s)")
    except KeyboardInterrupt:
        stopping.set()
        progress.close()
        pool.shutdown(wait=False, cancel_futures=True)
        raise Interrupted(len(results)) from None
    pool.shutdown()
    progress.close()
    elapsed = time.monotonic() - start
    return finish(args, grader, found, roster, matched, results, skipped, keys, isolation,
                  secret_from, elapsed)


def finish(args, grader: Grader, found: layouts.Found, roster: rosters.Roster | None,
           matched: rosters.Match | None, results, skipped, keys, isolation: str,
           secret_from: str, elapsed: float) -> int:
    """The class's files: from every student's folder (this run's and earlier runs'), so
    they are the same after a resume as after a full run."""
    out: Path = args.out
    students = found.students
    ex_ids = [e.id for e in grader.exercises]
    max_points = _num(sum(e.max_points for e in grader.exercises))
    integ, graded, per_student, digests, statuses = {}, [], {}, {}, {}
    to_roster = matched.to_roster if matched else {}
    for s in sorted(students, key=lambda s: s.id):
        folder = out / "students" / keys[s.id]
        rj = _read_json(folder / "results.json") or {"score": 0,
                                                      "extra_data": {"exercises": {}}}
        integ[s.id] = _read_json(folder / "integrity.json") or {}
        graded.append(_read_json(folder / "grading.json"))
        per_student[s.id] = rj.get("extra_data", {}).get("exercises", {})
        digests[s.id] = (_read_json(folder / "manifest.json") or {}).get("submission_sha256")
        status = "graded" if s.id in results else "skipped (already graded)"
        if s.id in results and results[s.id].error:
            status = "grader error"
        if roster is not None and s.id not in to_roster:
            status += "; not in roster"
        statuses[s.id] = status
    without = list(matched.without) if matched else []
    for rid in without:
        per_student[rid], digests[rid], statuses[rid] = {}, None, "no submission"
    metas = {s.id: getattr(s, "meta", None) for s in students}
    final = book.finals(per_student, grader.exercises, args.overrides_read, args.policy,
                        metas, digests)
    rows = []
    for s in sorted(students, key=lambda s: s.id):
        rows.append(_row(s.id, s.roster, final[s.id], ex_ids, max_points, statuses[s.id]))
        _write_feedback(out / "students" / keys[s.id], final[s.id])
    for rid in without:
        assert roster is not None
        rows.append(_row(rid, roster.rows[rid], final[rid], ex_ids, max_points,
                         statuses[rid]))
    extra = roster.columns if roster is not None else []
    changed = book.record_run(out, final, ex_ids, args.policy,
                              report.gradebook_csv(rows, ex_ids, extra))
    people = _people(students, roster, matched)
    exported = book.write_exports(out, list(dict.fromkeys(args.export)), people, final,
                                  ex_ids, sum(e.max_points for e in grader.exercises),
                                  args.export_name)
    text, data = report.integrity_report(integ)
    report.write_atomic(out / "integrity.md", text)
    report.write_atomic(out / "integrity.json", json.dumps(data, indent=1))
    summary = _summary(args, grader, found, results, skipped, rows, graded, data, matched,
                       isolation, secret_from, elapsed)
    summary.update(_book_summary(args, final, metas, changed, exported))
    report.write_atomic(out / "summary.json", json.dumps(summary, indent=1))
    report.write_atomic(out / "summary.txt", _summary_text(summary))
    print(_summary_text(summary))
    return 0


def _row(sid: str, identity: dict, f: book.Final, ex_ids: list[str], max_points: str,
         status: str) -> dict:
    if f.applied:
        status += f"; {len(f.applied)} override{'s' if len(f.applied) != 1 else ''}"
    if f.penalty:
        status += f"; late {f.late.days} d" if f.late else "; late"
    return {"student": sid, **identity, **{e: _num(f.exercises[e]) for e in ex_ids},
            "late_penalty": _num(f.penalty), "total": _num(f.total), "max": max_points,
            "status": status}


def _write_feedback(folder: Path, f: book.Final) -> None:
    """feedback.md: the graded feedback (graded-feedback.md, written when graded) and the
    adjustments of this run (overrides, late policy), rewritten only when it changes."""
    raw, path = folder / report.GRADED_FEEDBACK, folder / "feedback.md"
    try:
        text = raw.read_text(encoding="utf-8")
    except OSError:  # graded by an older grader, whose feedback.md is the graded one
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            return
        report.write_atomic(raw, text)
    text += book.feedback_section(f)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    report.write_atomic(path, text)


def _people(students, roster: rosters.Roster | None,
            matched: rosters.Match | None) -> list[book.Person]:
    to_roster = matched.to_roster if matched else {}
    people = []
    for s in sorted(students, key=lambda s: s.id):
        meta = getattr(s, "meta", None)
        rid = to_roster.get(s.id)
        name = (roster.names.get(rid, "") if roster and rid else "") or \
            (getattr(meta, "name", None) or "")
        email = (roster.emails.get(rid, "") if roster and rid else "") or \
            (getattr(meta, "email", None) or (s.id if "@" in s.id else ""))
        canvas = getattr(meta, "lms_id", None) if getattr(meta, "layout", "") == "canvas" \
            else None
        people.append(book.Person(s.id, name, email, dict(s.roster), canvas or ""))
    for rid in (matched.without if matched else []):
        assert roster is not None
        people.append(book.Person(rid, roster.names.get(rid, ""), roster.emails.get(rid, ""),
                                  dict(roster.rows[rid]), submitted=False))
    return people


def _book_summary(args, final: dict[str, book.Final], metas: dict, changed: int,
                  exported: list[str]) -> dict:
    policy = args.policy
    late = sum(1 for f in final.values() if f.penalty)
    after_due = sum(1 for f in final.values() if f.late is not None and f.late.days)
    untimed = sum(1 for sid, f in final.items() if policy is not None and sid in metas
                  and f.late is None)
    return {"late_policy": policy.describe() if policy else None,
            "late_submissions": after_due,
            "late_penalised": late,
            "late_without_a_time": untimed,
            "overrides_applied": sum(len(f.applied) for f in final.values()),
            "overrides_file": str(args.overrides) if args.overrides else None,
            "exports": exported,
            "regrade_log_students": changed}


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _summary(args, grader, found, results, skipped, rows, graded, integrity, matched,
             isolation, secret_from, elapsed) -> dict:
    from collections import Counter

    ran = list(results.values())
    problems: list[str] = []
    kinds: Counter[str] = Counter()
    missing, older = 0, 0
    for g in graded:  # every student's grading.json, in student order
        if g is None:
            older += 1
            continue
        problems += g.get("problems", [])
        missing += g.get("missing", 0)
        for ex_id, ks in g.get("kinds", {}).items():
            if ex_id in {e.id for e in grader.exercises}:
                kinds.update(ks)
    means = {}
    submitted = [r for r in rows if not r["status"].startswith("no submission")]
    for e in grader.exercises:
        pts = [float(r[e.id]) for r in submitted]
        means[e.id] = round(sum(pts) / len(pts), 2) if pts else None
    flagged = sum(len(integrity[k]) for k in ("reference_calls", "monkeypatching"))
    problems = [printable(p) for p in problems]  # one line each, whatever a learner wrote
    return {
        "grader": f"gostack grade {__version__}",
        "layout": found.layout,
        "submissions": found.detected,
        "exercises": [e.id for e in grader.exercises],
        "max_points": sum(e.max_points for e in grader.exercises),
        "students": len(found.students), "graded": len(ran), "skipped": len(skipped),
        "roster": matched.how if matched else None,
        "roster_without_submission": sum(1 for r in rows
                                         if r["status"].startswith("no submission")),
        "submissions_not_in_roster": len(matched.unmatched) if matched else 0,
        "ignored_paths": found.ignored,
        "mean_points": means,
        "seconds": round(elapsed, 2),
        "seconds_per_student": round(elapsed / len(ran), 3) if ran else None,
        "jobs": args.jobs,
        "limits": {"cpu_s": grader.limits.cpu, "wall_s": grader.limits.wall,
                   "memory_mb": grader.limits.memory_mb,
                   "case_timeout_s": grader.limits.case_timeout},
        "isolation": isolation,
        "secret": secret_from,
        "vary_per_student": grader.vary,
        "hidden_inputs": args.hidden_inputs,
        "failure_kinds": dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
        "problems": problems,
        "several_notebooks": [f"{printable(sid)}, {printable(d.text())}"
                              for sid, d in sorted(found.duplicates, key=lambda x: x[0])
                              if d.exercise in {e.id for e in grader.exercises}],
        "several_notebooks_rule": layouts.RULE,
        "graded_by_an_older_grader": older,
        "missing_notebooks": missing,
        "integrity_flags": flagged,
        "identical_pairs": len(integrity["identical_pairs"]),
        "identical_groups": len(integrity["identical"]),
    }


def _summary_text(s: dict) -> str:
    changed = s.get("regrade_log_students")
    lines = [f"{s['grader']}: {s['graded']} graded, {s['skipped']} skipped (already graded; "
             f"--force regrades), {s['students']} students"
             + (f"; scores changed for {changed} (regrades.jsonl)" if changed else ""),
             f"submissions: {s['submissions']}",
             f"exercises: {', '.join(s['exercises'])} ({s['max_points']:g} points)",
             f"time: {s['seconds']:.1f} s"
             + (f", {s['seconds_per_student']:.2f} s per student" if s["seconds_per_student"]
                else "") + f" with --jobs {s['jobs']}",
             f"limits: {s['limits']['cpu_s']:g} s CPU and {s['limits']['memory_mb']} MB per "
             f"worker, {s['limits']['wall_s']:g} s wall per exercise of a student, "
             f"{s['limits']['case_timeout_s']:g} s per call",
             f"isolation: {s['isolation']}",
             "hidden cases: the same for every student" + (
                 f", plus cases drawn per student from the secret in {s['secret']}"
                 if s.get("vary_per_student") else ""),
             "hidden inputs: " + ("shown in the feedback (--hidden-inputs show: meant for "
                                  "after the due date)" if s.get("hidden_inputs") == "show"
                                  else "counted, never shown, in the feedback")]
    means = ", ".join(f"{k} {v:g}" for k, v in s["mean_points"].items() if v is not None)
    if means:
        lines.append(f"mean points: {means}")
    if s["roster"]:
        lines.append(s["roster"])
    if s["roster_without_submission"]:
        lines.append(f"roster students without a submission: {s['roster_without_submission']}")
    if s["submissions_not_in_roster"]:
        lines.append(f"submissions in no roster entry: {s['submissions_not_in_roster']}")
    for path in s["ignored_paths"]:
        lines.append(f"ignored: {path}")
    def n_of(n: int, one: str, many: str) -> str:  # "1 group", "2 groups"
        return f"{n} {one if n == 1 else many}"

    flags = n_of(s["integrity_flags"], "flagged exercise", "flagged exercises")
    lines.append(f"integrity: {flags}, "
                 f"{n_of(s['identical_pairs'], 'pair', 'pairs')} of students identical in "
                 f"several exercises, {n_of(s['identical_groups'], 'group', 'groups')} "
                 "identical in one (integrity.md)")
    if s["missing_notebooks"]:
        lines.append(f"exercise notebooks not submitted: {s['missing_notebooks']} "
                     "(0 points each; see each student's feedback)")
    if s["failure_kinds"]:
        lines.append("failures by kind (student exercises where it happened at least once):")
        lines += [f"  {kind}: {n}" for kind, n in s["failure_kinds"].items()]
    if s["several_notebooks"]:
        lines.append(f"several notebooks for one exercise ({len(s['several_notebooks'])}; "
                     "the rule: see --help):")
        lines += [f"  {d}" for d in s["several_notebooks"][:50]]
    if s["graded_by_an_older_grader"]:
        lines.append(f"students graded by an older grader: {s['graded_by_an_older_grader']} "
                     "(their problems are not listed; --force regrades them)")
    if s.get("late_policy"):
        lines.append(f"late policy: {s['late_policy']}: {s['late_submissions']} late, "
                     f"{s['late_penalised']} penalised (overrides included)"
                     + (f"; {s['late_without_a_time']} without a submission time (not "
                        "penalised: the download has none)" if s["late_without_a_time"]
                        else ""))
    if s.get("overrides_file"):
        lines.append(f"overrides: {s['overrides_applied']} applied from "
                     f"{s['overrides_file']}")
    lines += s.get("exports") or []
    if s["problems"]:
        lines.append(f"problems ({len(s['problems'])}):")
        lines += [f"  {p}" for p in s["problems"][:50]]
    return "\n".join(lines)


__all__ = ["main", "build_parser", "safe_name"]
