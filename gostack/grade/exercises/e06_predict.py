"""Exercise 06 · predict the trace (lesson 04).

The learner's ``predict(problem)`` follows a goroutine's stack as offsets from ``hi`` and
returns ``[(call index, new size), ...]``. Three rules, each judged on the programs where it
decides the answer (and where the other rules' mistakes do not show):

* ``calls``: which calls grow: recursion programs, small and medium frames, some landing
  exactly on the prologue's boundary; the whole answer is compared;
* ``sizes``: how far it grows: huge frames and big entry frames; the sizes are compared;
* ``returns``: returns go back to the caller's SP and never shrink the stack: programs that
  return and call again; the sizes are compared.
"""

from __future__ import annotations

from collections.abc import Callable

from ...i18n import N_, _
from ...problems import Problem
from ..spec import (
    Aspect,
    BadResult,
    Exercise,
    Right,
    Wrong,
    as_int,
    as_list,
)
from ._problems import describe, pooled_cases, regenerate


def _predict_run(fns: dict[str, Callable], case: dict) -> list:
    got = fns["predict"](Problem.from_dict(case["args"]))
    pairs = []
    for item in as_list(got, "predict's result"):
        pair = as_list(item, "each item of predict's result")
        if len(pair) != 2:
            raise BadResult("each item must be a pair (call_index, new_size)")
        pairs.append([as_int(pair[0], "a call index"), as_int(pair[1], "a new size")])
    return pairs


def _whole(case: dict, out: list) -> list:
    return out


def _sizes(case: dict, out: list) -> list:
    return [size for _, size in out]


def _growth(p: list | None) -> str:
    if p is None:
        return _("(no growth)")
    return _("call {n} grows the stack to {size} bytes").format(n=p[0], size=f"{p[1]:,}")


def _size(s: int | None) -> str:
    return _("(no growth)") if s is None else _("{size} bytes").format(size=f"{s:,}")


def _listing(xs: list, one: Callable) -> str:
    return "[" + ", ".join(one(x) for x in xs) + "]" if xs else _("[] (no growth at all)")


def _pairs_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (f"expected: {_listing(expected, lambda p: f'({p[0]}, {p[1]:,})')}\n"
                    f"got:      {_listing(got, lambda p: f'({p[0]}, {p[1]:,})')}\n"
                    + _("first difference, growth {n}: expected {e}, got {g}").format(
                        n=i + 1, e=_growth(a), g=_growth(b)))
    return "the same"


def _sizes_diff(expected: list, got: list) -> str:
    for i in range(max(len(expected), len(got))):
        a = expected[i] if i < len(expected) else None
        b = got[i] if i < len(got) else None
        if a != b:
            return (_("expected sizes: {sizes}").format(
                        sizes=_listing(expected, lambda s: f"{s:,}")) + "\n"
                    + _("got sizes:      {sizes}").format(sizes=_listing(got, lambda s: f"{s:,}"))
                    + "\n" + _("first difference, growth {n}: expected {e}, got {g}").format(
                        n=i + 1, e=_size(a), g=_size(b)))
    return "the same"


def _repro(case: dict) -> str:
    return f"predict({regenerate(case)})"


# --- the zoo: the solution, then one mistake at a time --------------------------------------

_SOLUTION = '''
def predict(problem):
    size = 2048
    sp = @START@                 # hi - SP: newproc's reserve
    saved = []                   # the caller's hi - SP of each live frame
    growths = []

    def call(index, frame):
        nonlocal size, sp
        e = sp + @RA@               # CALL pushes the return address
        while e + @EXTRA@ >= size - 928:
            new = 2 * size
            @GROW@
            growths.append((index, new))
            size = new
        saved.append(sp)
        sp = e + frame

    @ENTRY@
    index = @FIRST@
    for step in problem.steps:
        if step.op == "call":
            index += 1
            call(index, step.func.frame)
        elif step.op == "ret":
            @RET@
    return growths
'''

_RIGHT_WAY = {"@START@": "32", "@RA@": "8", "@EXTRA@": "max(0, frame - 128)",
              "@GROW@": "while new - e < frame + 928:\n                new *= 2",
              "@ENTRY@": "call(0, problem.entry.frame)", "@FIRST@": "0",
              "@RET@": "sp = saved.pop()"}


def _variant(CMP: str = ">= size - 928", **changes: str) -> str:  # noqa: N803
    code = _SOLUTION.replace(">= size - 928", CMP)
    for key, value in {**_RIGHT_WAY, **{f"@{k}@": v for k, v in changes.items()}}.items():
        code = code.replace(key, value)
    return code


