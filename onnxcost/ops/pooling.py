"""Pooling: one FLOP per window element per output position (seed 002: (C·H'·W')·(K·K))."""

from __future__ import annotations

import math

from ..base import dtypes
from .contractions import window_out
from .core import DEFAULT, Cost, NodeView, OpDef, Spec, Traits, per_input_element

FAMILY = "pooling"
POOL = Traits()


def pool_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    if len(x) < 3:
        raise n.fail(f"input of rank {len(x)} has no spatial dims")
    out = (x[0], x[1]) + window_out(n, x[2:], list(n.attrs["kernel_shape"]), ceil=bool(n.attr("ceil_mode", 0)))
    return [(out, n.dtype(0)), (out, dtypes.INT64)]


def global_pool_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    return [(x[:2] + (1,) * (len(x) - 2), n.dtype(0))]


def pool_cost(n: NodeView) -> Cost:
    """One comparison or add per window element per output position."""
    return Cost(0, n.out_elems() * math.prod(n.attr("kernel_shape")))


def _lp_pool_cost(n: NodeView) -> Cost:
    """|x|^p, sum, then one root per output: two FLOPs per window element."""
    return Cost(0, 2 * n.out_elems() * math.prod(n.attr("kernel_shape")))


def _max_unpool_cost(n: NodeView) -> Cost:
    """A scatter of each input element to its index: no arithmetic."""
    return Cost(0, 0)


def _roi_cost(n: NodeView) -> Cost:
    """RoiAlign: per output element, sampling_ratio² bilinear samples (4 taps, 7 FLOPs) and their average;
    MaxRoiPool: one comparison per input element of the pooled region, bounded by the whole map per RoI."""
    out = n.out_elems()
    if n.op_type == "RoiAlign":
        ratio = max(int(n.attr("sampling_ratio", 0)), 1)  # 0 means adaptive: at least one sample per bin
        return Cost(0, out * ratio * ratio * 8)
    x, rois = n.input_shape(0), n.input_shape(1)
    return Cost(0, rois[0] * math.prod(x[1:]))


GLOBAL = Traits()
OPS: list[OpDef] = [
    OpDef("MaxPool", DEFAULT, FAMILY, shape=pool_shape, cost=pool_cost, traits=Traits()),
    OpDef("AveragePool", DEFAULT, FAMILY, shape=pool_shape, cost=pool_cost,
          traits=Traits()),
    OpDef("LpPool", DEFAULT, FAMILY, shape=pool_shape, cost=_lp_pool_cost, traits=POOL),
    OpDef("GlobalAveragePool", DEFAULT, FAMILY, shape=global_pool_shape, traits=GLOBAL,
          cost=per_input_element(1, "every input element is read once into its channel's sum")),
    OpDef("GlobalMaxPool", DEFAULT, FAMILY, shape=global_pool_shape, traits=GLOBAL,
          cost=per_input_element(1, "every input element is read once into its channel's max")),
    OpDef("GlobalLpPool", DEFAULT, FAMILY, shape=global_pool_shape, traits=POOL,
          cost=per_input_element(2, "|x|^p and add per input element")),
    OpDef("MaxUnpool", DEFAULT, FAMILY, cost=_max_unpool_cost, traits=Traits(),
          note="output shape from ONNX inference"),
    OpDef("MaxRoiPool", DEFAULT, FAMILY, cost=_roi_cost, traits=POOL, note="an upper bound: whole map per RoI"),
    OpDef("RoiAlign", DEFAULT, FAMILY, cost=_roi_cost, traits=POOL, note="output shape from ONNX inference"),
]
