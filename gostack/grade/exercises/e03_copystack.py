"""Exercise 03 · copystack (lesson 05).

``copystack(old, new, used)`` copies the used part of ``old`` into ``new`` and returns delta.
Each aspect is judged at addresses of its own, so that one bug fails one rule:

* delta: the returned value;
* copy: the destinations of the old stack's words in use (one at the lowest used address
  in half the cases, where an off-by-one at ``hi - used`` shows), and new.hi, the first
  word past the new stack, which an inclusive ``hi`` writes;
* stale: the destination addresses no word is copied to, where reused memory left words;
* below: where the old stack's words *below* the used part would land (one just below it);
* keep: the new stack's words below the destination, placed where no copy, right or wrong
  (aligned at ``hi`` or at ``lo``), can land, so only a bug that clears them is blamed;
* old: the old stack itself.

Words are memory: in a stack a word never written reads 0, so a 0 written there and a word
absent are the same (a copy that writes the zeros of unwritten words is right); a word
written outside the stack, even a 0, is someone else's memory changed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...arch import PAGE_SIZE
from ...i18n import N_
from ...stackalloc import Stack as GsStack
from ..spec import (
    Aspect,
    BadResult,
    Exercise,
    Right,
    Wrong,
    as_int,
    as_words,
    draw,
    first_difference,
    localize_lines,
    num,
    pick,
    stack_base,
)

# --- cases -----------------------------------------------------------------------------------


def _value(rng: random.Random, lo: int, hi: int) -> int:
    """A word's contents: an address in the same stack (a pointer, copied unchanged) or a
    small integer. Never 0: a 0 reads like no word at all."""
    if rng.random() < 0.4:
        return lo + 8 * draw(rng, 0, (hi - lo) // 8 - 1)
    return draw(rng, 1, 9999)


def _bases(rng: random.Random, size: int, higher: bool) -> tuple[int, int]:
    """(old.lo, new.lo): the new stack some pages above the old one or below it (the
    lesson's deltas are tens of KiB), never overlapping it nor touching it."""
    old_lo = stack_base(rng) + (PAGE_SIZE << 10)
    pages = -(-8 * size // PAGE_SIZE) + draw(rng, 0, 60)
    return old_lo, old_lo + (1 if higher else -1) * pages * PAGE_SIZE


def _one(rng: random.Random, old_size: int, new_size: int, higher: bool,
         low_used_word: bool, used_words: int, most: int) -> dict:
    old_lo, new_lo = _bases(rng, max(old_size, new_size), higher)
    old_hi, new_hi = old_lo + old_size, new_lo + new_size
    if new_size < old_size:  # shrinkstack: used < old/4, so the copy fits the half
        used = 8 * draw(rng, used_words + 2, old_size // 32 - 2)
    else:
        used = 8 * draw(rng, used_words + 2, min(old_size // 8 - 2, most))
    start = old_hi - used
    old = {old_hi - 8: start + 8 * draw(rng, 0, used // 8 - 1)}  # the top word: a pointer
    if low_used_word:
        old[start] = _value(rng, old_lo, old_hi)  # the lowest word in use
    for _ in range(used_words - 2):
        old[start + 8 * draw(rng, 1, used // 8 - 2)] = _value(rng, old_lo, old_hi)
    old[start - 8] = _value(rng, old_lo, old_hi)  # just below the used part
    for _ in range(draw(rng, 0, 2)):  # stale words further down
        old[old_lo + 8 * draw(rng, 0, (start - old_lo) // 8 - 2)] = _value(rng, old_lo, old_hi)
    delta = new_hi - old_hi
    targets = {a + delta for a in old if start <= a}
    new: dict[int, int] = {}
    dst = new_hi - used
    if not low_used_word:  # a stale word at the lowest destination address, nothing on it
        new[dst] = _value(rng, new_lo, new_hi)
    for _ in range(draw(rng, 1, 2)):
        addr = dst + 8 * draw(rng, 0, used // 8 - 1)
        if addr not in targets:
            new[addr] = _value(rng, new_lo, new_hi)
    if rng.random() < 0.5:  # a stale word that the copy overwrites
        new[pick(rng, sorted(targets))] = _value(rng, new_lo, new_hi)
    # Words of the new stack below the destination: where no copy can land, even one
    # aligned at lo, so that only a bug that clears them is blamed for them.
    landing = {a + d for a in old for d in (delta, new_lo - old_lo)}
    for _ in range(draw(rng, 1, 2)):
        for _ in range(100):
            addr = new_lo + 8 * draw(rng, 0, (dst - new_lo) // 8 - 1)
            if addr not in landing:
                new[addr] = draw(rng, 1, 9999)
                break
    tags = ["delta", "copy", "below", "keep", "old"]
    if any(dst <= a < new_hi and a not in targets for a in new):
        tags.append("stale")
    return {"tags": tags, "size": len(old) + len(new),
            "args": {"old": [old_lo, old_hi, sorted(old.items())],
                     "new": [new_lo, new_hi, sorted(new.items())], "used": used}}


def _copystack_cases(rng: random.Random, visible: bool) -> list[dict]:
    """Growths (the size doubles) and shrinks (it halves), the new stack above or below the
    old one, with or without a word at the lowest used address."""
    if visible:
        shapes = [(2048, 4096, True, True, 3), (2048, 4096, False, False, 3),
                  (8192, 4096, True, False, 3), (4096, 8192, False, True, 4),
                  (16384, 8192, False, True, 3), (4096, 8192, True, False, 5)]
    else:
        shapes = []
        for k in range(16):
            old_size = 2048 << draw(rng, 0, 4)
            shrink = k % 4 == 3 and old_size > 2048
            shapes.append((old_size, old_size // 2 if shrink else old_size * 2,
                           k % 2 == 0, k % 3 != 1, draw(rng, 3, 8)))
    return [_one(rng, *shape, most=48 if visible else 1 << 20) for shape in shapes]


# --- running a case --------------------------------------------------------------------------


class Stack(GsStack):
    """The gs.Stack a case passes, equal to any gs.Stack with the same contents (gs.Stack
    itself compares by identity): the call a pasted reproduction line makes, with plain
    gs.Stack objects, is then the very same call as the check's."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GsStack):
            return NotImplemented
        return ((self.lo, self.hi, self.words, self.freed, self.fill, self.fills)
                == (other.lo, other.hi, other.words, other.freed, other.fill, other.fills))

    __hash__ = GsStack.__hash__


def _memory(pairs: list, lo: int, hi: int) -> dict[int, int]:
    """Words as memory: in the stack [lo, hi), a 0 reads like a word never written; outside
    it, any write (even of 0) is a write to someone else's memory, and is kept."""
    return {a: v for a, v in pairs if v != 0 or not lo <= a < hi}


def _copystack_run(fns: dict[str, Callable], case: dict) -> dict:
    a = case["args"]
    old = Stack(a["old"][0], a["old"][1], {k: v for k, v in a["old"][2]})
    new = Stack(a["new"][0], a["new"][1], {k: v for k, v in a["new"][2]})
    delta = fns["copystack"](old, new, a["used"])
    if not isinstance(new, GsStack) or not isinstance(old, GsStack):
        raise BadResult("old and new must stay gs.Stack objects")
    return {"delta": as_int(delta, "copystack's result (the delta)"),
            "new": sorted(_memory(as_words(new.words, "new.words"), *a["new"][:2]).items()),
            "old": [as_int(old.lo, "old.lo"), as_int(old.hi, "old.hi"),
                    sorted(_memory(as_words(old.words, "old.words"), *a["old"][:2]).items())]}


# --- what the learner reads ------------------------------------------------------------------


def _stack_literal(lo: int, hi: int, words: list) -> str:
    body = ", ".join(f"{a:#x}: {num(v)}" for a, v in words)
    return f"gs.Stack({lo:#x}, {hi:#x}, {{{body}}})"


def _copystack_call(case: dict) -> str:
    a = case["args"]
    (olo, ohi, ow), (nlo, nhi, nw) = a["old"], a["new"]
    return localize_lines(f"copystack(old=[{olo:#x}, {ohi:#x}) with {len(ow)} words, "
                          f"new=[{nlo:#x}, {nhi:#x}) with {len(nw)} words, used={a['used']:,})",
                          LINES)


def _copystack_repro(case: dict) -> str:
    a = case["args"]
    return (f"copystack({_stack_literal(*a['old'])}, {_stack_literal(*a['new'])}, "
            f"{a['used']})")


def _geometry(case: dict) -> tuple[int, int, int, int]:
    """(old.hi, new.hi, used, delta) of a case."""
    a = case["args"]
    return a["old"][1], a["new"][1], a["used"], a["new"][1] - a["old"][1]


def _at(out: dict, addrs: list[tuple[int, str]]) -> list[str]:
    """What ``out``'s new stack holds at each (address, description)."""
    have = dict(map(tuple, out["new"]))
    return [f"new word at {addr:#x} ({what}): {num(have.get(addr))}" for addr, what in addrs]


def _copied(case: dict, out: dict) -> list[str]:
    """Each word in use at its place, and nothing written at new.hi, just past the stack."""
    old_hi, new_hi, used, delta = _geometry(case)
    return _at(out, [(a + delta, f"new.hi - {old_hi - a}, from old.hi - {old_hi - a}")
                     for a, _ in case["args"]["old"][2] if old_hi - used <= a < old_hi]
               + [(new_hi, "new.hi itself, the first word past the new stack")])


def _stale(case: dict, out: dict) -> list[str]:
    old_hi, new_hi, used, delta = _geometry(case)
    targets = {a + delta for a, _ in case["args"]["old"][2] if old_hi - used <= a}
    return _at(out, [(a, f"new.hi - {new_hi - a}, a stale word")
                     for a, _ in case["args"]["new"][2]
                     if new_hi - used <= a < new_hi and a not in targets])


def _below(case: dict, out: dict) -> list[str]:
    old_hi, new_hi, used, delta = _geometry(case)
    return _at(out, [(a + delta, f"new.hi - {old_hi - a}: old.hi - {old_hi - a} is below "
                                 f"the {used:,} bytes in use")
                     for a, _ in case["args"]["old"][2] if a < old_hi - used])


def _kept(case: dict, out: dict) -> list[str]:
    old_hi, new_hi, used, delta = _geometry(case)
    return _at(out, [(a, f"new.hi - {new_hi - a}, below the copy")
                     for a, _ in case["args"]["new"][2] if a < new_hi - used])


def _old(case: dict, out: dict) -> list[str]:
    lo, hi, words = out["old"]
    before = [a for a, _ in case["args"]["old"][2]]
    have = dict(map(tuple, words))
    lines = [f"old bounds: [{lo:#x}, {hi:#x})"]
    lines += [f"old word at {a:#x} (old.hi - {case['args']['old'][1] - a}): "
              f"{num(have.get(a))}" for a in before]
    extra = sorted(set(have) - set(before))
    lines.append("old words added: " + (", ".join(f"{a:#x}" for a in extra) or "none"))
    return lines


#: The English every line above is made of, for :func:`localize_lines` (a check or a report in
#: another language shows them translated; the grader compares the English).
LINES = (
    N_("new word at {addr} ({what}): {value}"),
    N_("new.hi - {d}, from old.hi - {e}"),
    N_("new.hi itself, the first word past the new stack"),
    N_("new.hi - {d}: old.hi - {e} is below the {used} bytes in use"),
    N_("new.hi - {d}, a stale word"),
    N_("new.hi - {d}, below the copy"),
    N_("old bounds: [{lo}, {hi})"),
    N_("old word at {addr} (old.hi - {d}): {value}"),
    N_("old words added: {addrs}"),
    N_("nothing"),
    N_("none"),
    N_("copystack(old={old} with {n} words, new={new} with {m} words, used={used})"),
)


def _word_difference(expected: list[str], got: list[str]) -> str:
    return localize_lines(first_difference(expected, got, "words"), LINES)


def _delta_fmt(expected: int, got: int) -> str:
    return f"expected: delta = {expected:+,} ({num(expected)})\ngot:      {got:+,}"


# --- the bug zoo -----------------------------------------------------------------------------

_HEAD = "def copystack(old, new, used):\n"
_CLEAR = ("    for a in [a for a in new.words if new.hi - used <= a < new.hi]:\n"
          "        del new.words[a]\n")

ZOO = (
    Wrong("delta_sign_reversed", ("delta",), _HEAD + _CLEAR + """\
    for a, v in old.words.items():
        if old.hi - used <= a < old.hi:
            new.words[new.hi - (old.hi - a)] = v
    return old.hi - new.hi                  # the distance, measured the other way
"""),
    Wrong("delta_without_sign", ("delta",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():
        if old.hi - used <= a < old.hi:
            new.words[a + delta] = v
    return abs(delta)                       # "a distance is positive"
"""),
    Wrong("aligned_at_lo", ("delta", "copy"), _HEAD + _CLEAR + """\
    delta = new.lo - old.lo                 # keeps the distance from lo instead of hi
    for a, v in old.words.items():
        if old.hi - used <= a < old.hi:
            new.words[a + delta] = v
    return delta
"""),
    Wrong("range_shifted_to_hi", ("copy",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():
        if old.hi - used < a <= old.hi:     # (hi - used, hi]: inclusive at hi
            new.words[a + delta] = v
    return delta
"""),
    Wrong("inclusive_hi_memmove", ("copy",), _HEAD + """\
    delta = new.hi - old.hi
    for a in range(old.hi - used, old.hi + 8, 8):   # up to and including hi
        new.words[a + delta] = old.words.get(a, 0)  # writes one word past the new stack
    return delta
"""),
    Wrong("one_word_below", ("below",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():
        if old.hi - used - 8 <= a < old.hi:  # one word too many, below hi - used
            new.words[a + delta] = v
    return delta
"""),
    Wrong("whole_old_stack", ("below",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():          # every word of the old stack, used or not
        new.words[a + delta] = v
    return delta
"""),
    Wrong("adjusts_while_copying", ("copy",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():
        if old.hi - used <= a < old.hi:
            if old.lo <= v < old.hi:        # fixes pointers too: exercise 04's job
                v += delta
            new.words[a + delta] = v
    return delta
"""),
    Wrong("keeps_stale_words", ("stale",), _HEAD + """\
    delta = new.hi - old.hi
    for a, v in old.words.items():          # no memmove: what was there stays
        if old.hi - used <= a < old.hi:
            new.words[a + delta] = v
    return delta
"""),
    Wrong("clears_the_new_stack", ("keep",), _HEAD + """\
    delta = new.hi - old.hi
    new.words.clear()                       # more than the destination
    for a, v in old.words.items():
        if old.hi - used <= a < old.hi:
            new.words[a + delta] = v
    return delta
"""),
    Wrong("rebuilds_new_words", ("keep",), _HEAD + """\
    delta = new.hi - old.hi
    new.words = {a + delta: v for a, v in old.words.items() if old.hi - used <= a < old.hi}
    return delta
"""),
    Wrong("moves_out_of_old", ("old",), _HEAD + _CLEAR + """\
    delta = new.hi - old.hi
    for a in list(old.words):
        if old.hi - used <= a < old.hi:
            new.words[a + delta] = old.words.pop(a)   # a move, not a copy
    return delta
"""),
)

RIGHT = (
    Right("word_by_word_from_hi", """\
def copystack(old, new, used):
    for off in range(8, used + 8, 8):       # each word in use, by its distance from hi
        if old.hi - off in old.words:
            new.words[new.hi - off] = old.words[old.hi - off]
        else:
            new.words.pop(new.hi - off, None)
    return new.hi - old.hi
"""),
    Right("writes_zeros_like_memmove", """\
def copystack(old, new, used):
    delta = new.hi - old.hi
    for src in range(old.hi - used, old.hi, 8):
        new.words[src + delta] = old.words.get(src, 0)   # unwritten memory reads 0
    return delta
"""),
    Right("rebuilt_dict_keeping_the_rest", """\
def copystack(old, new, used):
    delta = new.hi - old.hi
    kept = {a: v for a, v in new.words.items() if not new.hi - used <= a < new.hi}
    moved = {a + delta: v for a, v in old.words.items() if a >= old.hi - used and a < old.hi}
    new.words.clear()
    new.words.update(kept | moved)
    return delta
"""),
    Right("numpy_and_keywords", """\
import numpy as np

def copystack(old, new, used=0, *, word=8):
    delta = np.int64(new.hi) - np.int64(old.hi)
    src = np.array(sorted(old.words), dtype=np.int64)
    src = src[(src >= old.hi - used) & (src < old.hi)]
    for a in [a for a in new.words if new.hi - used <= a < new.hi]:
        del new.words[a]
    for a in src:
        new.words[int(a + delta)] = old.words[int(a)]
    return delta
"""),
)


EXERCISE = Exercise(
    id="03-copystack",
    title=N_("copystack"),
    lesson="05-copystack",
    functions=(("copystack", ("old", "new", "used")),),
    reference={"copystack": "gostack.copystack.copystack"},
    aspects=(
        Aspect("delta", "returns delta, how far every address moved (it can be negative)", 2,
               lambda c, o: o["delta"], _delta_fmt),
        Aspect("copy", "copies each word in use to the same distance from hi", 3, _copied,
               _word_difference),
        Aspect("stale", "memmove: stale words where the copy goes do not survive it", 1,
               _stale, _word_difference),
        Aspect("below", "copies nothing from below the part in use", 1, _below,
               _word_difference),
        Aspect("keep", "leaves the rest of the new stack alone", 1, _kept, _word_difference),
        Aspect("old", "copies without changing the old stack", 2, _old, _word_difference),
    ),
    _cases=_copystack_cases,
    _run=_copystack_run,
    call_text=_copystack_call,
    repro_text=_copystack_repro,
    visible_seed=105,
    zoo=ZOO,
    right=RIGHT,
)
