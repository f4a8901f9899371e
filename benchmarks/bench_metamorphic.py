"""The metamorphic test of symbolic dims over everything: every input dim (but 1s) a fresh symbol, and each
node's MACs, FLOPs and output shapes as formulas evaluated at the original dims against the concrete
analysis (tests/metamorphic.py). Over the 1,884 ONNX backend node cases, tests/data's exports and the whole
corpus (wheels fetched by corpus/fetch.py, and corpus/exports).

    python -m benchmarks.bench_metamorphic [--only nodes|data|corpus]

Prints, per set, the cases run, those that crash (anything but a ModelError where the concrete analysis also
raises one), and those whose formulas disagree, naming them.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.corpus import cases  # noqa: E402
from tests.metamorphic import check  # noqa: E402


def node_cases() -> Iterator[tuple[str, onnx.ModelProto, dict[str, list[int]]]]:
    from tests.shapes.test_metamorphic import node_cases as collect

    yield from collect()


def data_cases() -> Iterator[tuple[str, onnx.ModelProto, dict[str, list[int]]]]:
    """tests/data's exports at their declared shapes, a dynamic dim (gru_bidir's seq and batch) bound to 4."""
    for path in sorted((ROOT / "tests" / "data").glob("*.onnx")):
        model = onnx.load(path, load_external_data=False)
        inits = {t.name for t in model.graph.initializer}
        shapes = {vi.name: [d.dim_value if d.HasField("dim_value") else 4 for d in vi.type.tensor_type.shape.dim]
                  for vi in model.graph.input if vi.name not in inits}
        yield path.name, model, shapes


def corpus_cases() -> Iterator[tuple[str, onnx.ModelProto, dict[str, list[int]]]]:
    for case in cases():
        if case.path.is_file():
            model = onnx.load(case.path)
            yield case.id, model, case.bound_shapes(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["nodes", "data", "corpus"])
    args = parser.parse_args()
    sets = {"nodes": node_cases, "data": data_cases, "corpus": corpus_cases}
    for name, source in sets.items():
        if args.only and name != args.only:
            continue
        start, run, crashed, disagree = time.perf_counter(), 0, [], []
        for case_id, model, shapes in source():
            run += 1
            try:
                problems = check(model, shapes)
            except Exception as exc:  # noqa: BLE001 - a benchmark counts crashes, it does not stop at one
                crashed.append(f"{case_id}: {type(exc).__name__}: {exc}".splitlines()[0][:200])
                traceback.print_exc(limit=2, file=sys.stderr)
                continue
            if problems:
                disagree.append(f"{case_id}: {problems[0][:160]}")
        print(f"{name}: {run} cases, {len(crashed)} crash, {len(disagree)} disagree "
              f"({time.perf_counter() - start:.0f} s)")
        for line in crashed + disagree:
            print("  " + line)


if __name__ == "__main__":
    main()
