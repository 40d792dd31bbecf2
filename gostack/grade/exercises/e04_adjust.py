"""Exercise 04 · pointer adjustment from stack maps (lesson 06).

``adjustframe(words, frame, adj)`` moves the frame's pointers into the old stack by delta and
returns a ``gs.Adjusted`` record per moved slot. The cases come in classes, one per rule, so
that one bug fails one rule (an exception on a nil pointer costs only the rule about nil):

* move: pointer slots holding old-stack addresses, both ends of the range among them;
* records: pointers well inside the range, and the records returned for them;
* map: uintptr and scalar locals holding old-stack addresses, a small scalar, and the words
  of the frames above (callers, adjusted by their own call): none of them may change;
* outside: pointer slots holding nil (stored or never written), a heap or global address,
  old.hi itself and the word just below old.lo: none may change;
* invalid: a pointer slot holding 0 < p < 4096 (the call throws), or exactly 4096 (it does
  not).

Every pointer slot outside the *outside* class holds a non-nil value, and non-pointer locals
outside the *map* class hold no value below 4096, so a bug about nil or about kinds cannot
reach another class. Words are memory: a 0 written reads like a word never written.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...adjust import Adjusted, AdjustInfo, FrameRef
from ...arch import MIN_LEGAL_POINTER, PAGE_SIZE
from ...errors import InvalidPointer, RuntimeThrow
from ...i18n import N_
from ...symtab import Func, Kind, Local
from ..spec import (
    HEAP,
    WORD,
    Aspect,
    BadResult,
    Exercise,
    Right,
    Wrong,
    as_int,
    as_list,
    as_str,
    as_words,
    draw,
    first_difference,
    localize_lines,
    num,
    pick,
    stack_base,
)

# --- cases -----------------------------------------------------------------------------------

GLOBALS = 0x52A000  # where a small Go binary's data segment sits on linux/amd64


def _inside(rng: random.Random, lo: int, hi: int) -> int:
    """An address well inside [lo, hi): not at either end."""
    return lo + 8 * draw(rng, 1, (hi - lo) // 8 - 2)


def _big(rng: random.Random) -> int:
    """A scalar that is not small (a bug reading it as a pointer cannot throw on it)."""
    return draw(rng, MIN_LEGAL_POINTER, WORD)


def _one(rng: random.Random, k: int, kind: str, variant: int, higher: bool) -> dict:
    old_size = 2048 << draw(rng, 0, 3)
    old_lo = stack_base(rng) + (PAGE_SIZE << 10)
    pages = -(-16 * old_size // PAGE_SIZE) + draw(rng, 0, 40)
    new_lo = old_lo + (1 if higher else -1) * pages * PAGE_SIZE
    old_hi, new_hi = old_lo + old_size, new_lo + 2 * old_size
    # (kind, value) of each local; None: never written.
    slots: list[tuple[Kind, int | None]] = []
    tags = [kind]
    if kind == "move":
        slots = [(Kind.POINTER, old_lo), (Kind.POINTER, old_hi - 8),
                 (Kind.POINTER, _inside(rng, old_lo, old_hi)),
                 (pick(rng, (Kind.SCALAR, Kind.UINTPTR)), _big(rng))]
    elif kind == "records":
        slots = [(Kind.POINTER, _inside(rng, old_lo, old_hi)) for _ in range(draw(rng, 2, 3))]
        slots.append((Kind.SCALAR, _big(rng)))
        tags.append("move")
    elif kind == "map":
        slots = [(Kind.UINTPTR, _inside(rng, old_lo, old_hi)),
                 (Kind.SCALAR, _inside(rng, old_lo, old_hi)),
                 (Kind.SCALAR, draw(rng, 1, 99)),  # x := 42
                 (Kind.POINTER, _inside(rng, old_lo, old_hi))]
    elif kind == "outside":
        slots = [(Kind.POINTER, 0), (Kind.POINTER, None), (Kind.POINTER, old_hi),
                 (Kind.POINTER, old_lo - 8), (Kind.POINTER, HEAP + 8 * draw(rng, 0, 1 << 20)),
                 (Kind.POINTER, GLOBALS + 8 * draw(rng, 0, 4096)),
                 (Kind.POINTER, _inside(rng, old_lo, old_hi))]
        if variant:
            slots = [slots[i] for i in (0, 1, 2, 3, 6)] if variant == 1 else \
                [slots[i] for i in (1, 2, 4, 5, 6)]
    elif kind == "invalid":
        bad = (8, MIN_LEGAL_POINTER - 8, MIN_LEGAL_POINTER - 1, 8 * draw(rng, 1, 511),
               MIN_LEGAL_POINTER)[variant]
        slots = [(Kind.POINTER, _inside(rng, old_lo, old_hi)), (Kind.POINTER, bad),
                 (Kind.UINTPTR, _big(rng))]
    order = list(range(len(slots)))
    for i in range(len(order) - 1, 0, -1):  # shuffle with random() only
        j = int(rng.random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    slots = [slots[i] for i in order]
    gap = draw(rng, 0, 3)
    local_list = [[f"v{i}", kind_.value, 8 * (i + gap)] for i, (kind_, _) in enumerate(slots)]
    frame = 8 * (len(slots) + gap + 1 + draw(rng, 0, 2))
    sp = new_hi - 8 * draw(rng, 4, 40) - frame
    words = {}
    for (_, value), (_, _, off) in zip(slots, local_list, strict=True):
        if value is not None:
            words[sp + off] = value
    for _ in range(draw(rng, 1, 2)):  # the callers' words, not yet adjusted: not this frame's
        words[sp + frame + 8 * draw(rng, 1, 3)] = _inside(rng, old_lo, old_hi)
    return {"tags": tags, "size": len(words), "args": {
        "words": sorted(words.items()), "func": [f"main.f{k}", frame, local_list], "sp": sp,
        "adj": [old_lo, old_hi, new_hi - old_hi]}}


def _adjust_cases(rng: random.Random, visible: bool) -> list[dict]:
    if visible:
        plan = [("move", 0, True), ("move", 0, False), ("records", 0, True),
                ("map", 0, False), ("map", 0, True), ("outside", 0, True),
                ("outside", 0, False), ("invalid", 0, True), ("invalid", 1, False),
                ("invalid", 4, True)]
    else:
        plan = [(kind, variant, (i + variant) % 2 == 0)
                for i, (kind, variants) in enumerate((("move", 3), ("records", 3), ("map", 3),
                                                      ("outside", 3), ("invalid", 5)))
                for variant in range(variants)]
        plan += [("invalid", 4, False), ("records", 0, False)]
    return [_one(rng, k, *step) for k, step in enumerate(plan)]


# --- running a case --------------------------------------------------------------------------


def _adjust_objects(case: dict) -> tuple[dict, FrameRef, AdjustInfo]:
    a = case["args"]
    name, frame, local_list = a["func"]
    func = Func(name, frame, tuple(Local(n, Kind(k), off) for n, k, off in local_list))
    return {k: v for k, v in a["words"]}, FrameRef(func, a["sp"]), AdjustInfo(*a["adj"])


def _record(r: object) -> list:
    if type(r) is Adjusted:
        items = [r.func, r.local, r.addr, r.old, r.new]
    else:
        items = as_list(r, "a record")
        if len(items) != 5:
            raise BadResult("each record must be a gs.Adjusted(func, local, addr, old, new)")
    return [as_str(items[0], "Adjusted.func"), as_str(items[1], "Adjusted.local"),
            *(as_int(v, "an Adjusted field") for v in items[2:])]


def _adjust_run(fns: dict[str, Callable], case: dict) -> dict:
    words, frame, adj = _adjust_objects(case)
    try:
        done = fns["adjustframe"](words, frame, adj)
    except InvalidPointer:
        return {"raises": "InvalidPointer"}
    except RuntimeThrow as e:
        if getattr(e, "throw_message", "") == "invalid pointer found on stack":
            return {"raises": "InvalidPointer"}
        raise
    memory = sorted([a, v] for a, v in as_words(words, "words") if v != 0)
    try:  # a wrong result costs the records rule only: the words are judged all the same
        records, bad = sorted(_record(r) for r in as_list(done, "adjustframe's result")), None
    except BadResult as e:
        records, bad = None, str(e)
    return {"words": memory, "adjusted": records, "bad": bad}


# --- what the learner reads ------------------------------------------------------------------


_KIND_NAMES = {"pointer": "gs.POINTER", "uintptr": "gs.UINTPTR", "scalar": "gs.SCALAR"}


def _adjust_call(case: dict) -> str:
    a = case["args"]
    name, frame, local_list = a["func"]
    lo, hi, delta = a["adj"]
    return localize_lines(
        f"adjustframe(words with {len(a['words'])} words, FrameRef({name}, frame {frame} B, "
        f"{len(local_list)} locals, sp={a['sp']:#x}), "
        f"AdjustInfo(old_lo={lo:#x}, old_hi={hi:#x}, delta={delta:+,}))", LINES)


def _adjust_repro(case: dict) -> str:
    a = case["args"]
    name, frame, local_list = a["func"]
    words = ", ".join(f"{addr:#x}: {num(v)}" for addr, v in a["words"])
    locs = ", ".join(f"gs.Local({n!r}, {_KIND_NAMES[k]}, {off})" for n, k, off in local_list)
    lo, hi, delta = a["adj"]
    return (f"adjustframe({{{words}}}, gs.FrameRef(gs.Func({name!r}, {frame}, [{locs}]), "
            f"{a['sp']:#x}), gs.AdjustInfo({lo:#x}, {hi:#x}, {'-' if delta < 0 else ''}"
            f"{abs(delta):#x}))")


def _raised(out: dict) -> str | None:
    return "the call raised gs.InvalidPointer" if "raises" in out else None


def _slot_lines(case: dict, out: dict, which: Callable[[str, int], bool]) -> list[str]:
    """One line per local of the frame chosen by which(kind, value before)."""
    a = case["args"]
    before = dict(map(tuple, a["words"]))
    have = {} if "raises" in out else dict(map(tuple, out["words"]))
    lines = []
    for name, kind, off in sorted(a["func"][2], key=lambda x: x[2]):
        addr = a["sp"] + off
        if which(kind, before.get(addr, 0)):
            now = _raised(out) or num(have.get(addr))
            lines.append(f"{name}, the {kind} at sp+{off} ({addr:#x}), held "
                         f"{num(before.get(addr))}: now {now}")
    return lines


def _in_old(case: dict, p: int) -> bool:
    lo, hi, _ = case["args"]["adj"]
    return lo <= p < hi


def _moved(case: dict, out: dict) -> list[str]:
    return _slot_lines(case, out, lambda k, p: k == "pointer" and _in_old(case, p))


def _outside(case: dict, out: dict) -> list[str]:
    return _slot_lines(case, out, lambda k, p: k == "pointer" and not _in_old(case, p))


def _map(case: dict, out: dict) -> list[str]:
    """This frame's non-pointer locals and every word that is not one of its locals."""
    lines = _slot_lines(case, out, lambda k, p: k != "pointer")
    a = case["args"]
    before = dict(map(tuple, a["words"]))
    mine = {a["sp"] + off for _, _, off in a["func"][2]}
    have = {} if "raises" in out else dict(map(tuple, out["words"]))
    frame = a["func"][1]
    for addr in sorted(before):
        if addr not in mine:
            now = _raised(out) or num(have.get(addr))
            lines.append(f"the word at sp+{addr - a['sp']} ({addr:#x}), above this "
                         f"{frame}-byte frame, held {num(before[addr])}: now {now}")
    added = sorted(set(have) - set(before) - mine)
    lines.append("words written outside this frame's pointer slots: "
                 + (", ".join(f"{x:#x}" for x in added) or "none"))
    return lines


