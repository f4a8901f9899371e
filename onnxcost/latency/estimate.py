"""Estimate stage: a roofline latency per node on a hardware profile (seed 003's roofline, seed 004's
memory access cost): time = max(FLOPs / (peak x efficiency of the op's class), bytes / bandwidth) +
launch overhead. Op classes differ a lot in the share of peak they reach — dense contractions reuse every
byte many times, depthwise convs and element-wise ops do not — which is why one flat FLOP/s figure
mispredicts MobileNet, ShuffleNet and EfficientNet."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from onnx import TensorProto

from .. import ops
from ..cost.nodes import NodeCost, view
from ..ops import NodeView, UnknownShape
from ..shapes.graph import Graph, NodeInfo
from ..shapes.tensors import TensorInfo
from . import hints
from .fusion import chain_costs, data_inputs, elementwise_groups, fused_nodes
from .hints import Nchwc
from .layout import Reorder, nchwc_reorders
from .profiles import Profile

#: The shortest dot product `onnxcost calibrate` measures (its 16-channel 1x1 conv).
MIN_CALIBRATED_K = 16
#: The fewest output rows it measures (a 7x7 feature map, a 49-token window).
MIN_CALIBRATED_M = 49
#: A grouped conv whose groups see at most this many input channels each (RegNetY's 8) is its own class,
#: "grouped": far below a dense conv's efficiency, well above a depthwise one's (one channel per group).
DEPTHWISE_MAX_CHANNELS_PER_GROUP = 8
#: Classes whose kernels a CPU runtime splits over its thread pool by their work (GEMM and conv partitions):
#: the ones calibrate times on 1 and N threads and corrects (its einsum rate keeps its parallel slowdown in).
PARALLEL_CLASSES = ("dense", "grouped", "depthwise")
_FP16 = {TensorProto.FLOAT16, TensorProto.BFLOAT16}
_INT8 = {TensorProto.INT8, TensorProto.UINT8}
T = TypeVar("T")


@dataclass(frozen=True)
class NodeEstimate:
    op_class: str  # dense, grouped, depthwise, einsum, elementwise, movement, view
    bound: str  # "compute" | "memory" | "overhead" | "fused" (into the dense kernel before it) | "unknown"
    arithmetic_intensity: float | None  # FLOPs per byte moved
    latency_us: float | None  # None when the node's FLOPs are unknown


def op_class(node: NodeInfo, graph: Graph) -> str:
    """The op's class (its traits); a grouped conv with few channels per group is "grouped", one per group
    "depthwise"."""
    per_group = channels_per_group(node, graph)
    if per_group == 1:
        return "depthwise"
    if 0 < per_group <= DEPTHWISE_MAX_CHANNELS_PER_GROUP:
        return "grouped"
    cls = hints.of(node, graph).op_class
    return "elementwise" if cls in ("metadata", "control") else cls


def channels_per_group(node: NodeInfo, graph: Graph) -> int:
    """Input channels each group of a grouped conv sees; 0 for an ungrouped node or an unknown weight shape."""
    t = hints.of(node, graph)
    if t.weight_input is None or int(node.attrs.get("group", 1)) <= 1 or t.weight_input >= len(node.inputs):
        return 0
    w = graph.tensors.get(node.inputs[t.weight_input])
    return w.shape[1] if w is not None and w.shape is not None and len(w.shape) > 1 and isinstance(
        w.shape[1], int) else 0


def _first_output(node: NodeInfo, graph: Graph) -> TensorInfo | None:
    return graph.tensors.get(node.outputs[0]) if node.outputs else None


def narrow_output_slowdown(node: NodeInfo, graph: Graph, profile: Profile) -> float:
    """How much slower than the dense rate a blocked (NCHWc) conv with few output channels runs: its filters are
    padded to whole blocks (8 of 16 channels: twice the work), and one block of outputs reuses each loaded input
    less than several (Profile.one_block_ratio, timed: 1.3-1.4x at 16 channels here, 2.2-2.6x at 8). Grouped
    convs have their own terms; 1 without a blocked layout."""
    block = profile.nchwc_block
    if not block or hints.of(node, graph).nchwc is not Nchwc.CONV or int(node.attrs.get("group", 1)) != 1:
        return 1.0
    out = _first_output(node, graph)
    channels = out.shape[1] if out is not None and out.shape is not None and len(out.shape) > 1 else 0
    if not isinstance(channels, int) or channels <= 0:
        return 1.0
    blocks = -(-channels // block)
    slowdown = blocks * block / channels
    return slowdown / profile.one_block_ratio if blocks == 1 and profile.one_block_ratio else slowdown


def narrow_group_slowdown(channels: int, profile: Profile) -> float:
    """How much slower than a dense kernel a grouped conv with more channels per group than the grouped class
    holds runs. onnxruntime runs groups of whole channel blocks (n = channels / nchwc_block) with its blocked
    kernel: 1 - (1 - r) / n^2 of the dense rate, r the calibrated block_group_ratio (measured here at 0.65, 0.90,
    0.96, 0.99 of dense for 1-4 blocks of 16). Other wide groups (RegNet's 24, ResNeXt's 4-32) run narrow
    per-group GEMMs: dense x c / (c + c_half), c_half placing the grouped class's efficiency at 8 channels.
    1 when the profile lacks the numbers."""
    dense, grouped = profile.efficiency.get("dense"), profile.efficiency.get("grouped")
    block, ratio = profile.nchwc_block, profile.block_group_ratio
    if channels and block and ratio and channels % block == 0:
        return 1 / (1 - (1 - ratio) / (channels // block) ** 2)
    if not channels or dense is None or grouped is None or grouped >= dense:
        return 1.0
    c_half = DEPTHWISE_MAX_CHANNELS_PER_GROUP * (dense / grouped - 1)
    return (channels + c_half) / channels


def _ask(node: NodeInfo, graph: Graph, rule: Callable[[ops.OpDef], Callable[[NodeView], T] | None], unknown: T) -> T:
    """What one of the op's optional rules says about this node; `unknown` without the rule or a needed shape."""
    definition = ops.lookup(node.domain, node.op_type, graph.opsets.get(node.domain))
    fn = rule(definition) if definition is not None else None
    if fn is None:
        return unknown
    try:
        return fn(view(node, graph.tensors, graph.opsets))
    except UnknownShape:
        return unknown


