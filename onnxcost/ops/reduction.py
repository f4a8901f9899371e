"""Reductions, arg-reductions, scans and top-k: FLOPs per input element; no MACs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..base import dtypes
from ..base.symbolic import decide
from .core import DEFAULT, Cost, CostFn, NodeView, OpDef, Spec, Traits, ValueFn, per_input_element, same_shape

FAMILY = "reduction"
REDUCE = Traits()

#: FLOPs per input element of each reduction.
REDUCE_FLOPS: dict[str, int] = {
    "ReduceMax": 1, "ReduceMin": 1, "ReduceSum": 1, "ReduceProd": 1, "ReduceL1": 2,  # |x| then add
    "ReduceSumSquare": 2, "ReduceL2": 2, "ReduceLogSum": 2, "ReduceLogSumExp": 2,  # square/exp and add
    "ReduceMean": 1,  # plus one divide per output element (below)
}


def _reduce_axes(n: NodeView, rank: int) -> list[int] | None:
    """The reduced axes; None for a no-op (empty axes with noop_with_empty_axes)."""
    axes = n.axes(1, rank)
    if not axes:
        return None if n.attr("noop_with_empty_axes", 0) else list(range(rank))
    return axes


def _reduce(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axes = _reduce_axes(n, len(x))
    if axes is None:
        return [(x, n.dtype(0))]
    if n.attr("keepdims", 1):
        return [(tuple(1 if i in axes else d for i, d in enumerate(x)), n.dtype(0))]
    return [(tuple(d for i, d in enumerate(x) if i not in axes), n.dtype(0))]


def _reduce_value(fn: Callable[..., np.ndarray]) -> ValueFn:
    def value(n: NodeView) -> list[np.ndarray]:
        data = n.array(0)
        axes = _reduce_axes(n, data.ndim)
        if axes is None:
            return [data]
        return [np.asarray(fn(data, axis=tuple(axes), keepdims=bool(n.attr("keepdims", 1)))).astype(data.dtype)]

    return value


REDUCE_VALUES = {"ReduceProd": _reduce_value(np.prod), "ReduceSum": _reduce_value(np.sum),
                 "ReduceMax": _reduce_value(np.max), "ReduceMin": _reduce_value(np.min)}


def _reduce_cost(flops: int) -> CostFn:
    def cost(n: NodeView) -> Cost:
        mean = n.out_elems() if n.op_type == "ReduceMean" else 0
        return Cost(0, flops * n.in_elems(0) + mean)

    cost.__doc__ = f"{flops} FLOP(s) per input element (ReduceMean: and one divide per output element)."
    return cost


def _arg(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axis = n.attr("axis", 0)
    if not -len(x) <= axis < len(x):
        raise n.fail(f"axis {axis} is out of range for rank {len(x)}")
    axis %= len(x)
    if n.attr("keepdims", 1):
        return [(tuple(1 if i == axis else d for i, d in enumerate(x)), dtypes.INT64)]
    return [(x[:axis] + x[axis + 1:], dtypes.INT64)]


def _topk(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axis = n.attr("axis", -1) % len(x)
    k = int(n.attrs["k"]) if n.opset < 10 else n.ints(1)[0]
    if decide(k < 0) or decide(k > x[axis]):
        raise n.fail(f"k={k} is outside 0..{x[axis]}")
    out = tuple(k if i == axis else d for i, d in enumerate(x))
    return [(out, n.dtype(0)), (out, dtypes.INT64)]


ONE = per_input_element(1, "one comparison or add per input element")
OPS: list[OpDef] = [
    *(OpDef(op, DEFAULT, FAMILY, shape=_reduce, value=REDUCE_VALUES.get(op), cost=_reduce_cost(f), traits=REDUCE)
      for op, f in REDUCE_FLOPS.items()),
    OpDef("ArgMax", DEFAULT, FAMILY, shape=_arg, cost=ONE, traits=REDUCE),
    OpDef("ArgMin", DEFAULT, FAMILY, shape=_arg, cost=ONE, traits=REDUCE),
    OpDef("CumSum", DEFAULT, FAMILY, shape=same_shape, cost=ONE, traits=REDUCE),
    OpDef("CumProd", DEFAULT, FAMILY, shape=same_shape, cost=ONE, traits=REDUCE),
    OpDef("TopK", DEFAULT, FAMILY, shape=_topk, cost=ONE, traits=REDUCE),
]
