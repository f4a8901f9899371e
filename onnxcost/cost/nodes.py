"""Costs stage: each node's MACs and FLOPs from its op definition (ops/), plus parameters and bytes moved."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from .. import ops
from ..base import dtypes, symbolic
from ..base.errors import ModelError, OnnxcostError
from ..ops import DEFAULT, NodeView, UnknownShape
from ..shapes.graph import Graph, NodeInfo
from ..shapes.tensors import TensorInfo
from ..shapes.view import node_view


@dataclass(frozen=True)
class NodeCost:
    """Cost of one node. macs/flops are None when unknown (no rule, or shapes unknown), never 0 for that."""

    macs: int | None
    flops: int | None
    params: int  # elements of constant weight inputs (float or quantized; not shapes/axes/indices)
    param_bytes: int
    input_bytes: int | None  # every input read, weights included; None if any size is unknown
    output_bytes: int | None
    upper_bound: bool = False  # the true MACs/FLOPs depend on run-time data and may be lower
    branch: str | None = None  # an If: the branch counted ("then", "else", or "max" of both)
    inner: tuple[InnerNode, ...] = ()  # control flow: the subgraph's nodes, by path

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
        # A tensor whose size is a formula is computed from an input's shape (a mask), never a learned weight.
        return (dtypes.is_param_type(t.dtype) and t.shape is not None and isinstance(t.elements, int)
                and t.elements > 1 and not t.from_shape)

    def roots(self, name: str) -> frozenset[str]:
        """The weights behind `name`, traced back through folded nodes (iteratively: folded chains of any
        length, with every tensor's roots computed once)."""
        stack = [name]
        while stack:
            top = stack[-1]
            if top in self.memo:
                stack.pop()
                continue
            t = self.tensors.get(top)
            pending = [i for i in self.inputs_of.get(top, []) if i not in self.memo] if t is not None and (
                t.is_constant) else []
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            self.memo[top] = self._roots_from_inputs(top, t)
        return self.memo[name]

    def _roots_from_inputs(self, name: str, t: TensorInfo | None) -> frozenset[str]:
        if t is None or not t.is_constant:
            return frozenset()
        if name in self.inputs_of:
            found: set[str] = set()
            for i in self.inputs_of[name]:
                found |= self.memo[i]
            if found:
                return frozenset(found)
        return frozenset({name}) if self._is_weight(t) else frozenset()

    def of_node(self, node: NodeInfo) -> frozenset[str]:
        """Weights a node reads (none for folded nodes: their output is counted where it is read)."""
        if node.folded:
            return frozenset()
        out: set[str] = set()
        for name in node.inputs:
            if name:
                out |= self.roots(name)
        return frozenset(out)

    def logical_elements(self, node: NodeInfo, opsets: dict[str, int]) -> dict[str, int]:
        """Packed weight formats (the op's `params` function): the number of weights a root stands for, and 0
        for the quantisation scales and zero points that ride along (their bytes count in param_bytes)."""
        definition = ops.lookup(node.domain, node.op_type, opsets.get(node.domain))
        if node.folded or definition is None or definition.params is None:
            return {}
        slots = definition.params(view(node, self.tensors, opsets))
        out: dict[str, int] = {}
        for slot, name in enumerate(node.inputs):
            if slot in slots and name:
                for root in self.roots(name):
                    out[root] = slots[slot]
        return out


def view(node: NodeInfo, tensors: dict[str, TensorInfo], opsets: dict[str, int]) -> NodeView:
    """The read-only view of a graph node that op rules see, with its output shapes."""
    return node_view(node.name, node.op_type, node.domain, opsets.get(node.domain, 0), node.attrs, node.inputs,
                     tensors, len(node.outputs), node.outputs)


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
              warnings: list[str], opsets: dict[str, int], logical: dict[str, int] | None = None) -> NodeCost:
    """One node's cost from its op definition; None (with a warning saying why) where it cannot be known."""
    logical = logical or {}
    params = sum(logical.get(w, tensors[w].elements or 0) for w in weights)
    param_bytes = sum(tensors[w].nbytes or 0 for w in weights)
    in_bytes, out_bytes = _bytes(node.inputs, tensors), _bytes(node.outputs, tensors)
    if node.folded:
        # All inputs are constant: runtimes compute it once when the model loads, not per inference.
        return NodeCost(0, 0, 0, 0, in_bytes, out_bytes)
    definition = ops.lookup(node.domain, node.op_type, opsets.get(node.domain))
    label = node.op_type if node.domain == DEFAULT else f"{node.domain}.{node.op_type}"
    if definition is not None and definition.traits.control:
        flow = control_flow_work(node, tensors, opsets, warnings)
        if flow is not None:
            return NodeCost(flow.macs, flow.flops, params, param_bytes, in_bytes, out_bytes, flow.upper_bound,
                            flow.branch, flow.inner)
        warnings.append(f"node '{node.name}' ({label}): control flow whose iterations or branch depend on "
                        "run-time data; its cost is unknown")
        return NodeCost(None, None, params, param_bytes, in_bytes, out_bytes)
    if definition is None:
        warnings.append(f"node '{node.name}' ({label}): an op onnxcost has no definition for; its cost is unknown")
        return NodeCost(None, None, params, param_bytes, in_bytes, out_bytes)
    if definition.cost is None:
        warnings.append(f"node '{node.name}' ({label}): {definition.note or 'cost unknown'}")
        return NodeCost(None, None, params, param_bytes, in_bytes, out_bytes)
    try:
        work = definition.cost(view(node, tensors, opsets))
    except UnknownShape as exc:
        warnings.append(f"node '{node.name}' ({label}): {exc} is unknown, so its cost is unknown")
        return NodeCost(None, None, params, param_bytes, in_bytes, out_bytes)
    macs, flops = symbolic.normal(work.macs), symbolic.normal(work.flops)
    if symbolic.decide(macs < 0) or symbolic.decide(flops < 0):
        raise ModelError(f"node '{node.name}' ({label}): its shapes and attributes give a negative cost")
    return NodeCost(macs if symbolic.is_symbolic(macs) else int(macs), flops if symbolic.is_symbolic(flops)
                    else int(flops), params, param_bytes, in_bytes, out_bytes, work.upper_bound)


