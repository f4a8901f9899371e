"""Estimate against measurement: `onnxcost calibrate` on this machine, then every model in ../shared/models
(zero weights of the right size) timed with onnxruntime (CPU, the same threads) beside the roofline estimate
on the fitted profile, and on a flat-FLOP/s baseline (one number: the best dense rate) for comparison.

A shared machine changes speed over minutes (other tenants). The script times a reference GEMM at calibration
and again next to each model, and also prints the errors with the estimate scaled by that drift ("drift-
corrected"): what the error would be on a machine whose speed holds still between calibrating and running.

    python benchmarks/bench_latency.py [--threads N] [--runs N] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from onnxcost import analyze  # noqa: E402
from onnxcost.bench import bench  # noqa: E402
from onnxcost.calibrate import _matmul, calibrate, measure  # noqa: E402
from onnxcost.profiles import load_profile  # noqa: E402

SHARED = ROOT.parent / "shared" / "models"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--profile", type=Path, help="use this profile instead of calibrating now")
    ap.add_argument("--rounds", type=int, default=3,
                    help="bench each model this many times and keep the lowest p50 (other tenants' noise)")
    args = ap.parse_args()
    truth = json.loads((SHARED / "truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        profile_path = args.profile
        if profile_path is None:
            text, _ = calibrate(args.threads, 3.0)
            profile_path = tmp / "local.toml"
            profile_path.write_text(text)
        profile = load_profile(str(profile_path))
        reference = _matmul(512, 512, 512)

        def ref_seconds() -> float:
            return min(measure(reference, 1, args.threads or 0 or (os.cpu_count() or 1), 0.5)[2] for _ in range(3))

        ref_calibration = ref_seconds()
        flat = profile.peak_flops["fp32"] * profile.efficiency.get("dense", 1.0)
        print(f"profile: {profile.name}; flat baseline {flat / 1e9:.1f} GFLOP/s")
        print(f"{'model':20s} {'min ms':>9s} {'p50 ms':>9s} {'estimate':>9s} {'err/min':>8s} {'err/p50':>8s} "
              f"{'flat ms':>8s} {'flat err':>8s}")
        errors, errors_p50, flat_errors, drift_errors = [], [], [], []
        for name, t in truth.items():
            src = SHARED / f"{name}.onnx"
            shutil.copy(src, tmp / src.name)
            with open(tmp / f"{name}.weights", "wb") as f:
                f.truncate(t["weights_bytes"])
            dims = {"batch": 1, "steps": 20}
            drift = ref_seconds() / ref_calibration
            rounds = [bench(tmp / src.name, dims=dims, threads=args.threads, warmup=3, runs=args.runs,
                            profile=str(profile_path)) for _ in range(args.rounds)]
            result = min(rounds, key=lambda r: r.latency_ms["p50"])
            fastest = min(r.latency_ms["min"] for r in rounds)
            typical = result.latency_ms["p50"]
            estimate = result.estimate_ms or float("nan")
            flat_ms = analyze(tmp / src.name, dims=dims, schedule="file").totals.flops / flat * 1000
            err, err50, ferr = estimate / fastest - 1, estimate / typical - 1, flat_ms / fastest - 1
            errors.append(abs(err))
            errors_p50.append(abs(err50))
            drift_errors.append(abs(estimate * drift / typical - 1))
            flat_errors.append(abs(ferr))
            print(f"{name:20s} {fastest:9.3f} {typical:9.3f} {estimate:9.3f} {100 * err:+7.1f}% {100 * err50:+7.1f}% "
                  f"{flat_ms:8.3f} {100 * ferr:+7.1f}%  drift x{drift:.2f}: "
                  f"{100 * (estimate * drift / typical - 1):+6.1f}%")
        def p90(xs: list[float]) -> float:
            return sorted(xs)[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]

        print(f"against min: median |error| {100 * statistics.median(errors):.1f}%, p90 {100 * p90(errors):.1f}% "
              f"(flat FLOP/s: {100 * statistics.median(flat_errors):.1f}%, {100 * p90(flat_errors):.1f}%)")
        print(f"against p50: median |error| {100 * statistics.median(errors_p50):.1f}%, "
              f"p90 {100 * p90(errors_p50):.1f}%")
        print(f"against p50, drift-corrected: median |error| {100 * statistics.median(drift_errors):.1f}%, "
              f"p90 {100 * p90(drift_errors):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
