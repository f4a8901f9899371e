"""Which nodes the runtime runs fused, by the estimate's pattern rules: followers folded into a dense
kernel (Conv+BatchNorm+Relu+Add, MatMul+bias), and chains of element-wise ops run as one pass; and how a
fused group's work is costed (its FLOPs, and only the bytes that cross its boundary). runtime.py reads the
same groups from onnxruntime's optimized graph instead."""

from __future__ import annotations

from dataclasses import replace

from .. import ops
from ..cost.nodes import NodeCost
from ..shapes.graph import Graph, NodeInfo
from . import hints


def _scalar_constant_operand(node: NodeInfo, graph: Graph) -> bool:
    others = [graph.tensors.get(t) for t in node.inputs[1:] if t]
    return bool(others) and all(t is not None and t.is_constant and (t.elements or 0) == 1 for t in others)


def data_inputs(node: NodeInfo, graph: Graph) -> list[str]:
    """The node's inputs that are not constants (none when an input's tensor is unknown)."""
    if not all(t in graph.tensors for t in node.inputs if t):
        return []
    return [t for t in node.inputs if t and not graph.tensors[t].is_constant]


def fused_nodes(graph: Graph) -> dict[str, str]:
    """Node -> the dense node it is fused into: it reads that kernel's output (possibly through nodes already
    fused into it) as the only consumer. At most one Add per kernel; MatMul only takes a constant bias."""
    fused: dict[str, str] = {}
    adds: set[str] = set()
    for n in graph.nodes:
        if n.folded or not n.inputs:
            continue
        data = data_inputs(n, graph)
        for t in data:
            producer = graph.producers.get(t)
            if producer is None or len(graph.consumers.get(t, [])) != 1:
                continue
            head = fused.get(producer, producer)
            head_node = graph.node(head)
            head_op = head_node.op_type
            if n.op_type not in hints.of(head_node, graph).fuses or n.domain != ops.DEFAULT:
                continue
            if n.op_type in ("Mul", "Div") and not _scalar_constant_operand(n, graph):
                continue
            if n.op_type == "Add":
                if head in adds or (head_op == "MatMul" and len(data) != 1):
                    continue
                adds.add(head)
            fused[n.name] = head
            break
    return fused


def elementwise_groups(graph: Graph, dense_fused: dict[str, str]) -> dict[str, str]:
    """Node -> the last node of its element-wise chain (the one whose output leaves the chain). A node joins
    the chain of an element-wise producer whose output only it reads."""
    head: dict[str, str] = {}  # node -> current root of its group
    members: dict[str, list[str]] = {}
    for n in graph.nodes:
        if n.folded or not hints.of(n, graph).chainable or n.name in dense_fused:
            continue
        root = None
        for t in n.inputs:
            producer = graph.producers.get(t) if t else None
            if producer is None or producer in dense_fused or len(graph.consumers.get(t, [])) != 1:
                continue
            p = graph.node(producer)
            if hints.of(p, graph).chainable and not p.folded:
                root = head.get(producer, producer)
                break
        if root is None:
            head[n.name] = n.name
            members[n.name] = [n.name]
        else:
            head[n.name] = root
            members[root].append(n.name)
    last: dict[str, str] = {}
    for group in members.values():
        if len(group) > 1:
            for name in group:
                last[name] = group[-1]
    return last


def chain_costs(graph: Graph, costs: list[NodeCost], chains: dict[str, str]) -> list[NodeCost]:
    """Costs with each group's FLOPs, and the bytes that cross its boundary, on its last (or head) node."""
    index = {n.name: k for k, n in enumerate(graph.nodes)}
    groups: dict[str, list[int]] = {}
    for name, last in chains.items():
        groups.setdefault(last, []).append(index[name])
    costs = list(costs)
    for last, ks in groups.items():
        inside = {t for k in ks for t in graph.nodes[k].outputs}
        reads = {t for k in ks for t in graph.nodes[k].inputs if t and t not in inside}
        flops = [costs[k].flops for k in ks]
        writes = [t for t in graph.nodes[index[last]].outputs if t]
        sizes = [graph.tensors[t].nbytes for t in [*reads, *writes]]
        total_flops = None if any(f is None for f in flops) else sum(f or 0 for f in flops)
        moved = None if any(b is None for b in sizes) else sum(b or 0 for b in sizes)
        k_last = index[last]
        costs[k_last] = replace(costs[k_last], flops=total_flops, input_bytes=moved,
                                output_bytes=0 if moved is not None else None)
    return costs
