"""Detection and sampling ops of vision models: non-maximum suppression, grid sampling, affine grids."""

from __future__ import annotations

import math

from .core import DEFAULT, Cost, NodeView, OpDef, Traits

FAMILY = "vision"

#: Taps and FLOPs per output element of each interpolation mode (bilinear: 4 taps, 3 lerps of 2 FLOPs + 1).
_SAMPLE_FLOPS = {"nearest": 0, "bilinear": 7, "linear": 7, "bicubic": 31, "cubic": 31}


def grid_sample_cost(n: NodeView) -> Cost:
    """Per output element: unnormalise the grid point (4 FLOPs), then interpolate from its taps."""
    return Cost(0, n.out_elems() * (4 + _SAMPLE_FLOPS.get(str(n.attr("mode", "linear")), 7)))


def _affine_grid_cost(n: NodeView) -> Cost:
    """Every output coordinate is a 3-long dot product of theta's row with (x, y, 1) (4 in 3-D)."""
    y = n.output_shape(0)
    taps = y[-1] + 1
    return Cost(math.prod(y) * taps, 2 * math.prod(y) * taps)


OPS: list[OpDef] = [
    OpDef("NonMaxSuppression", DEFAULT, FAMILY, traits=Traits(),
          note="cost and output size depend on the scores (data): unknown"),
    OpDef("GridSample", DEFAULT, FAMILY, cost=grid_sample_cost, traits=Traits(),
          note="output shape from ONNX inference"),
    OpDef("AffineGrid", DEFAULT, FAMILY, cost=_affine_grid_cost, traits=Traits(contraction=True),
          note="output shape from ONNX inference (needs the size value)"),
    OpDef("ImageDecoder", DEFAULT, FAMILY, traits=Traits(),
          note="cost and output size depend on the encoded image: unknown"),
]
