"""gostack.lessons.l05_copystack and l06's stack map: describing memory without addresses.

Expected values come from the facts sheet's measurements of go1.27.3 (frames 56/168 and
56/10280 of its probe) or from derivations written here, never from the code under test.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")



import gostack as gs  # noqa: E402
from gostack.arch import POISON_OLD  # noqa: E402
from gostack.lessons import l05_copystack as l05  # noqa: E402
from gostack.lessons import l06_stack_maps as l06  # noqa: E402

GiB = 1 << 30


# ---- describing memory ---------------------------------------------------------------


def test_alloc_path_boundary_between_pools_and_large_stacks():
    assert l05.alloc_path(2048).startswith("small stack: order 0")
    assert l05.alloc_path(16384).startswith("small stack: order 3")
    assert l05.alloc_path(32768).startswith("large stack")


def test_alloc_path_speaks_the_learners_terms():
    """The readouts of lessons 05 and 07 show it: no runtime variable a lesson never defines
    (stackpool[1], stackLarge), but what they are, with the sizes worked out here."""
    for size, pieces in ((2048, 16), (4096, 8), (8192, 4), (16384, 2)):
        text = l05.alloc_path(size)
        assert f"cache of {size // 1024} KiB stacks" in text and f"cut in {pieces})" in text
    for size in (2048, 32768, 1 << 20):
        assert not any(w in l05.alloc_path(size) for w in ("stackpool", "stackLarge", "per-P"))
    assert "(16 pages of 8 KiB)" in l05.alloc_path(131072)  # 131,072 / 8,192


def test_word_bytes_and_delta():
    assert l05.word_bytes(POISON_OLD) == "fc fc fc fc fc fc fc fc"
    assert l05.fmt_delta(-131072) == "-131,072" and l05.fmt_delta(32768) == "+32,768"


def test_stack_map_bits():
    f = gs.Func("main.f", frame=40, locals=[gs.Local("x", gs.SCALAR, 0),
                                            gs.Local("p", gs.POINTER, 8),
                                            gs.Local("u", gs.UINTPTR, 16)])
    assert l06.stack_map(f) == "0100"  # 4 words below the saved BP


def _pointer_world():
    rt = gs.Runtime()
    w = gs.Func("main.worker", frame=56, locals=[
        gs.Local("x", gs.SCALAR, 0), gs.Local("p", gs.POINTER, 8),
        gs.Local("u", gs.UINTPTR, 16), gs.Local("h", gs.POINTER, 24)])
    g = rt.go(w)
    heap = rt.new_object()
    g.store("x", 42)
    g.take_addr("p", "x")
    g.store("u", g.addr("x"))
    g.store("h", heap)
    before = g.snapshot()
    for _ in range(10):
        g.call(gs.Func("main.recA", frame=168))
    return before, g.snapshot(), g.trace.grows[0], heap


def test_slot_rows_pointer_moves_uintptr_and_heap_pointer_do_not():
    before, after, grow, heap = _pointer_world()
    rows = {r.local: r for r in l05.slot_rows(before, after, grow, heap=[heap])}
    assert rows["p"].adjusted and rows["p"].before == rows["p"].after == "&main.worker#0.x"
    assert not rows["u"].adjusted and rows["u"].after == f"old stack hi-{rows['x'].offset}"
    assert not rows["h"].adjusted and rows["h"].after == "heap object"
    assert rows["x"].before == rows["x"].after == "42" and not rows["x"].adjusted
    table = l05.slot_table(list(rows.values()))
    assert table.splitlines()[0].split()[:2] == ["slot", "kind"]


def test_describe():
    before, after, grow, heap = _pointer_world()
    assert l05.describe(0, after) == "nil"
    assert l05.describe(after.hi - 8, after) == "hi-8"  # the goroutine's reserve: no local
    assert l05.describe(after.frames[0].locals[0].addr, after) == "&main.worker#0.x"
    assert l05.describe(grow.old_hi - 8, after, old=(grow.old_lo, grow.old_hi)) == \
        "old stack hi-8"
    assert l05.describe(POISON_OLD, after) == "poison fc fc fc fc fc fc fc fc"
    assert l05.describe(7, after, kind=gs.SCALAR) == "7"