def _records(case: dict, out: dict) -> list[str]:
    """The record of each slot that moves. A record's ``new`` that matches the word the
    function left in the slot counts as right here: a wrong move is the move rule's."""
    a = case["args"]
    lo, hi, delta = a["adj"]
    before = dict(map(tuple, a["words"]))
    have = dict(map(tuple, out["words"]))
    lines = []
    for local, kind, off in sorted(a["func"][2], key=lambda x: x[2]):
        addr = a["sp"] + off
        p = before.get(addr, 0)
        if kind != "pointer" or not lo <= p < hi:
            continue
        if "raises" in out or out["adjusted"] is None:
            lines.append(f"{local} at {addr:#x}: no record ("
                         + ("the call raised gs.InvalidPointer)" if "raises" in out
                            else f"{out['bad']})"))
            continue
        mine = [r for r in out["adjusted"] if r[2] == addr]
        texts = []
        for f, loc, at, old, new in mine:
            if new == have.get(addr, 0):
                new = old + delta
            texts.append(f"gs.Adjusted({f!r}, {loc!r}, {at:#x}, {num(old)}, {num(new)})")
        lines.append(f"{local} at {addr:#x}: " + (" and ".join(texts) or "no record"))
    return lines


def _invalid(case: dict, out: dict) -> str:
    """Whether the call threw, and (the same on both sides) the slot that decides it."""
    a = case["args"]
    before = dict(map(tuple, a["words"]))
    held = sorted((before.get(a["sp"] + off, 0), name) for name, kind, off in a["func"][2]
                  if kind == "pointer" and before.get(a["sp"] + off, 0))
    verdict = "raises gs.InvalidPointer" if "raises" in out else "returns, no exception"
    return f"{verdict} (the smallest non-nil pointer: {held[0][1]} = {num(held[0][0])})"