def graph_costs(graph: Graph) -> tuple[list[NodeCost], dict[str, int], list[str]]:
    """Per-node costs in graph order, the distinct weight tensors with the parameters each holds, warnings."""
    warnings: list[str] = []
    roots = WeightRoots(graph)
    per_node = [roots.of_node(n) for n in graph.nodes]
    logical = [roots.logical_elements(n, graph.opsets) for n in graph.nodes]
    costs = [node_cost(n, graph.tensors, w, warnings, graph.opsets, lg)
             for n, w, lg in zip(graph.nodes, per_node, logical, strict=True)]
    weights: dict[str, int] = {}
    for w_set, lg in zip(per_node, logical, strict=True):
        for w in w_set:
            weights[w] = lg.get(w, graph.tensors[w].elements or 0)
    for k, n in enumerate(graph.nodes):  # learned values held in attributes (classical ML), float32 each
        definition = ops.lookup(n.domain, n.op_type, graph.opsets.get(n.domain))
        if definition is not None and definition.attribute_params is not None and not n.folded:
            held = definition.attribute_params(view(n, graph.tensors, graph.opsets))
            weights[n.name + ATTRIBUTES] = held
            costs[k] = replace(costs[k], params=costs[k].params + held, param_bytes=costs[k].param_bytes + 4 * held)
    return costs, weights, warnings


#: The key under which a node's attribute-held parameters enter the weights of graph_costs.
ATTRIBUTES = "#attributes"


def require_known(graph: Graph, costs: list[NodeCost], warnings: list[str]) -> None:
    """Strict mode: every cost known, or one ModelError naming the first unknown node and why."""
    unknown = [n.name for n, c in zip(graph.nodes, costs, strict=True) if not c.known]
    if unknown:
        why = next((w for w in warnings if f"'{unknown[0]}'" in w), f"node '{unknown[0]}': cost unknown")
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ModelError(f"strict=True: {len(unknown)} node(s) of unknown cost{more}; first: {why}")


def weight_bytes(graph: Graph, weights: dict[str, int]) -> int:
    """Bytes of the distinct weights: each tensor's, and 4 per attribute-held parameter."""
    return sum(4 * n if w.endswith(ATTRIBUTES) and w not in graph.tensors else graph.tensors[w].nbytes or 0
               for w, n in weights.items())


@dataclass(frozen=True)
class InnerNode:
    """A node inside a control-flow subgraph, named by its path (`If_0/then_branch/MatMul_3`), with its cost per
    execution of the subgraph."""

    path: str
    op_type: str
    macs: int
    flops: int


