"""Values of small tensors (shapes, axes, indices, masks) computed with numpy, so that shapes computed at
run time (Shape -> Gather -> Concat -> Reshape) become concrete. One small function per op."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from onnx import numpy_helper

from . import dtypes

Attrs = dict[str, Any]
Arrays = list[np.ndarray | None]
ValueFn = Callable[[Attrs, Arrays, int], list[np.ndarray]]

VALUE_RULES: dict[str, ValueFn] = {}


def value_rule(*ops: str) -> Callable[[ValueFn], ValueFn]:
    def register(fn: ValueFn) -> ValueFn:
        for op in ops:
            VALUE_RULES[op] = fn
        return fn

    return register


def _ints(a: np.ndarray | None) -> list[int]:
    return [] if a is None else [int(x) for x in np.asarray(a).reshape(-1)]


def _axes(attrs: Attrs, xs: Arrays, index: int) -> list[int] | None:
    """Axes from the `axes` attribute (older opsets) or the input at `index` (newer ones)."""
    if "axes" in attrs:
        return list(attrs["axes"])
    if len(xs) > index and xs[index] is not None:
        return _ints(xs[index])
    return None


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Equal": np.equal, "Less": np.less,
    "Greater": np.greater, "LessOrEqual": np.less_equal, "GreaterOrEqual": np.greater_equal,
    "And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor, "Pow": np.power,
    "BitwiseAnd": np.bitwise_and, "BitwiseOr": np.bitwise_or,
}
_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Neg": np.negative, "Abs": np.abs, "Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt,
    "Not": np.logical_not, "Sign": np.sign, "Reciprocal": np.reciprocal, "Round": np.round,
    "Identity": lambda a: a, "Exp": np.exp, "Log": np.log,
}


def _keep(dtype_like: np.ndarray, out: np.ndarray) -> np.ndarray:
    return out if out.dtype == np.bool_ else out.astype(dtype_like.dtype, copy=False)


for _op, _fn in _BINARY.items():
    def _make(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> ValueFn:
        def rule(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
            a, b = np.asarray(xs[0]), np.asarray(xs[1])
            return [_keep(a, np.asarray(fn(a, b)))]
        return rule
    VALUE_RULES[_op] = _make(_fn)

for _op, _ufn in _UNARY.items():
    def _make_unary(fn: Callable[[np.ndarray], np.ndarray]) -> ValueFn:
        def rule(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
            a = np.asarray(xs[0])
            return [_keep(a, np.asarray(fn(a)))]
        return rule
    VALUE_RULES[_op] = _make_unary(_ufn)


@value_rule("Div")
def _div(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    a, b = np.asarray(xs[0]), np.asarray(xs[1])
    if a.dtype.kind in "iu":  # C-style integer division truncates toward zero, as onnxruntime does
        q = np.abs(a) // np.abs(b)
        return [(q * np.sign(a) * np.sign(b)).astype(a.dtype)]
    return [(a / b).astype(a.dtype)]


@value_rule("Mod")
def _mod(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    a, b = np.asarray(xs[0]), np.asarray(xs[1])
    out = np.fmod(a, b) if attrs.get("fmod", 0) else np.mod(a, b)
    return [out.astype(a.dtype)]


def _variadic_rule(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], mean: bool = False) -> ValueFn:
    def rule(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
        arrays = [np.asarray(x) for x in xs if x is not None]
        out = arrays[0]
        for other in arrays[1:]:
            out = fn(out, other)
        if mean:
            out = out / len(arrays)
        return [out.astype(arrays[0].dtype)]
    return rule


VALUE_RULES["Max"] = _variadic_rule(np.maximum)
VALUE_RULES["Min"] = _variadic_rule(np.minimum)
VALUE_RULES["Sum"] = _variadic_rule(np.add)
VALUE_RULES["Mean"] = _variadic_rule(np.add, mean=True)


@value_rule("Where")
def _where(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    a, b = np.asarray(xs[1]), np.asarray(xs[2])
    return [np.asarray(np.where(np.asarray(xs[0]), a, b)).astype(a.dtype)]


@value_rule("Cast")
def _cast(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.asarray(xs[0]).astype(dtypes.to_numpy(int(attrs["to"])))]


@value_rule("CastLike")
def _cast_like(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.asarray(xs[0]).astype(np.asarray(xs[1]).dtype)]


@value_rule("Shape")
def _shape(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    dims = np.asarray(xs[0]).shape
    start, end = attrs.get("start", 0), attrs.get("end", None)
    return [np.array(dims[start:end] if end is not None else dims[start:], dtype=np.int64)]


@value_rule("Size")
def _size(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.array(np.asarray(xs[0]).size, dtype=np.int64)]


@value_rule("Gather")
def _gather(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data, idx = np.asarray(xs[0]), np.asarray(xs[1]).astype(np.int64)
    axis = attrs.get("axis", 0)
    idx = np.where(idx < 0, idx + data.shape[axis], idx)
    return [np.take(data, idx, axis=axis)]


@value_rule("Unsqueeze")
def _unsqueeze(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    axes = _axes(attrs, xs, 1) or []
    rank = data.ndim + len(axes)
    out = data
    for ax in sorted(a % rank for a in axes):
        out = np.expand_dims(out, ax)
    return [out]


@value_rule("Squeeze")
def _squeeze(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    axes = _axes(attrs, xs, 1)
    if axes is None:
        return [np.squeeze(data)]
    return [np.squeeze(data, axis=tuple(a % data.ndim for a in axes))]


@value_rule("Concat")
def _concat(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.concatenate([np.asarray(x) for x in xs if x is not None], axis=attrs.get("axis", 0))]


@value_rule("Slice")
def _slice(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    if opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = _ints(xs[1]), _ints(xs[2])
        axes = _ints(xs[3]) if len(xs) > 3 and xs[3] is not None else list(range(len(starts)))
        steps = _ints(xs[4]) if len(xs) > 4 and xs[4] is not None else [1] * len(starts)
    index: list[slice] = [slice(None)] * data.ndim
    for s, e, a, st in zip(starts, ends, axes, steps, strict=False):
        index[a % data.ndim] = slice(*clamp_slice(s, e, st, data.shape[a % data.ndim]))
    return [data[tuple(index)]]


def clamp_slice(start: int, end: int, step: int, dim: int) -> tuple[int, int | None, int]:
    """ONNX Slice bounds -> Python slice bounds (ONNX clamps huge ends such as INT64_MAX)."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        return max(0, min(start, dim)), max(0, min(end, dim)), step
    start = max(-1, min(start, dim - 1))
    end = max(-1, min(end, dim - 1))
    return start, (None if end < 0 else end), step


