"""Estimate stage: a roofline latency per node on a hardware profile (seed 003's roofline, seed 004's
memory access cost): time = max(FLOPs / (peak x efficiency of the op's class), bytes / bandwidth) +
launch overhead. Op classes differ a lot in the share of peak they reach — dense contractions reuse every
byte many times, depthwise convs and element-wise ops do not — which is why one flat FLOP/s figure
mispredicts MobileNet, ShuffleNet and EfficientNet."""

from __future__ import annotations

from dataclasses import dataclass

from onnx import TensorProto

from .costs import NodeCost
from .graph import Graph, NodeInfo
from .profiles import Profile

DENSE_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum", "LSTM", "GRU", "RNN", "ConvInteger",
                       "MatMulInteger", "QLinearConv", "QLinearMatMul"})
VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
MOVEMENT_OPS = frozenset({"Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND", "Expand",
                          "Tile", "Pad", "Cast", "CastLike", "DepthToSpace", "SpaceToDepth", "ScatterND",
                          "ScatterElements", "Where", "Resize", "Upsample", "ConstantOfShape", "Range", "Trilu"})
#: A grouped conv whose groups see at most this many input channels each is costed as depthwise.
DEPTHWISE_MAX_CHANNELS_PER_GROUP = 8
_FP16 = {TensorProto.FLOAT16, TensorProto.BFLOAT16}
_INT8 = {TensorProto.INT8, TensorProto.UINT8}


@dataclass(frozen=True)
class NodeEstimate:
    op_class: str  # dense, depthwise, elementwise, movement, view
    bound: str  # "compute" | "memory" | "overhead"
    arithmetic_intensity: float | None  # FLOPs per byte moved
    latency_us: float | None  # None when the node's FLOPs are unknown


def op_class(node: NodeInfo, graph: Graph) -> str:
    if node.op_type in ("Conv", "ConvInteger", "QLinearConv") and int(node.attrs.get("group", 1)) > 1:
        w = graph.tensors.get(node.inputs[3 if node.op_type == "QLinearConv" else 1])
        per_group = w.shape[1] if w is not None and w.shape is not None and len(w.shape) > 1 else None
        if per_group is not None and per_group <= DEPTHWISE_MAX_CHANNELS_PER_GROUP:
            return "depthwise"
    if node.op_type in DENSE_OPS:
        return "dense"
    if node.op_type in VIEW_OPS:
        return "view"
    if node.op_type in MOVEMENT_OPS:
        return "movement"
    return "elementwise"


def dtype_class(node: NodeInfo, graph: Graph) -> str:
    t = graph.tensors.get(node.inputs[0]) if node.inputs and node.inputs[0] else None
    if t is not None and t.dtype in _INT8:
        return "int8"
    if t is not None and t.dtype in _FP16:
        return "fp16"
    return "fp32"


def estimate_node(node: NodeInfo, cost: NodeCost, graph: Graph, profile: Profile) -> NodeEstimate:
    cls = op_class(node, graph)
    if node.folded:
        return NodeEstimate(cls, "overhead", None, 0.0)
    overhead = profile.launch_overhead_us
    if cls == "view":  # runtimes alias the input: no data moves
        return NodeEstimate(cls, "overhead", None, overhead)
    if cost.flops is None or cost.input_bytes is None or cost.output_bytes is None:
        return NodeEstimate(cls, "unknown", None, None)
    moved = cost.input_bytes + cost.output_bytes
    bandwidth = profile.bandwidth
    if profile.cache_bytes and profile.cache_bandwidth and moved <= profile.cache_bytes:
        bandwidth = profile.cache_bandwidth
    if cls == "movement":
        bandwidth *= profile.efficiency.get("movement", 1.0)
    t_compute = cost.flops / profile.flops_per_s(dtype_class(node, graph), cls) * 1e6
    t_memory = moved / bandwidth * 1e6
    intensity = cost.flops / moved if moved else None
    bound = "compute" if t_compute >= t_memory else "memory"
    if max(t_compute, t_memory) < overhead:
        bound = "overhead"
    return NodeEstimate(cls, bound, intensity, max(t_compute, t_memory) + overhead)


def estimate(graph: Graph, costs: list[NodeCost], profile: Profile) -> list[NodeEstimate]:
    return [estimate_node(n, c, graph, profile) for n, c in zip(graph.nodes, costs, strict=True)]
