"""Output shapes and dtypes per op, as onnxruntime computes them. One small function per op (or family);
ops without a rule here fall back to ONNX's own per-node inference in `shapes.py`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import dtypes
from .errors import ModelError

Shape = tuple[int, ...]
Spec = tuple[Shape | None, int]  # (shape, ONNX element type)


@dataclass
class NodeCtx:
    """What a shape rule may read about one node: attributes, opset, input shapes/dtypes/small values."""

    name: str
    op: str
    attrs: dict[str, Any]
    opset: int
    shapes: list[Shape | None]
    types: list[int]
    present: list[bool]
    n_out: int
    value_of: Callable[[int], np.ndarray | None]

    def has(self, i: int) -> bool:
        return i < len(self.present) and self.present[i]

    def shape(self, i: int) -> Shape:
        """Shape of input i; raises LookupError (-> fallback) when unknown."""
        s = self.shapes[i] if self.has(i) else None
        if s is None:
            raise LookupError(f"shape of input {i} unknown")
        return s

    def dtype(self, i: int) -> int:
        return self.types[i] if self.has(i) else 0

    def value(self, i: int) -> np.ndarray | None:
        return self.value_of(i) if self.has(i) else None

    def ints(self, i: int) -> list[int]:
        """Integer values of input i (shape targets, axes, pads); raises LookupError when not known."""
        v = self.value(i)
        if v is None:
            raise LookupError(f"value of input {i} unknown")
        return [int(x) for x in np.asarray(v).reshape(-1)]

    def axes(self, index: int, rank: int) -> list[int] | None:
        """Axes from the `axes` attribute (older opsets) or input `index`, normalised to [0, rank)."""
        if "axes" in self.attrs:
            raw = list(self.attrs["axes"])
        elif self.has(index):
            raw = self.ints(index)
        else:
            return None
        return [a % rank if rank else 0 for a in raw]

    def fail(self, message: str) -> ModelError:
        return ModelError(f"node '{self.name}' ({self.op}): {message}")


Rule = Callable[[NodeCtx], list[Spec]]
SHAPE_RULES: dict[str, Rule] = {}  # the default ONNX domain
DOMAIN_SHAPE_RULES: dict[tuple[str, str], Rule] = {}  # (domain, op): onnxruntime's com.microsoft ops


def shape_rule(*ops: str, domain: str = "ai.onnx") -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for op in ops:
            if domain == "ai.onnx":
                SHAPE_RULES[op] = fn
            else:
                DOMAIN_SHAPE_RULES[(domain, op)] = fn
        return fn

    return register


def lookup(domain: str, op: str) -> Rule | None:
    return SHAPE_RULES.get(op) if domain == "ai.onnx" else DOMAIN_SHAPE_RULES.get((domain, op))


def broadcast(shapes: Sequence[Shape]) -> Shape:
    """Numpy-style multidirectional broadcasting, as ONNX defines it."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise ModelError(f"shapes {' and '.join(str(list(s)) for s in shapes)} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


# --- element-wise ---------------------------------------------------------------------------------------

UNARY_OPS = (
    "Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Log", "Abs", "Neg", "Sqrt", "Reciprocal", "Floor", "Ceil",
    "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
    "LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish", "Gelu",
    "ThresholdedRelu", "Softmax", "LogSoftmax", "Hardmax", "Identity", "Clip", "Shrink", "LRN",
    "InstanceNormalization", "LpNormalization", "MeanVarianceNormalization", "CumSum", "Trilu",
    "BitwiseNot", "ScatterND", "ScatterElements", "Scatter", "Swish",
)
BINARY_OPS = ("Add", "Sub", "Mul", "Div", "Pow", "Mod", "PRelu", "BitShift", "BitwiseAnd", "BitwiseOr",
              "BitwiseXor", "Max", "Min", "Sum", "Mean")
COMPARE_OPS = ("Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor")


@shape_rule(*UNARY_OPS)
def _same(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), c.dtype(0))]


@shape_rule("Not", "IsNaN", "IsInf")
def _same_bool(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), dtypes.BOOL)]


@shape_rule(*BINARY_OPS)
def _broadcast(c: NodeCtx) -> list[Spec]:
    shapes = [c.shape(i) for i in range(len(c.present)) if c.has(i)]
    return [(_bcast(c, shapes), c.dtype(0))]


