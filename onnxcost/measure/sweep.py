"""`onnxcost sweep`: totals over a grid of dim values. MACs, FLOPs and activation bytes come from the
symbolic formulas (one analysis for the whole grid); peak memory and latency, which need a schedule and
concrete sizes, from one concrete analysis per point."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import onnx

from ..base import symbolic
from ..base.errors import ConfigError
from ..latency.profiles import Profile
from ..pipeline import analyze

#: Totals that come from formulas when dims are symbolic.
FORMULA_TOTALS = ("macs", "flops", "activation_bytes")


@dataclass(frozen=True)
class SweepPoint:
    dims: dict[str, int]
    totals: dict[str, Any] = field(default_factory=dict)


def sweep(model: str | os.PathLike[str] | onnx.ModelProto, grid: Mapping[str, Sequence[int]],
          dims: Mapping[str, int] | None = None, profile: str | Profile | None = None,
          memory: bool = True, schedule_budget: float = 1.0, input_shapes: Mapping[str, Sequence[int]] | None = None,
          input_values: Mapping[str, Sequence[float]] | None = None) -> list[SweepPoint]:
    """Totals of `model` at every combination of the values in `grid` (dim name -> values).

    Parameters
    ----------
    grid: the dims to vary and their values; `dims` (and `input_shapes`, `input_values`) bind others once
      for every point.
    profile: adds latency_ms per point. memory: adds peak_memory_bytes per point (a schedule each).

    Returns
    -------
    One SweepPoint per combination, in grid order."""
    if not grid or any(not values for values in grid.values()):
        raise ConfigError("sweep needs a grid: at least one dim with values")
    base = analyze(model, dims=dims, schedule="file", input_shapes=input_shapes or None,
                   input_values=input_values or None)
    grid = _by_symbol(grid, base.symbolic["symbols"] if base.symbolic else {})
    formulas = base.symbolic["totals"] if base.symbolic else {}
    unknown = set(grid) - set(base.symbolic["symbols"] if base.symbolic else ())
    if unknown:
        raise ConfigError(f"dims['{sorted(unknown)[0]}']: not an unbound dim of the model (its unbound dims: "
                          f"{', '.join(base.symbolic['symbols']) if base.symbolic else 'none'})")
    left = sorted(set(base.symbolic["symbols"] if base.symbolic else ()) - set(grid))
    if left:
        raise ConfigError(f"dim {left[0]} is neither swept nor bound: add dims={{'{left[0]}': N}} (or sweep it)")
    points = []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values, strict=True))
        totals: dict[str, Any] = {}
        for key in FORMULA_TOTALS:
            expr = formulas.get(key, getattr(base.totals, key))
            totals[key] = None if expr is None else symbolic.evaluate(_parse(expr), point)
        totals["params"] = base.totals.params
        if memory or profile is not None:
            rep = analyze(model, dims={**(dims or {}), **point}, profile=profile, schedule_budget=schedule_budget,
                          input_shapes=input_shapes or None, input_values=input_values or None)
            totals["peak_memory_bytes"] = rep.totals.peak_memory_bytes
            if profile is not None:
                totals["latency_ms"] = rep.totals.latency_ms
        points.append(SweepPoint({**point, **(dims or {})}, totals))
    return points


def _by_symbol(grid: Mapping[str, Sequence[int]], symbols: Mapping[str, Any]) -> dict[str, Sequence[int]]:
    """The grid keyed by symbol names: a key in the file's own spelling of a dim (p2o.DynamicDimension.0)
    stands for every symbol made from that dim."""
    out: dict[str, Sequence[int]] = {}
    for key, values in grid.items():
        named = [name for name, info in symbols.items() if info.get("dim") == key and name != key]
        for name in named if key not in symbols and named else [key]:
            out[name] = values
    return out


def _parse(expr: Any) -> Any:
    return expr if isinstance(expr, int) else symbolic.parse(expr)
