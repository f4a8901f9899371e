"""Element-wise ops: output shape by broadcasting, FLOPs per output element from one table, no MACs.

Transcendentals count as a few FLOPs each, following the usual convention of profilers (fvcore, onnx-tool):
the figure says how much arithmetic, not how many instructions a given library issues."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from .core import (
    ALL_INPUTS,
    DEFAULT,
    Cost,
    NodeView,
    OpDef,
    Spec,
    Traits,
    UnknownShape,
    ValueFn,
    bcast,
    no_work,
    per_output_element,
    same_shape,
)

FAMILY = "elementwise"

#: Unary ops: FLOPs per element, and whether a runtime may write the result over the input (activations).
UNARY: dict[str, int] = {
    "Abs": 1, "Neg": 1, "Sign": 1, "Reciprocal": 1, "Sqrt": 1, "Exp": 1, "Log": 1, "Floor": 1, "Ceil": 1,
    "Round": 1, "Sin": 1, "Cos": 1, "Tan": 1, "Asin": 1, "Acos": 1, "Atan": 1, "Sinh": 1, "Cosh": 1,
    "Asinh": 1, "Acosh": 1, "Atanh": 1, "BitwiseNot": 1,
    # activations: compare/select, or the arithmetic of their closed form
    "Relu": 1, "LeakyRelu": 2, "ThresholdedRelu": 1, "Clip": 2, "Shrink": 2,
    "Sigmoid": 4,  # exp, add, divide, negate
    "HardSigmoid": 3, "HardSwish": 4, "Softsign": 3, "Softplus": 3, "Elu": 3, "Celu": 4, "Selu": 4,
    "Tanh": 5, "Erf": 5, "Mish": 7,
    "Swish": 5,  # x·sigmoid(alpha·x): sigmoid 4 + 1
    "Gelu": 8,  # 0.5·x·(1 + erf(x/√2)): erf 5 + 3
}
#: Unary ops whose output is boolean.
PREDICATES: dict[str, int] = {"Not": 1, "IsNaN": 1, "IsInf": 1}
#: Binary ops with numpy broadcasting, of the first input's type.
BINARY: dict[str, int] = {"Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Mod": 1, "Pow": 1, "PRelu": 2, "BitShift": 1,
                          "BitwiseAnd": 1, "BitwiseOr": 1, "BitwiseXor": 1}
#: Binary ops with a boolean output.
COMPARE: dict[str, int] = {"Equal": 1, "Less": 1, "Greater": 1, "LessOrEqual": 1, "GreaterOrEqual": 1,
                           "And": 1, "Or": 1, "Xor": 1}
#: Ops over any number of inputs: one FLOP per output element for each input past the first (Mean: + divide).
VARIADIC = ("Sum", "Max", "Min", "Mean")
#: Activations a runtime may compute in place over their input.
INPLACE = frozenset({"Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Clip", "Elu",
                     "Selu", "Celu", "Softplus", "Softsign", "Gelu", "Erf", "Exp", "Log", "Neg", "Abs", "Sqrt",
                     "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Mish", "ThresholdedRelu", "Sin", "Cos"})


# --- shapes -----------------------------------------------------------------------------------------------


def _same_bool(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), dtypes.BOOL)]


def _broadcast(n: NodeView) -> list[Spec]:
    return [(bcast(n, [n.input_shape(i) for i in n.inputs()]), n.dtype(0))]


def _compare(n: NodeView) -> list[Spec]:
    return [(bcast(n, [n.input_shape(0), n.input_shape(1)]), dtypes.BOOL)]


def _where(n: NodeView) -> list[Spec]:
    return [(bcast(n, [n.input_shape(0), n.input_shape(1), n.input_shape(2)]), n.dtype(1))]


# --- values (small integer tensors of shape arithmetic) ---------------------------------------------------


def _keep(like: np.ndarray, out: np.ndarray) -> np.ndarray:
    return out if out.dtype == np.bool_ else out.astype(like.dtype, copy=False)


def _numpy_binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ValueFn:
    def value(n: NodeView) -> list[np.ndarray]:
        a, b = n.array(0), n.array(1)
        if a.dtype == object or b.dtype == object:
            return [_symbolic_binary(n.op_type, fn, a, b)]
        return [_keep(a, np.asarray(fn(a, b)))]

    return value


_RELATIONS = {"Equal": "==", "Less": "<", "Greater": ">", "LessOrEqual": "<=", "GreaterOrEqual": ">="}


def _symbolic_binary(op: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
    """Shape arithmetic on symbolic dims: sums and products stay expressions; a comparison is known only
    where the symbols' positivity settles it, else it is the relation itself (and And/Or combine them)."""
    if op in _RELATIONS:
        return symbolic.compare(_RELATIONS[op], a, b)
    if op in ("And", "Or"):
        return symbolic.logic(op.lower(), a, b)
    if op not in ("Add", "Sub", "Mul"):
        raise UnknownShape(f"{op} of symbolic dims")
    result = np.asarray(fn(a.astype(object), b.astype(object)), dtype=object)
    result.reshape(-1)[:] = [symbolic.normal(v) for v in result.reshape(-1)]
    return result


