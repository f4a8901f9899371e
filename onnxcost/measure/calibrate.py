"""Fit a hardware profile of this machine from onnxruntime microbenchmarks (a couple of minutes at most):
per-node launch overhead (a chain of tiny ops), main-memory and cache bandwidth (large and small element-wise
streams), dense peak and efficiency (GEMM and conv shapes), depthwise conv, transcendental element-wise ops and
data movement (Transpose). Each measurement is analysed by onnxcost itself, so FLOPs and bytes are counted
by the same rules the estimate uses."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import helper

from ..latency.estimate import copy_calls
from ..latency.layout import nchwc_reorders
from ..latency.profiles import Profile, busy_threads
from ..latency.profiles import to_toml as profiles_to_toml
from ..pipeline import analyze
from .bench import random_inputs
from .microbench import PARALLEL_KINDS, SHORT, SPREAD_KINDS, cases, micro

Shape = list[int]


@dataclass(frozen=True)
class Measurement:
    name: str
    kind: str  # overhead, run, bandwidth, cache, dense, grouped, depthwise, einsum, elementwise, movement, gemm,
    # bias, copy, warm weights, cold weights, blocked grouped, one block, serial pow, int8, int8 unsigned,
    # quantized softmax
    flops: int
    bytes: int
    seconds: float  # per node
    reduction: int = 0  # dense kernels: the length of each dot product (K)
    reorders: tuple[int, ...] = ()  # bytes of each layout reorder onnxruntime adds around the node (layout.py)
    rows: int = 0  # dense kernels: rows of the output matrix (M: output pixels of a conv)
    nodes: int = 1  # a chain of this many same nodes: seconds, FLOPs and bytes are per node, reorders are not
    one_thread_s: float = 0.0  # the same node on one thread (0: not measured): how well it spreads over the pool
    columns: int = 0  # dense kernels: columns of the output matrix (N)
    copies: int = 0  # memcpy calls of its kernels' copy loops, per node (OpDef.copies)
    weight_bytes: int = 0  # weights each node reads (the warm and cold weight cases)
    spread: float = 1.0  # its slowest round over its fastest: how steady the machine was while it ran
    elements: int = 0  # quantized softmax: elements of its output



def measure(model: onnx.ModelProto, nodes: int, threads: int, budget_s: float,
            block: int = 0, optimize: bool = True) -> tuple[int, int, float, tuple[int, ...]]:
    """(FLOPs, bytes moved, seconds per node, sizes of the layout reorders onnxruntime adds) of a one-kind model,
    timed by the median of repeated runs. A lone conv is timed with a reorder on each side (its graph input and
    output are plain): fit() takes them out, as they are not the conv's own time."""
    import onnxruntime as ort

    rep = analyze(model, schedule="file")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    if not optimize:  # keep the chain as it is: the point is the cost of launching each node
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = random_inputs(rep)
    sess.run(None, feeds)
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 200):
        start = time.perf_counter()
        sess.run(None, feeds)
        times.append(time.perf_counter() - start)
    flops = rep.totals.flops
    assert flops is not None  # its microbenchmarks have every dim fixed
    moved = sum((n.input_bytes or 0) + (n.output_bytes or 0) for n in rep.nodes)
    assert rep.graph is not None
    reorders = tuple(r.nbytes for r in nchwc_reorders(rep.graph, block) if r.kind != "transpose") if optimize else ()
    # The median run: what `onnxcost bench` reports as p50, the figure the estimate is compared with.
    return flops // nodes, moved // nodes, statistics.median(times) / nodes, reorders


def nchwc_block(threads: int = 1) -> int:
    """Channels per block of onnxruntime's blocked conv layout on this CPU (8 with AVX2, 16 with AVX-512), 0 when
    it does not block: the smallest channel count at which it runs a MaxPool blocked (pools need whole blocks)."""
    import tempfile

    import onnxruntime as ort

    for channels in (4, 8, 16, 32):
        model = micro([helper.make_node("MaxPool", ["a"], ["y"], kernel_shape=[2, 2])], {"a": [1, channels, 8, 8]},
                       "y")
        with tempfile.TemporaryDirectory() as tmp:
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.log_severity_level = 3
            so.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
            ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
            optimized = onnx.load(so.optimized_model_filepath)
        if any(n.op_type == "ReorderInput" for n in optimized.graph.node):
            return channels
    return 0


