"""Report stage: the Python API (`analyze`) and the typed report whose `to_dict()` is the JSON contract."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import onnx

from . import ops
from .base import dtypes, symbolic
from .base.errors import ConfigError, ModelError
from .cost import llm as llm_mod
from .cost import nodes as costs_mod
from .cost import training as training_mod
from .latency.estimate import critical_path_us, reorder_estimates, total_latency_us
from .latency.estimate import estimate as estimate_latency
from .latency.profiles import Profile, load_profile
from .load import model as load
from .memory import arena as arena_mod
from .memory import liveness as memory
from .memory import schedule as schedule_mod
from .shapes import graph
from .shapes import inference as shapes

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
    shape: list[int | str] | None  # a symbolic dim is its formula


@dataclass
class Totals:
    nodes: int
    macs: int | None  # sum over nodes whose cost is known (see unknown_cost_nodes); None: a formula (`symbolic`)
    flops: int | None
    params: int  # distinct weight tensors, each counted once however many nodes read it
    param_bytes: int
    activation_bytes: int | None
    peak_memory_bytes: int | None
    unknown_cost_nodes: int
    activation_elements: int | None = None
    peak_memory_elements: int | None = None
    peak_memory_bytes_file_order: int | None = None
    latency_ms: float | None = None  # with a profile: sum of node estimates and reorders (None if any is unknown)
    critical_path_ms: float | None = None  # with a profile: the longest dependent chain (parallel branches overlap)
    profile: str | None = None
    layout_reorders: int | None = None  # with a profile whose runtime blocks conv layouts: copies it inserts
    layout_reorder_bytes: int | None = None  # bytes those copies read (each also writes as many)
    layout_reorder_ms: float | None = None  # their estimated time, part of latency_ms
    upper_bound: bool = False  # some node's MACs/FLOPs are an upper bound (they depend on run-time data)
    lower_bound: bool = False  # some node's cost is unknown: macs and flops count the known nodes only


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
    output_shapes: list[list[int | str] | None]
    output_dtypes: list[str]
    macs: int | None
    flops: int | None
    params: int
    param_bytes: int
    input_bytes: int | None
    output_bytes: int | None
    folded: bool = False
    op_class: str | None = None  # with a profile: dense, grouped, depthwise, einsum, elementwise, movement, view
    bound: str | None = None  # with a profile: compute, memory, overhead
    arithmetic_intensity: float | None = None  # FLOPs per byte moved
    latency_us: float | None = None  # roofline estimate on the profile
    upper_bound: bool = False  # macs/flops are an upper bound: the true figure depends on run-time data
    branch: str | None = None  # an If: the branch counted ("then", "else", or "max" when data decides)
    macs_expr: str | None = None  # with unbound dims: the formula where macs is null
    flops_expr: str | None = None
    subgraph: list[dict[str, Any]] = field(default_factory=list)  # control flow: inner nodes by path, per run


@dataclass
class MemoryInfo:
    """Where the peak is (the memory bottleneck) and the per-step curve under the chosen schedule."""

    inplace: bool
    peak_step: int  # index into `timeline_bytes`: steps are the nodes that run (folded ones do not)
    peak_node: str
    peak_live_tensors: list[str]  # largest first
    timeline_bytes: list[int]
    timeline_nodes: list[str]
    arena_bytes: int | None = None
    arena_fragmentation: float | None = None  # arena_bytes / peak_memory_bytes
    arena_offsets: dict[str, int] | None = None  # base tensor of each buffer -> byte offset


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
    schedule_method: str = "file"
    schedule_optimal: bool = False
    memory: MemoryInfo | None = None
    training: training_mod.TrainingEstimate | None = None
    graph: graph.Graph | None = field(default=None, repr=False)
    #: with unbound dims: {"symbols": {name: {"dim", "input", "axis"}}, "totals": {metric: expression}}
    symbolic: dict[str, Any] | None = None
    #: a decoder with a key/value cache: its bytes per token, and prefill against decode (llm.py)
    llm: llm_mod.LlmView | None = None

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
            "schedule_method": self.schedule_method,
            "schedule_optimal": self.schedule_optimal,
            "memory": None if self.memory is None else asdict(self.memory),
            **({} if self.training is None else {"training": asdict(self.training)}),
            **({} if self.symbolic is None else {"symbolic": self.symbolic}),
            **({} if self.llm is None else {"llm": asdict(self.llm)}),
            "warnings": list(self.warnings),
        }

    def to_dataframe(self) -> Any:
        """The nodes as a pandas DataFrame, one row per node (for notebooks); pandas is not a dependency."""
        try:
            import pandas as pd
        except ImportError:
            raise ConfigError("to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame([asdict(n) for n in self.nodes])

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _spec(name: str, tensors: Mapping[str, shapes.TensorInfo]) -> TensorSpec:
    t = tensors.get(name)
    if t is None:
        return TensorSpec(name, "unknown", None)
    return TensorSpec(name, dtypes.name(t.dtype), _dims(t.shape))


def _dims(shape: Sequence[Any] | None) -> list[int | str] | None:
    """A shape for JSON: ints, and a symbolic dim as its formula (like ONNX's dim_param)."""
    return None if shape is None else [str(d) if symbolic.is_symbolic(d) else int(d) for d in shape]


def _plain(v: Any) -> Any:
    """A count for `totals` and nodes: the int, or None where it is a formula."""
    return None if symbolic.is_symbolic(v) else v


def _formula(v: Any) -> str | None:
    return symbolic.text(v) if symbolic.is_symbolic(v) else None


def _check_arguments(model: object, dims: object, input_shapes: object, schedule: object, budget: object,
                     batch: object, profile: object) -> None:
    """The API's arguments, each of the type and range it needs: a ConfigError naming the argument, never a
    TypeError deep inside."""
    def fail(name: str, value: object, want: str) -> ConfigError:
        return ConfigError(f"analyze(): {name}={value!r:.80} is not {want}")

    if not isinstance(model, (str, os.PathLike, onnx.ModelProto)):
        raise fail("model", model, "a path or an onnx.ModelProto")
    if dims is not None:
        if not isinstance(dims, Mapping):
            raise fail("dims", dims, "a mapping of dim names to ints")
        for k, v in dims.items():
            # 0 is a real size: an empty KV cache (past = 0) at an LLM's first step
            if not isinstance(k, str) or isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise fail(f"dims[{k!r}]", v, "a non-negative int")
    if input_shapes is not None:
        if not isinstance(input_shapes, Mapping):
            raise fail("input_shapes", input_shapes, "a mapping of input names to shapes")
        for k, v in input_shapes.items():
            if not isinstance(v, Sequence) or isinstance(v, str) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in v):
                raise fail(f"input_shapes[{k!r}]", v, "a sequence of non-negative ints")
    if schedule not in schedule_mod.METHODS:
        raise ConfigError(f"unknown schedule {schedule!r}; choose one of {', '.join(schedule_mod.METHODS)}")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 <= budget < float("inf"):
        raise fail("schedule_budget", budget, "a finite number of seconds")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise fail("batch", batch, "a positive int")
    if profile is not None and not isinstance(profile, (str, Profile)):
        raise fail("profile", profile, "a profile name, a .toml path or a Profile")