def _numpy_unary(fn: Callable[[np.ndarray], np.ndarray]) -> ValueFn:
    def value(n: NodeView) -> list[np.ndarray]:
        a = n.array(0)
        return [_keep(a, np.asarray(fn(a)))]

    return value


def _div(n: NodeView) -> list[np.ndarray]:
    a, b = n.array(0), n.array(1)
    if a.dtype == object or b.dtype == object:  # symbolic dims are positive: truncation is floor division
        out = np.asarray(a.astype(object) // b.astype(object), dtype=object)
        out.reshape(-1)[:] = [symbolic.normal(v) for v in out.reshape(-1)]
        return [out]
    if a.dtype.kind in "iu":  # C-style integer division truncates toward zero, as onnxruntime does
        q = np.abs(a) // np.abs(b)
        return [(q * np.sign(a) * np.sign(b)).astype(a.dtype)]
    return [(a / b).astype(a.dtype)]


def _mod(n: NodeView) -> list[np.ndarray]:
    a, b = n.array(0), n.array(1)
    if a.dtype == object or b.dtype == object:  # Python's (and sympy's) % takes the divisor's sign, as fmod=0
        if n.attr("fmod", 0):
            raise UnknownShape("fmod of symbolic dims")
        out = np.asarray(a.astype(object) % b.astype(object), dtype=object)
        out.reshape(-1)[:] = [symbolic.normal(v) for v in out.reshape(-1)]
        return [out]
    out = np.fmod(a, b) if n.attr("fmod", 0) else np.mod(a, b)
    return [out.astype(a.dtype)]


_SYMBOLIC_VARIADIC: dict[Callable[..., Any], Callable[[Any, Any], Any]] = {
    np.maximum: symbolic.smax, np.minimum: symbolic.smin, np.add: lambda x, y: x + y}


def _variadic_value(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], mean: bool = False) -> ValueFn:
    def value(n: NodeView) -> list[np.ndarray]:
        arrays = [n.array(i) for i in n.inputs()]
        if any(a.dtype == object for a in arrays):
            if mean:
                raise UnknownShape("Mean of symbolic dims")
            pair = np.frompyfunc(_SYMBOLIC_VARIADIC[fn], 2, 1)
            out = arrays[0].astype(object)
            for other in arrays[1:]:
                out = pair(out, other.astype(object))
            return [np.asarray(out, dtype=object)]
        out = arrays[0]
        for other in arrays[1:]:
            out = fn(out, other)
        if mean:
            out = out / len(arrays)
        return [out.astype(arrays[0].dtype)]

    return value


def _where_value(n: NodeView) -> list[np.ndarray]:
    cond, a, b = n.array(0), n.array(1), n.array(2)
    if cond.dtype == object:  # a relation of dims: each element is the Piecewise of the two it selects from
        cond, a, b = np.broadcast_arrays(cond, a.astype(object), b.astype(object))
        out = np.empty(cond.shape, dtype=object)
        out.reshape(-1)[:] = [symbolic.piecewise(c, x, y) if symbolic.is_symbolic(c) else (x if c else y)
                              for c, x, y in zip(cond.reshape(-1), a.reshape(-1), b.reshape(-1), strict=True)]
        return [out]
    if a.dtype == object or b.dtype == object:  # a select of symbolic dims keeps them as they are
        return [np.asarray(np.where(cond.astype(bool), a.astype(object), b.astype(object)), dtype=object)]
    return [np.asarray(np.where(cond, a, b)).astype(a.dtype)]