#: The English every line above is made of, for :func:`localize_lines` (a check or a report in
#: another language shows them translated; the grader compares the English).
LINES = (
    N_("{name}, the {kind} at sp+{off} ({addr}), held {before}: now {now}"),
    N_("the word at sp+{off} ({addr}), above this {frame}-byte frame, held {before}: now {now}"),
    N_("words written outside this frame's pointer slots: {addrs}"),
    N_("{local} at {addr}: no record (the call raised gs.InvalidPointer)"),
    N_("{local} at {addr}: no record ({why})"),
    N_("{local} at {addr}: no record"),
    N_("{local} at {addr}: {records}"),  # after the others: the first template that fits wins
    N_("raises gs.InvalidPointer (the smallest non-nil pointer: {name} = {value})"),
    N_("returns, no exception (the smallest non-nil pointer: {name} = {value})"),
    N_("a normal return (no slot of this frame is an invalid pointer)"),
    N_("the call raised gs.InvalidPointer"),
    N_("nothing"),
    N_("none"),
    N_("adjustframe(words with {n} words, FrameRef({name}, frame {frame} B, {locals} locals, "
       "{rest}"),
)


def _slot_difference(expected: list[str], got: list[str]) -> str:
    """The first slot that differs; a call that threw shows as that, not as a slot."""
    g = next(g for e, g in zip(expected, got, strict=True) if e != g)
    if g.endswith("now the call raised gs.InvalidPointer"):  # no slot's value is worth showing
        return localize_lines(
            "expected: a normal return (no slot of this frame is an invalid pointer)\n"
            "got:      the call raised gs.InvalidPointer", LINES)
    return localize_lines(first_difference(expected, got), LINES)