def llc_bytes() -> int:
    """Largest CPU cache the kernel reports (the last-level cache), or 8 MiB when it says nothing."""
    sizes = []
    for f in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = f.read_text().strip().upper()
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        try:
            sizes.append(int(text.rstrip("KMG")) * mult)
        except ValueError:
            continue
    return max(sizes, default=8 << 20)


def calibrate(threads: int | None = None, per_case_s: float = 5.0, rounds: int = 7,
              progress: Callable[[str, int, int], None] | None = None) -> tuple[str, list[Measurement]]:
    """Run every microbenchmark `rounds` times, round-robin so that a slow spell of a shared machine hits all
    cases alike, and keep each case's median over rounds: the machine's typical speed, the same statistic as
    the p50 `onnxcost bench` reports (a best-of-rounds figure would estimate every model too fast).
    Return the fitted profile as TOML and the measurements."""
    threads = threads or (os.cpu_count() or 1)
    block = nchwc_block(threads)
    todo = cases(block)
    models = [(name, kind, build(), nodes) for name, kind, build, nodes in todo]
    seen: dict[str, list[float]] = {name: [] for name, *_ in todo}
    alone: dict[str, list[float]] = {name: [] for name, kind, *_ in todo if kind in PARALLEL_KINDS and threads > 1}
    counts: dict[str, tuple[int, int, tuple[int, ...]]] = {}
    total = (len(models) + len(alone)) * rounds
    step = 0
    for _ in range(rounds):
        for name, kind, model, nodes in models:
            for n_threads, into in ((threads, seen), (1, alone)):
                if name not in into:
                    continue
                if progress is not None:
                    progress(name if n_threads == threads else f"{name}, 1 thread", step, total)
                step += 1
                flops, moved, seconds, reorders = measure(model, nodes, n_threads, per_case_s / rounds, block,
                                                          optimize=kind != "overhead")
                into[name].append(seconds)
                counts[name] = (flops, moved, reorders)
    if progress is not None:
        progress("done", total, total)
    results = []
    for name, kind, model, nodes in models:
        dims = dict(re.findall(r"\b([KMNWE])=(\d+)", name))
        flops, moved, reorders = counts[name]
        results.append(Measurement(name, kind, flops, moved, statistics.median(seen[name]), int(dims.get("K", 0)),
                                   reorders, int(dims.get("M", 0)), nodes,
                                   statistics.median(alone[name]) if alone.get(name) else 0.0, int(dims.get("N", 0)),
                                   copies(model) // nodes if kind == "copy" else 0, int(dims.get("W", 0)),
                                   max(seen[name]) / max(min(seen[name]), 1e-12), int(dims.get("E", 0))))
    fitted = fit(results, threads)
    fitted["nchwc_block"] = block
    return to_toml(fitted, threads), results


#: A median spread between rounds above this says the machine changed speed while calibrating.
UNSTEADY_SPREAD = 1.25


def unsteady(results: list[Measurement]) -> float:
    """The median over cases of slowest-over-fastest round, when above UNSTEADY_SPREAD (else 0): a shared
    machine that changed speed during calibration (one noisy case does not count; a slow spell slows most)."""
    spread = statistics.median(m.spread for m in results) if results else 1.0
    return spread if spread > UNSTEADY_SPREAD else 0.0


def copies(model: onnx.ModelProto) -> int:
    """memcpy calls the model's copy loops make (estimate.copy_calls over its nodes)."""
    rep = analyze(model, schedule="file")
    assert rep.graph is not None
    return sum(copy_calls(n, rep.graph) for n in rep.graph.nodes)


