"""Data movement and bookkeeping: reshapes, copies, gathers, scatters, pads. No arithmetic (0 MACs, 0 FLOPs)
unless stated; their cost is the bytes they move. Value functions make shape arithmetic concrete."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from ..base.proto import SparseTensorProto, TensorProto
from .core import (
    ALL_INPUTS,
    DEFAULT,
    CopiesFn,
    Cost,
    CostFn,
    NodeView,
    OpDef,
    Shape,
    ShapeFn,
    Spec,
    Traits,
    UnknownShape,
    ValueFn,
    bcast,
    no_work,
    same_shape,
    unify,
)

FAMILY = "movement"
MOVE = Traits()
VIEW = Traits(view=True)
SELECT = Traits(selecting=True)
META = Traits()


def clamp_slice(start: int, end: int, step: int, dim: int) -> tuple[int, int | None, int]:
    """ONNX Slice bounds -> Python slice bounds (ONNX clamps huge ends such as INT64_MAX)."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        return max(0, min(start, dim)), max(0, min(end, dim)), step
    # a negative step starts within [0, dim - 1] (Python would read a start of -1 as the last element)
    start = max(0, min(start, dim - 1))
    end = max(-1, min(end, dim - 1))
    return start, (None if end < 0 else end), step


# --- reshapes (views) -------------------------------------------------------------------------------------