def _invalid_fmt(expected: str, got: str) -> str:
    return localize_lines(f"expected: {expected}\ngot:      {got}", LINES)


# --- the bug zoo -----------------------------------------------------------------------------


def _variant(condition: str = "adj.old_lo <= p < adj.old_hi", check: str = "0 < p < 4096",
             kinds: str = "slot.kind is gs.POINTER", write: str = "words[addr] = p + adj.delta",
             record: str = "gs.Adjusted(frame.func.name, slot.name, addr, p, p + adj.delta)",
             note: str = "") -> str:
    return f"""\
def adjustframe(words, frame, adj):{note}
    done = []
    for slot in frame.func.locals:
        if not ({kinds}):
            continue
        addr = frame.sp + slot.offset
        p = words.get(addr, 0)
        if {check}:
            raise gs.InvalidPointer(frame.func.name, addr, p)
        if {condition}:
            {write}
            done.append({record})
    return done
"""


ZOO = (
    Wrong("uintptr_is_a_pointer", ("map",),
          _variant(kinds="slot.kind in (gs.POINTER, gs.UINTPTR)",
                   note="  # a uintptr holds an address too")),
    Wrong("every_local", ("map",), _variant(kinds="True", note="  # no stack map")),
    Wrong("scans_every_word", ("map",), """\
def adjustframe(words, frame, adj):   # every word above sp that looks like an old address
    others = {frame.sp + s.offset for s in frame.func.locals if s.kind is not gs.POINTER}
    names = {frame.sp + s.offset: s.name for s in frame.func.locals}
    done = []
    for addr in sorted(words):
        p = words[addr]
        if addr < frame.sp or addr in others:
            continue
        if addr in names and 0 < p < 4096:
            raise gs.InvalidPointer(frame.func.name, addr, p)
        if adj.old_lo <= p < adj.old_hi:
            words[addr] = p + adj.delta
            if addr in names:
                done.append(gs.Adjusted(frame.func.name, names[addr], addr, p, p + adj.delta))
    return done
"""),
    Wrong("old_hi_included", ("outside",), _variant(condition="adj.old_lo <= p <= adj.old_hi")),
    Wrong("old_lo_excluded", ("move",), _variant(condition="adj.old_lo < p < adj.old_hi")),
    Wrong("unsigned_idiom_in_python", ("outside",),
          _variant(condition="p - adj.old_lo < adj.old_hi - adj.old_lo",
                   note="  # Go's uintptr trick, without the wrap-around")),
    Wrong("nil_is_invalid", ("outside",), _variant(check="p < 4096")),
    Wrong("no_invalid_check", ("invalid",), _variant(check="False")),
    Wrong("invalid_up_to_4096", ("invalid",), _variant(check="0 < p <= 4096")),
    Wrong("subtracts_delta", ("move",),
          _variant(write="words[addr] = p - adj.delta",
                   record="gs.Adjusted(frame.func.name, slot.name, addr, p, p - adj.delta)")),
    Wrong("forgets_to_write_back", ("move",), _variant(write="pass")),
    Wrong("records_swapped", ("records",),
          _variant(record="gs.Adjusted(frame.func.name, slot.name, addr, p + adj.delta, p)")),
    Wrong("returns_nothing", ("records",), _variant().replace("    return done\n", "")),
)

