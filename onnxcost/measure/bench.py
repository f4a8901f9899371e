"""Measured latency with onnxruntime beside the estimate: whole-model statistics, and per node by joining
onnxruntime's profiler trace to the graph (fused nodes are named after their last output tensor, e.g.
`relu1_out_nchwc`: walk back from that tensor's producer to the node of the kernel's op type)."""

from __future__ import annotations

import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..base import dtypes
from ..base.errors import ConfigError, ModelError
from ..latency.estimate import reorder_estimates
from ..latency.profiles import load_profile
from ..pipeline import analyze
from ..report.schema import Report
from .trace import estimated_events, measured_events

# onnxruntime names a fused kernel after a node plus a suffix: "relu1_out_nchwc", "…/Mul/QuickGeluFusion/".
_SUFFIXES = re.compile(r"(_bn_nchwc|_nchwc|_token_\d+|_fence_(before|after)|_kernel_time|/\w*Fusion/?)$")
# ... or with a prefix: "fused /classifier/Gemm" (Gemm + activation fused into FusedGemm)
_PREFIXES = re.compile(r"^fused ")


@dataclass
class NodeTiming:
    name: str
    op_type: str
    measured_us: float | None  # None: fused into another node, or not run by onnxruntime
    estimated_us: float | None
    fused_into: str | None = None


@dataclass
class BenchResult:
    latency_ms: dict[str, float]  # min, p50, p90, mean
    runs: int
    threads: int
    provider: str
    estimate_ms: float | None
    profile: str | None
    nodes: list[NodeTiming] = field(default_factory=list)
    unmatched_us: dict[str, float] = field(default_factory=dict)  # runtime-inserted kernels by op type
    unmatched_estimated_us: dict[str, float] = field(default_factory=dict)  # layout reorders the estimate predicts
    planned_peak_bytes: int | None = None  # the report's peak of live activations (minimum-peak schedule)
    run_rss_growth_bytes: int | None = None  # a fresh process's resident memory growth over the first run
    session_rss_bytes: int | None = None  # ... and over creating the session (weights, kernels, the runtime)
    #: with per_node: the estimated and the measured per-node timelines, as Chrome trace events (trace.py)
    trace_events: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": {k: round(v, 4) for k, v in self.latency_ms.items()}, "runs": self.runs,
            "threads": self.threads, "provider": self.provider, "estimate_ms": self.estimate_ms,
            "profile": self.profile,
            "nodes": [{"name": n.name, "op_type": n.op_type,
                       "measured_us": None if n.measured_us is None else round(n.measured_us, 2),
                       "estimated_us": None if n.estimated_us is None else round(n.estimated_us, 2),
                       **({"fused_into": n.fused_into} if n.fused_into else {})} for n in self.nodes],
            "unmatched_us": {k: round(v, 2) for k, v in self.unmatched_us.items()},
            "unmatched_estimated_us": {k: round(v, 2) for k, v in self.unmatched_estimated_us.items()},
            "planned_peak_bytes": self.planned_peak_bytes, "run_rss_growth_bytes": self.run_rss_growth_bytes,
            "session_rss_bytes": self.session_rss_bytes,
        }


