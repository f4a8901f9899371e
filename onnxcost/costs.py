"""Costs stage: each node's MACs and FLOPs from its registry rule, plus parameters and bytes moved."""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import helper, numpy_helper

from . import dtypes
from .errors import OnnxcostError
from .graph import Graph, NodeInfo
from .registry import NodeView, UnknownShape, lookup
from .shapes import TensorInfo

CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})
#: Multiply-accumulate contractions: the ops whose work is MACs (estimate: "dense"; training: 3x forward).
CONTRACTION_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum", "LSTM", "GRU", "RNN", "ConvInteger",
                             "MatMulInteger", "QLinearConv", "QLinearMatMul", "MatMulNBits", "FusedMatMul"})


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


class WeightRoots:
    """The learned tensors behind each constant: initializers and Constant outputs of weight type, traced back
    through constant-folded nodes (Identity aliases, Transpose(W), Gather(table, shape-derived index)).
    A folded tensor with no such root (ConstantOfShape filling a weight) is its own root; scalar literals
    and values computed from shapes (Shape -> ... -> ConstantOfShape masks) are not weights."""

    def __init__(self, graph: Graph) -> None:
        self.tensors = graph.tensors
        self.inputs_of: dict[str, list[str]] = {}
        for n in graph.nodes:
            if n.folded:
                for out in n.outputs:
                    self.inputs_of[out] = [i for i in n.inputs if i]
        self.memo: dict[str, frozenset[str]] = {}

    def _is_weight(self, t: TensorInfo) -> bool:
        return (dtypes.is_param_type(t.dtype) and t.shape is not None and (t.elements or 0) > 1
                and not t.from_shape)

    def roots(self, name: str) -> frozenset[str]:
        if name in self.memo:
            return self.memo[name]
        t = self.tensors.get(name)
        result: frozenset[str] = frozenset()
        if t is not None and t.is_constant:
            if name in self.inputs_of:
                stack_roots: set[str] = set()
                for i in self.inputs_of[name]:
                    stack_roots |= self.roots(i)
                result = frozenset(stack_roots) if stack_roots else (
                    frozenset({name}) if self._is_weight(t) else frozenset())
            elif self._is_weight(t):
                result = frozenset({name})
        self.memo[name] = result
        return result

    def of_node(self, node: NodeInfo) -> frozenset[str]:
        """Weights a node reads (none for folded nodes: their output is counted where it is read)."""
        if node.folded:
            return frozenset()
        out: set[str] = set()
        for name in node.inputs:
            if name:
                out |= self.roots(name)
        return frozenset(out)

    def logical_elements(self, node: NodeInfo) -> dict[str, int]:
        """Packed weight formats: the number of weights a root stands for, and 0 for the quantisation scales
        and zero points that ride along (their bytes count in param_bytes, not in params)."""
        if node.op_type != "MatMulNBits" or node.domain != "com.microsoft" or node.folded:
            return {}
        out: dict[str, int] = {}
        k, n = int(node.attrs.get("K", 0)), int(node.attrs.get("N", 0))
        for slot, name in enumerate(node.inputs):
            for root in self.roots(name) if name else ():
                out[root] = k * n if slot == 1 else (self.tensors[root].elements or 0) if slot == 5 else 0
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


def node_cost(node: NodeInfo, tensors: dict[str, TensorInfo], weights: frozenset[str],
              warnings: list[str], logical: dict[str, int] | None = None,
              context: dict[str, int] | None = None) -> NodeCost:
    logical = logical or {}
    params = sum(logical.get(w, tensors[w].elements or 0) for w in weights)
    param_bytes = sum(tensors[w].nbytes or 0 for w in weights)
    in_bytes, out_bytes = _bytes(node.inputs, tensors), _bytes(node.outputs, tensors)
    if node.folded:
        # All inputs are constant: runtimes compute it once when the model loads, not per inference.
        return NodeCost(0, 0, 0, 0, in_bytes, out_bytes)
    fn = lookup(node.domain, node.op_type)
    macs: int | None = None
    flops: int | None = None
    if node.op_type in CONTROL_FLOW and node.domain == "ai.onnx" and context is not None:
        flow = control_flow_work(node, tensors, context)
        if flow is not None:
            return NodeCost(flow[0], flow[1], params, param_bytes, in_bytes, out_bytes)
    if fn is None:
        if node.op_type in CONTROL_FLOW:
            warnings.append(f"node '{node.name}' ({node.op_type}): control flow whose iterations or branch "
                            "depend on run-time data; its cost is unknown")
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