def parallel_half(ms: list[Measurement], threads: int, overhead_s: float) -> float:
    """parallel_flops_half from kernels timed on 1 and on all threads: the work at which a kernel keeps half of
    the extra threads busy, fitted to the speedups (busy threads = 1 + (N - 1) W / (W + half)); 0 when not
    measured."""
    import math

    from scipy.optimize import minimize_scalar

    pairs = [(m.flops, (m.one_thread_s - overhead_s) / max(m.seconds - overhead_s, 1e-12)) for m in ms
             if m.one_thread_s > 0 and m.flops > 0 and m.one_thread_s > overhead_s]
    if threads <= 1 or not pairs:
        return 0.0

    def loss(log_half: float) -> float:
        half = math.exp(log_half)
        return sum((math.log(busy_threads(threads, w, half)) - math.log(min(max(s, 1e-3), threads))) ** 2
                   for w, s in pairs)

    return math.exp(minimize_scalar(loss, bounds=(math.log(1e3), math.log(1e11)), method="bounded").x)


def added_rate(ms: list[Measurement], base: str, kind: str, size: Callable[[Measurement], int]) -> float:
    """Bytes per second of the work a `kind` case adds to the `base` case of the same size (its bias pass, its
    weights read from memory): the median over pairs; 0 without a pair or when it adds no time."""
    before = {size(m): m.seconds for m in ms if m.kind == base}
    added = [(size(m), m.seconds - before[size(m)]) for m in ms if m.kind == kind and size(m) in before]
    return statistics.median(b / s for b, s in added) if added and all(s > 0 for _, s in added) else 0.0


