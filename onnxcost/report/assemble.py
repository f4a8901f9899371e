"""The Report built from what the stages computed: per-node rows, per-op-type and model totals, the memory
section and the formulas. Counts that are formulas go to `*_expr` fields and the `symbolic` section."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..base import dtypes, symbolic
from ..cost.nodes import NodeCost, weight_bytes
from ..load.model import LoadedModel
from ..memory.plan import MemoryResult
from ..ops.core import InnerNode
from ..shapes.graph import Graph
from ..shapes.tensors import ShapeResult, TensorInfo
from .schema import FunctionTotals, MemoryInfo, ModelInfo, NodeReport, OpTypeTotals, Report, TensorSpec, Totals, op_key

if TYPE_CHECKING:
    from ..cost import llm as llm_mod
    from ..cost import training as training_mod
    from ..latency.estimate import NodeEstimate
    from ..latency.result import Latency


@dataclass(frozen=True)
class Stages:
    """Everything the pipeline's stages produced for one model."""

    loaded: LoadedModel
    shaped: ShapeResult
    graph: Graph
    costs: list[NodeCost]
    weights: dict[str, int]
    memory: MemoryResult
    latency: Latency | None  # None without a profile: the estimator is never imported
    warnings: list[str]


def dims(shape: Sequence[Any] | None) -> list[int | str] | None:
    """A shape for JSON: ints, and a symbolic dim as its formula (like ONNX's dim_param)."""
    if shape is None:
        return None
    if all(type(d) is int for d in shape):  # nearly every shape
        return list(shape)
    return [symbolic.show(d) if symbolic.is_symbolic(d) else int(d) for d in shape]


def plain(v: Any) -> Any:
    """A count for `totals` and nodes: the int, or None where it is a formula."""
    return v if v is None or type(v) is int else None if symbolic.is_symbolic(v) else v


def formula(v: Any) -> str | None:
    return None if v is None or type(v) is int else symbolic.text(v) if symbolic.is_symbolic(v) else None


def _spec(name: str, tensors: Mapping[str, TensorInfo]) -> TensorSpec:
    t = tensors.get(name)
    if t is None:
        return TensorSpec(name, "unknown", None)
    return TensorSpec(name, dtypes.name(t.dtype), dims(t.shape))


def _inner(i: InnerNode) -> dict[str, Any]:
    return {"path": i.path, "op_type": i.op_type, "macs": plain(i.macs), "flops": plain(i.flops),
            **({"macs_expr": formula(i.macs), "flops_expr": formula(i.flops)}
               if symbolic.is_symbolic(i.macs) or symbolic.is_symbolic(i.flops) else {})}


def node_report(g: Graph, n: Any, c: NodeCost, e: NodeEstimate | None) -> NodeReport:
    outs = [g.tensors.get(o) if o else None for o in n.outputs]
    return NodeReport(
        name=n.name, op_type=n.op_type, domain=n.domain, inputs=list(n.inputs), outputs=list(n.outputs),
        output_shapes=[None if t is None else dims(t.shape) for t in outs],
        output_dtypes=[dtypes.name(t.dtype) if t is not None else "unknown" for t in outs],
        macs=plain(c.macs), flops=plain(c.flops), params=c.params, param_bytes=c.param_bytes,
        input_bytes=plain(c.input_bytes), output_bytes=plain(c.output_bytes), folded=n.folded,
        macs_expr=formula(c.macs), flops_expr=formula(c.flops),
        op_class=None if e is None else e.op_class, bound=None if e is None else e.bound,
        arithmetic_intensity=None if e is None or e.arithmetic_intensity is None
        else round(e.arithmetic_intensity, 3),
        latency_us=None if e is None or e.latency_us is None else round(e.latency_us, 3),
        upper_bound=c.upper_bound, branch=c.branch, subgraph=[_inner(i) for i in c.inner],
    )


def by_op_type(g: Graph, costs: list[NodeCost]) -> dict[str, OpTypeTotals]:
    """Count, MACs, FLOPs and params per op type (domain-qualified outside ai.onnx), heaviest first."""
    by_op: dict[str, OpTypeTotals] = {}
    for n, c in zip(g.nodes, costs, strict=True):
        key = op_key(n.domain, n.op_type)
        agg = by_op.setdefault(key, OpTypeTotals(0, 0, 0, 0))
        agg.count += 1
        agg.macs = None if agg.macs is None or plain(c.macs) is None else agg.macs + (c.macs or 0)
        agg.flops = None if agg.flops is None or plain(c.flops) is None else agg.flops + (c.flops or 0)
        agg.params += c.params
    return dict(sorted(by_op.items(), key=lambda kv: -(kv[1].macs or 0)))