def graph_costs(graph: Graph) -> tuple[list[NodeCost], dict[str, int], list[str]]:
    """Per-node costs in graph order, the distinct weight tensors with the parameters each holds, warnings."""
    warnings: list[str] = []
    roots = WeightRoots(graph)
    per_node = [roots.of_node(n) for n in graph.nodes]
    logical = [roots.logical_elements(n) for n in graph.nodes]
    costs = [node_cost(n, graph.tensors, w, warnings, lg, graph.opsets)
             for n, w, lg in zip(graph.nodes, per_node, logical, strict=True)]
    weights: dict[str, int] = {}
    for w_set, lg in zip(per_node, logical, strict=True):
        for w in w_set:
            weights[w] = lg.get(w, graph.tensors[w].elements or 0)
    return costs, weights, warnings


def control_flow_work(node: NodeInfo, tensors: dict[str, TensorInfo], opsets: dict[str, int]) -> tuple[int, int] | None:
    """(MACs, FLOPs) of an If whose condition is known, a Loop with a known trip count and no data-dependent
    exit, or a Scan: the subgraph analysed with the enclosing tensors' shapes, times its iterations."""
    def value(i: int) -> int | float | bool | None:
        t = tensors.get(node.inputs[i]) if i < len(node.inputs) and node.inputs[i] else None
        v = t.value() if t is not None else None
        return None if v is None or v.size != 1 else v.reshape(-1)[0].item()

    if node.op_type == "If":
        cond = value(0)
        if cond is None:
            return None
        return subgraph_work(node.attrs["then_branch" if cond else "else_branch"], {}, tensors, opsets)
    if node.op_type == "Loop":
        trips = value(0)
        has_cond = len(node.inputs) > 1 and node.inputs[1] != ""
        body = node.attrs["body"]
        if trips is None or (has_cond and value(1) is not True) or not _cond_always_true(body):
            return None
        carried = {b.name: tensors.get(t) for b, t in zip(body.input[2:], node.inputs[2:], strict=False)}
        fixed = {body.input[0].name: TensorInfo(body.input[0].name, "input", dtypes.INT64, ()),
                 body.input[1].name: TensorInfo(body.input[1].name, "input", dtypes.BOOL, ())}
        work = subgraph_work(body, {**fixed, **{k: v for k, v in carried.items() if v is not None}}, tensors, opsets)
        return None if work is None else (int(trips) * work[0], int(trips) * work[1])
    return None


def _cond_always_true(body: onnx.GraphProto) -> bool:
    """The body's condition output is a constant True (how exporters write a plain for-loop)."""
    name = body.output[0].name
    for n in body.node:
        if name in n.output:
            if n.op_type == "Identity":
                name = n.input[0]
                continue
            if n.op_type == "Constant":
                try:
                    return bool(numpy_helper.to_array(n.attribute[0].t).reshape(-1)[0])
                except (IndexError, ValueError, TypeError):
                    return False
    return any(name == b.name for b in body.input[1:2])  # cond passed through unchanged


def subgraph_work(body: onnx.GraphProto, given: dict[str, TensorInfo], outer: dict[str, TensorInfo],
                  opsets: dict[str, int]) -> tuple[int, int] | None:
    """Analyse a subgraph as a model of its own: its inputs from `given`, names it reads from the enclosing
    graph as inputs of their known shapes. None when any cost or shape inside stays unknown."""
    from . import graph as graph_mod
    from . import load, shapes

    defined = {i.name for i in body.input} | {i.name for i in body.initializer}
    inputs: list[onnx.ValueInfoProto] = []
    inits: list[onnx.TensorProto] = []
    for vi in body.input:
        t = given.get(vi.name)
        if t is None or t.shape is None or t.dtype == 0:
            return None
        inputs.append(helper.make_tensor_value_info(vi.name, t.dtype, list(t.shape)))
    for inner in body.node:
        for name in inner.input:
            if not name or name in defined:
                continue
            defined.add(name)
            t = outer.get(name)
            if t is None or t.shape is None or t.dtype == 0:
                return None
            v = t.value()
            if v is not None:
                inits.append(numpy_helper.from_array(v, name))
            elif t.is_constant:
                inits.append(onnx.TensorProto(name=name, data_type=t.dtype, dims=list(t.shape)))
            else:
                inputs.append(helper.make_tensor_value_info(name, t.dtype, list(t.shape)))
        defined.update(inner.output)
    graph = helper.make_graph(list(body.node), "subgraph", inputs, list(body.output),
                              initializer=list(body.initializer) + inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("" if d == "ai.onnx" else d, v)
                                                    for d, v in opsets.items()])
    try:
        loaded = load.load(model)
        g = graph_mod.build(loaded, shapes.infer(loaded))
    except OnnxcostError:
        return None
    inner_costs, _, _ = graph_costs(g)
    if any(not c.known for c in inner_costs):
        return None
    return sum(c.macs or 0 for c in inner_costs), sum(c.flops or 0 for c in inner_costs)
