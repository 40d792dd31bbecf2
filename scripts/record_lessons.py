"""Record what the real Go runtime does with the programs of lessons 04-08.

    python scripts/record_lessons.py      # needs Go: pip install 'gostack[go]'

Writes gostack/data/lessons_recorded.json: for each probe program of
gostack.golessons.lesson_programs() the realgo record (frames, growths, shrinks,
overflow), plus the escape decisions, the pointer/uintptr demonstration and the
adaptive starting sizes. The lessons show these results when Go is missing, and
assert that a live run gives the same. Every case must agree with the simulator,
and the run is made twice: both must give the same record.
"""

from __future__ import annotations

import json
import re
import sys

from gostack import golessons, realgo

_ADDR = re.compile(r"0x[0-9a-f]+")


def record_once(a: realgo.Availability) -> dict:
    rec = realgo.recorded_header(a)
    rec["note"] = ("Regenerate with `python scripts/record_lessons.py`. cases: the realgo "
                   "record of each program of gostack.golessons.lesson_programs(); escapes: "
                   "`go build -gcflags=-m` on golessons.GO_ESCAPES; pointer: "
                   "golessons.GO_POINTER's output; adaptive: golessons.GO_ADAPTIVE's starting "
                   "sizes by parked depth.")
    cases = {}
    for name, prog in golessons.lesson_programs().items():
        print(f"running {name}", file=sys.stderr)
        run = realgo.run(prog)
        case = realgo.record(run, prog)
        case["stderr_head"] = _ADDR.sub("0x…", run.stderr_head)
        cases[name] = case
    rec["cases"] = cases
    rec["escapes"] = golessons.escape_decisions()
    pointer = golessons.pointer_demo()
    pointer["varies"] = [_ADDR.sub("0x…", x) for x in pointer["varies"]]
    rec["pointer"] = pointer
    rec["adaptive"] = golessons.adaptive_sizes()
    return rec


def dumps(value: object, indent: str = "") -> str:
    """JSON with one key per line, and lists of scalars (or of such lists) on one line."""
    def flat(v: object) -> bool:
        return not isinstance(v, (dict, list)) or (
            isinstance(v, list) and all(not isinstance(x, (dict, list)) or
                                        (isinstance(x, list) and flat(x)) for x in v))
    if flat(value):
        return json.dumps(value, ensure_ascii=False)
    inner = indent + " "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + dumps(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


def main() -> int:
    a = realgo.require()
    first, second = record_once(a), record_once(a)
    for rec in (first, second):
        rec["pointer"].pop("varies")  # p - u: the sum of the deltas, different every run
    if first != second:
        print("two runs differ: not recording", file=sys.stderr)
        return 1
    for prog in golessons.lesson_programs().values():
        c = realgo.compare_recorded(prog, first)
        if not c.agree:
            print(c.table(), file=sys.stderr)
            return 1
    golessons.RECORDED_PATH.write_text(dumps(first) + "\n", encoding="utf-8")
    print(f"wrote {golessons.RECORDED_PATH.name}: {len(first['cases'])} cases agree with the "
          "simulator")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
