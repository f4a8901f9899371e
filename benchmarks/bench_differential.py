"""The differential test at scale: `--cases N` drawn cases per op family (tests/differential.py), each run by
onnxruntime and analysed by onnxcost; prints per family the cases drawn, those onnxruntime ran (the others
are out of scope) and those whose shapes differ. `--coverage` prints, by domain, how many compared cases each
op with an onnxruntime CPU kernel had (the op whose output shapes were compared, not the nodes that made its
inputs), and lists those with none.

    python -m benchmarks.bench_differential [--cases 400] [--only Slice] [--coverage]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.differential import GENERATORS, REJECTED, outcome  # noqa: E402

#: hypothesis runs per family, each from its own seed, sharing the --cases
PASSES = 4


def family_run(generator: object, cases: int, compared: Counter[tuple[str, str]]) -> tuple[int, int, list[str]]:
    """(cases drawn, cases onnxruntime rejected, what differed) for one op family; counts in `compared` the
    (domain, op) of each case onnxruntime ran and onnxcost was compared on."""
    found: list[str] = []
    count = [0, 0]

    @settings(max_examples=max(cases // PASSES, 1), deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(st.composite(generator)())  # type: ignore[arg-type]
        result = outcome(case)
        count[0] += 1
        if result == REJECTED:
            count[1] += 1
            return
        compared[(case.node.domain or "ai.onnx", case.node.op_type)] += 1
        if result:
            found.append(result)

    for pass_seed in range(PASSES):  # hypothesis drawing from several seeds reaches more of a family's ops
        seed(pass_seed)(run)()
    return count[0], count[1], found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--only", default="")
    ap.add_argument("--coverage", action="store_true")
    args = ap.parse_args()
    compared: Counter[tuple[str, str]] = Counter()
    total = differ = rejected = 0
    print(f"{'family':36} {'cases':>6} {'compared':>8} {'differ':>6}")
    for family, generator in GENERATORS.items():
        if args.only not in family:
            continue
        count, out_of_scope, found = family_run(generator, args.cases, compared)
        total, differ, rejected = total + count, differ + len(found), rejected + out_of_scope
        print(f"{family:36} {count:6} {count - out_of_scope:8} {len(found):6}")
        for line in list(dict.fromkeys(found))[:3]:
            print(f"    {line[:240]}")
    print(f"{total} cases drawn, {total - rejected} run by onnxruntime and compared, {differ} differ")
    if args.coverage:
        coverage(compared)
    return 1 if differ else 0


def coverage(compared: Counter[tuple[str, str]]) -> None:
    """Per domain, the compared cases of each op with an onnxruntime CPU kernel; then those with none."""
    from onnxruntime.capi import _pybind_state

    cpu = {(k.domain or "ai.onnx", k.op_name) for k in _pybind_state.get_all_opkernel_def()
           if k.provider == "CPUExecutionProvider"}
    left = sorted(op for op in cpu if not compared[op])
    print(f"{len(cpu)} ops have a CPU kernel; {len(cpu) - len(left)} compared, {len(left)} not:")
    for domain in sorted({d for d, _ in cpu}):
        counts = ", ".join(f"{op} {compared[(d, op)]}" for d, op in sorted(cpu) if d == domain and compared[(d, op)])
        print(f"  {domain} compared: {counts}")
    for domain in sorted({d for d, _ in left}):
        print(f"  {domain} not compared: {', '.join(op for d, op in left if d == domain)}")


if __name__ == "__main__":
    raise SystemExit(main())