def geometry(node: NodeInfo, graph: Graph) -> tuple[int, int]:
    """(M, K) of a contraction: rows of each output matrix and the length of each dot product; 0 when unknown."""
    return _ask(node, graph, lambda d: d.geometry, (0, 0))


def copy_calls(node: NodeInfo, graph: Graph) -> int:
    """memcpy calls the runtime's kernel makes for an op that copies in small pieces (OpDef.copies); 0 for other
    ops and unknown shapes."""
    return _ask(node, graph, lambda d: d.copies, 0)


def recurrent_steps(node: NodeInfo, graph: Graph) -> int:
    x = graph.tensors.get(node.inputs[0])
    if x is None or x.shape is None:
        return 1
    seq = x.shape[1] if node.attrs.get("layout", 0) else x.shape[0]
    dirs = 2 if node.attrs.get("direction", "forward") == "bidirectional" else 1
    return max(1, seq * dirs)


def dtype_class(node: NodeInfo, graph: Graph) -> str:
    t = graph.tensors.get(node.inputs[0]) if node.inputs and node.inputs[0] else None
    if t is not None and t.dtype in _INT8:
        return "int8"
    if t is not None and t.dtype in _FP16:
        return "fp16"
    return "fp32"


def unsigned_weights(node: NodeInfo, graph: Graph) -> bool:
    """An integer kernel's weights are uint8 (quantize_dynamic's ConvInteger, older MatMulInteger exports): the
    weight input of its hints (else input 1), or what the DequantizeLinear feeding it takes in (a QDQ group).
    onnxruntime's uint8 x uint8 kernels go without the uint8 x int8 dot-product instructions (VNNI)."""
    index = hints.of(node, graph).weight_input
    index = 1 if index is None else index
    if index >= len(node.inputs) or not node.inputs[index]:
        return False
    name = node.inputs[index]
    producer = graph.producers.get(name)
    if producer is not None and graph.node(producer).op_type == "DequantizeLinear":
        name = graph.node(producer).inputs[0]
    t = graph.tensors.get(name)
    return t is not None and t.dtype == TensorProto.UINT8


def compute_path(node: NodeInfo, graph: Graph, profile: Profile) -> str:
    """The peak a node's math runs at: its dtype's, or "tf32" for a float32 convolution on a GPU that runs those
    on tensor cores (cuDNN's default under PyTorch; float32 GEMMs stay on the CUDA cores)."""
    dtype = dtype_class(node, graph)
    if dtype == "fp32" and profile.tf32_convs and hints.of(node, graph).nchwc is Nchwc.CONV:
        return "tf32"
    return dtype