@value_rule("Range")
def _range(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    start, limit, delta = (np.asarray(x) for x in xs[:3])
    return [np.arange(start.item(), limit.item(), delta.item()).astype(start.dtype)]


def fill_value(attrs: Attrs) -> np.ndarray:
    """ConstantOfShape's one-element `value` attribute as a numpy scalar (float32 0 by default)."""
    fill = attrs.get("value")
    if fill is None:
        return np.zeros((), dtype=np.float32)
    return numpy_helper.to_array(fill).reshape(-1)[:1].reshape(())


@value_rule("ConstantOfShape")
def _constant_of_shape(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    scalar = fill_value(attrs)
    return [np.full(_ints(xs[0]), scalar, dtype=scalar.dtype)]


@value_rule("Reshape")
def _reshape(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    target = _ints(xs[1]) if opset >= 5 else list(attrs["shape"])
    if not attrs.get("allowzero", 0):
        target = [data.shape[i] if t == 0 else t for i, t in enumerate(target)]
    return [data.reshape(target)]


@value_rule("Expand")
def _expand(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    shape = np.broadcast_shapes(data.shape, tuple(_ints(xs[1])))
    return [np.broadcast_to(data, shape).copy()]


@value_rule("Tile")
def _tile(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.tile(np.asarray(xs[0]), _ints(xs[1]))]


@value_rule("Transpose")
def _transpose(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    perm = attrs.get("perm")
    return [np.transpose(np.asarray(xs[0]), perm)]


def _reduce_rule(fn: Callable[..., np.ndarray]) -> ValueFn:
    def rule(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
        data = np.asarray(xs[0])
        axes = _axes(attrs, xs, 1)
        keep = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return [data]
            axes = list(range(data.ndim))
        return [np.asarray(fn(data, axis=tuple(a % data.ndim for a in axes), keepdims=keep))
                .astype(data.dtype)]
    return rule


VALUE_RULES["ReduceProd"] = _reduce_rule(np.prod)
VALUE_RULES["ReduceSum"] = _reduce_rule(np.sum)
VALUE_RULES["ReduceMax"] = _reduce_rule(np.max)
VALUE_RULES["ReduceMin"] = _reduce_rule(np.min)


@value_rule("Clip")
def _clip(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    lo = attrs.get("min") if opset < 11 else (xs[1] if len(xs) > 1 else None)
    hi = attrs.get("max") if opset < 11 else (xs[2] if len(xs) > 2 else None)
    return [np.clip(data, lo, hi).astype(data.dtype)]


@value_rule("Flatten")
def _flatten(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    data = np.asarray(xs[0])
    axis = attrs.get("axis", 1) % max(data.ndim, 1) if data.ndim else 0
    lead = int(np.prod(data.shape[:axis], dtype=np.int64))
    return [data.reshape(lead, -1)]


@value_rule("NonZero")
def _nonzero(attrs: Attrs, xs: Arrays, opset: int) -> list[np.ndarray]:
    return [np.array(np.nonzero(np.asarray(xs[0])), dtype=np.int64)]


def evaluate(op: str, attrs: Attrs, inputs: Arrays, opset: int) -> list[np.ndarray] | None:
    """Run `op` on known small inputs; None when no numpy rule exists or the op rejects the values."""
    fn = VALUE_RULES.get(op)
    if fn is None:
        return None
    try:
        with np.errstate(all="ignore"):
            return [np.asarray(v) for v in fn(attrs, inputs, opset)]
    except (ValueError, IndexError, TypeError, KeyError, ZeroDivisionError, OverflowError, MemoryError):
        return None