RIGHT = (
    Right("range_membership", """\
def adjustframe(words, frame, adj):
    moved = []
    for slot in (s for s in frame.func.locals if s.kind == gs.POINTER):
        addr = frame.sp + slot.offset
        p = words.get(addr, 0)
        if p in range(1, 4096):
            raise gs.InvalidPointer(frame.func.name, addr, p)
        if p in range(adj.old_lo, adj.old_hi):
            words[addr] = p + adj.delta
            moved.append(gs.Adjusted(frame.func.name, slot.name, addr, p, words[addr]))
    return moved
"""),
    Right("unsigned_arithmetic", """\
MASK = (1 << 64) - 1

def adjustframe(words, frame, adj):
    out = []
    for slot in frame.func.locals:
        if slot.kind is not gs.POINTER:
            continue
        addr = frame.sp + slot.offset
        p = words.get(addr, 0)
        if (p - 1) & MASK < 4095:                       # 0 < p < 4096, as one unsigned test
            raise gs.InvalidPointer(frame.func.name, addr, p)
        if (p - adj.old_lo) & MASK < adj.old_hi - adj.old_lo:   # adjustpointer's test
            words[addr] = (p + adj.delta) & MASK
            out.append(gs.Adjusted(frame.func.name, slot.name, addr, p, words[addr]))
    return out
"""),
    Right("check_first_then_adjust_with_tuples", """\
def adjustframe(*args):
    words, frame, adj = args
    slots = [(s.name, frame.sp + s.offset) for s in frame.func.locals if s.kind is gs.POINTER]
    for _, addr in slots:                           # throw before touching anything
        if 0 < words.get(addr, 0) < 4096:
            raise gs.InvalidPointer(frame.func.name, addr, words[addr])
    moving = [(n, a, words[a]) for n, a in slots if adj.old_lo <= words.get(a, 0) < adj.old_hi]
    words.update({a: p + adj.delta for _, a, p in moving})
    return [(frame.func.name, n, a, p, p + adj.delta) for n, a, p in moving]
"""),
    Right("pointer_offsets_and_keywords", """\
def adjustframe(words, frame, adj, *, min_legal=4096):
    fn = frame.func
    by_offset = {s.offset: s.name for s in fn.locals}
    result = []
    for off in fn.pointer_offsets:
        addr = frame.sp + off
        p = words[addr] if addr in words else 0
        if p and p < min_legal:
            raise gs.InvalidPointer(fn.name, addr, p)
        if not (p < adj.old_lo or p >= adj.old_hi):
            words[addr] += adj.delta
            result.append(gs.Adjusted(fn.name, by_offset[off], addr, p, words[addr]))
    return result
"""),
)


EXERCISE = Exercise(
    id="04-adjust",
    title=N_("Pointer adjustment from stack maps"),
    lesson="06-stack-maps",
    functions=(("adjustframe", ("words", "frame", "adj")),),
    reference={"adjustframe": "gostack.adjust.adjustframe"},
    aspects=(
        Aspect("move", "moves the pointers into the old stack by delta, both ends included",
               3, _moved, _slot_difference),
        Aspect("map", "changes only the stack map's pointer slots: not uintptrs, scalars or "
               "other frames", 2, _map, _slot_difference),
        Aspect("outside", "leaves pointers outside the old stack alone: nil, heap, globals, "
               "just past either end", 2, _outside, _slot_difference),
        Aspect("records", "returns one gs.Adjusted per moved slot, with its old and new value",
               2, _records, _slot_difference),
        Aspect("invalid", "throws on a small non-nil pointer, and only then", 1, _invalid,
               _invalid_fmt),
    ),
    _cases=_adjust_cases,
    _run=_adjust_run,
    call_text=_adjust_call,
    repro_text=_adjust_repro,
    visible_seed=106,
    zoo=ZOO,
    right=RIGHT,
)