def fit(ms: list[Measurement], threads: int = 1) -> dict[str, float]:
    """Profile numbers from measurements. Launch overhead first; rates are computed net of it, and a kernel's
    rate as it would run with every thread busy (its parallel slowdown taken out)."""
    overhead = statistics.median(m.seconds for m in ms if m.kind == "overhead")
    half = parallel_half(ms, threads, overhead)
    run = max(0.0, statistics.median(m.seconds for m in ms if m.kind == "run") - overhead)

    def net(m: Measurement, other_s: float = 0.0) -> float:
        """Seconds of the node's own work: without its launch (and `other_s`), never below 5% of the total."""
        return max(m.seconds - overhead - other_s, m.seconds * 0.05)

    bandwidth = statistics.median(m.bytes / net(m) for m in ms if m.kind == "bandwidth")
    cache_bw = max(bandwidth, statistics.median(m.bytes / net(m) for m in ms if m.kind == "cache"))
    cache = llc_bytes()

    def rate(m: Measurement, of: str) -> float:
        # net of the launch and of the reorders around a lone conv (costed as the estimate costs them)
        reorders = sum(2 * b / (cache_bw if 2 * b <= cache else bandwidth) + overhead for b in m.reorders) / m.nodes
        slowdown = threads / busy_threads(threads, m.flops, half) if half and m.kind in SPREAD_KINDS else 1.0
        return (m.flops if of == "flops" else m.bytes) / net(m, reorders) * slowdown

    dense = [rate(m, "flops") for m in ms if m.kind == "dense"]
    peak = max(dense)
    # Short dot products reuse each loaded value less: efficiency(K) = dense x K / (K + k_half).
    halves = [m.reduction * (peak / rate(m, "flops") - 1) for m in ms if m.kind == "dense" and m.reduction <= SHORT]
    k_half = statistics.median(halves) if halves else 0.0

    def long(m: Measurement) -> bool:  # long dot products and enough rows: the dense kernel at its best
        return m.reduction > SHORT and (m.rows == 0 or m.rows > SHORT)

    def eff(kind: str) -> float:
        vals = [rate(m, "flops") / peak / (m.reduction / (m.reduction + k_half) if m.reduction else 1.0)
                for m in ms if m.kind == kind and (kind != "dense" or long(m))]
        return min(1.0, max(0.01, statistics.median(vals)))

    # Few rows (a 7x7 feature map, a 49-token window) leave the kernel's tiles and threads part-empty:
    # efficiency(M) = M / (M + m_half), from the long-K cases with at most SHORT rows.
    dense_rate = peak * eff("dense")
    m_halves = [m.rows * max(0.0, dense_rate * m.reduction / (m.reduction + k_half) / rate(m, "flops") - 1)
                for m in ms if m.kind == "dense" and m.reduction > SHORT and 0 < m.rows <= SHORT]
    m_half = statistics.median(m_halves) if m_halves else 0.0

    movement = statistics.median(rate(m, "bytes") for m in ms if m.kind == "movement") / bandwidth
    def shape_share(m: Measurement) -> float:
        """The share of the dense rate the estimate gives a kernel of its K and M (1 when either is not known)."""
        return m.reduction / (m.reduction + k_half) * m.rows / (m.rows + m_half) if m.reduction and m.rows else 1.0

    def share(values: list[float]) -> float:
        """The median of measured shares, kept within (0, 1]; 0 (unknown) when nothing was measured."""
        return min(1.0, max(0.01, statistics.median(values))) if values else 0.0

    # A grouped conv of one channel block per group, against a dense conv of its K and M (estimate.py's
    # narrow_group_slowdown scales it to more blocks per group).
    block_ratio = share([rate(m, "flops") / dense_rate / shape_share(m)
                         for m in ms if m.kind == "blocked grouped" and m.reduction and m.rows])
    # A conv of one block of output channels, against a dense conv of its K and M (estimate.py's
    # narrow_output_slowdown).
    one_ratio = share([rate(m, "flops") / dense_rate / shape_share(m)
                       for m in ms if m.kind == "one block" and m.reduction and m.rows])
    # Integer kernels: the best uint8 x int8 GEMM is the int8 peak, and the others' share of it (net of the
    # dot-product and row terms the estimate applies to every dense kernel) its dense efficiency; kernels of
    # uint8 weights run at unsigned_int8_ratio of that.
    signed = [m for m in ms if m.kind == "int8"]
    int8_peak = max((rate(m, "flops") for m in signed), default=0.0)
    int8_dense = share([rate(m, "flops") / int8_peak / shape_share(m) for m in signed])
    unsigned_ratio = share([rate(m, "flops") / (int8_peak * int8_dense * shape_share(m))
                            for m in ms if m.kind == "int8 unsigned"]) if signed else 0.0
    # The bias pass: the time a bias adds to the same GEMM, per byte of its (float32) output.
    bias_bw = added_rate(ms, "gemm", "bias", lambda m: 4 * m.rows * m.columns)
    # A copy loop's memcpy calls: the time of each, net of the launch (0 when not measured).
    calls = [net(m) / m.copies * 1e9 for m in ms if m.kind == "copy" and m.copies]
    copy_ns = statistics.median(calls) if calls else 0.0
    # A serial kernel's scalar power: its time per element (in and out are 4 bytes each), net of the launch.
    pows = [net(m) / (m.bytes / 8) * 1e9 for m in ms if m.kind == "serial pow" and m.bytes]
    pow_ns = statistics.median(pows) if pows else 0.0
    # onnxruntime's QLinearSoftmax: its time per element, net of the launch.
    softmax = [net(m) / m.elements * 1e9 for m in ms if m.kind == "quantized softmax" and m.elements]
    softmax_ns = statistics.median(softmax) if softmax else 0.0
    # Weights from main memory: what they add to the same conv chain, per weight byte.
    weight_bw = added_rate(ms, "warm weights", "cold weights", lambda m: m.weight_bytes)
    return {"overhead_us": overhead * 1e6, "run_us": run * 1e6, "bandwidth": bandwidth, "cache_bandwidth": cache_bw,
            "peak": peak,
            "dense": eff("dense"), "grouped": eff("grouped"), "depthwise": eff("depthwise"),
            "elementwise": eff("elementwise"),
            "einsum": eff("einsum"), "k_half": k_half, "m_half": m_half,
            "movement": min(1.0, max(0.01, movement)), "threads": threads, "parallel_half": half,
            "cache_bytes": cache, "bias_bandwidth": bias_bw, "copy_call_ns": copy_ns, "serial_pow_ns": pow_ns,
            "weight_bandwidth": weight_bw, "block_group_ratio": block_ratio, "one_block_ratio": one_ratio,
            "quantized_softmax_ns": softmax_ns, "int8_peak": int8_peak, "int8_dense": int8_dense,
            "unsigned_int8_ratio": unsigned_ratio}


