"""Graph stage: the model as a DAG of uniquely named nodes whose edges are tensors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..base.proto import NodeProto
from ..load.model import FUNCTIONS_KEY, LoadedModel
from .tensors import ShapeResult, TensorInfo

if TYPE_CHECKING:
    from .subgraph import Subgraph


@dataclass
class NodeInfo:
    """One node, named uniquely and stably, with its tensors and parsed attributes."""

    index: int  # position in the file
    name: str
    op_type: str
    domain: str  # "ai.onnx" for the default domain
    inputs: list[str]  # "" marks an omitted optional input
    outputs: list[str]
    attrs: dict[str, Any] = field(repr=False)
    folded: bool  # every input is constant: runtimes precompute it at load time
    functions: tuple[str, ...] = ()  # the model-local functions it was inlined from, outermost first


@dataclass
class Graph:
    """The analysed graph: nodes in a deterministic topological order, their tensors and who reads each."""

    nodes: list[NodeInfo]  # deterministic topological order (file order where the file is ordered)
    tensors: dict[str, TensorInfo]
    inputs: list[str]  # graph inputs that are not initializers
    outputs: list[str]
    predecessors: dict[str, list[str]]  # node name -> the nodes whose outputs it reads, in first-read order
    consumers: dict[str, list[str]]  # tensor -> names of nodes reading it, in order
    producers: dict[str, str]  # tensor -> name of the node writing it
    opsets: dict[str, int]
    #: control flow: each analysed subgraph as a graph of its own, by node index and attribute (then_branch, body)
    subgraphs: dict[int, dict[str, InnerGraph]] = field(default_factory=dict)

    position: dict[str, int] = field(default_factory=dict)  # node name -> index into `nodes`

    def node(self, name: str) -> NodeInfo:
        return self.nodes[self.position[name]]


@dataclass(frozen=True)
class InnerGraph:
    """A control-flow subgraph as a graph, and the map of its stand-in dims back to the enclosing graph's."""

    graph: Graph
    sub: Subgraph


def _functions(node: NodeProto) -> tuple[str, ...]:
    """The functions an inlined node was called through (load.model.FUNCTIONS_KEY), outermost first."""
    for p in node.metadata_props:
        if p.key == FUNCTIONS_KEY:
            return tuple(p.value.split(","))
    return ()


def unique_names(loaded: LoadedModel) -> list[str]:
    """`name` where set and unique, else `<op_type>_<file index>`; the same file gives the same names."""
    names: list[str] = []
    seen: set[str] = set()
    for idx, node in enumerate(loaded.graph.node):
        name = node.name or f"{node.op_type}_{idx}"
        if name in seen:
            name = f"{name}_{idx}"
        while name in seen:
            name += "_"
        seen.add(name)
        names.append(name)
    return names


def build(loaded: LoadedModel, shapes: ShapeResult) -> Graph:
    g = loaded.graph
    names = unique_names(loaded)
    nodes: list[NodeInfo] = []
    preds: dict[str, list[str]] = {}
    position: dict[str, int] = {}
    producer: dict[str, str] = {}
    consumers: dict[str, list[str]] = {}
    for pos, idx in enumerate(loaded.order):
        node = g.node[idx]
        domain = node.domain if node.domain not in ("", "ai.onnx") else "ai.onnx"
        info = NodeInfo(idx, names[idx], node.op_type, domain, list(node.input), list(node.output),
                        shapes.attrs[idx], shapes.folded[idx], _functions(node))
        nodes.append(info)
        position[info.name] = pos
        preds[info.name] = []
        for t in loaded.reads[idx]:
            consumers.setdefault(t, []).append(info.name)
            src = producer.get(t)
            if src is not None and src not in preds[info.name]:
                preds[info.name].append(src)
        for t in node.output:
            if t:
                producer[t] = info.name
    init = {t.name for t in g.initializer}
    inputs = [i.name for i in g.input if i.name not in init]
    outputs = [o.name for o in g.output]
    inner = {idx: {k: InnerGraph(build(a.loaded, a.shaped), a.sub) for k, a in found.items()}
             for idx, found in shapes.subgraphs.items()}
    return Graph(nodes, shapes.tensors, inputs, outputs, preds, consumers, producer, dict(loaded.opsets), inner,
                 position)
