"""Costs stage: each node's MACs and FLOPs from its registry rule, plus parameters and bytes moved."""

from __future__ import annotations

from dataclasses import dataclass

from . import dtypes
from .graph import Graph, NodeInfo
from .registry import NodeView, UnknownShape, lookup
from .shapes import TensorInfo

CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})


@dataclass(frozen=True)
class NodeCost:
    """Cost of one node. macs/flops are None when unknown (no rule, or shapes unknown), never 0 for that."""

    macs: int | None
    flops: int | None
    params: int  # elements of constant weight inputs (float or quantized; not shapes/axes/indices)
    param_bytes: int
    input_bytes: int | None  # every input read, weights included; None if any size is unknown
    output_bytes: int | None

    @property
    def known(self) -> bool:
        return self.macs is not None and self.flops is not None


def weight_inputs(node: NodeInfo, tensors: dict[str, TensorInfo]) -> list[TensorInfo]:
    """Constant inputs that are model parameters: not index/shape tensors, not scalar literals, and none
    for folded nodes (their output is counted where it is read)."""
    if node.folded:
        return []
    out = []
    for name in dict.fromkeys(node.inputs):
        t = tensors.get(name) if name else None
        if t is None or not t.is_constant or not dtypes.is_param_type(t.dtype) or t.shape is None:
            continue
        if t.kind == "constant" and (t.elements or 0) <= 1:
            continue  # a scalar literal of the code (0.5, sqrt(d), -inf), not a learned parameter
        out.append(t)
    return out


def _bytes(names: list[str], tensors: dict[str, TensorInfo]) -> int | None:
    total = 0
    for name in names:
        if not name:
            continue
        t = tensors.get(name)
        size = None if t is None else t.nbytes
        if size is None:
            return None
        total += size
    return total


def node_cost(node: NodeInfo, tensors: dict[str, TensorInfo], warnings: list[str]) -> NodeCost:
    weights = weight_inputs(node, tensors)
    params = sum(t.elements or 0 for t in weights)
    param_bytes = sum(t.nbytes or 0 for t in weights)
    in_bytes, out_bytes = _bytes(node.inputs, tensors), _bytes(node.outputs, tensors)
    if node.folded:
        # All inputs are constant: runtimes compute it once when the model loads, not per inference.
        return NodeCost(0, 0, 0, 0, in_bytes, out_bytes)
    fn = lookup(node.domain, node.op_type)
    macs: int | None = None
    flops: int | None = None
    if fn is None:
        if node.op_type in CONTROL_FLOW:
            warnings.append(f"node '{node.name}' ({node.op_type}): control flow; the cost of its "
                            "subgraphs depends on run-time data and is unknown")
        else:
            dom = "" if node.domain == "ai.onnx" else f" in domain '{node.domain}'"
            warnings.append(f"node '{node.name}' ({node.op_type}{dom}): no cost rule; its cost is unknown")
    else:
        view = NodeView(
            name=node.name, op_type=node.op_type, domain=node.domain, attrs=node.attrs,
            input_shapes=tuple(tensors[n].shape if n and n in tensors else None for n in node.inputs),
            output_shapes=tuple(tensors[n].shape if n and n in tensors else None for n in node.outputs),
            present=tuple(bool(n) for n in node.inputs),
        )
        try:
            work = fn(view)
            macs, flops = int(work.macs), int(work.flops)
        except (UnknownShape, LookupError, ValueError, TypeError, ZeroDivisionError, IndexError) as exc:
            reason = "shape unknown" if isinstance(exc, UnknownShape) else "attributes not understood"
            warnings.append(f"node '{node.name}' ({node.op_type}): {reason}; its cost is unknown")
    return NodeCost(macs, flops, params, param_bytes, in_bytes, out_bytes)


def graph_costs(graph: Graph) -> tuple[list[NodeCost], set[str], list[str]]:
    """Per-node costs in graph order, the names of the distinct weight tensors, and warnings."""
    warnings: list[str] = []
    costs = [node_cost(n, graph.tensors, warnings) for n in graph.nodes]
    # Exporters alias one stored tensor under several names through constant Identity nodes
    # (deduplicated biases, tied weights): follow those so a shared tensor counts once.
    alias: dict[str, str] = {}
    for n in graph.nodes:
        if n.folded and n.op_type == "Identity" and n.inputs and n.outputs:
            alias[n.outputs[0]] = alias.get(n.inputs[0], n.inputs[0])
    weights = {alias.get(t.name, t.name) for n in graph.nodes for t in weight_inputs(n, graph.tensors)}
    return costs, weights, warnings
