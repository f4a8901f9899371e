"""Compare onnxcost with torchvision's published figures on exports made by export_torchvision.py: the MACs
of Conv/Gemm/MatMul/Einsum against the GFLOPS metadata (within 0.5%), params against the exported float
weights, every shape against onnxruntime, and the peak under file/optimal schedules.

    python benchmarks/check_torchvision.py DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import onnxcost  # noqa: E402
from tests.ort_harness import mismatches, ort_shapes  # noqa: E402

CONTRACTIONS = ("Conv", "Gemm", "MatMul", "Einsum")


def float_initializer_elements(path: Path) -> int:
    m = onnx.load(str(path), load_external_data=False)
    total = 0
    for t in m.graph.initializer:
        if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            n = 1
            for d in t.dims:
                n *= d
            total += n
    return total


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    truth = json.loads((folder / "truth.json").read_text())
    print(f"{'model':20s} {'nodes':>6s} {'GMAC':>8s} {'published':>9s} {'err':>7s} {'params':>11s} {'float init':>11s} "
          f"{'shapes':>7s} {'peak file':>10s} {'optimal':>9s} {'proven':>6s} {'time':>6s}")
    for name, t in truth.items():
        path = folder / f"{name}.onnx"
        start = time.perf_counter()
        rep = onnxcost.analyze(path)
        took = time.perf_counter() - start
        macs = sum(n.macs or 0 for n in rep.nodes if n.op_type in CONTRACTIONS)
        pub = t["published_gmacs"] * 1e9
        model = onnx.load(str(path))
        bad = mismatches(rep, ort_shapes(model, folder, rep))
        fie = float_initializer_elements(path)
        print(f"{name:20s} {rep.totals.nodes:6d} {macs / 1e9:8.4f} {pub / 1e9:9.3f} {100 * (macs / pub - 1):+6.2f}% "
              f"{rep.totals.params:11,d} {fie:11,d} {'ok' if not bad else len(bad):>7} "
              f"{(rep.totals.peak_memory_bytes_file_order or 0) / 2**20:9.2f}M "
              f"{(rep.totals.peak_memory_bytes or 0) / 2**20:8.2f}M {str(rep.schedule_optimal):>6s} {took:5.2f}s")
        for line in bad[:3]:
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