@shape_rule(*COMPARE_OPS)
def _compare(c: NodeCtx) -> list[Spec]:
    return [(_bcast(c, [c.shape(0), c.shape(1)]), dtypes.BOOL)]


@shape_rule("Where")
def _where(c: NodeCtx) -> list[Spec]:
    return [(_bcast(c, [c.shape(0), c.shape(1), c.shape(2)]), c.dtype(1))]


def _bcast(c: NodeCtx, shapes: Sequence[Shape]) -> Shape:
    try:
        return broadcast(shapes)
    except ModelError as exc:
        raise c.fail(str(exc)) from None


@shape_rule("Cast")
def _cast(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), int(c.attrs["to"]))]


@shape_rule("CastLike")
def _cast_like(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), c.dtype(1))]


@shape_rule("Dropout")
def _dropout(c: NodeCtx) -> list[Spec]:
    mask_type = dtypes.BOOL if c.opset >= 10 else c.dtype(0)  # Dropout-7 typed its mask like the input
    return [(c.shape(0), c.dtype(0)), (c.shape(0), mask_type)]


@shape_rule("BatchNormalization")
def _batchnorm(c: NodeCtx) -> list[Spec]:
    channel: Shape = (c.shape(0)[1],) if len(c.shape(0)) > 1 else (1,)
    stats: list[Spec] = [(channel, c.dtype(1))] * (c.n_out - 1)
    return [(c.shape(0), c.dtype(0)), *stats]


@shape_rule("LayerNormalization")
def _layernorm(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axis = c.attrs.get("axis", -1) % len(x)
    stat = x[:axis] + (1,) * (len(x) - axis)
    stash = int(c.attrs.get("stash_type", dtypes.FLOAT))
    return [(x, c.dtype(0)), (stat, stash), (stat, stash)]


@shape_rule("GroupNormalization")
def _groupnorm(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), c.dtype(0))]


# --- convolution and pooling ----------------------------------------------------------------------------


