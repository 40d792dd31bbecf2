"""Exercise 04 · pointer adjustment from stack maps (lesson 06)."""

from __future__ import annotations

import random
from collections.abc import Callable

from ...adjust import Adjusted, AdjustInfo, FrameRef
from ...arch import MIN_LEGAL_POINTER
from ...errors import InvalidPointer, RuntimeThrow
from ...symtab import Func, Kind, Local
from ..spec import (
    HEAP,
    WORD,
    Aspect,
    BadResult,
    Exercise,
    as_int,
    as_list,
    as_str,
    as_words,
    draw,
    pick,
    same,
    stack_base,
    word_diff,
)

_KINDS = (Kind.POINTER, Kind.UINTPTR, Kind.SCALAR)


def _adjust_cases(rng: random.Random, visible: bool) -> list[dict]:
    cases = []
    n = 10 if visible else 14
    for k in range(n):
        old_size = 2048 << draw(rng, 0, 3)
        old_lo = stack_base(rng)
        new_lo = stack_base(rng)
        while abs(new_lo - old_lo) < 4 * old_size:
            new_lo = stack_base(rng)
        old_hi, new_hi = old_lo + old_size, new_lo + 2 * old_size
        nlocals = draw(rng, 3, 8)
        kinds = [Kind.POINTER, pick(rng, (Kind.UINTPTR, Kind.SCALAR))]
        kinds += [pick(rng, _KINDS) for _ in range(nlocals - 2)]
        order = list(range(nlocals))
        for i in range(nlocals - 1, 0, -1):  # shuffle with random() only
            j = int(rng.random() * (i + 1))
            order[i], order[j] = order[j], order[i]
        local_list = [[f"v{i}", kinds[i].value, 8 * order[i]] for i in range(nlocals)]
        frame = 8 * (nlocals + 1 + draw(rng, 0, 4))
        sp = new_hi - 8 * draw(rng, 2, 64) - frame
        words = {}
        tags = {"move", "records"}
        invalid = k == n - 1 or (not visible and k == n - 2)
        for _, kind, off in local_list:
            addr = sp + off
            r = rng.random()
            if kind != "pointer":
                v = old_lo + 8 * draw(rng, 0, old_size // 8 - 1) if r < 0.6 else draw(rng, 1, WORD)
                tags.add("nonptr")
            elif r < 0.55:
                v = old_lo + 8 * draw(rng, 0, old_size // 8 - 1)
            elif r < 0.65:
                v = pick(rng, (old_lo, old_hi - 8))
            else:
                v = pick(rng, (0, old_hi, HEAP + 8 * draw(rng, 0, 1 << 20), new_hi - 8))
                tags.add("outside")
            if v or rng.random() < 0.5:
                words[addr] = v
        if invalid:
            ptr = next(off for _, kind, off in local_list if kind == "pointer")
            words[sp + ptr] = 8 * draw(rng, 1, MIN_LEGAL_POINTER // 8 - 1)
            tags = {"invalid"}
        for _ in range(draw(rng, 1, 4)):  # other frames' words: not this frame's business
            words[sp + frame + 8 * draw(rng, 1, 30)] = old_lo + 8 * draw(rng, 0, 255)
        cases.append({"tags": sorted(tags), "size": nlocals, "args": {
            "words": sorted(words.items()),
            "func": [f"main.f{k}", frame, local_list], "sp": sp,
            "adj": [old_lo, old_hi, new_hi - old_hi]}})
    return cases


def _adjust_objects(case: dict) -> tuple[dict, FrameRef, AdjustInfo]:
    a = case["args"]
    name, frame, local_list = a["func"]
    func = Func(name, frame, tuple(Local(n, Kind(k), off) for n, k, off in local_list))
    return {k: v for k, v in a["words"]}, FrameRef(func, a["sp"]), AdjustInfo(*a["adj"])


def _record(r: object) -> list:
    if type(r) is Adjusted:
        return [r.func, r.local, r.addr, r.old, r.new]
    items = as_list(r, "an Adjusted record")
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
    records = sorted(_record(r) for r in as_list(done, "adjustframe's result"))
    return {"words": as_words(words, "words"), "adjusted": records}


def _adjust_call(case: dict) -> str:
    a = case["args"]
    name, frame, local_list = a["func"]
    locs = ", ".join(f"{n}:{k}@{off}" for n, k, off in sorted(local_list, key=lambda x: x[2]))
    lo, hi, delta = a["adj"]
    return (f"adjustframe(words, FrameRef({name} frame={frame} [{locs}], sp={a['sp']:#x}), "
            f"AdjustInfo(old_lo={lo:#x}, old_hi={hi:#x}, delta={delta:+#x}))")


def _slots(case: dict, out: dict, kinds: set[str], moved: bool | None) -> list:
    if "words" not in out:
        return [out]
    a = case["args"]
    lo, hi, _ = a["adj"]
    before = dict(map(tuple, a["words"]))
    have = dict(map(tuple, out["words"]))
    want = []
    for _, kind, off in a["func"][2]:
        addr = a["sp"] + off
        inside = lo <= before.get(addr, 0) < hi
        if kind in kinds and (moved is None or inside == moved):
            want.append([addr, have.get(addr, 0)])
    return want


EXERCISE = Exercise(
    id="04-adjust",
    title="Pointer adjustment from stack maps",
    lesson="06-stack-maps",
    functions=(("adjustframe", ("words", "frame", "adj")),),
    reference={"adjustframe": "gostack.adjust.adjustframe"},
    aspects=(
        Aspect("move", "moves each pointer into [old.lo, old.hi) by delta", 3,
               lambda c, o: _slots(c, o, {"pointer"}, True), word_diff),
        Aspect("nonptr", "leaves uintptr and scalar words alone, even holding stack addresses",
               2, lambda c, o: o.get("words", o), word_diff),
        Aspect("outside", "leaves nil and heap pointers alone; old.hi itself is outside", 2,
               lambda c, o: _slots(c, o, {"pointer"}, None), word_diff),
        Aspect("records", "returns one gs.Adjusted record per moved slot", 2,
               lambda c, o: o.get("adjusted", o)),
        Aspect("invalid", "0 < p < 4096 in a pointer slot raises gs.InvalidPointer", 1, same),
    ),
    _cases=_adjust_cases,
    _run=_adjust_run,
    call_text=_adjust_call,
    visible_seed=106,
)
