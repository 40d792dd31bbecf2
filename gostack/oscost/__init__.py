"""What an OS thread really costs, next to a goroutine: the measurements of lesson 01.

    from gostack import oscost
    cost = oscost.thread_cost()             # every measurement of the lesson, ~15 s
    cost.verdict, cost.ratios, cost.notes()
    oscost.read_limits()                    # the machine's ceilings, read before anything big
    oscost.thread_memory(1_000)             # reserved vs resident vs kernel memory per thread
    oscost.switch_ladder()                  # pinned pipe, Lock, Event, generator ping-pongs
    oscost.goroutines()                     # the same for goroutines, with the real Go toolchain

Modules, in the lesson's order:

    proc       reading /proc (PROC), formatting; pure functions of text
    limits     the machine-wide ceilings, and which thread counts fit them
    run        a child process per measurement, one JSON object back (run_json)
    children   the child side of every Python measurement
    threads    thread stacks, memory, creation, the address-space limit, lazy stacks
    switches   ping-pongs between threads, and a generator as the floor
    gocost     goroutines, measured by the Go probe probes/oscost/gocost.go
    lesson     thread_cost: all of it once, live or recorded; the figure's data, ratios

Every measurement runs in a fresh child process with a timeout: a thread limit, a hang or
a crash ends the child, never the caller (a Jupyter kernel already has a dozen threads
and would keep whatever it made). Sizes are bytes, times nanoseconds. Timings are medians
of repeats: on a shared VM wall time swings 20x and CPU time 1.5-2.7x between runs, so
compare them as ratios; memory and kernel context-switch counts are stable to the digit.

A part that cannot run on this machine (no /proc or glibc, as on macOS; a limit; a
timeout) falls back to the numbers recorded in ``data/thread_cost_recorded.json`` (Go's:
``data/oscost_recorded.json``), labelled with their machine, date and the reason.

    python -m gostack.oscost build            # build the Go probe now (warms the cache)
    python -m gostack.oscost record           # re-record the Go numbers on this machine
    python -m gostack.oscost record-threads   # re-record every Python-side measurement
"""

from .children import THREAD_START_WAIT
from .gocost import (
    GO_RUN_ENV,
    GOROUTINE_COUNTS,
    RECORDED_PATH,
    GoBuild,
    GoCosts,
    GoroutineMemory,
    build_go_probe,
    go_measure,
    goroutines,
    load_recorded,
    machine,
    recorded_costs,
    run_go,
)
from .lesson import Bar, ThreadCost, comparison, ratio_table, ratios, thread_cost
from .limits import THREAD_COUNTS, Limits, Plan, plan_threads, read_limits
from .proc import (
    GIB,
    GLIBC_UNLIMITED_STACK,
    HERE,
    KIB,
    MIB,
    PTHREAD_STACK_MIN,
    MapEntry,
    count_thread_stacks,
    fmt_bytes,
    fmt_ns,
    glibc_default_stack,
    parse_kib_fields,
    parse_maps,
)
from .run import MeasurementError, Result, run_json, run_python
from .switches import Rung, ladder_table, switch_ladder
from .threads import (
    RECORDED_THREADS_PATH,
    AddressSpaceDemo,
    Creation,
    LazyStacks,
    Series,
    StackReservation,
    ThreadMemory,
    Verdict,
    address_space_limit,
    lazy_stacks,
    load_recorded_threads,
    memory_table,
    stack_reservation,
    thread_creation,
    thread_memory,
    thread_memory_series,
    verdict,
)

__all__ = [
    "AddressSpaceDemo", "Bar", "Creation", "GIB", "GLIBC_UNLIMITED_STACK", "GOROUTINE_COUNTS",
    "GO_RUN_ENV", "GoBuild", "GoCosts", "GoroutineMemory", "HERE", "KIB", "LazyStacks",
    "Limits", "MIB", "MapEntry", "MeasurementError", "PTHREAD_STACK_MIN", "Plan",
    "RECORDED_PATH", "RECORDED_THREADS_PATH", "Result", "Rung", "Series", "StackReservation",
    "THREAD_COUNTS", "THREAD_START_WAIT", "ThreadCost", "ThreadMemory", "Verdict",
    "address_space_limit", "build_go_probe", "comparison", "count_thread_stacks", "fmt_bytes",
    "fmt_ns", "glibc_default_stack", "go_measure", "goroutines", "ladder_table", "lazy_stacks",
    "load_recorded", "load_recorded_threads", "machine", "memory_table", "parse_kib_fields",
    "parse_maps", "plan_threads", "ratio_table", "ratios", "read_limits", "recorded_costs",
    "run_go", "run_json", "run_python", "stack_reservation", "switch_ladder", "thread_cost",
    "thread_creation", "thread_memory", "thread_memory_series", "verdict",
]
