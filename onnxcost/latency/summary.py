"""The latency stage assembled: which profile applies, each node's estimate, and the model's totals."""

from __future__ import annotations

import os

import onnx

from ..base import symbolic
from ..cost.nodes import NodeCost
from ..shapes.graph import Graph
from . import FUSIONS, runtime
from .estimate import (
    Kernels,
    NodeEstimate,
    critical_path_us,
    estimate,
    group_kernels,
    reorder_estimates,
    total_latency_us,
)
from .profiles import Profile, load_profile
from .result import Latency, LatencyTotals, no_latency

__all__ = ["FUSIONS", "Latency", "LatencyTotals", "latency"]


def latency(g: Graph, costs: list[NodeCost], profile: str | Profile | None, fusions: str = "patterns",
            model: str | os.PathLike[str] | onnx.ModelProto | None = None) -> Latency:
    """Roofline estimates on `profile` (a name, a TOML path or a Profile); none while a size is a formula.
    With fusions="onnxruntime", the fused kernels are read from onnxruntime's optimized graph of `model`, and
    the pattern rules stand in, with a warning, where onnxruntime cannot open it."""
    hw = load_profile(profile) if isinstance(profile, str) else profile
    if hw is None:
        return no_latency(len(g.nodes))
    if any(symbolic.any_symbolic((c.flops, c.input_bytes, c.output_bytes)) for c in costs):
        return Latency([None] * len(g.nodes), None,
                       ["a latency estimate needs every dim bound; bind them with dims={...}"])
    observed, warnings = None, []
    if fusions == "onnxruntime" and model is not None:
        gone, why = runtime.vanished(model)
        if gone is None:
            warnings.append(f"onnxruntime could not open the model ({why}): fusions follow the pattern rules")
        else:
            observed = runtime.kernels(g, gone)
    grouped = group_kernels(g, costs, hw, observed)  # the fused kernels and layout reorders, worked out once
    estimates = estimate(g, costs, hw, observed, grouped)
    return Latency(list(estimates), _totals(g, estimates, hw, grouped), warnings)


def _totals(g: Graph, estimates: list[NodeEstimate], hw: Profile, grouped: Kernels) -> LatencyTotals:
    reorders = [(r, us) for r, us in reorder_estimates(g, hw, grouped) if r.kind != "transpose"]
    total_us = total_latency_us(g, estimates, hw, grouped)
    path_us = critical_path_us(g, estimates)
    blocked = bool(hw.nchwc_block)
    return LatencyTotals(
        profile=hw.name,
        latency_ms=None if total_us is None else round(total_us / 1000, 6),
        critical_path_ms=None if path_us is None else round((path_us + hw.run_overhead_us) / 1000, 6),
        layout_reorders=len(reorders) if blocked else None,
        layout_reorder_bytes=sum(r.nbytes for r, _ in reorders) if blocked else None,
        layout_reorder_ms=round(sum(us for _, us in reorders) / 1000, 6) if blocked else None,
    )
