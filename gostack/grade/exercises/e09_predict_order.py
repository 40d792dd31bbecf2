"""Exercise 09 · predict the execution order (lesson 10, run queues and fairness).

OSTEP-style: seeded small programs (:mod:`gostack.sched.orderquiz`) run with one P;
the learner first predicts their output by hand, then writes ``predict(program)``, a
small scheduler that returns what the program records, in order. The answers are the
simulator's (stage 1), which agrees with go1.27.3 on every recorded probe. Four rules,
each judged on the programs of its category (the whole output is compared):

* spawn: ``go`` puts the new G in ``runnext``, the G there before goes to the local
  queue's tail; a G that ends hands the P to ``runnext`` first (nested ``go`` too);
* gosched: ``Gosched`` puts the G on the **global** queue, behind every local G, and
  the global queue is taken only when the local one is empty (in these programs);
* chan: an unbuffered send or receive that finds a waiting partner readies it into
  ``runnext`` and goes on; without one the G parks (FIFO queues per channel);
* tick61: every 61st ``schedtick`` ``findRunnable`` takes the global queue's head first;
  ``schedtick`` grows for every G that does not come from ``runnext`` (main starts at
  tick 4, with the runtime's ``updateMaxProcsGoroutine``, G5, in ``runnext``).

Pools of seeds per category are vetted against the zoo (tests/test_exercise_09.py
checks every one): on each pooled program, every wrong answer fails exactly the rules it
names. Every case names its seed and category: ``oq.generate(seed, category)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ...i18n import N_, _
from ...sched.orderquiz import CATEGORIES, Program, generate
from ..spec import Aspect, Exercise, Right, Wrong, as_list, as_str, draw


def _run(fns: dict[str, Callable], case: dict) -> list[str]:
    got = fns["predict"](Program.from_dict(case["args"]))
    return [as_str(t, "each item of predict's result") for t in
            as_list(got, "predict's result")]


def _whole(case: dict, out: list) -> list:
    return out


def _fmt(expected: list[str], got: list[str]) -> str:
    i = next((k for k in range(max(len(expected), len(got)))
              if k >= len(expected) or k >= len(got) or expected[k] != got[k]), 0)
    e = expected[i] if i < len(expected) else _("(the end)")
    g = got[i] if i < len(got) else _("(the end)")
    return (f"expected: {' '.join(expected)}\n"
            f"got:      {' '.join(got)}\n"
            + _("first difference, record {n}: expected {e}, got {g}").format(n=i + 1, e=e, g=g))


def regenerate(case: dict) -> str:
    a = case["args"]
    return f'oq.generate({a["seed"]}, "{a["category"]}")'


def describe(case: dict) -> str:
    p = Program.from_dict(case["args"])
    return (_("program {call}: ").format(call=regenerate(case))
            + " | ".join(p.describe().split("\n")))


def _repro(case: dict) -> str:
    return f"predict({regenerate(case)})"


def _pooled_cases(rng, visible: bool) -> list[dict]:
    """The visible seeds of each category, or HIDDEN_PER_CATEGORY others of its pool."""
    cases = []
    for cat in CATEGORIES:
        if visible:
            seeds = list(VISIBLE[cat])
        else:
            rest = [x for x in POOLS[cat] if x not in VISIBLE[cat]]
            seeds = []
            while len(seeds) < min(HIDDEN_PER_CATEGORY, len(rest)):
                x = rest[draw(rng, 0, len(rest) - 1)]
                if x not in seeds:
                    seeds.append(x)
        for seed in seeds:
            p = generate(seed, cat)
            cases.append({"tags": [cat], "args": p.to_dict(), "size": len(p.answer())})
    return cases


# --- the zoo: the solution, then one mistake at a time --------------------------------------

_SOLUTION = '''from collections import deque


def predict(program):
    out = []
    main = {"tag": "main", "i": 0, "pc": 0,
            "steps": program.main + (("wait",), ("emit", "end"))}
    g5 = {"tag": "runtime", "i": 0, "pc": 0, "steps": (("park",),)}  # updateMaxProcsGoroutine
    runnext, ring, glob = g5, deque(), deque()                         # @START@
    tick = 4                                                           # @TICK0@
    live, main_waits = 0, False
    recvq, sendq = deque(), deque()

    def runqput(g, next):
        nonlocal runnext
        if next:                                                       # @PUT@
            runnext, g = g, runnext                                    # @PUT+@
            if g is None:                                              # @PUT+@
                return                                                 # @PUT+@
        ring.append(g)

    def ready(g):
        runqput(g, True)                                               # @READY@

    g = main
    while True:
        while True:
            if g["pc"] == len(g["steps"]):
                if g is main:
                    return out
                live -= 1
                if live == 0 and main_waits:
                    main_waits = False
                    ready(main)
                break
            s = g["steps"][g["pc"]]
            g["pc"] += 1
            if s[0] == "emit":
                out.append(f"{s[1]}{g['i']}")
            elif s[0] == "go":
                for k in range(s[2]):
                    live += 1
                    new = {"tag": s[1], "i": s[3] + k, "pc": 0,
                           "steps": program.funcs[s[1]]}
                    runqput(new, True)                                 # @GO@
            elif s[0] == "gosched":
                glob.append(g)                                         # @YIELD@
                break
            elif s[0] == "send":
                if recvq:
                    ready(recvq.popleft())                             # @WAKE_R@
                else:
                    sendq.append(g)
                    break
            elif s[0] == "recv":
                if sendq:
                    ready(sendq.popleft())                             # @WAKE_S@
                else:
                    recvq.append(g)
                    break
            elif s[0] == "wait":
                if live:
                    main_waits = True
                    break
            else:                                                      # park for good
                break
        # schedule: findRunnable, then execute
        if tick % 61 == 0 and glob:                                    # @CHECK61@
            g, inherit = glob.popleft(), False                         # @CHECK61+@
        elif runnext is not None:                                      # @NEXT@
            g, runnext, inherit = runnext, None, True
        elif ring:
            g, inherit = ring.popleft(), False
        else:
            g, inherit = glob.popleft(), False                         # @BATCH@
            for _ in range(min(128, len(glob) + 1) - 1):               # @BATCH+@
                ring.append(glob.popleft())                            # @BATCH+@
        if not inherit:                                                # @TICK@
            tick += 1                                                  # @TICK+@
'''


def variant(**changes: str) -> str:
    """The solution with the lines marked @NAME@ replaced (the @NAME+@ lines after one
    go with it), indentation kept, the markers dropped."""
    lines = []
    for line in _SOLUTION.split("\n"):
        if any(f"# @{n}+@" in line for n in changes):
            continue
        for n, new in changes.items():
            if f"# @{n}@" in line:
                indent = line[: len(line) - len(line.lstrip())]
                line = "\n".join(indent + x for x in new.split("\n"))
        lines.append(re.sub(r"  +# @[A-Z0-9_]+\+?@$", "", line))
    return "\n".join(lines)


ALL = ("spawn", "gosched", "chan", "tick61")
ZOO = (
    Wrong("go-to-the-tail", ALL, variant(
        GO="runqput(new, False)                        # first started, first run")),
    Wrong("kicked-to-the-head", ALL, variant(
        PUT="if next:\n    runnext, g = g, runnext\n    if g is not None:\n"
            "        ring.appendleft(g)                # the old one goes first\n    return")),
    Wrong("gosched-to-the-local-tail", ("gosched", "tick61"), variant(
        YIELD="ring.append(g)                             # behind the local queue")),
    Wrong("gosched-to-runnext", ("gosched", "tick61"), variant(
        YIELD="runqput(g, True)                           # it runs again next")),
    Wrong("tick-starts-at-0", ("gosched", "tick61"), variant(TICK0="tick = 0")),
    Wrong("wake-to-the-tail", ("chan",), variant(
        READY="runqput(g, False)                      # behind the queue")),
    Wrong("waiters-woken-newest-first", ("chan",), variant(
        WAKE_R="ready(recvq.pop())                     # the newest waiter",
        WAKE_S="ready(sendq.pop())")),
    Wrong("no-61-check", ("tick61",), variant(
        CHECK61="if False:                                  # no fairness check\n    pass")),
    Wrong("every-g-ticks", ("tick61",), variant(
        TICK="tick += 1                                  # runnext Gs too")),
    Wrong("forgets-the-runtime-goroutine", ("tick61",), variant(
        START="runnext, ring, glob = None, deque(), deque()")),
)

RIGHT = (
    Right("lists-not-deques", variant().replace("from collections import deque\n", "")
          .replace("deque()", "[]").replace("popleft()", "pop(0)")),
    Right("a-tuple-of-records", variant().replace(
        "return out", "return tuple(out)").replace(
        "out.append(f\"{s[1]}{g['i']}\")", "out.append(\"%s%d\" % (s[1], g[\"i\"]))")),
    Right("counts-with-the-waitgroup", variant().replace(
        "live, main_waits = 0, False", "live, main_waits = program.goroutines(), False").replace(
        "                    live += 1\n", "")),
    Right("ticks-mod-61", variant().replace("tick = 4", "tick = 4 % 61").replace(
        "tick += 1", "tick = (tick + 1) % 61").replace("tick % 61 == 0", "not tick")),
)

# The programs: seeds per category, each vetted against the zoo (tests/test_exercise_09.py
# checks every one). VISIBLE are the shortest of each pool: the check cell's cases.
POOLS: dict[str, list[int]] = {
    "spawn": [
        1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 29, 30, 31, 32, 33, 34, 36, 38, 39, 40, 41, 42, 43, 44, 45
    ],
    "gosched": [
        20, 30, 31, 43, 46, 58, 68, 132, 145, 164, 178, 216, 234, 243, 249, 278, 281,
        312, 315, 326, 338, 347, 348, 349, 369, 389, 404, 423, 446, 450, 466, 514, 516,
        531, 534, 551, 589, 637, 638, 652
    ],
    "chan": [
        0, 1, 4, 6, 7, 8, 10, 12, 13, 22, 29, 60, 63, 70, 90
    ],
    "tick61": [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39
    ],
}
VISIBLE: dict[str, list[int]] = {
    "spawn": [
        1, 17
    ],
    "gosched": [
        46, 347
    ],
    "chan": [
        0, 29
    ],
    "tick61": [
        12, 9
    ],
}
HIDDEN_PER_CATEGORY = 3

EXERCISE = Exercise(
    id="09-predict-the-order",
    title=N_("Predict the execution order"),
    lesson="10-run-queues",  # lesson 10 (run queues and fairness): links it once merged
    functions=(("predict", ("program",)),),
    reference={"predict": "gostack.sched.orderquiz.Program.answer"},
    aspects=(
        Aspect("spawn", "go: the new G in runnext, the one it displaces to the local tail", 3,
               _whole, _fmt),
        Aspect("gosched", "Gosched: to the global queue, behind every local G", 2, _whole,
               _fmt),
        Aspect("chan", "a channel wakeup: the partner into runnext, the waiters in order", 3,
               _whole, _fmt),
        Aspect("tick61", "schedtick: every 61st slice the global queue first", 2, _whole,
               _fmt),
    ),
    _cases=_pooled_cases,
    _run=_run,
    call_text=describe,
    repro_text=_repro,
    visible_seed=111,
    extra_tripwires=("gostack.sched.machine.run", "gostack.sched.machine.Machine.run",
                     "gostack.sched.schedule.find_runnable", "gostack.sched.schedule.schedule",
                     "gostack.sched.runq.runqput", "gostack.sched.runq.runqget"),
    zoo=ZOO,
    right=RIGHT,
)