def layout_transform_us(node: NodeInfo, cost: NodeCost, graph: Graph, profile: Profile, path: str) -> float:
    """A conv whose path converts NCHW activations to NHWC and back (tensor-core kernels want channels last):
    two more kernels, each reading and writing one activation tensor. 0 for other nodes and profiles."""
    if path not in profile.nhwc_convs or hints.of(node, graph).nchwc is not Nchwc.CONV:
        return 0.0
    activations = (cost.input_bytes or 0) + (cost.output_bytes or 0) - cost.param_bytes
    return 2 * activations / stream_bandwidth(profile, 2 * activations) * 1e6 + 2 * profile.launch_overhead_us


def bias_pass_us(node: NodeInfo, cost: NodeCost, graph: Graph, profile: Profile, fused_bias: bool) -> float:
    """A GEMM that copies its bias into the output before accumulating onto it (RuntimeHints.bias_pass: onnxruntime's
    Gemm, which MatMul + Add also become): one pass over the output at the profile's bias_bandwidth (12-70 GB/s on
    the 2-core CI machine, far below a streaming pass). 0 without a bias, or on a profile whose runtime adds the
    bias in the kernel's epilogue (no bias_bandwidth)."""
    if not profile.bias_bandwidth or not hints.of(node, graph).bias_pass or cost.output_bytes is None:
        return 0.0
    has_c = len(node.inputs) > 2 and bool(node.inputs[2]) and float(node.attrs.get("beta", 1.0)) != 0.0
    if not (fused_bias or has_c):
        return 0.0
    return cost.output_bytes / profile.bias_bandwidth * 1e6


def stream_bandwidth(profile: Profile, moved: int) -> float:
    """Bytes/s for a pass over `moved` bytes: the cache's rate when they fit in the last-level cache."""
    if profile.cache_bytes and profile.cache_bandwidth and moved <= profile.cache_bytes:
        return profile.cache_bandwidth
    return profile.bandwidth


