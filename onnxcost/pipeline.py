"""The pipeline: load -> shapes -> cost -> memory -> latency -> Report, and nothing else (`analyze`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import arguments
from .base import collector
from .base.proto import GraphProto, ModelProto
from .cost import caches as cache_mod
from .cost import nodes as cost
from .load import model as load
from .memory import plan as memory
from .memory import schedule as schedule_mod
from .report import assemble
from .report.schema import SCHEMA, MemoryInfo, ModelInfo, NodeReport, OpTypeTotals, Report, TensorSpec, Totals
from .shapes import graph
from .shapes import inference as shapes

if TYPE_CHECKING:
    from .cost.llm import LlmView
    from .cost.training import TrainingEstimate
    from .latency.profiles import Profile
    from .latency.result import Latency
    from .shapes.tensors import ShapeResult

__all__ = ["SCHEMA", "MemoryInfo", "ModelInfo", "NodeReport", "OpTypeTotals", "Report", "TensorSpec", "Totals",
           "analyze"]

@collector.paused
def analyze(
    model: str | os.PathLike[str] | ModelProto,
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
    input_values: Mapping[str, Sequence[float] | float] | None = None,
    fusions: str = "patterns",
) -> Report:
    """Analyse an ONNX model (path or ModelProto) and return its Report. Raises onnxcost.ModelError on
    input that cannot be analysed; what can still be analysed yields warnings in `report.warnings`.

    schedule: "file", "topo" or "optimal" (minimum peak; memory/schedule.py), within schedule_budget seconds.
    inplace: views alias their input and unary ops overwrite a dead input. arena: plan buffer offsets.
    training: an optimizer ("sgd", "momentum", "adam") to add a training estimate at `batch` (cost/training.py).
    profile: a hardware profile (name, TOML path or Profile) for a roofline latency per node (latency/).
    fusions: "patterns" (the estimate's rules) or "onnxruntime" (its optimized graph: opens a session, which
      reads the weights) for which nodes run fused.
    strict: raise ModelError when any node's cost is unknown, instead of warning.
    input_values: the values of scalar or 1-D inputs (a sample rate, a length; a number or a list): constants
      that fold, and decide the If conditions and Loop counts that read them."""
    arguments.check(model, dims, input_shapes, schedule, schedule_budget, batch, profile, input_values, fusions)
    values = arguments.value_lists(input_values)
    loaded = load.load(model)
    if training is not None and batch is not None:
        dims = {**_batch_dims(loaded.graph, batch), **(dims or {})}
    shaped = shapes.infer(loaded, dims, {k: tuple(v) for k, v in (input_shapes or {}).items()}, values)
    g = graph.build(loaded, shaped)
    costs, weights, cost_warnings = cost.graph_costs(g)
    if strict:
        cost.require_known(g, costs, cost_warnings)
    mem = memory.memory(g, bool(shaped.symbols), schedule, schedule_budget, inplace, arena)
    lat = None if profile is None else _latency(g, costs, profile, fusions, model)
    stages = assemble.Stages(loaded, shaped, g, costs, weights, mem, lat, loaded.warnings + shaped.warnings +
                             cost_warnings + mem.warnings + (lat.warnings if lat is not None else []))
    train = None if training is None else _training_estimate(
        g, costs, cost.weight_bytes(g, weights), None if mem.plan is None else mem.plan.timeline.total_bytes,
        list(shaped.symbols), batch, training)
    view = _llm_view(loaded, g, sum(c.macs or 0 for c in costs), shaped, dims or {}, values)
    return assemble.report(stages, inplace, train, view)


def _llm_view(loaded: load.LoadedModel, g: graph.Graph, macs: Any, shaped: ShapeResult, dims: Mapping[str, int],
              values: Mapping[str, Sequence[float]] | None) -> LlmView | None:
    """The LLM view of a model that carries a key/value cache (None for any other model, for which the view's
    module is never imported)."""
    caches = cache_mod.cache_inputs(g)
    if not caches:
        return None
    from .cost import llm

    return llm.with_bound_phases(loaded, g, macs, shaped, dims, values, caches)


def _latency(g: graph.Graph, costs: list[cost.NodeCost], profile: str | Profile, fusions: str,
             model: str | os.PathLike[str] | ModelProto) -> Latency:
    """The latency stage, imported only when a profile asks for it."""
    from .latency.summary import latency

    return latency(g, costs, profile, fusions, model)


def _batch_dims(model_graph: GraphProto, batch: int) -> dict[str, int]:
    """The dims a training batch binds; the training estimate is imported only when asked for."""
    from .cost import training as training_mod

    return training_mod.batch_dims(model_graph, batch)


def _training_estimate(g: graph.Graph, costs: list[cost.NodeCost], param_bytes: int, activation_bytes: int | None,
                       free: list[str], batch: int | None, optimizer: str) -> TrainingEstimate:
    """`cost.training.for_graph`, imported only when a training estimate is asked for."""
    from .cost import training as training_mod

    return training_mod.for_graph(g, costs, param_bytes, activation_bytes, free, batch, optimizer)