@dataclass(frozen=True)
class FlowWork:
    """The cost of a control-flow node: its subgraph's, times its iterations. branch: "then"/"else" for an If
    whose condition is known, "max" when data decides and the larger branch is counted (an upper bound)."""

    macs: int
    flops: int
    upper_bound: bool = False
    branch: str | None = None
    inner: tuple[InnerNode, ...] = ()


def control_flow_work(node: NodeInfo, tensors: dict[str, TensorInfo], opsets: dict[str, int],
                      warnings: list[str]) -> FlowWork | None:
    """An If (the branch its condition takes, else the larger branch), a Loop with a known trip count and no
    data-dependent exit, or a Scan (its body times the sequence length). None when that cannot be known."""
    def value(i: int) -> Any:
        """The input's one value: a number, a string, a sympy relation of dims (an open condition), or None."""
        t = tensors.get(node.inputs[i]) if i < len(node.inputs) and node.inputs[i] else None
        v = t.value() if t is not None else None
        if v is None or v.size != 1:
            return None
        x = v.reshape(-1)[0]
        return x.item() if isinstance(x, np.generic) else x  # a numpy scalar, or an object: a string, a relation

    def body(key: str) -> onnx.GraphProto:
        g = node.attrs.get(key)
        if not isinstance(g, onnx.GraphProto):
            raise ModelError(f"node '{node.name}' ({node.op_type}): attribute {key} is missing or not a graph")
        return g

    if node.op_type == "If":
        branches = {"then": body("then_branch"), "else": body("else_branch")}
        cond = value(0)
        if symbolic.is_symbolic(cond):  # a relation of unbound dims (batch == 1): each total is a Piecewise
            both = [subgraph_work(g, {}, tensors, opsets, f"{node.name}/{k}_branch") for k, g in branches.items()]
            if any(w is None for w in both):
                return None
            then, other = (w for w in both if w is not None)
            return FlowWork(symbolic.piecewise(cond, then.macs, other.macs),
                            symbolic.piecewise(cond, then.flops, other.flops), then.upper_bound or other.upper_bound,
                            "piecewise", then.inner + other.inner)
        if cond is not None:
            taken = "then" if cond else "else"
            work = subgraph_work(branches[taken], {}, tensors, opsets, f"{node.name}/{taken}_branch")
            return None if work is None else FlowWork(work.macs, work.flops, work.upper_bound, taken, work.inner)
        both = [subgraph_work(g, {}, tensors, opsets, f"{node.name}/{k}_branch") for k, g in branches.items()]
        if any(w is None for w in both):
            return None
        then, other = (w for w in both if w is not None)
        warnings.append(f"node '{node.name}' (If): its condition is run-time data; the larger branch is counted, "
                        "so the totals are an upper bound")
        # With unbound dims the larger branch may depend on them: then each total is the Max of the two.
        larger = then if symbolic.truth(then.flops >= other.flops) is not False else other
        return FlowWork(symbolic.smax(then.macs, other.macs), symbolic.smax(then.flops, other.flops), True, "max",
                        larger.inner)
    if node.op_type == "Loop":
        trips, loop_body = value(0), body("body")
        has_cond = len(node.inputs) > 1 and node.inputs[1] != ""
        if trips is None or (has_cond and value(1) is not True) or not _cond_always_true(loop_body):
            return None
        if isinstance(trips, bool) or not isinstance(trips, int) or trips < 0:
            raise ModelError(f"node '{node.name}' (Loop): trip count {trips!r} is not a non-negative integer")
        if len(loop_body.input) < 2 or not loop_body.output:
            raise ModelError(f"node '{node.name}' (Loop): its body needs an iteration count and a condition input "
                             "and a condition output")
        carried = {b.name: tensors.get(t) for b, t in zip(loop_body.input[2:], node.inputs[2:], strict=False)}
        fixed = {loop_body.input[0].name: TensorInfo(loop_body.input[0].name, "input", dtypes.INT64, ()),
                 loop_body.input[1].name: TensorInfo(loop_body.input[1].name, "input", dtypes.BOOL, ())}
        work = subgraph_work(loop_body, {**fixed, **{k: v for k, v in carried.items() if v is not None}}, tensors,
                             opsets, f"{node.name}/body")
        return None if work is None else FlowWork(trips * work.macs, trips * work.flops, work.upper_bound, None,
                                                   work.inner)
    if node.op_type == "Scan" and opsets.get(DEFAULT, 0) >= 9:
        return _scan_work(node, body("body"), tensors, opsets)
    return None


