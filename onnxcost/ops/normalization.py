"""Normalisation layers and softmax: FLOPs per element, documented per op; no MACs."""

from __future__ import annotations

from ..base import dtypes
from .core import DEFAULT, Cost, CostFn, NodeView, OpDef, ShapeFn, Spec, Traits, per_input_element, same_shape

FAMILY = "normalization"
NORM = Traits()


def _batchnorm(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    channel = (x[1],) if len(x) > 1 else (1,)
    return [(x, n.dtype(0)), *[(channel, n.dtype(1))] * (n.n_out - 1)]


def _batchnorm_cost(n: NodeView) -> Cost:
    """Inference: statistics fold into one scale and one shift per channel, so x·a + b: 2 FLOPs/element."""
    return Cost(0, 2 * n.in_elems(0))


def layernorm_shape(n: NodeView) -> list[Spec]:
    """Y, then the mean and inverse standard deviation over the normalised axes (kept as 1s)."""
    x = n.input_shape(0)
    axis = n.attr("axis", -1)
    if not -len(x) <= axis < len(x):
        raise n.fail(f"axis {axis} is out of range for rank {len(x)}")
    axis %= len(x)
    stat = x[:axis] + (1,) * (len(x) - axis)
    stash = int(n.attr("stash_type", dtypes.FLOAT))
    return [(x, n.dtype(0)), (stat, stash), (stat, stash)][: max(n.n_out, 1)]


def _layernorm_cost(n: NodeView) -> Cost:
    """Mean (1 add), centre (1 sub), square and sum (2), scale by 1/std (1): 5 FLOPs/element,
    plus 1 for the scale and 1 for the bias input when present."""
    return Cost(0, n.in_elems(0) * (5 + int(n.has_input(1)) + int(n.has_input(2))))


def rms_norm_cost(n: NodeView) -> Cost:
    """RMSNorm: square and sum (2), scale by 1/rms (1), times the weight (1): 4 FLOPs per element."""
    return Cost(0, 4 * n.in_elems(0))


def _lrn_cost(n: NodeView) -> Cost:
    """size squares and adds over the channel window, then bias, power and divide: 2·size + 3 per element."""
    return Cost(0, n.in_elems(0) * (2 * int(n.attr("size")) + 3))


def _norm(op: str, cost: CostFn, shape: ShapeFn = same_shape) -> OpDef:
    return OpDef(op, DEFAULT, FAMILY, shape=shape, cost=cost, traits=NORM)


OPS: list[OpDef] = [
    OpDef("BatchNormalization", DEFAULT, FAMILY, shape=_batchnorm, cost=_batchnorm_cost,
          traits=Traits()),
    _norm("LayerNormalization", _layernorm_cost, layernorm_shape),
    _norm("GroupNormalization", _layernorm_cost),
    _norm("InstanceNormalization", _layernorm_cost),
    _norm("RMSNormalization", rms_norm_cost),
    _norm("MeanVarianceNormalization", per_input_element(5, "mean, centre, square, sum, scale: 5 per element")),
    _norm("LpNormalization", per_input_element(3, "square and sum (2), divide by the norm (1)")),
    _norm("LRN", _lrn_cost),
    _norm("Softmax", per_input_element(5, "max, subtract, exp, sum, divide: 5 per element")),
    _norm("LogSoftmax", per_input_element(5, "max, subtract, exp, sum, log: 5 per element")),
    _norm("Hardmax", per_input_element(1, "one comparison per element")),
]