def by_function(g: Graph, costs: list[NodeCost]) -> dict[str, FunctionTotals]:
    """Subtotals per model-local function, nested calls included; a call site is a distinct call path."""
    out: dict[str, FunctionTotals] = {}
    sites: dict[str, set[str]] = {}
    for n, c in zip(g.nodes, costs, strict=True):
        path = n.name.split("/", 1)[0].split(".")
        for depth, name in enumerate(dict.fromkeys(n.functions)):
            agg = out.setdefault(name, FunctionTotals(0, 0, 0, 0, 0))
            sites.setdefault(name, set()).add(".".join(path[:depth + 1]))
            agg.nodes += 1
            agg.macs = None if agg.macs is None or plain(c.macs) is None else agg.macs + (c.macs or 0)
            agg.flops = None if agg.flops is None or plain(c.flops) is None else agg.flops + (c.flops or 0)
            agg.params += c.params
    for name, agg in out.items():
        agg.calls = len(sites[name])
    return dict(sorted(out.items(), key=lambda kv: -(kv[1].macs or 0)))


def totals(s: Stages) -> Totals:
    mem = s.memory.plan
    t = Totals(
        nodes=len(s.graph.nodes),
        macs=plain(sum(c.macs or 0 for c in s.costs)),
        flops=plain(sum(c.flops or 0 for c in s.costs)),
        params=sum(s.weights.values()),
        param_bytes=weight_bytes(s.graph, s.weights),
        activation_bytes=None if mem is None else mem.timeline.total_bytes,
        peak_memory_bytes=None if mem is None else mem.timeline.peak_bytes,
        unknown_cost_nodes=sum(1 for c in s.costs if not c.known),
        activation_elements=None if mem is None else mem.timeline.total_elements,
        peak_memory_elements=None if mem is None else mem.timeline.peak_elements,
        peak_memory_bytes_file_order=None if mem is None else mem.file_peak_bytes,
        upper_bound=any(c.upper_bound for c in s.costs),
        lower_bound=any(not c.known for c in s.costs),
    )
    lat = None if s.latency is None else s.latency.totals
    if lat is not None:
        t.latency_ms, t.critical_path_ms, t.profile = lat.latency_ms, lat.critical_path_ms, lat.profile
        t.layout_reorders, t.layout_reorder_bytes = lat.layout_reorders, lat.layout_reorder_bytes
        t.layout_reorder_ms = lat.layout_reorder_ms
    return t


def memory_info(s: Stages, inplace: bool) -> MemoryInfo | None:
    mem = s.memory.plan
    if mem is None:
        return None
    info = MemoryInfo(
        inplace=inplace, peak_step=mem.timeline.peak_step,
        peak_node=mem.step_names[mem.timeline.peak_step] if mem.step_names else "",
        peak_live_tensors=list(mem.timeline.peak_live), timeline_bytes=list(mem.timeline.step_bytes),
        timeline_nodes=list(mem.step_names),
    )
    if mem.arena is not None:
        info.arena_bytes, info.arena_fragmentation = mem.arena.arena_bytes, mem.arena.fragmentation
        info.arena_offsets = dict(mem.arena.offsets)
    return info


def symbolic_section(s: Stages, t: Totals) -> dict[str, Any] | None:
    """With unbound dims: each symbol's origin and the totals as formulas."""
    if not s.shaped.symbols:
        return None
    exprs = {"macs": sum(c.macs or 0 for c in s.costs), "flops": sum(c.flops or 0 for c in s.costs),
             "activation_bytes": s.memory.activation_formula}
    return {"symbols": {k: asdict(v) for k, v in s.shaped.symbols.items()},
            "totals": {**{k: formula(v) if symbolic.is_symbolic(v) else v for k, v in exprs.items()},
                       "params": t.params, "peak_memory_bytes": t.peak_memory_bytes}}


def model_info(loaded: LoadedModel) -> ModelInfo:
    proto = loaded.model
    return ModelInfo(path=loaded.path, ir_version=int(proto.ir_version), opsets=dict(loaded.opsets),
                     producer=" ".join(x for x in (proto.producer_name, proto.producer_version) if x),
                     graph_name=proto.graph.name)


def report(s: Stages, inplace: bool, training: training_mod.TrainingEstimate | None,
           llm: llm_mod.LlmView | None) -> Report:
    """The Report of one analysed model."""
    g, mem, t = s.graph, s.memory.plan, totals(s)
    estimates = [None] * len(g.nodes) if s.latency is None else s.latency.nodes
    return Report(
        model=model_info(s.loaded),
        inputs=[_spec(i, g.tensors) for i in g.inputs],
        outputs=[_spec(o, g.tensors) for o in g.outputs],
        totals=t, by_op_type=by_op_type(g, s.costs),
        nodes=[node_report(g, n, c, e) for n, c, e in zip(g.nodes, s.costs, estimates, strict=True)],
        warnings=s.warnings, graph=g, symbolic=symbolic_section(s, t), llm=llm,
        schedule=mem.names if mem is not None else [n.name for n in g.nodes],
        schedule_method=mem.method if mem is not None else "file",
        schedule_optimal=mem is not None and mem.optimal,
        memory=memory_info(s, inplace), training=training, by_function=by_function(g, s.costs),
    )