def to_toml(p: dict[str, float], threads: int) -> str:
    """The fitted numbers as an ordinary profile (profiles.to_toml), with what each one means in the header."""
    classes = ("dense", "grouped", "depthwise", "elementwise", "movement", "einsum")
    profile = Profile(
        name=f"local ({os.uname().nodename}, {threads} threads)", kind="cpu",
        peak_flops={"fp32": p["peak"], "fp16": p["peak"], "int8": p.get("int8_peak") or 2 * p["peak"]},
        bandwidth=p["bandwidth"],
        launch_overhead_us=p["overhead_us"],
        efficiency={**{k: p[k] for k in classes}, **({"int8.dense": p["int8_dense"]} if p.get("int8_dense") else {})},
        cache_bytes=int(p["cache_bytes"]), cache_bandwidth=p["cache_bandwidth"],
        bias_bandwidth=p.get("bias_bandwidth", 0.0), weight_bandwidth=p.get("weight_bandwidth", 0.0),
        run_overhead_us=p["run_us"],
        dense_k_half=p["k_half"], dense_m_half=p.get("m_half", 0.0), nchwc_block=int(p.get("nchwc_block", 0)),
        threads=threads, parallel_flops_half=p.get("parallel_half", 0.0), copy_call_ns=p.get("copy_call_ns", 0.0),
        serial_pow_ns=p.get("serial_pow_ns", 0.0), one_block_ratio=p.get("one_block_ratio", 0.0),
        block_group_ratio=p.get("block_group_ratio", 0.0), unsigned_int8_ratio=p.get("unsigned_int8_ratio", 0.0),
        quantized_softmax_ns=p.get("quantized_softmax_ns", 0.0))
    return profiles_to_toml(profile, [
        f"Fitted on this machine by `onnxcost calibrate` ({time.strftime('%Y-%m-%d %H:%M')}, {threads} threads,",
        "onnxruntime CPUExecutionProvider). Rates are net of the per-node launch overhead.",
        "run_overhead_us: once per inference (feeding inputs, fetching outputs).",
        "A dense kernel with dot products of length K and M output rows (conv: pixels) runs at",
        "K / (K + dense_k_half) x M / (M + dense_m_half) of the dense rate; one of W FLOPs keeps",
        "1 + (threads - 1) W / (W + parallel_flops_half) threads busy.",
        "nchwc_block: onnxruntime's blocked conv layout (0: none), for the layout reorders.",
        "block_group_ratio: a grouped conv of one channel block per group, as a share of a dense conv's rate.",
        "one_block_ratio: a conv of one block of output channels, as a share of a dense conv's rate.",
        "bias_bandwidth: a GEMM's bias, copied into its output before the product accumulates onto it.",
        "copy_call_ns: one memcpy of a kernel that copies in small pieces (Expand of a trailing 1).",
        "serial_pow_ns: one scalar power in a kernel that runs them on one thread (onnxruntime's LRN).",
        "weight_bandwidth: a conv's weights, read from beyond its core's cache in a model, on top of its math.",
        "peak_flops.fp32: the best dense kernel measured; onnxruntime's CPU provider computes fp16 no faster.",
        "peak_flops.int8: the best uint8 x int8 GEMM measured (MatMulInteger); [efficiency.int8] dense: the",
        "share of it integer kernels reach; unsigned_int8_ratio: kernels of uint8 weights (quantize_dynamic's",
        "ConvInteger), as a share of int8 ones: they go without the uint8 x int8 dot-product instructions.",
        "quantized_softmax_ns: one element of onnxruntime's QLinearSoftmax (a QDQ model's Softmax).",
    ])
