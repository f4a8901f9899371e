"""Costs stage: each node's MACs and FLOPs from its op definition (ops/), plus parameters and bytes moved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from .. import ops
from ..base import dtypes, symbolic
from ..base.errors import ModelError
from ..ops import DEFAULT, NodeView, UnknownShape
from ..ops.core import Cost, InnerNode
from ..shapes.graph import Graph, InnerGraph, NodeInfo
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
        if node.folded:
            return {}
        definition = ops.lookup(node.domain, node.op_type, opsets.get(node.domain))
        if definition is None or definition.params is None:
            return {}
        slots = definition.params(view(node, self.tensors, opsets))
        out: dict[str, int] = {}
        for slot, name in enumerate(node.inputs):
            if slot in slots and name:
                for root in self.roots(name):
                    out[root] = slots[slot]
        return out


def view(node: NodeInfo, tensors: dict[str, TensorInfo], opsets: dict[str, int],
         subgraphs: Mapping[str, InnerGraph] | None = None) -> NodeView:
    """The read-only view of a graph node that op rules see, with its output shapes; with the subgraphs the
    shapes stage analysed for it, control flow can ask for one run's cost."""
    def subgraph_cost(key: str) -> Cost | None:
        found = subgraphs or {}
        return inner_cost(found[key], f"{node.name}/{key}") if key in found else None

    def subgraph_value(key: str, tensor: str) -> np.ndarray | None:
        t = subgraphs[key].graph.tensors.get(tensor) if subgraphs and key in subgraphs else None
        return None if t is None else t.value()

    return node_view(node.name, node.op_type, node.domain, opsets.get(node.domain, 0), node.attrs, node.inputs,
                     tensors, len(node.outputs), node.outputs, subgraph_cost=subgraph_cost if subgraphs else None,
                     subgraph_value=subgraph_value if subgraphs else None)


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
              warnings: list[str], opsets: dict[str, int], logical: dict[str, int] | None = None,
              subgraphs: Mapping[str, InnerGraph] | None = None) -> NodeCost:
    """One node's cost from its op definition; None (with a warning saying why) where it cannot be known."""
    logical = logical or {}
    params = sum(logical.get(w, tensors[w].elements or 0) for w in weights) if weights else 0
    param_bytes = sum(tensors[w].nbytes or 0 for w in weights) if weights else 0
    in_bytes, out_bytes = _bytes(node.inputs, tensors), _bytes(node.outputs, tensors)
    if node.folded:
        # All inputs are constant: runtimes compute it once when the model loads, not per inference.
        return NodeCost(0, 0, 0, 0, in_bytes, out_bytes)
    definition = ops.lookup(node.domain, node.op_type, opsets.get(node.domain))
    label = node.op_type if node.domain == DEFAULT else f"{node.domain}.{node.op_type}"
    if definition is not None and definition.traits.control:
        try:
            if definition.cost is None:
                raise UnknownShape("its subgraph's cost")
            flow = definition.cost(view(node, tensors, opsets, subgraphs))
        except UnknownShape:
            warnings.append(f"node '{node.name}' ({label}): control flow whose iterations or branch depend on "
                            "run-time data; its cost is unknown")
            return NodeCost(None, None, params, param_bytes, in_bytes, out_bytes)
        if flow.warning:
            warnings.append(f"node '{node.name}' ({label}): {flow.warning}")
        return NodeCost(flow.macs, flow.flops, params, param_bytes, in_bytes, out_bytes, flow.upper_bound,
                        flow.branch, flow.inner)
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
    per_node = [roots.of_node(n) | _read_inside(graph.subgraphs[n.index], roots) if n.index in graph.subgraphs
                else roots.of_node(n) for n in graph.nodes]
    logical = [roots.logical_elements(n, graph.opsets) for n in graph.nodes]
    costs = [node_cost(n, graph.tensors, w, warnings, graph.opsets, lg, graph.subgraphs.get(n.index))
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


def _read_inside(found: Mapping[str, InnerGraph] | None, roots: WeightRoots) -> frozenset[str]:
    """The enclosing graph's weights that a control-flow node's subgraphs read (a Loop body's Gemm weights
    are the loop's parameters): the body analysis holds each as an initializer of the same name."""
    out: set[str] = set()
    for inner in (found or {}).values():
        for name, t in inner.graph.tensors.items():
            outer = roots.tensors.get(name)
            if t.kind == "initializer" and outer is not None and outer.is_constant:
                out |= roots.roots(name)
    return frozenset(out)


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


def inner_cost(inner: InnerGraph, path: str) -> Cost | None:
    """One run of a control-flow subgraph, from the graph the shapes stage analysed: its total in the enclosing
    graph's symbols and its nodes by path; None when any cost inside is unknown."""
    inner_costs, _, _ = graph_costs(inner.graph)
    if any(not c.known for c in inner_costs):
        return None
    outer = inner.sub.outer
    nodes: list[InnerNode] = []
    for n, c in zip(inner.graph.nodes, inner_costs, strict=True):
        nodes.append(InnerNode(f"{path}/{n.name}", n.op_type, outer(c.macs or 0), outer(c.flops or 0)))
        nodes += [replace(i, path=f"{path}/{i.path}", macs=outer(i.macs), flops=outer(i.flops)) for i in c.inner]
    return Cost(outer(sum(c.macs or 0 for c in inner_costs)), outer(sum(c.flops or 0 for c in inner_costs)),
                any(c.upper_bound for c in inner_costs), None, tuple(nodes))
