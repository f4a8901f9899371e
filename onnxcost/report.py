"""Report stage: the Python API (`analyze`) and the typed report whose `to_dict()` is the JSON contract."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import onnx

from . import costs as costs_mod
from . import dtypes, graph, load, memory, shapes

SCHEMA = "onnxcost.report/1"


@dataclass
class ModelInfo:
    path: str | None
    ir_version: int
    opsets: dict[str, int]
    producer: str
    graph_name: str


@dataclass
class TensorSpec:
    name: str
    dtype: str
    shape: list[int] | None


@dataclass
class Totals:
    nodes: int
    macs: int  # sum over nodes whose cost is known; see unknown_cost_nodes
    flops: int
    params: int  # distinct weight tensors, each counted once however many nodes read it
    param_bytes: int
    activation_bytes: int | None
    peak_memory_bytes: int | None
    unknown_cost_nodes: int


@dataclass
class OpTypeTotals:
    count: int
    macs: int | None
    flops: int | None
    params: int


@dataclass
class NodeReport:
    name: str
    op_type: str
    domain: str
    inputs: list[str]
    outputs: list[str]
    output_shapes: list[list[int] | None]
    output_dtypes: list[str]
    macs: int | None
    flops: int | None
    params: int
    param_bytes: int
    input_bytes: int | None
    output_bytes: int | None
    folded: bool = False


@dataclass
class Report:
    model: ModelInfo
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    totals: Totals
    by_op_type: dict[str, OpTypeTotals]
    nodes: list[NodeReport]
    schedule: list[str]
    warnings: list[str] = field(default_factory=list)
    peak: memory.Peak | None = field(default=None, repr=False)
    graph: graph.Graph | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract `onnxcost.report/1`: other commands and outside tools read exactly this."""
        return {
            "schema": SCHEMA,
            "model": asdict(self.model),
            "inputs": [asdict(t) for t in self.inputs],
            "outputs": [asdict(t) for t in self.outputs],
            "totals": asdict(self.totals),
            "by_op_type": {k: asdict(v) for k, v in self.by_op_type.items()},
            "nodes": [asdict(n) for n in self.nodes],
            "schedule": list(self.schedule),
            "warnings": list(self.warnings),
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _spec(name: str, tensors: Mapping[str, shapes.TensorInfo]) -> TensorSpec:
    t = tensors.get(name)
    if t is None:
        return TensorSpec(name, "unknown", None)
    return TensorSpec(name, dtypes.name(t.dtype), None if t.shape is None else list(t.shape))


def analyze(
    model: str | os.PathLike[str] | onnx.ModelProto,
    dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
) -> Report:
    """Analyse an ONNX model (path or ModelProto) and return its Report. Raises onnxcost.ModelError on
    input that cannot be analysed; what can still be analysed yields warnings in `report.warnings`."""
    loaded = load.load(model)
    shaped = shapes.infer(loaded, dims, {k: tuple(v) for k, v in (input_shapes or {}).items()})
    g = graph.build(loaded, shaped)
    node_costs, weights, cost_warnings = costs_mod.graph_costs(g)
    warnings = loaded.warnings + shaped.warnings + cost_warnings

    schedule = [n.name for n in g.nodes]
    lifetimes = memory.intervals(g, schedule)
    peak = None if lifetimes is None else memory.peak(lifetimes, len(schedule))
    activation_bytes = None if lifetimes is None else sum(iv.nbytes for iv in lifetimes)
    if lifetimes is None:
        warnings.append("some activation shapes are unknown: activation and peak memory are unknown")

    nodes: list[NodeReport] = []
    by_op: dict[str, OpTypeTotals] = {}
    for n, c in zip(g.nodes, node_costs, strict=True):
        outs = [g.tensors.get(o) if o else None for o in n.outputs]
        nodes.append(NodeReport(
            name=n.name, op_type=n.op_type, domain=n.domain, inputs=list(n.inputs), outputs=list(n.outputs),
            output_shapes=[None if t is None or t.shape is None else list(t.shape) for t in outs],
            output_dtypes=[dtypes.name(t.dtype) if t is not None else "unknown" for t in outs],
            macs=c.macs, flops=c.flops, params=c.params, param_bytes=c.param_bytes,
            input_bytes=c.input_bytes, output_bytes=c.output_bytes, folded=n.folded,
        ))
        key = n.op_type if n.domain == "ai.onnx" else f"{n.domain}.{n.op_type}"
        agg = by_op.setdefault(key, OpTypeTotals(0, 0, 0, 0))
        agg.count += 1
        agg.macs = None if agg.macs is None or c.macs is None else agg.macs + c.macs
        agg.flops = None if agg.flops is None or c.flops is None else agg.flops + c.flops
        agg.params += c.params

    totals = Totals(
        nodes=len(g.nodes),
        macs=sum(c.macs or 0 for c in node_costs),
        flops=sum(c.flops or 0 for c in node_costs),
        params=sum(g.tensors[w].elements or 0 for w in weights),
        param_bytes=sum(g.tensors[w].nbytes or 0 for w in weights),
        activation_bytes=activation_bytes,
        peak_memory_bytes=None if peak is None else peak.bytes,
        unknown_cost_nodes=sum(1 for c in node_costs if not c.known),
    )
    proto = loaded.model
    info = ModelInfo(
        path=loaded.path, ir_version=int(proto.ir_version), opsets=dict(loaded.opsets),
        producer=" ".join(x for x in (proto.producer_name, proto.producer_version) if x),
        graph_name=proto.graph.name,
    )
    return Report(
        model=info,
        inputs=[_spec(i, g.tensors) for i in g.inputs],
        outputs=[_spec(o, g.tensors) for o in g.outputs],
        totals=totals, by_op_type=dict(sorted(by_op.items(), key=lambda kv: -(kv[1].macs or 0))),
        nodes=nodes, schedule=schedule, warnings=warnings, peak=peak, graph=g,
    )
