"""``python -m gostack.sched verify [--recorded] [--probe NAME] [--list]``; ``... fuzz``;
``... stats [--live N]`` (stage 2: several Ps, syscalls, sysmon; stats.py's claims).

Compares the model with real Go, probe by probe: the tokens the model predicts against
those a real run printed (live: built and run now, ``--runs`` times; ``--recorded``:
gostack/data/sched_recorded.json, no Go needed). A live probe agrees when the model's
output is the one most runs printed. (``gostack verify-go`` is part 1's stack corpus; this
is its twin for the scheduler.)

The model allows two outputs per probe (machine.predictions): the usual startup, and
the startup in which sysmon's first look preempted the runtime's init (startup.py).
Recorded: the most common output must be one of them. Live: at least one of ``--runs``
runs must print one of them; the others are counted (sysmon's 10 ms preemption of a long
time slice on a loaded machine is stage 2 and shows as a run the model does not
explain).
"""

from __future__ import annotations

import argparse
import sys

from . import machine
from .catalog import PROBES
from .render import digest


def _first_difference(model: tuple[str, ...], real: tuple[str, ...]) -> str:
    k = next((i for i, (a, b) in enumerate(zip(model, real, strict=False)) if a != b),
             min(len(model), len(real)))
    return (f"first difference at token {k}: model {' '.join(model[k:k + 6])!r}, "
            f"real {' '.join(real[k:k + 6])!r}")


def _recorded(names: list[str]) -> list[str]:
    from .realrun import load_recorded, model_refusal

    rec = load_recorded()
    print(f"recorded with {rec['go_version']} on {rec['recorded']}, env {rec['env']}")
    failed = []
    for name in names:
        case = rec["probes"].get(name)
        if case is None:
            print(f"{name}: not recorded")
            failed.append(name)
            continue
        kind, why = model_refusal(PROBES[name])
        if kind != "order":  # a probe with an order recorded: the model must give one
            print(f"{name:<24} DIFFERS: the model declines it ({kind}: {why})")
            failed.append(name)
            continue
        pred = machine.predictions(PROBES[name])
        real = tuple(case["output"])
        explained = sum(case["observed"].get(d, 0) for d in {digest(o) for o in pred.values()})
        quiet = case.get("quiet_sysmon")
        quiet_ok = quiet is None or quiet["observed"] == {digest(pred["model"]): quiet["runs"]}
        # A long_slice probe's stock runs are often preempted after 10 ms (stage 2): its
        # check is the quiet_sysmon runs.
        ok = quiet_ok and (PROBES[name].long_slice or real in pred.values())
        line = (f"{name:<24} {'agrees' if ok else 'DIFFERS'}: {len(real)} tokens; "
                f"{explained} of {case['runs']} runs as the model predicts")
        if quiet is not None:
            line += (f"; sysmon's preemptions patched out: {quiet['as_model']} of "
                     f"{quiet['runs']}")
        if not ok and real not in pred.values():
            line += f"; {_first_difference(pred['model'], real)}"
        print(line)
        if not ok:
            failed.append(name)
    return failed


def _refused_recorded() -> list[str]:
    """catalog.REFUSED: the model must refuse or crash as the recorded runs justify."""
    from .catalog import REFUSED
    from .realrun import check_refused, load_recorded

    rec, failed = load_recorded().get("refused", {}), []
    for name, p in REFUSED.items():
        ok, line = check_refused(p, rec[name]) if name in rec else (False, "not recorded")
        print(f"{name:<24} {'agrees' if ok else 'DIFFERS'}: {line}")
        if not ok:
            failed.append(name)
    return failed


def _live(names: list[str], runs: int) -> list[str]:
    from .catalog import REFUSED
    from .realrun import declined_live, observe

    failed, probes = [], {**PROBES, **REFUSED}
    for name in names:
        declined = declined_live(probes[name], runs)
        if declined is not None:  # the model refuses it or predicts a crash
            print(f"{name:<24} {'agrees' if declined[0] else 'DIFFERS'}: {declined[1]}",
                  flush=True)
            failed += [] if declined[0] else [name]
            continue
        o = observe(PROBES[name], runs)
        pred = machine.predictions(PROBES[name])
        explained = sum(o.count(out) for out in set(pred.values()))
        ok = explained > 0
        print(f"{name:<24} {'agrees' if ok else 'DIFFERS'}: {len(o.output)} tokens; "
              f"{explained} of {o.runs} runs as the model predicts"
              + ("" if ok else f"; {_first_difference(pred['model'], o.output)}"), flush=True)
        if not ok:
            failed.append(name)
    return failed


def _quiet(names: list[str], runs: int) -> list[str]:
    from .realrun import build_quiet_sysmon, run_once

    failed = []
    for name in names:
        binary = build_quiet_sysmon(PROBES[name], lambda m: print(m, file=sys.stderr))
        model = machine.run(PROBES[name]).output
        same = sum(run_once(binary, PROBES[name]) == model for _ in range(runs))
        ok = same == runs
        print(f"{name:<24} {'agrees' if ok else 'DIFFERS'}: {same} of {runs} runs as the "
              "model (sysmon's preemptions patched out)", flush=True)
        if not ok:
            failed.append(name)
    return failed


