"""The longer fuzz campaigns: `python -m benchmarks.fuzz [--cases 5000] [--seed 1] [--entry]`. Without
--entry, mutated models through analyze (tests/fuzzing.py); with it, every other entry point (budgets,
baselines, stored reports, fit CSVs, profiles, annotate, report globs, options, check formats:
tests/fuzzing_entry.py) with an audit hook on open and copy. Prints the counts per outcome and per kind, and
every finding (crash, hang over the case limit, allocation over 2 GB, a file outside the case folder, an
output that does not parse)."""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.fuzzing import run
from tests.fuzzing_entry import entry_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--entry", action="store_true", help="fuzz the entry points, not analyze")
    args = parser.parse_args()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.entry:
            results = run(args.seed, args.cases, Path(tmp), case_seconds=20.0, module="tests.fuzzing_entry",
                          kind_of=lambda seed, index: entry_case(seed, index).kind)
        else:
            results = run(args.seed, args.cases, Path(tmp))
    outcomes = Counter(r.outcome.split(":")[0] for r in results)
    kinds = Counter(re.sub(r"[0-9_]+(folded)?$", "", r.kind.split(":")[-1].split("+")[0]) for r in results)
    slowest = max(results, key=lambda r: r.seconds)
    print(f"{len(results)} cases, seed {args.seed}, {time.perf_counter() - t0:.0f} s")
    print("outcomes:", dict(outcomes))
    print("first mutation:", dict(kinds))
    print(f"slowest case: {slowest.kind} {slowest.seconds:.2f} s")
    failures = [r for r in results if r.outcome not in ("ok", "error")]
    for r in failures:
        print("FAIL", r)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