def _batch_dim(loaded: load.LoadedModel, batch: int) -> dict[str, int]:
    """A training estimate at `batch`: the first input's leading dim, when the model leaves it free, is that
    batch (by the name --dim would take: its dim_param, or <input>_0)."""
    inits = {t.name for t in loaded.graph.initializer}
    first = next((vi for vi in loaded.graph.input if vi.name not in inits), None)
    if first is None or not first.type.tensor_type.HasField("shape") or not first.type.tensor_type.shape.dim:
        return {}
    d = first.type.tensor_type.shape.dim[0]
    if d.HasField("dim_value") and d.dim_value > 0:
        return {}
    return {d.dim_param or f"{first.name}_0": batch}


def _require_known(g: graph.Graph, node_costs: list[costs_mod.NodeCost], warnings: list[str]) -> None:
    """--strict: every cost known, or one error naming the first unknown node and why."""
    unknown = [n.name for n, c in zip(g.nodes, node_costs, strict=True) if not c.known]
    if unknown:
        why = next((w for w in warnings if f"'{unknown[0]}'" in w), f"node '{unknown[0]}': cost unknown")
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ModelError(f"strict=True: {len(unknown)} node(s) of unknown cost{more}; first: {why}")


def analyze(
    model: str | os.PathLike[str] | onnx.ModelProto,
    dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    *,
    schedule: str = "optimal",
    schedule_budget: float = schedule_mod.DEFAULT_BUDGET_S,
    inplace: bool = False,
    arena: bool = False,
    training: str | None = None,
    batch: int | None = None,
    profile: str | Profile | None = None,
    strict: bool = False,
    input_values: Mapping[str, Sequence[float]] | None = None,
) -> Report:
    """Analyse an ONNX model (path or ModelProto) and return its Report. Raises onnxcost.ModelError on
    input that cannot be analysed; what can still be analysed yields warnings in `report.warnings`.

    schedule: "file", "topo" or "optimal" (minimum peak; see schedule.py), within schedule_budget seconds.
    inplace: views alias their input and unary ops overwrite a dead input. arena: plan buffer offsets.
    training: an optimizer ("sgd", "momentum", "adam") to add a training estimate at `batch` (see training.py).
    profile: a hardware profile (name, TOML path or Profile) for a roofline latency per node (estimate.py).
    strict: raise ModelError when any node's cost is unknown, instead of warning.
    input_values: the values of scalar or 1-D inputs (a sample rate, a length): constants that fold, and
      decide the If conditions that read them."""
    _check_arguments(model, dims, input_shapes, schedule, schedule_budget, batch, profile)
    if input_values is not None and not (isinstance(input_values, Mapping) and all(
            isinstance(v, Sequence) and not isinstance(v, str) and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v) for v in input_values.values())):
        raise ConfigError(f"analyze(): input_values={input_values!r:.80} is not a mapping of names to numbers")
    loaded = load.load(model)
    if training is not None and batch is not None:
        dims = {**_batch_dim(loaded, batch), **(dims or {})}
    shaped = shapes.infer(loaded, dims, {k: tuple(v) for k, v in (input_shapes or {}).items()}, input_values)
    g = graph.build(loaded, shaped)
    node_costs, weights, cost_warnings = costs_mod.graph_costs(g)
    warnings = loaded.warnings + shaped.warnings + cost_warnings
    if strict:
        _require_known(g, node_costs, cost_warnings)

    symbolic_sizes = bool(shaped.symbols) and any(symbolic.is_symbolic(t.nbytes) for t in g.tensors.values())
    mem = None if symbolic_sizes else _memory(g, schedule, schedule_budget, inplace, arena)
    if symbolic_sizes:
        warnings.append("peak memory needs every dim bound (the minimum-peak order depends on their values); "
                        "activation bytes are a formula")
    elif mem is None:
        warnings.append("some activation shapes are unknown: activation and peak memory are unknown")
    elif schedule == "optimal" and not mem.optimal:
        why = (f"its search stopped at {schedule_mod.MAX_STATES:,} states in one segment"
               if mem.stop == "states" else f"schedule_budget={schedule_budget:g} s ran out")
        warnings.append(f"the minimum-peak schedule was not proven optimal ({why}); the peak is that of the best "
                        "order found (never above the file order's)")

    hw = load_profile(profile) if isinstance(profile, str) else profile
    if hw is not None and any(symbolic.any_symbolic((c.flops, c.input_bytes, c.output_bytes)) for c in node_costs):
        warnings.append("a latency estimate needs every dim bound; bind them with dims={...}")
        hw = None
    estimates = estimate_latency(g, node_costs, hw) if hw is not None else [None] * len(g.nodes)
    nodes: list[NodeReport] = []
    by_op: dict[str, OpTypeTotals] = {}
    for n, c, e in zip(g.nodes, node_costs, estimates, strict=True):
        outs = [g.tensors.get(o) if o else None for o in n.outputs]
        nodes.append(NodeReport(
            name=n.name, op_type=n.op_type, domain=n.domain, inputs=list(n.inputs), outputs=list(n.outputs),
            output_shapes=[None if t is None else _dims(t.shape) for t in outs],
            output_dtypes=[dtypes.name(t.dtype) if t is not None else "unknown" for t in outs],
            macs=_plain(c.macs), flops=_plain(c.flops), params=c.params, param_bytes=c.param_bytes,
            input_bytes=_plain(c.input_bytes), output_bytes=_plain(c.output_bytes), folded=n.folded,
            macs_expr=_formula(c.macs), flops_expr=_formula(c.flops),
            op_class=None if e is None else e.op_class, bound=None if e is None else e.bound,
            arithmetic_intensity=None if e is None or e.arithmetic_intensity is None
            else round(e.arithmetic_intensity, 3),
            latency_us=None if e is None or e.latency_us is None else round(e.latency_us, 3),
            upper_bound=c.upper_bound, branch=c.branch,
            subgraph=[{"path": i.path, "op_type": i.op_type, "macs": _plain(i.macs), "flops": _plain(i.flops),
                       **({"macs_expr": _formula(i.macs), "flops_expr": _formula(i.flops)}
                          if symbolic.is_symbolic(i.macs) or symbolic.is_symbolic(i.flops) else {})}
                      for i in c.inner],
        ))
        key = n.op_type if n.domain == "ai.onnx" else f"{n.domain}.{n.op_type}"
        agg = by_op.setdefault(key, OpTypeTotals(0, 0, 0, 0))
        agg.count += 1
        agg.macs = None if agg.macs is None or _plain(c.macs) is None else agg.macs + (c.macs or 0)
        agg.flops = None if agg.flops is None or _plain(c.flops) is None else agg.flops + (c.flops or 0)
        agg.params += c.params

    macs, flops = sum(c.macs or 0 for c in node_costs), sum(c.flops or 0 for c in node_costs)
    activations = _activation_formula(g) if symbolic_sizes else None
    totals = Totals(
        nodes=len(g.nodes),
        macs=_plain(macs),
        flops=_plain(flops),
        params=sum(weights.values()),
        param_bytes=costs_mod.weight_bytes(g, weights),
        activation_bytes=None if mem is None else mem.timeline.total_bytes,
        peak_memory_bytes=None if mem is None else mem.timeline.peak_bytes,
        unknown_cost_nodes=sum(1 for c in node_costs if not c.known),
        activation_elements=None if mem is None else mem.timeline.total_elements,
        peak_memory_elements=None if mem is None else mem.timeline.peak_elements,
        peak_memory_bytes_file_order=None if mem is None else mem.file_peak_bytes,
        upper_bound=any(c.upper_bound for c in node_costs),
        lower_bound=any(not c.known for c in node_costs),
    )
    if hw is not None:
        run_us = hw.run_overhead_us
        reorders = [(r, us) for r, us in reorder_estimates(g, hw) if r.kind != "transpose"]
        reorder_us = sum(us for _, us in reorders)
        total_us = total_latency_us(g, [e for e in estimates if e is not None], hw)
        totals.latency_ms = None if total_us is None else round(total_us / 1000, 6)
        totals.profile = hw.name
        path_us = critical_path_us(g, [e for e in estimates if e is not None])
        totals.critical_path_ms = None if path_us is None else round((path_us + run_us) / 1000, 6)
        if hw.nchwc_block:
            totals.layout_reorders = len(reorders)
            totals.layout_reorder_bytes = sum(r.nbytes for r, _ in reorders)
            totals.layout_reorder_ms = round(reorder_us / 1000, 6)
    train = None
    if training is not None:
        if shaped.symbols:
            names = list(shaped.symbols)
            raise ConfigError(f"training memory needs every dim bound: {', '.join(names)} left free; bind them with "
                              f"dims={{'{names[0]}': N}}")
        if totals.activation_bytes is None:
            raise ConfigError("training memory needs every activation size; some shapes are unknown")
        first = g.tensors.get(g.inputs[0]) if g.inputs else None
        model_batch = first.shape[0] if first is not None and first.shape else 1
        train = training_mod.estimate([(ops.traits(n.domain, n.op_type).contraction, c.macs, c.flops)
                                       for n, c in zip(g.nodes, node_costs, strict=True)],
                                      totals.param_bytes, totals.activation_bytes, model_batch,
                                      batch or model_batch, training)
    symbolic_section: dict[str, Any] | None = None
    if shaped.symbols:
        exprs = {"macs": macs, "flops": flops, "activation_bytes": activations}
        symbolic_section = {"symbols": {k: asdict(v) for k, v in shaped.symbols.items()},
                            "totals": {k: _formula(v) if symbolic.is_symbolic(v) else v for k, v in exprs.items()}}
        symbolic_section["totals"]["params"] = totals.params
        symbolic_section["totals"]["peak_memory_bytes"] = totals.peak_memory_bytes
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
        nodes=nodes, warnings=warnings, graph=g, symbolic=symbolic_section,
        llm=_llm(loaded, g, macs, shaped, dims or {}, input_values),
        schedule=mem.names if mem is not None else [n.name for n in g.nodes],
        schedule_method=mem.method if mem is not None else "file",
        schedule_optimal=mem is not None and mem.optimal,
        memory=None if mem is None else mem.info, training=train,
    )