def _fuzz(seed: int, count: int, runs: int, big: bool = False, sync: bool = False) -> int:
    from .. import realgo
    from .chan import ChanPanic
    from .fuzz import random_big_probe, random_probe, random_sync_probe
    from .realrun import MUTEX_PATCHES, SYSMON_PATCHES, build_patched, run_fatal, run_once
    from .schedule import Deadlock
    from .sync import SyncPanic

    a = realgo.available()
    if not a.ok:
        print(f"{a.reason}. Install Go ({realgo.INSTALL_HINT})", file=sys.stderr)
        return 2
    tried, failed = 0, []
    for s in range(seed, seed + count):
        p = (random_big_probe(s, sync) if big else random_sync_probe(s) if sync
             else random_probe(s))
        binary = build_patched(p, {"runtime/proc.go": SYSMON_PATCHES,
                                   "internal/sync/mutex.go": MUTEX_PATCHES})
        tried += 1
        try:  # the real side has sysmon's preemptions and starvation patched out
            model = machine.run(p, preemption=False, starvation=False).output
        except (Deadlock, ChanPanic, SyncPanic) as e:  # real Go must die the same way
            why = ("all goroutines are asleep - deadlock!" if isinstance(e, Deadlock)
                   else str(e))
            dead = sum(why in run_fatal(binary, p) for _ in range(runs))
            print(f"seed {s}: {why!r}, {dead} of {runs} real runs too", flush=True)
            if dead != runs:
                failed.append(s)
            continue
        outs = [run_once(binary, p) for _ in range(runs)]
        same = sum(o == model for o in outs)
        print(f"seed {s}: {len(model)} tokens, {same} of {runs} runs as the model"
              + ("" if same == runs else "; " + _first_difference(
                  model, next(o for o in outs if o != model))), flush=True)
        if same != runs:
            failed.append(s)
    print(f"{tried - len(failed)} of {tried} random probes agree"
          + (f"; differ: seeds {failed}" if failed else ""))
    return 1 if failed else 0


def _stats(seeds: int, live: int) -> int:
    from . import stats

    rec = stats.load_recorded()
    if live:
        from . import statprobe

        binary = statprobe.build(print)
        for name, c in stats.CONFIGS.items():
            rec["configs"][name]["runs"] = [
                statprobe.run_once(binary, c.mode, c.n, c.work, c.gomaxprocs,
                                   godebug=c.godebug).as_dict() for _ in range(live)]
        print(f"real Go now, {live} runs per configuration")
    else:
        print(f"recorded with {rec['go']} on {rec['recorded']} ({rec['cpus']} CPUs, load "
              f"{rec['loadavg_at_start'][0]})")
    rows = stats.compare(seeds=range(seeds), recorded=rec)
    print(stats.report(rows))
    differ = [c.name for c, k, n, mk, mn in rows
              if abs(k / n - mk / mn) > c.tol and not c.leaves_out]
    for md, real, model, _n, _mn in stats.compare_medians(seeds=range(seeds), recorded=rec):
        ok = abs(real - model) <= md.tol
        differ += [] if ok or md.leaves_out else [md.name]
        verdict = "agree " if ok else "known " if md.leaves_out else "DIFFER"
        print(f"{verdict} {md.name:32} median real {real:<8.3g} "
              f"model {model:<8.3g} (tol {md.tol:g})  {md.text}")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gostack.sched", description=__doc__
                                 .splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="compare the model with real Go")
    v.add_argument("--recorded", action="store_true",
                   help="compare with gostack/data/sched_recorded.json (no Go needed)")
    v.add_argument("--probe", action="append", metavar="NAME", help="only these probes")
    v.add_argument("--runs", type=int, default=3, help="live runs per probe (default 3)")
    v.add_argument("--quiet-sysmon", action="store_true",
                   help="live, against a runtime with sysmon's two preemptions patched out "
                        "(realrun.SYSMON_PATCHES): every run must print the model's order")
    v.add_argument("--list", action="store_true", help="list the probes and exit")
    f = sub.add_parser("fuzz", help="random probes (fuzz.py): model vs real Go built with "
                       "sysmon's preemptions and Mutex starvation patched out")
    f.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    f.add_argument("--count", type=int, default=20, help="how many seeds (default 20)")
    f.add_argument("--runs", type=int, default=2, help="runs per probe (default 2)")
    f.add_argument("--big", action="store_true",
                   help="random_big_probe: add a crowd of 200-700 goroutines")
    f.add_argument("--sync", action="store_true",
                   help="random_sync_probe: Cond, LockOSThread, goids, close; crashes too")
    st = sub.add_parser("stats", help="stage 2's claims (stats.py): the model's share of "
                        "runs where each holds vs real Go's (recorded, or --live)")
    st.add_argument("--seeds", type=int, default=100, help="model runs per claim")
    st.add_argument("--live", type=int, default=0, metavar="N",
                    help="run real Go N times per configuration now instead of the recording")
    args = ap.parse_args(argv)
    if args.command == "fuzz":
        return _fuzz(args.seed, args.count, args.runs, args.big, args.sync)
    if args.command == "stats":
        return _stats(args.seeds, args.live)
    if args.list:
        for name, p in PROBES.items():
            print(f"{name:<24} {p.summary}")
        return 0
    unknown = [n for n in args.probe or () if n not in PROBES]
    if unknown:
        print(f"unknown probe(s): {', '.join(unknown)} (see verify --list)", file=sys.stderr)
        return 2
    names = args.probe or list(PROBES)
    if args.recorded:
        failed = _recorded(names)
        if not args.probe:
            from .catalog import REFUSED

            failed += _refused_recorded()
            names = names + list(REFUSED)
    else:
        from .. import realgo

        a = realgo.available()
        if not a.ok:
            print(f"{a.reason}. Install Go ({realgo.INSTALL_HINT}) or use --recorded",
                  file=sys.stderr)
            return 2
        if args.quiet_sysmon:
            failed = _quiet(names, args.runs)
        else:
            from .catalog import REFUSED

            names += [] if args.probe else list(REFUSED)
            failed = _live(names, args.runs)
    if failed:
        print(f"{len(names) - len(failed)} of {len(names)} probes agree; differ: "
              f"{', '.join(failed)}")
        return 1
    print(f"all {len(names)} probes agree")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