def estimate_node(node: NodeInfo, cost: NodeCost, graph: Graph, profile: Profile,
                  fused_into: str | None = None, fused_bias: bool = False, integer: bool = False) -> NodeEstimate:
    """One node's time; `fused_into` names the kernel it runs inside, `fused_bias` says an Add of a constant is
    folded into it."""
    cls = op_class(node, graph)
    if node.folded:
        return NodeEstimate(cls, "overhead", None, 0.0)
    if fused_into is not None:  # done inside the dense kernel's epilogue: no launch, no extra pass over memory
        return NodeEstimate(cls, "fused", None, 0.0)
    overhead = profile.dense_overhead_us if cls == "dense" else profile.launch_overhead_us
    if cls == "view":  # runtimes alias the input: no data moves
        return NodeEstimate(cls, "overhead", None, overhead)
    if cost.flops is None or cost.input_bytes is None or cost.output_bytes is None:
        return NodeEstimate(cls, "unknown", None, None)
    moved = cost.input_bytes + cost.output_bytes
    traits = ops.traits(node.domain, node.op_type, graph.opsets.get(node.domain))
    if traits.selecting:
        data = graph.tensors.get(node.inputs[0])
        moved -= (data.nbytes or 0) if data is not None else 0
        moved += cost.output_bytes
    bandwidth = stream_bandwidth(profile, moved)
    if cls == "movement":
        bandwidth *= profile.efficiency.get("movement", 1.0)
    path = "int8" if integer and "int8" in profile.peak_flops else compute_path(node, graph, profile)
    t_compute = cost.flops / profile.flops_per_s(path, cls) * 1e6
    if path == "int8" and profile.unsigned_int8_ratio and unsigned_weights(node, graph):
        t_compute /= profile.unsigned_int8_ratio
    m, k = geometry(node, graph) if cls == "dense" and cost.macs else (0, 0)
    if cls == "dense":
        t_compute *= narrow_group_slowdown(channels_per_group(node, graph), profile)
        t_compute *= narrow_output_slowdown(node, graph, profile)
    if profile.dense_k_half and k:
        # held at the shortest dot product calibration measures, not extrapolated below it
        k = max(k, MIN_CALIBRATED_K)
        t_compute *= (k + profile.dense_k_half) / k
    if profile.dense_m_half and m:
        m = max(m, MIN_CALIBRATED_M)
        t_compute *= (m + profile.dense_m_half) / m
    t_memory = moved / bandwidth * 1e6
    if profile.copy_call_ns:  # a copy loop of many small memcpys: bound by the calls, not the bytes
        t_memory = max(t_memory, copy_calls(node, graph) * profile.copy_call_ns / 1e3)
    if profile.serial_pow_ns and hints.of(node, graph).serial_pow:  # a scalar power per element, one thread
        out = _first_output(node, graph)
        t_compute = max(t_compute, (out.elements or 0) * profile.serial_pow_ns / 1e3 if out is not None else 0.0)
    if traits.recurrent:
        # One small matmul per step and direction, each a kernel of its own, and each re-reads the weights.
        steps = recurrent_steps(node, graph)
        overhead *= steps
        dirs = 2 if node.attrs.get("direction", "forward") == "bidirectional" else 1
        t_memory += (steps // dirs - 1) * cost.param_bytes / bandwidth * 1e6
    if cls in PARALLEL_CLASSES:
        slowdown = profile.parallel_slowdown(cost.flops)
        t_compute, t_memory = t_compute * slowdown, t_memory * slowdown
    if profile.weight_bandwidth and hints.of(node, graph).nchwc is Nchwc.CONV:
        # a CPU conv kernel fetches each filter block as it needs it, from beyond its core's own cache in a model
        # (every other layer's weights pass through in between): a read the math waits for
        t_compute += cost.param_bytes / profile.weight_bandwidth * 1e6
    intensity = cost.flops / moved if moved else None
    bound = "compute" if t_compute >= t_memory else "memory"
    if max(t_compute, t_memory) < overhead:
        bound = "overhead"
    overhead += layout_transform_us(node, cost, graph, profile, path)
    overhead += bias_pass_us(node, cost, graph, profile, fused_bias)
    return NodeEstimate(cls, bound, intensity, max(t_compute, t_memory) + overhead)


@dataclass(frozen=True)
class Kernels:
    """Which kernel runs each node and the costs regrouped onto those kernels: the part of an estimate that no
    rate or overhead of the profile changes (only its fusion switch and NCHWc block), worked out once per graph
    by `group_kernels` and reused where one graph is estimated on many profiles (fit's least squares)."""

    fused: Mapping[str, str]  # node -> the dense node whose kernel runs it (pattern rules)
    chains: Mapping[str, str]  # node -> the last node of its element-wise chain, or its observed kernel's node
    costs: list[NodeCost]  # a group's FLOPs and the bytes that cross its boundary on its kernel's node
    with_bias: frozenset[str]  # kernels that take in an Add of a constant as their bias
    integer: frozenset[str]  # dense kernels that run on quantized values (a QDQ group onnxruntime folded)
    observed: bool  # the groups were read from onnxruntime's optimized graph
    reorders: tuple[Reorder, ...]  # the layout reorders a runtime of the profile's NCHWc block inserts
    made_for: tuple[bool, int]  # the profile's (fusion, nchwc_block) they hold for


def group_kernels(graph: Graph, costs: list[NodeCost], profile: Profile,
                  observed: Mapping[str, str] | None = None) -> Kernels:
    """The runtime's fused groups: `observed` (node -> the node whose kernel runs it, latency/runtime.py) when
    onnxruntime's optimized graph was read, else guessed by the pattern rules; a group's FLOPs and the bytes
    that cross its boundary go to its kernel."""
    if observed is not None:
        fused, chains = {}, dict(observed)
        if profile.nchwc_block:  # a blocked conv takes in the residual Add and activation after it, too
            for name, head in fused_nodes(graph).items():
                if name not in chains and graph.node(head).op_type == "Conv":
                    chains[name] = chains.setdefault(head, head)
    else:
        fused = fused_nodes(graph) if profile.fusion else {}
        chains = elementwise_groups(graph, fused) if profile.fusion else {}
    if chains:  # a chain's last node carries the chain's FLOPs and only the bytes that cross its boundary
        costs = chain_costs(graph, costs, chains)
    with_bias = {head for name, head in (chains if observed is not None else fused).items()  # an Add of a
                 if name != head and graph.node(name).op_type == "Add"  # constant: the kernel's bias
                 and len(data_inputs(graph.node(name), graph)) == 1}
    # a dense node whose observed kernel takes in a DequantizeLinear runs on the quantized values (onnxruntime
    # folds a QDQ group into QLinearMatMul / MatMulIntegerToFloat / QLinearConv): the int8 path
    integer = {head for name, head in chains.items()
               if name != head and graph.node(name).op_type == "DequantizeLinear"} if observed is not None else set()
    return Kernels(fused, chains, costs, frozenset(with_bias), frozenset(integer), observed is not None,
                   tuple(nchwc_reorders(graph, profile.nchwc_block)), (profile.fusion, profile.nchwc_block))


def estimate(graph: Graph, costs: list[NodeCost], profile: Profile,
             observed: Mapping[str, str] | None = None, grouped: Kernels | None = None) -> list[NodeEstimate]:
    """Each node's time, with the runtime's fused groups (`group_kernels`) worked out here or given as `grouped`
    (made for a profile of the same fusion switch and NCHWc block)."""
    if grouped is None or grouped.made_for != (profile.fusion, profile.nchwc_block):
        grouped = group_kernels(graph, costs, profile, observed)
    fused, chains = grouped.fused, grouped.chains
    softmax = quantized_softmax_us(graph, chains, profile) if grouped.observed else {}
    out = []
    for n, c in zip(graph.nodes, grouped.costs, strict=True):
        into = fused.get(n.name) or (chains[n.name] if chains.get(n.name, n.name) != n.name else None)
        e = estimate_node(n, c, graph, profile, into, n.name in grouped.with_bias, n.name in grouped.integer)
        if n.name in softmax and e.latency_us is not None:
            e = replace(e, bound="compute", latency_us=max(e.latency_us, softmax[n.name] + profile.launch_overhead_us))
        out.append(e)
    return out


def quantized_softmax_us(graph: Graph, chains: Mapping[str, str], profile: Profile) -> dict[str, float]:
    """µs of each observed kernel that runs a Softmax inside a QuantizeLinear (onnxruntime's QLinearSoftmax, a
    QDQ model's attention: DequantizeLinear, Softmax and QuantizeLinear in one kernel), by the kernel's node:
    Profile.quantized_softmax_ns an element (about 5x a float Softmax here), whatever its FLOPs say."""
    if not profile.quantized_softmax_ns:
        return {}
    out = {}
    for name, head in chains.items():
        node = graph.node(name)
        if name != head and node.op_type == "Softmax" and graph.node(head).op_type == "QuantizeLinear":
            t = _first_output(node, graph)
            out[head] = (t.elements or 0) * profile.quantized_softmax_ns / 1e3 if t is not None else 0.0
    return out


def reorder_estimates(graph: Graph, profile: Profile, grouped: Kernels | None = None) -> list[tuple[Reorder, float]]:
    """Each layout reorder the profile's runtime inserts (layout.py) with its time in µs: one read and one write
    of the tensor at streaming bandwidth (a reorder is a blocked copy, near memcpy speed: 55-63 GB/s moved on the
    2-core CI machine, where a general Transpose reaches a quarter of that), plus a launch. Channels-last
    Transposes run as reorders are already costed as their Transpose node: they are listed with 0 µs."""
    out = []
    reorders = grouped.reorders if grouped is not None and grouped.made_for[1] == profile.nchwc_block \
        else nchwc_reorders(graph, profile.nchwc_block)
    for r in reorders:
        if r.kind == "transpose":
            out.append((r, 0.0))
            continue
        moved = 2 * r.nbytes
        out.append((r, moved / stream_bandwidth(profile, moved) * 1e6 + profile.launch_overhead_us))
    return out


def critical_path_us(graph: Graph, estimates: list[NodeEstimate]) -> float | None:
    """The longest chain of dependent nodes, in µs: the latency floor of a runtime that runs independent
    branches in parallel (inter-op parallelism), against the sum a sequential one pays. None when unknown."""
    finish: dict[str, float] = {}
    for n, e in zip(graph.nodes, estimates, strict=True):
        if e.latency_us is None:
            return None
        finish[n.name] = e.latency_us + max((finish[p] for p in graph.predecessors[n.name]), default=0.0)
    return max(finish.values(), default=0.0)


def total_latency_us(graph: Graph, estimates: list[NodeEstimate], profile: Profile,
                     grouped: Kernels | None = None) -> float | None:
    """A run's time: every node, the layout reorders the runtime inserts (`grouped`'s when given), and the
    per-run overhead."""
    times = [e.latency_us for e in estimates]
    if any(t is None for t in times):
        return None
    reorders = sum(us for r, us in reorder_estimates(graph, profile, grouped) if r.kind != "transpose")
    return sum(t or 0.0 for t in times) + reorders + profile.run_overhead_us