def _llm(loaded: load.LoadedModel, g: graph.Graph, macs: Any, shaped: shapes.ShapeResult,
         dims: Mapping[str, int], input_values: Mapping[str, Sequence[float]] | None) -> llm_mod.LlmView | None:
    """The LLM view; with every dim bound, prefill and decode at the bound seq and past too, from one more
    shapes-and-costs pass with those two dims (and the mask's total) left free."""
    view = llm_mod.view(g, macs, shaped.symbols)
    if view is None or shaped.symbols:
        return view
    names = llm_mod.phase_dims(g, loaded.graph, view.kv_cache_inputs)
    if names is None:
        return view
    released = {names.past, names.seq, *names.totals}
    bound = {d.dim_param: int(g.tensors[vi.name].shape[k])  # type: ignore[index]
             for vi in loaded.graph.input if vi.name in g.tensors and g.tensors[vi.name].shape is not None
             for k, d in enumerate(vi.type.tensor_type.shape.dim) if d.dim_param and d.dim_param not in released}
    free = shapes.infer(loaded, {**bound, **{k: v for k, v in dims.items() if k not in released}}, {}, input_values)
    free_costs, _, _ = costs_mod.graph_costs(graph.build(loaded, free))
    if any(not c.known for c in free_costs):
        return view
    phases = llm_mod.bound_phases(sum(c.macs or 0 for c in free_costs), names, view.kv_cache_bytes_per_token)
    return replace(view, bound=phases)