def random_inputs(report: Report, seed: int = 0, skip: set[str] | None = None) -> dict[str, np.ndarray]:
    """Random data of each input's bound shape and dtype (ints small and non-negative, bools random)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    assert report.graph is not None
    for spec in report.inputs:
        if spec.name in (skip or set()):
            continue
        t = report.graph.tensors[spec.name]
        if t.shape is None or t.dtype == 0:
            raise ModelError(f"input '{spec.name}' has no known shape or type; bind it with "
                             f"input_shapes={{'{spec.name}': [...]}}")
        np_type = dtypes.to_numpy(t.dtype)
        if np_type.kind == "f":
            feeds[spec.name] = rng.standard_normal(t.shape).astype(np_type)
        elif np_type.kind == "b":
            feeds[spec.name] = rng.integers(0, 2, t.shape).astype(np_type)
        else:
            feeds[spec.name] = rng.integers(0, 8, t.shape).astype(np_type)
    return feeds


def _session(path: Path, provider: str, threads: int, profile_prefix: str | None = None) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    if provider not in ort.get_available_providers():
        raise ConfigError(f"provider {provider!r} is not available here "
                          f"(available: {', '.join(ort.get_available_providers())})")
    try:
        return ort.InferenceSession(str(path), so, providers=[provider])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(f"{path}: onnxruntime cannot load the model: {str(exc).splitlines()[0]}") from None


_MEASURE = """
import resource, sys, numpy as np, onnxruntime as ort
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE')
feeds = dict(np.load(sys.argv[2]))
so = ort.SessionOptions(); so.log_severity_level = 3; so.intra_op_num_threads = int(sys.argv[4])
base = rss()
sess = ort.InferenceSession(sys.argv[1], so, providers=[sys.argv[3]])
loaded = rss()
sess.run(None, feeds)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(loaded - base, peak - loaded)
"""


def run_memory(path: Path, feeds: dict[str, np.ndarray], provider: str, threads: int) -> tuple[int, int] | None:
    """(bytes a fresh process grows by creating the session, then by its first run): the run's share is what
    onnxruntime's arena and kernels allocate for activations and scratch. None where /proc is not there."""
    import subprocess
    import sys

    if not Path("/proc/self/statm").exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "feeds.npz"
        np.savez(npz, **feeds)  # type: ignore[arg-type]
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(npz), provider, str(threads)],
                              capture_output=True, text=True, timeout=600, check=False)
    try:
        load, run = (int(x) for x in done.stdout.split())
    except ValueError:
        return None
    return load, max(run, 0)


def time_runs(run: Callable[[], object], warmup: int, runs: int,
              progress: Callable[[int], None] | None = None) -> list[float]:
    for _ in range(warmup):
        run()
    times = []
    for k in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
        if progress is not None:
            progress(k + 1)
    return times


def stats(times: Sequence[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"min": ordered[0], "p50": statistics.median(ordered),
            "p90": ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))],
            "mean": statistics.fmean(ordered)}


def join_profile(events: list[dict[str, Any]], report: Report, runs: int) -> tuple[dict[str, float], dict[str, str],
                                                                               dict[str, float]]:
    """Per-node mean µs, which nodes were fused into which, and unmatched kernels' µs by op type."""
    assert report.graph is not None
    g = report.graph
    names = {n.name for n in report.nodes}
    measured: dict[str, float] = {}
    fused: dict[str, str] = {}
    unmatched: dict[str, float] = {}
    for e in events:
        if e.get("cat") != "Node" or not str(e.get("name", "")).endswith("_kernel_time"):
            continue
        op = e.get("args", {}).get("op_name", "")
        raw = str(e["name"])
        while _SUFFIXES.search(raw):
            raw = _SUFFIXES.sub("", raw)
        raw = _PREFIXES.sub("", raw)
        target: str | None = raw if raw in names else None
        if target is None and raw in g.producers:
            node = g.node(g.producers[raw])
            chain = [node.name]
            while node.op_type != op:
                data = next((t for t in node.inputs if t and t in g.producers), None)
                if data is None:
                    break
                node = g.node(g.producers[data])
                chain.append(node.name)
            if node.op_type == op:
                target = node.name
                for other in chain[:-1]:
                    fused[other] = target
            else:
                target = g.producers[raw]
        if target is None:
            unmatched[op or "?"] = unmatched.get(op or "?", 0.0) + float(e.get("dur", 0)) / runs
            continue
        measured[target] = measured.get(target, 0.0) + float(e.get("dur", 0)) / runs
    return measured, fused, unmatched