_ZOO = (
    Wrong("entry-is-call-1", ("calls",), _variant(ENTRY="call(1, problem.entry.frame)",
                                                  FIRST="1")),
    Wrong("no-return-address", ("calls",), _variant(RA="0")),
    Wrong("no-newproc-reserve", ("calls",), _variant(START="0")),
    Wrong("frame-not-frame-minus-128", ("calls",), _variant(EXTRA="frame")),
    Wrong("strict-greater", ("calls",), _variant(CMP="> size - 928")),
    Wrong("single-doubling", ("sizes",), _variant(GROW="pass")),
    Wrong("entry-never-checked", ("sizes",), _variant(
        ENTRY="saved.append(sp)\n    sp = sp + 8 + problem.entry.frame")),
    Wrong("ret-keeps-the-callee-sp", ("returns",), _variant(RET="pass")),
    Wrong("ret-forgets-the-return-address", ("returns",), '''
def predict(problem):
    size, sp = 2048, 32
    frames, growths = [], []     # the frame size of each live function

    def call(index, frame):
        nonlocal size, sp
        e = sp + 8
        while e + max(0, frame - 128) >= size - 928:
            new = 2 * size
            while new - e < frame + 928:
                new *= 2
            growths.append((index, new))
            size = new
        frames.append(frame)
        sp = e + frame

    call(0, problem.entry.frame)
    index = 0
    for step in problem.steps:
        if step.op == "call":
            index += 1
            call(index, step.func.frame)
        elif step.op == "ret":
            sp -= frames.pop()   # the frame, but not the 8-byte return address
    return growths
'''),
    Wrong("ret-shrinks", ("returns",), _variant(
        RET="sp = saved.pop()\n            if size > 2048 and sp + 800 < size // 4:\n"
            "                size //= 2")),
)

_RIGHT = (
    Right("addresses-not-offsets", '''
def predict(problem):
    hi = 0xc000100000
    lo = hi - 2048
    sps, growths = [], []
    sp = hi - 32

    def enter(index, frame):
        nonlocal lo, sp
        entry = sp - 8
        while entry - max(0, frame - 128) <= lo + 928:
            size = hi - lo
            new = size * 2
            while hi - entry + frame + 928 > new:
                new *= 2
            growths.append((index, new))
            lo = hi - new
        sps.append(sp)
        sp = entry - frame

    enter(0, problem.entry.frame)
    n = 0
    for step in problem.steps:
        if step.op == "call":
            n += 1
            enter(n, step.func.frame)
        elif step.op == "ret":
            sp = sps.pop()
    return growths
'''),
    Right("bit-length-sizes", '''
def predict(problem):
    size, used, stack, out = 2048, 32, [], []
    frames = [problem.entry.frame] + [s.func.frame if s.op == "call" else None
                                       for s in problem.steps]
    index = -1
    for frame in frames:
        if frame is None:
            used = stack.pop()
            continue
        index += 1
        e = used + 8
        if e + max(0, frame - 128) >= size - 928:
            need = max(2 * size, e + frame + 928)
            size = 1 << (need - 1).bit_length()
            out.append((index, size))
        stack.append(used)
        used = e + frame
    return out
'''),
    Right("a-small-class", '''
class _Stack:
    def __init__(self):
        self.size, self.sp, self.frames, self.log = 2048, 32, [], []

    def call(self, index, frame):
        e = self.sp + 8
        if e + max(0, frame - 128) >= self.size - 928:
            new = self.size
            while True:
                new *= 2
                if e + frame + 928 <= new:
                    break
            self.log.append((index, new))
            self.size = new
        self.frames.append(self.sp)
        self.sp = e + frame

    def ret(self):
        self.sp = self.frames.pop()


def predict(problem, *extra):
    s = _Stack()
    s.call(0, problem.entry.frame)
    calls = 0
    for step in problem.steps:
        if step.op == "ret":
            s.ret()
        elif step.op == "call":
            calls += 1
            s.call(calls, step.func.frame)
    return [list(g) for g in s.log]
'''),
    Right("numpy-ints", '''
import numpy as np


def predict(problem):
    size, sp = np.int64(2048), np.int64(32)
    back, out = [], []
    steps = [("call", problem.entry.frame)] + [
        (s.op, s.func.frame if s.op == "call" else 0) for s in problem.steps]
    index = np.int64(-1)
    for op, frame in steps:
        if op == "ret":
            sp = back.pop()
            continue
        if op != "call":
            continue
        index += 1
        e = sp + 8
        if e + max(0, frame - 128) >= size - 928:
            new = size * 2
            while new < e + frame + 928:
                new = new * 2
            out.append((index, new))
            size = new
        back.append(sp)
        sp = e + frame
    return out
'''),
)