def _not_value(n: NodeView) -> list[np.ndarray]:
    a = n.array(0)
    if a.dtype == object:
        return [symbolic.logic("not", a)]
    return [np.logical_not(a)]


def _clip_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    lo = n.attr("min") if n.opset < 11 else n.value(1)
    hi = n.attr("max") if n.opset < 11 else n.value(2)
    return [np.clip(data, lo, hi).astype(data.dtype)]


BINARY_VALUES: dict[str, ValueFn] = {
    **{op: _numpy_binary(fn) for op, fn in {
        "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Equal": np.equal, "Less": np.less,
        "Greater": np.greater, "LessOrEqual": np.less_equal, "GreaterOrEqual": np.greater_equal,
        "And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor, "Pow": np.power,
        "BitwiseAnd": np.bitwise_and, "BitwiseOr": np.bitwise_or}.items()},
    "Div": _div, "Mod": _mod,
    "Max": _variadic_value(np.maximum), "Min": _variadic_value(np.minimum), "Sum": _variadic_value(np.add),
    "Mean": _variadic_value(np.add, mean=True),
}
_UNARY_NUMPY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Neg": np.negative, "Abs": np.abs, "Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt,
    "Sign": np.sign, "Reciprocal": np.reciprocal, "Round": np.round,
    "Exp": np.exp, "Log": np.log}
UNARY_VALUES: dict[str, ValueFn] = {
    **{op: _numpy_unary(fn) for op, fn in _UNARY_NUMPY.items()},
    "Clip": _clip_value, "Not": _not_value,
}

# --- costs ------------------------------------------------------------------------------------------------


def _variadic_cost(n: NodeView) -> Cost:
    """(inputs − 1) FLOPs per output element; Mean adds one divide."""
    extra = 1 if n.op_type == "Mean" else 0
    return Cost(0, (max(len(n.inputs()) - 1, 0) + extra) * n.out_elems())


def _traits(op: str) -> Traits:
    return Traits(inplace=op in INPLACE)


#: Value functions that compute on symbolic dims (shape arithmetic: sums, products, comparisons, and the
#: logic of relations between dims).
SYMBOLIC = frozenset({"Add", "Sub", "Mul", "Div", "Mod", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
                      "And", "Or", "Not", "Max", "Min", "Sum"})


def _entry(op: str, flops: int, shape: Callable[[NodeView], list[Spec]], values: dict[str, ValueFn]) -> OpDef:
    return OpDef(op, DEFAULT, FAMILY, shape=shape, value=values.get(op), cost=per_output_element(flops),
                 traits=_traits(op), symbolic_inputs=ALL_INPUTS if op in SYMBOLIC else frozenset())


OPS: list[OpDef] = [
    *(_entry(op, f, same_shape, UNARY_VALUES) for op, f in UNARY.items()),
    *(_entry(op, f, _same_bool, UNARY_VALUES) for op, f in PREDICATES.items()),
    *(_entry(op, f, _broadcast, BINARY_VALUES) for op, f in BINARY.items()),
    *(_entry(op, f, _compare, BINARY_VALUES) for op, f in COMPARE.items()),
    *(OpDef(op, DEFAULT, FAMILY, shape=_broadcast, value=BINARY_VALUES[op], cost=_variadic_cost, traits=_traits(op),
            symbolic_inputs=ALL_INPUTS if op in SYMBOLIC else frozenset())
      for op in VARIADIC),
    # A select: a copy of bytes, classed with data movement, but it chains with the arithmetic around it.
    OpDef("Where", DEFAULT, FAMILY, shape=_where, value=_where_value, cost=no_work,
          traits=Traits(), symbolic_inputs=ALL_INPUTS),
    OpDef("SwiGLU", DEFAULT, FAMILY, cost=per_output_element(6, "Swish(A)·B: sigmoid 4, two multiplies"),
          note="output shape from ONNX inference"),
]