@dataclass
class _Memory:
    timeline: memory.Timeline
    file_peak_bytes: int
    names: list[str]
    method: str
    optimal: bool
    info: MemoryInfo
    stop: str | None = None  # why the proof stopped, when it did


def _activation_formula(g: graph.Graph) -> Any:
    """Bytes of every activation (graph inputs and the outputs of nodes that run), as a formula."""
    names = set(g.inputs) | {o for n in g.nodes if not n.folded for o in n.outputs if o}
    sizes = [g.tensors[t].nbytes for t in names if t in g.tensors]
    return None if any(b is None for b in sizes) else sum(sizes)


def _memory(g: graph.Graph, method: str, budget: float, inplace: bool, arena: bool) -> _Memory | None:
    model = memory.build_model(g, inplace)
    if model is None:
        return None
    sched = schedule_mod.schedule(model, method, budget)
    timeline = memory.simulate(model, sched.order)
    file_peak = memory.simulate(model, schedule_mod.file_order(model)).peak_bytes
    if method == "file":
        names = [n.name for n in g.nodes]
    else:  # folded nodes compute from constants only: they can run (and runtimes run them) first
        names = [n.name for n in g.nodes if n.folded] + [model.nodes[i].name for i in sched.order]
    step_names = [model.nodes[i].name for i in sched.order]
    info = MemoryInfo(
        inplace=inplace, peak_step=timeline.peak_step,
        peak_node=step_names[timeline.peak_step] if step_names else "",
        peak_live_tensors=list(timeline.peak_live), timeline_bytes=list(timeline.step_bytes),
        timeline_nodes=step_names,
    )
    if arena:
        plan = arena_mod.plan([(s, e, b) for s, e, b, _ in timeline.lifetimes], timeline.peak_bytes)
        info.arena_bytes = plan.arena_bytes
        info.arena_fragmentation = round(plan.fragmentation, 4)
        info.arena_offsets = {name: p.offset for name, p in zip(timeline.buffer_names, plan.placements,
                                                                strict=True)}
    return _Memory(timeline, file_peak, names, method, sched.optimal, info, sched.stop)