# The programs: seeds per category, each vetted against the zoo (tests/test_exercise_06.py
# checks every one): on each, every wrong answer changes its own rule's projection only,
# and the correct variants are right. VISIBLE are the boundary cases the check cell shows:
# between them they catch every wrong answer of the zoo. Hidden and per-student cases are
# drawn from the rest of each pool.
POOLS: dict[str, list[int]] = {
    "recursion": [
        286431159, 208687403, 1578745294, 121119157, 1430803542, 1417110117, 1019340407,
        351306458, 1921825730, 1405838996, 40553645, 1613114453, 887071317, 836758801,
        891472248, 2046513612, 148922519, 460341032, 1662966512, 1205841491, 308693642,
        922732966, 1314808746, 695448523, 1614354859, 277313978, 1907093494, 1236605152,
        159391522, 1146973782, 2119598241, 780877733, 168885807, 771523773, 158755724,
        106097685, 1666243684, 2005631491, 697522325, 2063883411
    ],
    "huge": [
        1692715624, 867822680, 1973915928, 281620216, 82887379, 196189547, 1282069047,
        1936668547, 405440005, 440826004, 201692824, 957147390, 82112726, 762477502,
        1209355302, 1891069907, 1724222929, 2116388604, 741588124, 2012819671,
        1773951867, 1012805264, 683663649, 1089419870, 1996960265, 1194108989,
        1733144104, 1730130558, 1180590074, 1883809323, 1947932336, 392883395,
        2104011784, 1103678614, 1088466587, 1066676701, 1941061063, 532154308,
        428681956, 628707743
    ],
    "entry": [
        454906841, 1198312157, 658607072, 562399861, 840690531, 1182267088, 1225733304,
        1104109638, 1504693211, 762091764, 915701156, 1751550473, 992235045, 495201884,
        31193031, 550847888, 1799728528, 1920252295, 1993957586, 559076343, 1791075776,
        697370258, 1228065006, 677222169, 1941151625, 1239620056, 361052856, 1545514844,
        1293946809, 402455704, 1789027277, 1024082211, 1034500634, 654433117, 222612213,
        1593628741, 1043693033, 909028632, 1184083775, 1074809543
    ],
    "returns": [
        435715264, 805509989, 1018242926, 1739316816, 1624037997, 1339063108, 699591753,
        1456556180, 1301876935, 1156426100, 1319069562, 2038431818, 1453822768,
        1832874099, 393468707, 1707807317, 199101295, 1695373682, 911519104, 652957152,
        679894725, 26669830, 1283994252, 444188750, 1088643058, 369407713, 1099235705,
        955618043, 1818613592, 1641192866, 1921713501, 115447373, 1454472214,
        1221126637, 944318305, 1099428927, 981151990, 1086669023, 1006977384, 813063339
    ],
}
VISIBLE: dict[str, list[int]] = {
    "recursion": [
        286431159, 208687403
    ],
    "huge": [
        1692715624, 867822680
    ],
    "entry": [
        454906841, 1198312157
    ],
    "returns": [
        435715264, 805509989
    ],
}
TAGS = {"recursion": ["calls"], "huge": ["sizes"], "entry": ["sizes"], "returns": ["returns"]}

EXERCISE = Exercise(
    id="06-predict-the-trace",
    title=N_("Predict the trace"),
    lesson="04-newstack",
    functions=(("predict", ("problem",)),),
    reference={"predict": "gostack.problems.Problem.answer"},
    aspects=(
        Aspect("calls", "which calls grow: counting from the entry (call 0), offsets from hi, "
               "the prologue's boundary", 4, _whole, _pairs_diff),
        Aspect("sizes", "how far it grows: a huge frame or a big entry takes several "
               "doublings at once", 3, _sizes, _sizes_diff),
        Aspect("returns", "returns: back to the caller's SP, and the stack never shrinks", 3,
               _sizes, _sizes_diff),
    ),
    _cases=pooled_cases("predict", POOLS, VISIBLE, 3, TAGS),
    _run=_predict_run,
    call_text=describe,
    repro_text=_repro,
    visible_seed=109,
    extra_tripwires=(
        "gostack.problems.Problem.run",
        "gostack.runtime.Runtime.go",
        "gostack.runtime.Goroutine.call",
    ),
    zoo=_ZOO,
    right=_RIGHT,
)