def _flatten(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axis = n.attr("axis", 1)
    axis = axis + len(x) if axis < 0 else axis
    if not 0 <= axis <= len(x):
        raise n.fail(f"axis {n.attr('axis', 1)} is out of range for rank {len(x)}")
    return [((math.prod(x[:axis]), math.prod(x[axis:])), n.dtype(0))]


def _flatten_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    (shape, _), = _flatten(n)
    return [data.reshape(shape)]


def reshape_target(n: NodeView, x: Shape, target: list[int]) -> Shape:
    """Resolve Reshape's 0 (copy, unless allowzero) and -1 (infer) entries against input shape x."""
    allowzero = n.attr("allowzero", 0)
    out = [x[i] if (t == 0 and not allowzero and i < len(x)) else t for i, t in enumerate(target)]
    total = math.prod(x)
    if out.count(-1) > 1 or any(symbolic.decide(d < -1) for d in out):
        raise n.fail(f"shape {target} has more than one -1 or a negative dim")
    if symbolic.any_symbolic([*out, total]):
        if -1 in out:  # the model is valid only where the division is exact: sympy keeps floor() otherwise
            known = math.prod(d for d in out if d != -1)
            if not symbolic.is_symbolic(known) and known == 0:
                raise n.fail(f"cannot reshape {list(x)} into {target}")
            out[out.index(-1)] = symbolic.quotient(total, known)
        return tuple(symbolic.normal(d) for d in out)
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise n.fail(f"cannot reshape {list(x)} into {target}")
        out[out.index(-1)] = total // known
    elif math.prod(out) != total:
        raise n.fail(f"cannot reshape {list(x)} ({total} elements) into {target}")
    return tuple(out)


def _reshape_target_of(n: NodeView) -> list[int]:
    return n.ints(1) if n.opset >= 5 else list(n.attrs["shape"])


def _reshape(n: NodeView) -> list[Spec]:
    return [(reshape_target(n, n.input_shape(0), _reshape_target_of(n)), n.dtype(0))]


def _reshape_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    return [data.reshape(reshape_target(n, data.shape, _reshape_target_of(n)))]


def _squeeze(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axes = n.axes(1, len(x))
    if axes is None:
        return [(tuple(d for d in x if d != 1), n.dtype(0))]
    return [(tuple(d for i, d in enumerate(x) if i not in axes), n.dtype(0))]


def _squeeze_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    axes = n.axes(1, data.ndim)
    return [np.squeeze(data) if axes is None else np.squeeze(data, axis=tuple(axes))]


def _unsqueeze_axes(n: NodeView, rank: int) -> list[int]:
    raw = list(n.attrs["axes"]) if "axes" in n.attrs else n.ints(1)
    return sorted(n.axes(1, rank + len(raw)) or [])


def _unsqueeze(n: NodeView) -> list[Spec]:
    out = list(n.input_shape(0))
    for a in _unsqueeze_axes(n, len(out)):
        out.insert(a, 1)
    return [(tuple(out), n.dtype(0))]


def _unsqueeze_value(n: NodeView) -> list[np.ndarray]:
    out = n.array(0)
    for ax in _unsqueeze_axes(n, out.ndim):
        out = np.expand_dims(out, ax)
    return [out]


def _identity_value(n: NodeView) -> list[np.ndarray]:
    return [n.array(0)]


def _dropout(n: NodeView) -> list[Spec]:
    mask_type = dtypes.BOOL if n.opset >= 10 else n.dtype(0)  # Dropout-7 typed its mask like the input
    return [(n.input_shape(0), n.dtype(0)), (n.input_shape(0), mask_type)]


# --- copies -----------------------------------------------------------------------------------------------


def _perm(n: NodeView, rank: int) -> list[int]:
    perm = list(n.attr("perm", range(rank - 1, -1, -1)))
    if sorted(perm) != list(range(rank)):
        raise n.fail(f"perm {perm} is not a permutation of {rank} axes")
    return perm


def _transpose(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    return [(tuple(x[p] for p in _perm(n, len(x))), n.dtype(0))]


def _transpose_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    return [np.transpose(data, _perm(n, data.ndim))]


def _concat(n: NodeView) -> list[Spec]:
    shapes = [n.input_shape(i) for i in n.inputs()]
    rank = len(shapes[0])
    axis = int(n.attrs["axis"])
    if not -rank <= axis < rank or any(len(s) != rank for s in shapes):
        raise n.fail(f"axis {axis} or input ranks {[len(s) for s in shapes]} do not fit")
    axis %= rank
    out = list(shapes[0])
    for k in range(rank):
        dims = {s[k] for s in shapes}
        if k == axis or len(dims) == 1:
            continue
        first, *others = dims
        if not any(symbolic.is_symbolic(d) for d in dims) or any(symbolic.differ(first, d) for d in others):
            raise n.fail(f"inputs {[list(s) for s in shapes]} differ outside axis {axis}")
        out[k] = unify(dims, n.conditions)  # symbolic: valid where they are equal, a stated condition
    out[axis] = sum(s[axis] for s in shapes)
    return [(tuple(out), n.dtype(0))]


def _concat_value(n: NodeView) -> list[np.ndarray]:
    return [np.concatenate([n.array(i) for i in n.inputs()], axis=n.attr("axis", 0))]


def _split(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    axis = n.attr("axis", 0) % len(x)
    if "split" in n.attrs:
        sizes = list(n.attrs["split"])
    elif n.has_input(1):
        sizes = n.ints(1)
    else:
        parts = int(n.attr("num_outputs", n.n_out))
        if parts < 1:
            raise n.fail(f"cannot split into {parts} parts")
        chunk = -(-x[axis] // parts)
        sizes = [chunk] * (parts - 1) + [x[axis] - chunk * (parts - 1)]
    if symbolic.any_symbolic([*sizes, x[axis]]):
        if any(symbolic.decide(s < 0) for s in sizes):
            raise n.fail(f"split sizes {sizes} are negative")
    elif any(s < 0 for s in sizes) or sum(sizes) != x[axis]:
        raise n.fail(f"split sizes {sizes} do not add up to dim {x[axis]}")
    outs: list[Spec] = []
    for size in sizes:
        s = list(x)
        s[axis] = size
        outs.append((tuple(s), n.dtype(0)))
    return outs


def _slice_params(n: NodeView) -> list[tuple[int, int, int, int]]:
    """(start, end, axis, step) per sliced axis."""
    if n.opset < 10:
        starts, ends = list(n.attrs["starts"]), list(n.attrs["ends"])
        axes = list(n.attr("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = n.ints(1), n.ints(2)
        axes = n.ints(3) if n.has_input(3) else list(range(len(starts)))
        steps = n.ints(4) if n.has_input(4) else [1] * len(starts)
    if 0 in steps:
        raise n.fail("a step of 0")
    return list(zip(starts, ends, axes, steps, strict=False))


def slice_length(start: Any, end: Any, step: int, dim: Any, conditions: list[object] | None = None) -> Any:
    """The length of ONNX Slice's range along one axis, for ints or symbolic dims. A symbolic start or end
    whose sign the dims do not settle is taken as counted from the front, with `v >= 0` in `conditions`."""
    if not symbolic.any_symbolic((start, end, step, dim)):
        return len(range(*slice(*clamp_slice(start, end, step, dim)).indices(dim)))
    if symbolic.is_symbolic(step):
        raise UnknownShape("a slice of a symbolic dim with a symbolic step")

    def bound(v: Any, lo: Any, hi: Any) -> Any:
        """ONNX's clamp of a start or end: negative counts from the end, then into [lo, hi]; an int beyond
        ±2^48 (INT64_MIN/MAX: "to the end") is beyond every dim."""
        if not symbolic.is_symbolic(v) and abs(v) >= symbolic.HUGE:
            return lo if v < 0 else hi
        negative = symbolic.decide(v < 0)
        if negative is None:
            if conditions is None:
                raise UnknownShape("a slice bound of unknown sign")
            conditions.append(f"{v} >= 0")
        return symbolic.smax(lo, symbolic.smin(v + dim if negative else v, hi))

    if step > 0:
        return symbolic.smax(0, -((bound(start, 0, dim) - bound(end, 0, dim)) // step))
    # a negative step runs from start down to end: start in [0, dim - 1], end in [-1, dim - 1]
    return symbolic.smax(0, -((bound(end, -1, dim - 1) - bound(start, 0, dim - 1)) // -step))


def _slice(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    out = list(x)
    for s, e, a, st in _slice_params(n):
        if not -len(x) <= a < len(x):
            raise n.fail(f"axis {a} is out of range for rank {len(x)}")
        ax = a % len(x)
        out[ax] = slice_length(s, e, st, x[ax], n.conditions)
    return [(tuple(out), n.dtype(0))]


def _slice_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    index: list[slice] = [slice(None)] * data.ndim
    for s, e, a, st in _slice_params(n):
        index[a % data.ndim] = slice(*clamp_slice(s, e, st, data.shape[a % data.ndim]))
    return [data[tuple(index)]]


def _gather(n: NodeView) -> list[Spec]:
    x, idx = n.input_shape(0), n.input_shape(1)
    axis = n.attr("axis", 0)
    if not -len(x) <= axis < len(x):
        raise n.fail(f"axis {axis} is out of range for rank {len(x)}")
    axis %= len(x)
    return [(x[:axis] + idx + x[axis + 1:], n.dtype(0))]


def _gather_value(n: NodeView) -> list[np.ndarray]:
    if symbolic.any_symbolic(n.array(1)):
        raise UnknownShape("a gather at a symbolic index")
    data, idx = n.array(0), n.array(1).astype(np.int64)
    axis = n.attr("axis", 0)
    idx = np.where(idx < 0, idx + data.shape[axis], idx)
    return [np.take(data, idx, axis=axis)]


def _gather_nd(n: NodeView) -> list[Spec]:
    """indices[:-1] then the data dims after the batch dims and the indexed ones: indices[-1] of them."""
    x, idx = n.input_shape(0), n.input_shape(1)
    batch = int(n.attr("batch_dims", 0))
    if not idx or not 0 <= batch < min(len(x), len(idx)):
        raise n.fail(f"batch_dims={batch} does not fit data of rank {len(x)} and indices of rank {len(idx)}")
    last = idx[-1]
    if symbolic.is_symbolic(last):
        raise UnknownShape("the length of GatherND's index tuples")
    if not 1 <= last <= len(x) - batch:
        raise n.fail(f"index tuples of length {last} do not fit data of rank {len(x)} after {batch} batch dims")
    return [(tuple(idx[:-1]) + tuple(x[batch + last:]), n.dtype(0))]


def _gather_elements(n: NodeView) -> list[Spec]:
    return [(n.input_shape(1), n.dtype(0))]


def _expand(n: NodeView) -> list[Spec]:
    return [(bcast(n, [n.input_shape(0), tuple(n.ints(1))]), n.dtype(0))]


def _expand_copies(n: NodeView) -> int:
    """memcpy calls of onnxruntime's CPU Expand: one per contiguous input block (the input inside its innermost
    broadcast dim), then for each broadcast dim, per output block it fills, one doubling copy per bit of the
    expansion. An innermost broadcast (x[..., 1] -> [..., 32]) copies one element per call."""
    y = n.output_shape(0)
    x = (1,) * (len(y) - len(n.input_shape(0))) + tuple(n.input_shape(0))
    if not all(isinstance(d, int) for d in (*x, *y)):
        raise UnknownShape(f"symbolic dims in Expand '{n.name}'")
    total = math.prod(x)
    if total == 0 or math.prod(y) == 0:
        return 0
    inner = 1  # input elements inside the current dim
    unit = 0  # input elements each first-pass copy moves
    calls = 0
    for d in range(len(y) - 1, -1, -1):
        inner *= x[d]
        if x[d] == 1 and y[d] > 1:
            unit = unit or inner
            calls += total // inner * (y[d].bit_length() - 1 + bin(y[d]).count("1") - 1)
    return calls + total // (unit or total or 1)


def _expand_value(n: NodeView) -> list[np.ndarray]:
    data = n.array(0)
    return [np.broadcast_to(data, bcast(n, [data.shape, tuple(n.ints(1))])).copy()]


def _tile(n: NodeView) -> list[Spec]:
    x, repeats = n.input_shape(0), n.ints(1)
    if len(repeats) != len(x) or any(r < 0 for r in repeats):
        raise n.fail(f"repeats {repeats} do not fit rank {len(x)}")
    return [(tuple(d * r for d, r in zip(x, repeats, strict=True)), n.dtype(0))]


def _tile_value(n: NodeView) -> list[np.ndarray]:
    _tile(n)  # validates repeats before numpy allocates anything
    return [np.tile(n.array(0), n.ints(1))]


def _pad(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    pads = list(n.attrs["pads"]) if n.opset < 11 else n.ints(1)
    axes = n.axes(3, len(x)) if n.opset >= 18 else None
    axes = axes if axes is not None else list(range(len(x)))
    if len(pads) != 2 * len(axes):
        raise n.fail(f"{len(pads)} pads for {len(axes)} axes")
    out = list(x)
    for k, ax in enumerate(axes):
        out[ax] = x[ax] + pads[k] + pads[k + len(axes)]
    return [(tuple(out), n.dtype(0))]


def _shape(n: NodeView) -> list[Spec]:
    rank = len(n.input_shape(0))
    start, end = n.attr("start", 0), n.attr("end", rank)
    return [((len(range(rank)[start:end]),), dtypes.INT64)]


def _shape_value(n: NodeView) -> list[np.ndarray]:
    dims = n.input_shape(0)
    start, end = n.attr("start", 0), n.attr("end", len(dims))
    return [symbolic.int_array(dims[start:end])]


def _size_value(n: NodeView) -> list[np.ndarray]:
    return [symbolic.int_array([n.in_elems(0)]).reshape(())]


def fill_value(n: NodeView) -> np.ndarray:
    """ConstantOfShape's one-element `value` attribute as a numpy scalar (float32 0 by default)."""
    fill = n.attr("value")
    if fill is None:
        return np.zeros((), dtype=np.float32)
    return dtypes.to_array(fill).reshape(-1)[:1].reshape(())


def _constant_of_shape(n: NodeView) -> list[Spec]:
    fill = n.attr("value")
    shape = tuple(n.ints(0))
    if any(d < 0 for d in shape):
        raise n.fail(f"negative dims {list(shape)}")
    return [(shape, int(fill.data_type) if fill is not None else dtypes.FLOAT)]


def _constant_of_shape_value(n: NodeView) -> list[np.ndarray]:
    scalar = fill_value(n)
    return [np.full(tuple(n.ints(0)), scalar, dtype=scalar.dtype)]


def _range(n: NodeView) -> list[Spec]:
    start, limit, delta = (n.scalar(i) for i in range(3))
    if delta == 0:
        raise n.fail("delta is zero")
    if symbolic.any_symbolic((start, limit, delta)):  # ceil((limit - start) / delta) as floor arithmetic
        start, limit, delta = (symbolic.exact(v) for v in (start, limit, delta))
        return [((symbolic.smax(-((start - limit) // delta), 0),), n.dtype(0))]
    return [((max(math.ceil((limit - start) / delta), 0),), n.dtype(0))]


def _range_value(n: NodeView) -> list[np.ndarray]:
    _range(n)
    if any(symbolic.is_symbolic(n.scalar(i)) for i in range(3)):
        raise UnknownShape("a range over a symbolic length")
    return [np.arange(n.scalar(0), n.scalar(1), n.scalar(2)).astype(n.array(0).dtype)]


def _nonzero(n: NodeView) -> list[Spec]:
    # The count of non-zeros depends on data: only known when the input's value is.
    return [(None, dtypes.INT64)]


def _nonzero_value(n: NodeView) -> list[np.ndarray]:
    return [np.array(np.nonzero(n.array(0)), dtype=np.int64)]


def _compress(n: NodeView) -> list[Spec]:
    """Compress by a known condition (a constant mask): its True count along the axis, or flattened; the
    condition may be shorter than the axis (the rest is dropped). Unknown when the condition is data."""
    shape = n.input_shape(0)
    cond = n.value(1)
    if cond is None or cond.dtype == object:
        raise UnknownShape("a condition that is run-time data")
    kept = int(np.count_nonzero(cond.reshape(-1)))
    axis = n.attr("axis")
    if axis is None:
        return [((kept,), n.dtype(0))]
    if not -len(shape) <= axis < len(shape):
        raise n.fail(f"axis {axis} is out of range for rank {len(shape)}")
    axis %= len(shape)
    return [((*shape[:axis], kept, *shape[axis + 1:]), n.dtype(0))]


def _cast(n: NodeView) -> list[Spec]:
    dtypes.to_numpy(int(n.attrs["to"]))  # a type ONNX defines, or a ModelError
    return [(n.input_shape(0), int(n.attrs["to"]))]


def _cast_value(n: NodeView) -> list[np.ndarray]:
    target = dtypes.to_numpy(int(n.attrs["to"]))
    data = n.array(0)
    if data.dtype == object and symbolic.any_symbolic(data):
        if target.kind in "iuf":
            return [data]  # a dim cast to another integer or a float type keeps its value: the same expression
        if target.kind == "b":  # a dim is a positive integer: as a bool, true
            return [np.array([True if symbolic.is_symbolic(v) else bool(v) for v in data.reshape(-1)],
                             dtype=np.bool_).reshape(data.shape)]
        raise UnknownShape("a symbolic dim cast to a non-numeric type")
    return [data.astype(target)]


def _cast_like_value(n: NodeView) -> list[np.ndarray]:
    return [n.array(0).astype(n.array(1).dtype)]


def _depth_to_space(n: NodeView) -> list[Spec]:
    batch, ch, h, w = n.input_shape(0)
    b = int(n.attrs["blocksize"])
    if b < 1 or symbolic.divides(ch, b * b) is False:
        raise n.fail(f"blocksize {b} does not divide {ch} channels")
    return [((batch, ch // (b * b), h * b, w * b), n.dtype(0))]


def _space_to_depth(n: NodeView) -> list[Spec]:
    batch, ch, h, w = n.input_shape(0)
    b = int(n.attrs["blocksize"])
    if b < 1 or symbolic.divides(h, b) is False or symbolic.divides(w, b) is False:
        raise n.fail(f"blocksize {b} does not divide {h}x{w}")
    return [((batch, ch * b * b, h // b, w // b), n.dtype(0))]


def _scaled(d: Any, scale: float) -> Any:
    """floor(d · scale), exactly, for an int or a symbolic dim."""
    if not symbolic.is_symbolic(d):
        return int(math.floor(d * scale))
    import sympy

    return symbolic.normal(sympy.floor(d * sympy.nsimplify(scale)))


def _resize(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    if n.op_type == "Upsample" or n.opset < 11:
        raw = n.attrs["scales"] if "scales" in n.attrs else n.array(1).reshape(-1)
        factors = [float(s) for s in raw]
        if len(factors) != len(x):
            raise n.fail(f"{len(factors)} scales for an input of rank {len(x)}")
        return [(tuple(_scaled(d, s) for d, s in zip(x, factors, strict=True)), n.dtype(0))]
    if "axes" in n.attrs or n.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise UnknownShape("Resize axes / aspect policy: ONNX inference")
    sizes = n.value(3)
    if sizes is not None and np.asarray(sizes).size:
        if np.asarray(sizes).size != len(x):
            raise n.fail(f"{np.asarray(sizes).size} sizes for an input of rank {len(x)}")
        return [(tuple(int(v) for v in np.asarray(sizes).reshape(-1)), n.dtype(0))]
    scales = n.array(2).reshape(-1)
    if not scales.size:
        raise UnknownShape("Resize scales unknown")
    if scales.size != len(x):
        raise n.fail(f"{scales.size} scales for an input of rank {len(x)}")
    return [(tuple(_scaled(d, float(s)) for d, s in zip(x, scales, strict=True)), n.dtype(0))]


def resize_cost(n: NodeView) -> Cost:
    """Nearest: a copy. Linear: per output element, 3 FLOPs per resized axis (two products, one add)
    for each of the 2 taps folded together; cubic: 4 taps, 7 FLOPs per resized axis."""
    mode = str(n.attr("mode", "nearest"))
    if mode == "nearest":
        return Cost(0, 0)
    x, y = n.input_shape(0), n.output_shape(0)
    axes = sum(1 for a, b in zip(x, y, strict=False) if a != b)
    return Cost(0, n.out_elems() * (7 if mode == "cubic" else 3) * axes)


def _range_cost(n: NodeView) -> Cost:
    """start + i·delta: one add per element."""
    return Cost(0, n.out_elems())


def _col2im_cost(n: NodeView) -> Cost:
    """Every input element is added into its place in the image: one add each."""
    return Cost(0, n.in_elems(0))


_CONSTANT_KEYS = {"value_float": dtypes.FLOAT, "value_int": dtypes.INT64, "value_floats": dtypes.FLOAT,
                  "value_ints": dtypes.INT64, "value_string": TensorProto.STRING,
                  "value_strings": TensorProto.STRING}


_CONSTANT_ATTRS = frozenset({"value", "sparse_value", *_CONSTANT_KEYS})


def _constant(n: NodeView) -> list[Spec]:
    """The shape and type its one value attribute declares (never decoding the data)."""
    present = [k for k in n.attrs if k in _CONSTANT_ATTRS]
    if len(present) != 1:
        raise n.fail(f"needs exactly one value attribute, has {present or 'none'}")
    key = present[0]
    v = n.attrs[key]
    if key in ("value", "sparse_value"):
        if not isinstance(v, (TensorProto, SparseTensorProto)):
            raise n.fail(f"attribute {key} is not a tensor")
        t = v if isinstance(v, TensorProto) else v.values
        dims = tuple(int(d) for d in v.dims)
        if any(d < 0 for d in dims):
            raise n.fail(f"negative dims {list(dims)}")
        return [(dims, int(t.data_type))]
    return [((len(v),) if isinstance(v, list) else (), _CONSTANT_KEYS[key])]


def _constant_stored(n: NodeView) -> TensorProto | None:
    """The embedded tensor, kept undecoded until a rule reads it (an external one is never read)."""
    t = n.attrs.get("value")
    return t if isinstance(t, TensorProto) else None


def _constant_value(n: NodeView) -> list[np.ndarray]:
    """The value of an embedded tensor; one stored as external data is never read (its value stays unknown)."""
    (shape, dtype), = _constant(n)
    if "sparse_value" in n.attrs or shape is None:
        raise UnknownShape("sparse constant: value not decoded")
    if "value" not in n.attrs:
        key = next(k for k in _CONSTANT_KEYS if k in n.attrs)
        return [np.array(n.attrs[key], dtype=dtypes.to_numpy(dtype) if dtype != TensorProto.STRING else object)]
    t = n.attrs["value"]
    if t.data_location == TensorProto.EXTERNAL:
        raise UnknownShape("a Constant's external data is never read")
    return [dtypes.decode(t, f"node '{n.name}' (Constant)", shape)]


#: The input slots whose value may hold symbolic dims for each op's value function: the data an op moves
#: (never an index, axis or target shape, which must be ints to compute with).
DATA = frozenset({0})
_SYMBOLIC_SLOTS: dict[str, frozenset[int] | str] = {
    "Reshape": DATA, "Flatten": DATA, "Squeeze": DATA, "Unsqueeze": DATA, "Identity": DATA, "Transpose": DATA,
    "Concat": ALL_INPUTS, "Slice": DATA, "Gather": DATA, "Expand": DATA, "Tile": DATA, "Cast": DATA}


def _move(op: str, shape: ShapeFn | None = None, value: ValueFn | None = None, traits: Traits = MOVE,
          cost: CostFn = no_work, value_from_shapes: bool = False, note: str = "",
          copies: CopiesFn | None = None, stored: Callable[[NodeView], TensorProto | None] | None = None) -> OpDef:
    return OpDef(op, DEFAULT, FAMILY, shape=shape, value=value, cost=cost, traits=traits,
                 value_from_shapes=value_from_shapes, note=note, copies=copies, stored=stored,
                 symbolic_inputs=_SYMBOLIC_SLOTS.get(op, frozenset()))


OPS: list[OpDef] = [
    _move("Constant", _constant, _constant_value, value_from_shapes=True, stored=_constant_stored),
    _move("Reshape", _reshape, _reshape_value, VIEW),
    _move("Flatten", _flatten, _flatten_value, VIEW),
    _move("Squeeze", _squeeze, _squeeze_value, VIEW),
    _move("Unsqueeze", _unsqueeze, _unsqueeze_value, VIEW),
    _move("Identity", same_shape, _identity_value, VIEW),
    _move("Dropout", _dropout, None, Traits(view=True, nondeterministic=True)),  # inference: an identity
    _move("Transpose", _transpose, _transpose_value, Traits()),
    _move("Concat", _concat, _concat_value, Traits()),
    _move("Split", _split),
    _move("Slice", _slice, _slice_value, SELECT),
    _move("Gather", _gather, _gather_value, SELECT),
    _move("GatherElements", _gather_elements, None, SELECT),
    _move("GatherND", _gather_nd, traits=SELECT),
    _move("Expand", _expand, _expand_value, copies=_expand_copies),
    _move("Tile", _tile, _tile_value),
    _move("Pad", _pad),
    _move("Shape", _shape, _shape_value, META, value_from_shapes=True),
    _move("Size", lambda n: [((), dtypes.INT64)], _size_value, META, value_from_shapes=True),
    _move("Cast", _cast, _cast_value),
    _move("CastLike", lambda n: [(n.input_shape(0), n.dtype(1))], _cast_like_value),
    _move("BitCast", note="output shape from ONNX inference (the last dim scales with the type's width)"),
    _move("DepthToSpace", _depth_to_space),
    _move("SpaceToDepth", _space_to_depth),
    _move("ConstantOfShape", _constant_of_shape, _constant_of_shape_value),
    _move("Range", _range, _range_value, cost=_range_cost),
    _move("EyeLike", same_shape),
    _move("Trilu", same_shape),
    _move("OneHot", note="output shape from ONNX inference (needs the depth value)"),
    _move("NonZero", _nonzero, _nonzero_value),
    _move("Compress", _compress, note="output size from the condition's value when it is a constant"),
    _move("Unique", note="output size depends on the data"),
    _move("ReverseSequence", same_shape),
    _move("ScatterND", same_shape),
    _move("ScatterElements", same_shape),
    _move("Scatter", same_shape),
    _move("TensorScatter", same_shape, note="writes updates into a KV cache in place of a Concat"),
    _move("Col2Im", cost=_col2im_cost, note="output shape from ONNX inference"),
    _move("CenterCropPad", note="output shape from ONNX inference"),
    _move("Resize", _resize, cost=resize_cost),
    _move("Upsample", _resize, cost=resize_cost),
]