def bench(model: str | os.PathLike[str], dims: Mapping[str, int] | None = None,
          input_shapes: Mapping[str, Sequence[int]] | None = None, provider: str = "CPUExecutionProvider",
          threads: int | None = None, warmup: int = 5, runs: int = 50, per_node: bool = False,
          profile: str | None = None, progress: Callable[[int], None] | None = None,
          inputs: Mapping[str, np.ndarray] | None = None, fusions: str | None = None) -> BenchResult:
    """Run the model with onnxruntime and time it beside the estimate. `inputs`: real values for some inputs
    (given values, or an .npz file; the others get random data of their bound shapes). `fusions`: where the
    estimate learns which nodes run fused; by default, on the CPU provider, from the graph onnxruntime
    optimizes for this very run (the session opens the weights anyway)."""
    path = Path(model)
    hw = load_profile(profile) if profile is not None else None
    given = dict(inputs or {})
    shapes = {**{k: list(v.shape) for k, v in given.items()}, **(input_shapes or {})}
    small = {k: v.reshape(-1).tolist() for k, v in given.items() if v.ndim <= 1 and v.dtype.kind in "iuf"}
    report = analyze(path, dims=dims, input_shapes={k: v for k, v in shapes.items() if k not in small} or None,
                     profile=hw, input_values=small or None,
                     fusions=fusions or ("onnxruntime" if provider == "CPUExecutionProvider" else "patterns"))
    missing = [w for w in report.warnings if w.startswith("external data file")]
    if missing:
        raise ModelError(f"{path}: bench runs the model and needs its weights, but {missing[0].split(';')[0]}")
    if report.symbolic is not None:
        names = list(report.symbolic["symbols"])
        raise ConfigError(f"bench runs concrete inputs: bind {', '.join(names)} with dims={{'{names[0]}': N}}")
    threads = threads or (os.cpu_count() or 1)
    assert report.graph is not None
    for name, value in given.items():  # as the input is declared: its type, and a scalar for one value
        t = report.graph.tensors.get(name)
        if t is not None and t.shape is not None and t.dtype:
            given[name] = value.astype(dtypes.to_numpy(t.dtype)).reshape(t.shape)
    feeds = {**random_inputs(report, skip=set(given)), **given}
    sess = _session(path, provider, threads)
    memory = run_memory(path, feeds, provider, threads)
    times = time_runs(lambda: sess.run(None, feeds), warmup, runs, progress)
    nodes: list[NodeTiming] = []
    unmatched: dict[str, float] = {}
    timeline: list[dict[str, Any]] = []
    if per_node:
        with tempfile.TemporaryDirectory() as tmp:
            prof = _session(path, provider, threads, str(Path(tmp) / "ort"))
            profiled = max(3, min(runs, 20))
            time_runs(lambda: prof.run(None, feeds), 1, profiled)
            trace = prof.end_profiling()
            events = json.loads(Path(trace).read_text())
        # the warm-up run is profiled too: scale by all runs made in the session
        measured, fused, unmatched = join_profile(events, report, profiled + 1)
        timeline = estimated_events(report.nodes, report.schedule, report.totals.profile) + measured_events(events)
        for n in report.nodes:
            if n.folded:
                continue
            nodes.append(NodeTiming(n.name, n.op_type, measured.get(n.name), n.latency_us, fused.get(n.name)))
    predicted: dict[str, float] = {}
    if per_node and hw is not None and report.graph is not None:
        for r, us in reorder_estimates(report.graph, hw):
            if r.kind != "transpose":
                kernel = "ReorderInput" if r.kind == "input" else "ReorderOutput"
                predicted[kernel] = predicted.get(kernel, 0.0) + us
    return BenchResult(stats(times), runs, threads, provider, report.totals.latency_ms, report.totals.profile,
                       nodes, unmatched, predicted, report.totals.peak_memory_bytes,
                       None if memory is None else memory[1], None if memory is None else memory[0],
                       timeline if per_node else [])
