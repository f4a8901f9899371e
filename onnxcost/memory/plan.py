"""The memory stage assembled: liveness under the chosen schedule, the file order's peak beside it, the
arena plan, and why a figure is missing when it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base import symbolic
from ..shapes.graph import Graph
from . import liveness
from . import schedule as schedule_mod
from .search import MAX_STATES

if TYPE_CHECKING:
    from .arena import ArenaLayout


@dataclass(frozen=True)
class MemoryPlan:
    """One schedule's memory: the timeline, the order (folded nodes first), and whether it is proven optimal."""

    timeline: liveness.Timeline
    file_peak_bytes: int
    names: list[str]  # every node in run order
    step_names: list[str]  # the nodes that run, one per timeline step
    method: str
    optimal: bool
    arena: ArenaLayout | None = None
    stop: str | None = None  # why the proof stopped, when it did


@dataclass(frozen=True)
class MemoryResult:
    """The plan (None when sizes are unknown or formulas), the activation bytes as a formula when they are
    one, and the warnings that say why."""

    plan: MemoryPlan | None
    activation_formula: Any
    warnings: list[str]


def activation_formula(g: Graph) -> Any:
    """Bytes of every activation (graph inputs and the outputs of nodes that run), as a formula."""
    names = set(g.inputs) | {o for n in g.nodes if not n.folded for o in n.outputs if o}
    sizes = [g.tensors[t].nbytes for t in names if t in g.tensors]
    return None if any(b is None for b in sizes) else sum(sizes)


def plan(g: Graph, method: str, budget: float, inplace: bool, arena: bool) -> MemoryPlan | None:
    """The schedule by `method` within `budget` seconds and its timeline; None when a size is unknown."""
    model = liveness.build_model(g, inplace)
    if model is None:
        return None
    sched = schedule_mod.schedule(model, method, budget)
    timeline = liveness.simulate(model, sched.order)
    file_peak = liveness.simulate(model, schedule_mod.file_order(model)).peak_bytes
    if method == "file":
        names = [n.name for n in g.nodes]
    else:  # folded nodes compute from constants only: they can run (and runtimes run them) first
        names = [n.name for n in g.nodes if n.folded] + [model.nodes[i].name for i in sched.order]
    arena_plan = None
    if arena:
        from . import arena as arena_mod

        arena_plan = arena_mod.layout(timeline)
    return MemoryPlan(timeline, file_peak, names, [model.nodes[i].name for i in sched.order], method,
                      sched.optimal, arena_plan, sched.stop)


def memory(g: Graph, has_symbols: bool, method: str, budget: float, inplace: bool, arena: bool) -> MemoryResult:
    """The memory stage: a plan when every size is a number, else the activation bytes as a formula."""
    symbolic_sizes = has_symbols and any(symbolic.is_symbolic(t.nbytes) for t in g.tensors.values())
    if symbolic_sizes:
        return MemoryResult(None, activation_formula(g), [
            "peak memory needs every dim bound (the minimum-peak order depends on their values); "
            "activation bytes are a formula"])
    mem = plan(g, method, budget, inplace, arena)
    if mem is None:
        return MemoryResult(None, None, ["some activation shapes are unknown: activation and peak memory are unknown"])
    if method == "optimal" and not mem.optimal:
        why = (f"its search stopped at {MAX_STATES:,} states in one segment"
               if mem.stop == "states" else f"schedule_budget={budget:g} s ran out")
        return MemoryResult(mem, None, [
            f"the minimum-peak schedule was not proven optimal ({why}); the peak is that of the best order found "
            "(never above the file order's)"])
    return MemoryResult(mem, None, [])
