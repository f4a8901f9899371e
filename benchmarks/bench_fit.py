"""`onnxcost fit` on timings measured elsewhere (benchmarks/data/measured, from the team's measurement files):
an H100 (PyTorch CUDA graphs; float32 rows, then float32 and float16, each architecture's two exports left out
together) and a 16-core Xeon (onnxruntime CPU), each fitted with a few parameter sets; prints leave-one-model-out errors
(median, p90 of |estimate/measured - 1|). The *_fp16.onnx exports are the float32 ones with every float
tensor typed float16.

    python -m benchmarks.bench_fit [--defaults] [--nested]

`--defaults` runs only `fit` at its defaults; `--nested` adds, for those, the left-out errors of the whole
procedure (each model predicted by a fit that chose its parameters without it), minutes more.

The models are graph-only torchvision exports (opset 17, dynamic batch) made with torch 2.14.1."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from onnxcost.latency.profiles import Profile, load_profile
from onnxcost.measure.fit import Measurement, Prediction, fit, predict_ms, prepare, read_csv, selection_path, summary

DATA = Path(__file__).resolve().parent / "data" / "measured"
#: The H100's GPU terms: TF32 convs, fp16 tensor cores, CUDA-core fp32 GEMMs, a dense kernel's own fixed cost.
GPU = ["launch_overhead_us", "dense_launch_overhead_us", "efficiency.fp16.dense", "efficiency.dense",
       "efficiency.tf32.dense"]
#: The defaults first: `fit` chooses its own parameters (params None); then parameter sets chosen by hand.
RUNS: list[tuple[str, str, list[str] | None]] = [
    ("h100_fp32.csv", "nvidia-h100", None),
    ("h100.csv", "nvidia-h100", None),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), None),
    ("h100_fp32.csv", "nvidia-h100", ["efficiency.dense", "efficiency.elementwise", "launch_overhead_us",
                                      "run_overhead_us"]),
    ("h100_fp32.csv", "nvidia-h100", ["efficiency.dense", "dense_k_half", "launch_overhead_us"]),
    ("h100_fp32.csv", "nvidia-h100", ["dense_launch_overhead_us", "efficiency.dense", "efficiency.tf32.dense"]),
    ("h100_fp32.csv", "nvidia-h100", ["launch_overhead_us", "dense_launch_overhead_us", "efficiency.dense",
                                      "efficiency.tf32.dense"]),
    ("h100.csv", "nvidia-h100", GPU),
    ("h100.csv", "nvidia-h100", GPU[1:]),
    ("xeon.csv", "xeon-8480", ["efficiency.dense", "efficiency.depthwise", "efficiency.elementwise",
                               "launch_overhead_us"]),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), ["speed", "launch_overhead_us"]),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), ["speed", "efficiency.depthwise", "launch_overhead_us"]),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), ["speed", "dense_k_half"]),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), ["speed", "parallel_flops_half"]),
    ("xeon.csv", str(DATA / "xeon16-calibrated.toml"), ["speed", "parallel_flops_half", "dense_k_half"]),
]
#: The Xeon's profile was calibrated at 16 threads before calibrate timed one thread: the parallel term is fitted.
THREADS = {"xeon16-calibrated.toml": 16}


def nested(measurements: list[Measurement], profile: Profile) -> tuple[float, float] | None:
    """Leave-one-model-out errors of the whole default fit, the choice of parameters included: each model (its
    group) predicted by `fit` at its defaults on the others. Honest where the defaults' own left-out figure is
    not: that one scores the set the selection picked with the same left-out errors."""
    out: list[Prediction] = []
    for group in sorted({m.held_out_as for m in measurements}):
        rest = [m for m in measurements if m.held_out_as != group]
        fitted = fit(rest, profile).profile
        out += [Prediction(c.measurement.label, c.measurement.model.stem, c.measurement.latency_ms,
                           predict_ms(c, fitted)) for c in prepare([m for m in measurements if m.held_out_as == group])]
        print(f"    nested: {out[-1].label} {out[-1].error:+.1%}", flush=True)
    return summary(out)


def main(defaults_only: bool = False, with_nested: bool = False) -> int:
    for csv_name, base, params in RUNS:
        if defaults_only and params is not None:
            continue
        measurements = read_csv(DATA / csv_name)
        profile = load_profile(base)
        profile = replace(profile, threads=THREADS.get(Path(base).name, profile.threads))
        result = fit(measurements, profile, params)
        fitted, held = summary(result.fitted), summary(result.held_out)
        chosen = ", ".join(params) if params is not None else (
            "defaults, chose " + (", ".join(result.parameters) or "nothing"))
        print(f"{csv_name} from {Path(base).name}, fitting {chosen}")
        if result.candidates:
            print(f"    {len(result.candidates)} sets tried: {selection_path(result)}")
        if result.at_bound:
            print(f"  at a bound: {', '.join(result.at_bound)}")
        print("  " + ", ".join(f"{k} {v:.3g}" for k, v in result.parameters.items()))
        if fitted:
            print(f"  fitted:           median {fitted[0]:6.1%}  p90 {fitted[1]:6.1%}")
        if held:
            print(f"  left-one-out:     median {held[0]:6.1%}  p90 {held[1]:6.1%}")
        honest = nested(measurements, profile) if with_nested and params is None else None
        if honest:
            print(f"  nested (choice left out too): median {honest[0]:6.1%}  p90 {honest[1]:6.1%}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main("--defaults" in sys.argv, "--nested" in sys.argv))
