"""Peak activation memory under the file's order, a breadth-first topological order and the minimum-peak
schedule, with the time each takes, whether `optimal` was proven, and a lower bound no order can beat (the
largest inputs + outputs of a single node). Also the arena plan's size against the peak.

    python benchmarks/bench_memory.py [--inplace] [--extra DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import zoo  # noqa: E402
from onnxcost.load import model as load  # noqa: E402
from onnxcost.memory import arena  # noqa: E402
from onnxcost.memory import liveness as memory  # noqa: E402
from onnxcost.memory import schedule as sch  # noqa: E402
from onnxcost.memory.bounds import lower_bound  # noqa: E402
from onnxcost.shapes import graph  # noqa: E402
from onnxcost.shapes import inference as shapes  # noqa: E402

LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
SHARED = ROOT / "tests" / "data"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inplace", action="store_true")
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="also every .onnx in this folder (e.g. export_torchvision.py's output)")
    args = ap.parse_args()
    models: list[tuple[str, object]] = [(p.stem, p) for p in sorted(LIGHT.glob("light_*.onnx"))]
    models += [(p.stem, p) for p in sorted(SHARED.glob("*.onnx"))]
    models += [("inception_3a (zoo)", zoo.inception_cell("external")), ("resnet18 (zoo)", zoo.resnet18())]
    for folder in args.extra:
        models += [(p.stem, p) for p in sorted(folder.glob("*.onnx"))]
    print(f"{'model':22s} {'nodes':>6s} {'file KiB':>10s} {'topo KiB':>10s} {'optimal KiB':>11s} {'proven':>6s} "
          f"{'bound KiB':>10s} {'time s':>7s} {'arena/peak':>10s}")
    for name, src in models:
        loaded = load.load(src)  # type: ignore[arg-type]
        m = memory.build_model(graph.build(loaded, shapes.infer(loaded, {"batch": 1, "steps": 20})), args.inplace)
        assert m is not None
        peaks = {meth: memory.simulate(m, sch.schedule(m, meth).order).peak_bytes for meth in ("file", "topo")}
        start = time.perf_counter()
        best = sch.schedule(m, "optimal")
        took = time.perf_counter() - start
        timeline = memory.simulate(m, best.order)
        plan = arena.plan([(s, e, b) for s, e, b, _ in timeline.lifetimes], timeline.peak_bytes)
        print(f"{name:22s} {len(m.nodes):6d} {peaks['file'] / 1024:10.0f} {peaks['topo'] / 1024:10.0f} "
              f"{timeline.peak_bytes / 1024:11.0f} {str(best.optimal):>6s} {lower_bound(m) / 1024:10.0f} "
              f"{took:7.2f} {plan.fragmentation:10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