def _window_out(c: NodeCtx, spatial: Shape, kernel: Sequence[int], ceil: bool = False) -> Shape:
    """Output spatial dims of a sliding window (Conv, pooling): pads, strides, dilations, auto_pad."""
    rank = len(spatial)
    strides = list(c.attrs.get("strides", [1] * rank))
    dil = list(c.attrs.get("dilations", [1] * rank))
    auto_pad = c.attrs.get("auto_pad", "NOTSET")
    pads = list(c.attrs.get("pads", [0] * (2 * rank)))
    for name, values, size in (("strides", strides, rank), ("dilations", dil, rank), ("pads", pads, 2 * rank),
                               ("kernel_shape", list(kernel), rank)):
        if len(values) != size:
            raise c.fail(f"attribute {name} has {len(values)} values for {rank} spatial dims (needs {size})")
        if any(v < (0 if name == "pads" else 1) for v in values):
            raise c.fail(f"attribute {name}={values} must be {'non-negative' if name == 'pads' else 'positive'}")
    out = []
    for i in range(rank):
        eff = (kernel[i] - 1) * dil[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-spatial[i] // strides[i])
        else:
            total = spatial[i] + (0 if auto_pad == "VALID" else pads[i] + pads[i + rank]) - eff
            if total < 0:
                raise c.fail(f"window of size {eff} is larger than padded input dim {total + eff} "
                             f"on spatial axis {i}")
            if ceil:
                o = -(-total // strides[i]) + 1
                # The last window must start inside the input or the left padding (onnxruntime, PyTorch).
                if (o - 1) * strides[i] >= spatial[i] + (pads[i] if auto_pad != "VALID" else 0):
                    o -= 1
            else:
                o = total // strides[i] + 1
        out.append(o)
    return tuple(out)


@shape_rule("Conv", "ConvInteger", "QLinearConv")
def _conv(c: NodeCtx) -> list[Spec]:
    xi, wi = (0, 3) if c.op == "QLinearConv" else (0, 1)
    x, w = c.shape(xi), c.shape(wi)
    group = int(c.attrs.get("group", 1))
    if len(x) != len(w):
        raise c.fail(f"input rank {len(x)} and weight rank {len(w)} differ")
    if group < 1 or x[1] % group or x[1] // group != w[1]:
        raise c.fail(f"group={group} does not fit {x[1]} input channels and weight shape {list(w)} "
                     f"(needs C_in / group == weight dim 1)")
    if w[0] % group:
        raise c.fail(f"group={group} does not divide {w[0]} output channels")
    kernel = list(c.attrs.get("kernel_shape", w[2:]))
    if tuple(kernel) != tuple(w[2:]):
        raise c.fail(f"kernel_shape {kernel} differs from the weight's spatial dims {list(w[2:])}")
    out_type: int
    if c.op == "ConvInteger":
        out_type = dtypes.INT32
    elif c.op == "QLinearConv":
        out_type = c.dtype(7)
    else:
        out_type = c.dtype(0)
    return [((x[0], w[0]) + _window_out(c, x[2:], kernel), out_type)]


@shape_rule("ConvTranspose")
def _conv_transpose(c: NodeCtx) -> list[Spec]:
    x, w = c.shape(0), c.shape(1)
    group = int(c.attrs.get("group", 1))
    if x[1] != w[0]:
        raise c.fail(f"input has {x[1]} channels but weight dim 0 is {w[0]}")
    rank = len(x) - 2
    kernel = list(c.attrs.get("kernel_shape", w[2:]))
    strides = list(c.attrs.get("strides", [1] * rank))
    dil = list(c.attrs.get("dilations", [1] * rank))
    out_pad = list(c.attrs.get("output_padding", [0] * rank))
    if "output_shape" in c.attrs:
        spatial = tuple(int(v) for v in c.attrs["output_shape"][-rank:])
    elif c.attrs.get("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        spatial = tuple(x[2 + i] * strides[i] for i in range(rank))
    else:
        pads = list(c.attrs.get("pads", [0] * (2 * rank)))
        if c.attrs.get("auto_pad") == "VALID":
            pads = [0] * (2 * rank)
        spatial = tuple(
            strides[i] * (x[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + rank]
            for i in range(rank)
        )
    return [((x[0], w[1] * group) + spatial, c.dtype(0))]


@shape_rule("MaxPool", "AveragePool", "LpPool")
def _pool(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    out = (x[0], x[1]) + _window_out(c, x[2:], list(c.attrs["kernel_shape"]),
                                     ceil=bool(c.attrs.get("ceil_mode", 0)))
    return [(out, c.dtype(0)), (out, dtypes.INT64)]


@shape_rule("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
def _global_pool(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    return [(x[:2] + (1,) * (len(x) - 2), c.dtype(0))]


# --- linear algebra -------------------------------------------------------------------------------------


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """numpy.matmul's output shape (1-D operands promoted then squeezed)."""
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ModelError(f"MatMul inner dims differ: {list(a)} x {list(b)}")
    out = broadcast([a2[:-2], b2[:-2]]) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


@shape_rule("MatMul", "MatMulInteger", "QLinearMatMul")
def _matmul(c: NodeCtx) -> list[Spec]:
    ai, bi = (0, 3) if c.op == "QLinearMatMul" else (0, 1)
    try:
        out = matmul_shape(c.shape(ai), c.shape(bi))
    except ModelError as exc:
        raise c.fail(str(exc)) from None
    out_type = {"MatMulInteger": dtypes.INT32, "QLinearMatMul": c.dtype(7)}.get(c.op, c.dtype(0))
    return [(out, out_type)]


@shape_rule("Gemm")
def _gemm(c: NodeCtx) -> list[Spec]:
    a, b = c.shape(0), c.shape(1)
    m = a[1] if c.attrs.get("transA", 0) else a[0]
    ka = a[0] if c.attrs.get("transA", 0) else a[1]
    kb = b[1] if c.attrs.get("transB", 0) else b[0]
    n = b[0] if c.attrs.get("transB", 0) else b[1]
    if ka != kb:
        raise c.fail(f"inner dims differ: A {list(a)} and B {list(b)} (transA/transB applied)")
    return [((m, n), c.dtype(0))]


@shape_rule("Einsum")
def _einsum(c: NodeCtx) -> list[Spec]:
    from .einsum import parse_einsum

    shapes = [c.shape(i) for i in range(len(c.present)) if c.has(i)]
    return [(parse_einsum(str(c.attrs["equation"]), shapes).output_shape, c.dtype(0))]


@shape_rule("LSTM", "GRU", "RNN")
def _recurrent(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    hidden = int(c.attrs.get("hidden_size") or c.shape(2)[-1])
    dirs = 2 if c.attrs.get("direction", "forward") == "bidirectional" else 1
    if c.attrs.get("layout", 0):
        batch, seq = x[0], x[1]
        y, state = (batch, seq, dirs, hidden), (batch, dirs, hidden)
    else:
        seq, batch = x[0], x[1]
        y, state = (seq, dirs, batch, hidden), (dirs, batch, hidden)
    return [(y, c.dtype(0)), (state, c.dtype(0)), (state, c.dtype(0))]


# --- data movement --------------------------------------------------------------------------------------


@shape_rule("Flatten")
def _flatten(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axis = c.attrs.get("axis", 1)
    axis = axis + len(x) if axis < 0 else axis
    return [((math.prod(x[:axis]), math.prod(x[axis:])), c.dtype(0))]


def reshape_target(c: NodeCtx, x: Shape, target: list[int]) -> Shape:
    """Resolve Reshape's 0 (copy, unless allowzero) and -1 (infer) entries against input shape x."""
    allowzero = c.attrs.get("allowzero", 0)
    out = [x[i] if (t == 0 and not allowzero and i < len(x)) else t for i, t in enumerate(target)]
    total = math.prod(x)
    if out.count(-1) > 1:
        raise c.fail(f"shape {target} has more than one -1")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise c.fail(f"cannot reshape {list(x)} into {target}")
        out[out.index(-1)] = total // known
    elif math.prod(out) != total:
        raise c.fail(f"cannot reshape {list(x)} ({total} elements) into {target}")
    return tuple(out)


@shape_rule("Reshape")
def _reshape(c: NodeCtx) -> list[Spec]:
    target = c.ints(1) if c.opset >= 5 else list(c.attrs["shape"])
    return [(reshape_target(c, c.shape(0), target), c.dtype(0))]


@shape_rule("Transpose")
def _transpose(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    perm = list(c.attrs.get("perm", range(len(x) - 1, -1, -1)))
    return [(tuple(x[p] for p in perm), c.dtype(0))]


@shape_rule("Concat")
def _concat(c: NodeCtx) -> list[Spec]:
    shapes = [c.shape(i) for i in range(len(c.present)) if c.has(i)]
    axis = c.attrs["axis"] % len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return [(tuple(out), c.dtype(0))]


@shape_rule("Split")
def _split(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axis = c.attrs.get("axis", 0) % len(x)
    if "split" in c.attrs:
        sizes = list(c.attrs["split"])
    elif c.has(1):
        sizes = c.ints(1)
    else:
        n = int(c.attrs.get("num_outputs", c.n_out))
        chunk = -(-x[axis] // n)
        sizes = [chunk] * (n - 1) + [x[axis] - chunk * (n - 1)]
    outs: list[Spec] = []
    for size in sizes:
        s = list(x)
        s[axis] = size
        outs.append((tuple(s), c.dtype(0)))
    return outs


@shape_rule("Slice")
def _slice(c: NodeCtx) -> list[Spec]:
    from .values import clamp_slice

    x = c.shape(0)
    if c.opset < 10:
        starts, ends = list(c.attrs["starts"]), list(c.attrs["ends"])
        axes = list(c.attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = c.ints(1), c.ints(2)
        axes = c.ints(3) if c.has(3) else list(range(len(starts)))
        steps = c.ints(4) if c.has(4) else [1] * len(starts)
    out = list(x)
    for s, e, a, st in zip(starts, ends, axes, steps, strict=False):
        ax = a % len(x)
        out[ax] = len(range(*slice(*clamp_slice(s, e, st, x[ax])).indices(x[ax])))
    return [(tuple(out), c.dtype(0))]


@shape_rule("Gather")
def _gather(c: NodeCtx) -> list[Spec]:
    x, idx = c.shape(0), c.shape(1)
    axis = c.attrs.get("axis", 0) % len(x)
    return [(x[:axis] + idx + x[axis + 1:], c.dtype(0))]


@shape_rule("GatherElements")
def _gather_elements(c: NodeCtx) -> list[Spec]:
    return [(c.shape(1), c.dtype(0))]


@shape_rule("Squeeze")
def _squeeze(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axes = c.axes(1, len(x))
    if axes is None:
        return [(tuple(d for d in x if d != 1), c.dtype(0))]
    return [(tuple(d for i, d in enumerate(x) if i not in axes), c.dtype(0))]


@shape_rule("Unsqueeze")
def _unsqueeze(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axes = c.axes(1, len(x) + len(c.attrs.get("axes", [])) + (len(c.ints(1)) if c.has(1) else 0))
    out = list(x)
    for a in sorted(axes or []):
        out.insert(a, 1)
    return [(tuple(out), c.dtype(0))]


@shape_rule("Expand")
def _expand(c: NodeCtx) -> list[Spec]:
    return [(_bcast(c, [c.shape(0), tuple(c.ints(1))]), c.dtype(0))]


@shape_rule("Tile")
def _tile(c: NodeCtx) -> list[Spec]:
    return [(tuple(d * r for d, r in zip(c.shape(0), c.ints(1), strict=True)), c.dtype(0))]


@shape_rule("Pad")
def _pad(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    pads = list(c.attrs["pads"]) if c.opset < 11 else c.ints(1)
    axes = c.axes(3, len(x)) if c.opset >= 18 else None
    axes = axes if axes is not None else list(range(len(x)))
    out = list(x)
    for k, ax in enumerate(axes):
        out[ax] = x[ax] + pads[k] + pads[k + len(axes)]
    return [(tuple(out), c.dtype(0))]


@shape_rule("Shape")
def _shape(c: NodeCtx) -> list[Spec]:
    rank = len(c.shape(0))
    start = c.attrs.get("start", 0)
    end = c.attrs.get("end", rank)
    return [((len(range(rank)[start:end]),), dtypes.INT64)]


@shape_rule("Size")
def _size(c: NodeCtx) -> list[Spec]:
    return [((), dtypes.INT64)]


@shape_rule("ConstantOfShape")
def _constant_of_shape(c: NodeCtx) -> list[Spec]:
    fill = c.attrs.get("value")
    return [(tuple(c.ints(0)), int(fill.data_type) if fill is not None else dtypes.FLOAT)]


@shape_rule("Range")
def _range(c: NodeCtx) -> list[Spec]:
    start, limit, delta = (np.asarray(c.value(i)).item() for i in range(3))
    if delta == 0:
        raise c.fail("delta is zero")
    return [((max(math.ceil((limit - start) / delta), 0),), c.dtype(0))]


REDUCE_OPS = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
              "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")


@shape_rule(*REDUCE_OPS)
def _reduce(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axes = c.axes(1, len(x))
    keep = c.attrs.get("keepdims", 1)
    if not axes:
        if c.attrs.get("noop_with_empty_axes", 0):
            return [(x, c.dtype(0))]
        axes = list(range(len(x)))
    if keep:
        return [(tuple(1 if i in axes else d for i, d in enumerate(x)), c.dtype(0))]
    return [(tuple(d for i, d in enumerate(x) if i not in axes), c.dtype(0))]


@shape_rule("ArgMax", "ArgMin")
def _arg(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axis = c.attrs.get("axis", 0) % len(x)
    if c.attrs.get("keepdims", 1):
        return [(tuple(1 if i == axis else d for i, d in enumerate(x)), dtypes.INT64)]
    return [(x[:axis] + x[axis + 1:], dtypes.INT64)]


@shape_rule("TopK")
def _topk(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    axis = c.attrs.get("axis", -1) % len(x)
    k = int(c.attrs["k"]) if c.opset < 10 else c.ints(1)[0]
    out = tuple(k if i == axis else d for i, d in enumerate(x))
    return [(out, c.dtype(0)), (out, dtypes.INT64)]


@shape_rule("DepthToSpace")
def _depth_to_space(c: NodeCtx) -> list[Spec]:
    n, ch, h, w = c.shape(0)
    b = int(c.attrs["blocksize"])
    return [((n, ch // (b * b), h * b, w * b), c.dtype(0))]


@shape_rule("SpaceToDepth")
def _space_to_depth(c: NodeCtx) -> list[Spec]:
    n, ch, h, w = c.shape(0)
    b = int(c.attrs["blocksize"])
    return [((n, ch * b * b, h // b, w // b), c.dtype(0))]


@shape_rule("Resize", "Upsample")
def _resize(c: NodeCtx) -> list[Spec]:
    x = c.shape(0)
    if c.op == "Upsample" or c.opset < 11:
        raw = c.attrs["scales"] if "scales" in c.attrs else np.asarray(c.value(1)).reshape(-1)
        factors = [float(s) for s in raw]
        return [(tuple(int(math.floor(d * s)) for d, s in zip(x, factors, strict=True)), c.dtype(0))]
    if "axes" in c.attrs or c.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise LookupError("Resize axes / aspect policy: use ONNX inference")
    sizes = c.value(3)
    if sizes is not None and np.asarray(sizes).size:
        return [(tuple(int(v) for v in np.asarray(sizes).reshape(-1)), c.dtype(0))]
    scales = c.value(2)
    if scales is None or not np.asarray(scales).size:
        raise LookupError("Resize scales unknown")
    return [(tuple(int(math.floor(d * float(s))) for d, s in zip(x, np.asarray(scales).reshape(-1),
                                                               strict=True)), c.dtype(0))]


@shape_rule("QuantizeLinear")
def _quantize(c: NodeCtx) -> list[Spec]:
    out_type = c.dtype(2) if c.has(2) else int(c.attrs.get("output_dtype", 0) or 2)  # uint8 default
    return [(c.shape(0), out_type)]


@shape_rule("DequantizeLinear")
def _dequantize(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), c.dtype(1))]


@shape_rule("NonZero")
def _nonzero(c: NodeCtx) -> list[Spec]:
    # The count of non-zeros depends on data: only known when the input's value is (values.py).
    return [(None, dtypes.INT64)]


# --- onnxruntime contrib ops (com.microsoft), as optimised and quantised LLM exports use them ------------
MS = "com.microsoft"


@shape_rule("MatMulNBits", domain=MS)
def _matmul_nbits(c: NodeCtx) -> list[Spec]:
    """A [..., K] x block-quantised B (N, k_blocks, blob) -> [..., N]."""
    a = c.shape(0)
    if a[-1] != int(c.attrs["K"]):
        raise c.fail(f"input's last dim {a[-1]} differs from attribute K={c.attrs['K']}")
    return [(a[:-1] + (int(c.attrs["N"]),), c.dtype(0))]


@shape_rule("FusedMatMul", domain=MS)
def _fused_matmul(c: NodeCtx) -> list[Spec]:
    a, b = c.shape(0), c.shape(1)
    if c.attrs.get("transA", 0) and len(a) >= 2:
        a = a[:-2] + (a[-1], a[-2])
    if c.attrs.get("transB", 0) and len(b) >= 2:
        b = b[:-2] + (b[-1], b[-2])
    try:
        return [(matmul_shape(a, b), c.dtype(0))]
    except ModelError as exc:
        raise c.fail(str(exc)) from None


@shape_rule("Gelu", "FastGelu", "BiasGelu", "QuickGelu", "RotaryEmbedding", "BiasAdd", domain=MS)
def _ms_same(c: NodeCtx) -> list[Spec]:
    return [(c.shape(0), c.dtype(0))]


@shape_rule("SkipLayerNormalization", "SkipSimplifiedLayerNormalization", domain=MS)
def _skip_layernorm(c: NodeCtx) -> list[Spec]:
    """Outputs: normalised x + skip (+ bias), mean, inverse std dev, and the sum x + skip (+ bias)."""
    x = c.shape(0)
    stat = x[:-1] + (1,)
    return [(x, c.dtype(0)), (stat, dtypes.FLOAT), (stat, dtypes.FLOAT), (x, c.dtype(0))]


@shape_rule("SimplifiedLayerNormalization", domain=MS)
def _simplified_layernorm_ms(c: NodeCtx) -> list[Spec]:
    return _layernorm(c)[:2]


SHAPE_RULES["SimplifiedLayerNormalization"] = lambda c: _layernorm(c)[:2]  # also exported in the default domain