def _scan_work(node: NodeInfo, scan_body: onnx.GraphProto, tensors: dict[str, TensorInfo],
               opsets: dict[str, int]) -> FlowWork | None:
    """Scan (opset 9+): state variables, then scan inputs sliced along their scan axis, one step per slice."""
    n_scan = int(node.attrs.get("num_scan_inputs", 0))
    ins = [tensors.get(t) if t else None for t in node.inputs]
    n_state = len(ins) - n_scan
    if n_scan < 1 or n_state < 0 or len(scan_body.input) != len(ins):
        raise ModelError(f"node '{node.name}' (Scan): num_scan_inputs={n_scan} does not fit its "
                         f"{len(ins)} inputs and {len(scan_body.input)} body inputs")
    axes = list(node.attrs.get("scan_input_axes", [0] * n_scan))
    given: dict[str, TensorInfo] = {}
    steps: set[int] = set()
    for k, (vi, t) in enumerate(zip(scan_body.input, ins, strict=True)):
        if t is None or t.shape is None:
            return None
        shape = t.shape
        if k >= n_state:
            axis = axes[k - n_state] if k - n_state < len(axes) else 0
            if not -len(shape) <= axis < len(shape):
                raise ModelError(f"node '{node.name}' (Scan): scan input {k} of rank {len(shape)} has no axis {axis}")
            axis %= len(shape)
            steps.add(shape[axis])
            shape = shape[:axis] + shape[axis + 1:]
        given[vi.name] = TensorInfo(vi.name, "input", t.dtype, shape)
    if len(steps) != 1:
        raise ModelError(f"node '{node.name}' (Scan): scan inputs have different lengths {sorted(steps)}")
    length = steps.pop()
    work = subgraph_work(scan_body, given, tensors, opsets, f"{node.name}/body")
    return None if work is None else FlowWork(length * work.macs, length * work.flops, work.upper_bound, None,
                                              work.inner)


def _cond_always_true(body: onnx.GraphProto) -> bool:
    """The body's condition output is a constant True (how exporters write a plain for-loop)."""
    if not body.output:
        return False
    name = body.output[0].name
    for n in body.node:
        if name in n.output:
            if n.op_type == "Identity" and n.input:
                name = n.input[0]
                continue
            if n.op_type == "Constant" and n.attribute and n.attribute[0].type == onnx.AttributeProto.TENSOR:
                t = n.attribute[0].t
                if t.data_location == onnx.TensorProto.EXTERNAL:
                    return False
                try:
                    return bool(numpy_helper.to_array(t).reshape(-1)[0])
                except (IndexError, ValueError, TypeError):
                    return False
    return any(name == b.name for b in body.input[1:2])  # cond passed through unchanged


def subgraph_work(body: onnx.GraphProto, given: dict[str, TensorInfo], outer: dict[str, TensorInfo],
                  opsets: dict[str, int], path: str) -> FlowWork | None:
    """Analyse a subgraph as a model of its own: its inputs from `given`, names it reads from the enclosing
    graph as inputs of their known shapes. None when any cost or shape inside stays unknown."""
    from ..load import model as load
    from ..shapes import graph as graph_mod
    from ..shapes import inference as shapes
    from ..shapes.subgraph import subgraph_model

    sub = subgraph_model(body, given, outer, opsets)
    if sub is None:
        return None
    try:
        loaded = load.load(sub.model)
        g = graph_mod.build(loaded, shapes.infer(loaded, known_values=sub.values))
    except OnnxcostError:
        return None
    inner_costs, _, _ = graph_costs(g)
    if any(not c.known for c in inner_costs):
        return None
    nodes: list[InnerNode] = []
    for n, c in zip(g.nodes, inner_costs, strict=True):
        nodes.append(InnerNode(f"{path}/{n.name}", n.op_type, sub.outer(c.macs or 0), sub.outer(c.flops or 0)))
        nodes += [replace(i, path=f"{path}/{i.path}", macs=sub.outer(i.macs), flops=sub.outer(i.flops))
                  for i in c.inner]
    return FlowWork(sub.outer(sum(c.macs or 0 for c in inner_costs)), sub.outer(sum(c.flops or 0 for c in inner_costs)),
                    any(c.upper_bound for c in inner_costs), None, tuple(nodes))
