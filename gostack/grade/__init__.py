"""gostack grade: auto-grading of the exercises, with learner code out of the grader's process.

How a submission is graded:

* :mod:`.notebook` reads the notebook JSON (never a kernel) and keeps the top-level imports,
  definitions and assignments of its code cells;
* :mod:`.sandbox` runs them in a worker process (:mod:`.worker`, forked from a clean fork
  server) under CPU, memory, file-size and wall-clock limits; as root, each job slot gets
  its own unprivileged uid with RLIMIT_NPROC = 1; an audit hook refuses processes, sockets,
  ctypes, frame inspection, files outside the Python installation, and changes to gostack;
  gostack's reference implementations are switched off inside the worker (tripwires);
* the worker calls the learner's functions on the cases it is given and sends back plain
  JSON on a private pipe (nonce-prefixed lines; its stdout is only quoted);
* :mod:`.grader` draws the cases (visible ones from a fixed seed, hidden ones from
  HMAC(secret, exercise, student)), computes the expected outputs with the reference stages,
  and judges aspect by aspect (:mod:`.catalog`); :mod:`.report` writes Gradescope's
  results.json, feedback, the gradebook and the integrity report (:mod:`.integrity`).

``main(argv)`` is what ``gostack grade ARGS`` runs (:mod:`.cli`). The catalogue is shared with
the learner's check cells (:mod:`gostack.exercises`). Importing this package loads nothing else.
"""

from __future__ import annotations


def main(argv: list[str]) -> int:
    from .cli import main as cli_main

    return cli_main(argv)
