"""Accuracy against published figures: MACs of Conv/Gemm/MatMul/Einsum vs torchvision's GFLOPS metadata,
params vs the float initializers of each export in tests/data.

    python benchmarks/bench_accuracy.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import onnxcost  # noqa: E402

SHARED = ROOT / "tests" / "data"
CONTRACTIONS = ("Conv", "Gemm", "MatMul", "Einsum")


def main() -> int:
    truth = json.loads((SHARED / "truth.json").read_text())
    print(f"{'model':20s} {'nodes':>6s} {'GMAC':>9s} {'published':>9s} {'err':>7s} {'params':>11s} "
          f"{'float init':>11s} {'err':>7s} {'time':>6s}")
    for name, t in truth.items():
        start = time.perf_counter()
        rep = onnxcost.analyze(SHARED / f"{name}.onnx", dims={"batch": 1, "steps": 20})
        took = time.perf_counter() - start
        macs = sum(n.macs or 0 for n in rep.nodes if n.op_type in CONTRACTIONS) if "published_gmacs" in t \
            else rep.totals.macs
        if macs is None or rep.totals.params is None:
            raise SystemExit(f"{name}: MACs or params unknown with every dim bound")
        pub = t.get("published_gmacs", t.get("macs_batch1_steps20", 0) / 1e9)
        fie = t["float_initializer_elements"]
        print(f"{name:20s} {rep.totals.nodes:6d} {macs / 1e9:9.4f} {pub:9.4f} {100 * (macs / 1e9 / pub - 1):+6.2f}% "
              f"{rep.totals.params:11,d} {fie:11,d} {100 * (rep.totals.params / fie - 1):+6.3f}% {took:5.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
