"""The differential test of op definitions against onnxruntime: per op, a hypothesis strategy draws attributes
and input shapes (shape-like inputs as constants, as exporters write them), onnxruntime runs the node, and
onnxcost's output shapes must be onnxruntime's. A configuration onnxruntime rejects is out of scope (skipped);
one onnxruntime runs and onnxcost refuses is a finding. `tests/test_differential.py` runs a sample per op,
`benchmarks/bench_differential.py` thousands."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import onnxcost

F = TensorProto.FLOAT


@dataclass(frozen=True)
class Case:
    node: onnx.NodeProto
    inputs: dict[str, list[int]]  # fed at run time (float32)
    constants: dict[str, np.ndarray] = field(default_factory=dict)  # initializers: axes, pads, shapes
    opset: int = 17
    before: tuple[onnx.NodeProto, ...] = ()  # nodes that make the node's inputs (a quantised tensor)
    data_dependent: bool = False  # output sizes are run-time data: onnxcost may say unknown, never a wrong size
    out_types: tuple[int, ...] = ()  # each output's element type where ONNX's inference cannot tell (contrib ops)
    aliases: tuple[tuple[str, str], ...] = ()  # (output, input) pairs the kernel requires in one buffer
    domain_opsets: tuple[tuple[str, int], ...] = ()  # opsets other than a domain's default (ai.onnx.ml 5)
    #: inputs that are not float tensors (maps): their declared type and the value fed
    typed_inputs: tuple[tuple[onnx.ValueInfoProto, Any], ...] = ()


def _shape(draw: st.DrawFn, rank: int, lo: int = 1, hi: int = 6) -> list[int]:
    return [draw(st.integers(lo, hi)) for _ in range(rank)]


def _i64(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def conv_transpose(draw: st.DrawFn) -> Case:
    group = draw(st.sampled_from([1, 2]))
    c_in, c_out = group * draw(st.integers(1, 3)), group * draw(st.integers(1, 3))
    k, stride, dil = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pads = [draw(st.integers(0, k - 1)) for _ in range(4)]
    out_pad = [draw(st.integers(0, max(stride, dil) - 1)) for _ in range(2)]
    hw = draw(st.integers(1, 6))
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[k, k], strides=[stride] * 2,
                            dilations=[dil] * 2, pads=pads, output_padding=out_pad, group=group)
    return Case(node, {"x": [1, c_in, hw, hw]}, {"w": np.zeros((c_in, c_out // group, k, k), np.float32)})


def pad(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank, 2, 5)
    pads = [draw(st.integers(-1, 3)) for _ in range(2 * rank)]
    mode = draw(st.sampled_from(["constant", "reflect", "edge"]))
    return Case(helper.make_node("Pad", ["x", "pads"], ["y"], mode=mode), {"x": shape}, {"pads": _i64(pads)})


def slice_(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank, 1, 8)
    axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    starts = [draw(st.integers(-10, 10)) for _ in axes]
    ends = [draw(st.one_of(st.integers(-10, 10), st.sampled_from([2**62, -(2**62)]))) for _ in axes]
    steps = [draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in axes]
    return Case(helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"]), {"x": shape},
                {"starts": _i64(starts), "ends": _i64(ends), "axes": _i64(axes), "steps": _i64(steps)})


def reshape(draw: st.DrawFn) -> Case:
    shape = _shape(draw, draw(st.integers(1, 4)), 1, 4)
    total = int(np.prod(shape))
    dims = [d for d in range(1, total + 1) if total % d == 0]
    first = draw(st.sampled_from(dims))
    target = [first, total // first]
    k = draw(st.integers(0, 2))
    if k == 1:
        target[draw(st.integers(0, 1))] = -1
    elif k == 2 and len(shape) >= 1 and target[0] == shape[0]:
        target[0] = 0
    return Case(helper.make_node("Reshape", ["x", "shape"], ["y"]), {"x": shape}, {"shape": _i64(target)})


def transpose(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 5))
    perm = draw(st.permutations(list(range(rank))))
    return Case(helper.make_node("Transpose", ["x"], ["y"], perm=list(perm)), {"x": _shape(draw, rank)})


def concat(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    axis = draw(st.integers(-rank, rank - 1))
    base = _shape(draw, rank)
    n = draw(st.integers(1, 3))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[axis % rank] = draw(st.integers(1, 5))  # a declared 0 reads as a free dim (an exporter's unknown)
        shapes.append(s)
    names = [f"x{k}" for k in range(n)]
    return Case(helper.make_node("Concat", names, ["y"], axis=axis), dict(zip(names, shapes, strict=True)))


def split(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank, 1, 8)
    axis = draw(st.integers(-rank, rank - 1))
    n = draw(st.integers(1, 4))
    outs = [f"y{k}" for k in range(n)]
    if draw(st.booleans()):
        return Case(helper.make_node("Split", ["x"], outs, axis=axis, num_outputs=n), {"x": shape}, opset=18)
    parts = [draw(st.integers(0, 4)) for _ in range(n)]
    shape[axis % rank] = sum(parts)
    return Case(helper.make_node("Split", ["x", "split"], outs, axis=axis), {"x": shape}, {"split": _i64(parts)})


def squeeze_unsqueeze(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    if draw(st.booleans()):
        shape = [draw(st.sampled_from([1, 1, 2, 3])) for _ in range(rank)]
        ones = [k for k, d in enumerate(shape) if d == 1]
        axes: list[int] = draw(st.lists(st.sampled_from(ones), unique=True)) if ones else []
        given: bool = draw(st.booleans())
        if axes and given:
            return Case(helper.make_node("Squeeze", ["x", "axes"], ["y"]), {"x": shape},
                        {"axes": _i64([a - rank if draw(st.booleans()) else a for a in axes])})
        return Case(helper.make_node("Squeeze", ["x"], ["y"]), {"x": shape})
    shape = _shape(draw, rank)
    axes = draw(st.lists(st.integers(-(rank + 2), rank + 1), min_size=1, max_size=2, unique=True))
    return Case(helper.make_node("Unsqueeze", ["x", "axes"], ["y"]), {"x": shape}, {"axes": _i64(axes)})


def tile_expand(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = [draw(st.sampled_from([1, 2, 3])) for _ in range(rank)]
    if draw(st.booleans()):
        return Case(helper.make_node("Tile", ["x", "r"], ["y"]), {"x": shape},
                    {"r": _i64([draw(st.integers(0, 3)) for _ in range(rank)])})
    target = [d if d != 1 else draw(st.sampled_from([1, 2, 4])) for d in shape]
    extra = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    return Case(helper.make_node("Expand", ["x", "shape"], ["y"]), {"x": shape}, {"shape": _i64(extra + target)})


def reduce(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    op = draw(st.sampled_from(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
                               "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]))
    keep = draw(st.integers(0, 1))
    axes = draw(st.lists(st.integers(-rank, rank - 1), max_size=rank, unique_by=lambda a: a % rank))
    if op == "ReduceSum" or axes:
        ins = ["x", "axes"] if axes else ["x"]
        consts = {"axes": _i64(axes)} if axes else {}
        return Case(helper.make_node(op, ins, ["y"], keepdims=keep), {"x": shape}, consts, opset=18)
    return Case(helper.make_node(op, ["x"], ["y"], keepdims=keep), {"x": shape}, opset=18)


def matmul_gemm(draw: st.DrawFn) -> Case:
    if draw(st.booleans()):
        m, k, n = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
        ta, tb = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        a = [k, m] if ta else [m, k]
        weight = np.zeros([n, k] if tb else [k, n], np.float32)
        return Case(helper.make_node("Gemm", ["a", "b"], ["y"], transA=ta, transB=tb), {"a": a}, {"b": weight})
    batch = _shape(draw, draw(st.integers(0, 2)), 1, 3)
    m, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a = batch + [m, k] if draw(st.booleans()) or not batch else [k]
    other = [draw(st.sampled_from([1, d])) for d in batch] if draw(st.booleans()) else []
    b = other + [k, n] if draw(st.booleans()) else [k]
    if a == [k] and b == [k]:
        b = [k, n]
    return Case(helper.make_node("MatMul", ["a", "b"], ["y"]), {"a": a, "b": b})


def gather(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank, 1, 5)
    axis = draw(st.integers(-rank, rank - 1))
    idx_shape = _shape(draw, draw(st.integers(0, 2)), 1, 3)
    idx = np.array(draw(st.lists(st.integers(-shape[axis % rank], shape[axis % rank] - 1),
                                 min_size=int(np.prod(idx_shape)), max_size=int(np.prod(idx_shape)))),
                   dtype=np.int64).reshape(idx_shape)
    return Case(helper.make_node("Gather", ["x", "i"], ["y"], axis=axis), {"x": shape}, {"i": idx})


def depth_space(draw: st.DrawFn) -> Case:
    b = draw(st.integers(1, 3))
    if draw(st.booleans()):
        c = b * b * draw(st.integers(1, 3))
        mode = draw(st.sampled_from(["DCR", "CRD"]))
        return Case(helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=b, mode=mode),
                    {"x": [1, c, draw(st.integers(1, 4)), draw(st.integers(1, 4))]})
    return Case(helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=b),
                {"x": [1, draw(st.integers(1, 3)), b * draw(st.integers(1, 3)), b * draw(st.integers(1, 3))]})


def resize(draw: st.DrawFn) -> Case:
    shape = [1, draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 8))]
    mode = draw(st.sampled_from(["nearest", "linear"]))
    if draw(st.booleans()):
        scales = [1.0, 1.0, draw(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])), draw(st.sampled_from([0.5, 2.0, 2.5]))]
        return Case(helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode), {"x": shape},
                    {"scales": np.array(scales, np.float32)}, opset=13)
    sizes = [1, shape[1], draw(st.integers(1, 12)), draw(st.integers(1, 12))]
    return Case(helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode=mode), {"x": shape},
                {"sizes": _i64(sizes)}, opset=13)


def pool(draw: st.DrawFn) -> Case:
    op = draw(st.sampled_from(["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
                               "GlobalLpPool"]))
    if op.startswith("Global"):
        return Case(helper.make_node(op, ["x"], ["y"]), {"x": [1, 2, *_shape(draw, draw(st.integers(1, 3)))]})
    k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    hw = draw(st.integers((k - 1) * d + 1, 9))
    attrs: dict[str, Any] = {"kernel_shape": [k, k], "strides": [s, s]}
    auto_pad = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "VALID"]))
    attrs["auto_pad"] = auto_pad
    if auto_pad == "NOTSET":
        attrs["pads"] = [draw(st.integers(0, k - 1))] * 4
    if op == "MaxPool" and (d == 1 or not auto_pad.startswith("SAME")):
        # onnxruntime 1.2x sizes a dilated SAME MaxPool as if undilated (8x8, k3, d2 -> 6x6), where the ONNX
        # spec, its reference evaluator and its shape inference give ceil(8 / stride) = 8: onnxcost follows
        # the spec, so that combination is left out here
        attrs["dilations"] = [d, d]
    if op != "LpPool" and auto_pad == "NOTSET":
        attrs["ceil_mode"] = draw(st.integers(0, 1))
    return Case(helper.make_node(op, ["x"], ["y"], **attrs), {"x": [1, 2, hw, hw]}, opset=18)


def conv(draw: st.DrawFn) -> Case:
    group = draw(st.sampled_from([1, 2, 3]))
    c_in, c_out = group * draw(st.integers(1, 2)), group * draw(st.integers(1, 2))
    rank = draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(rank)]
    attrs: dict[str, Any] = {"kernel_shape": k, "strides": [draw(st.integers(1, 3)) for _ in range(rank)],
                                "dilations": [draw(st.integers(1, 2)) for _ in range(rank)], "group": group}
    auto_pad = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    attrs["auto_pad"] = auto_pad
    if auto_pad == "NOTSET":
        attrs["pads"] = [draw(st.integers(0, 2)) for _ in range(2 * rank)]
    spatial = [draw(st.integers(1, 7)) for _ in range(rank)]
    return Case(helper.make_node("Conv", ["x", "w"], ["y"], **attrs), {"x": [1, c_in, *spatial]},
                {"w": np.zeros((c_out, c_in // group, *k), np.float32)})


def flatten_softmax(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    op = draw(st.sampled_from(["Flatten", "Softmax", "LogSoftmax", "Hardmax", "CumSum"]))
    if op == "Flatten":
        return Case(helper.make_node(op, ["x"], ["y"], axis=draw(st.integers(-rank, rank))), {"x": shape})
    if op == "CumSum":
        return Case(helper.make_node(op, ["x", "axis"], ["y"], reverse=draw(st.integers(0, 1))), {"x": shape},
                    {"axis": np.array(draw(st.integers(-rank, rank - 1)), np.int64)})
    return Case(helper.make_node(op, ["x"], ["y"], axis=draw(st.integers(-rank, rank - 1))), {"x": shape})


def topk_argmax(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    axis = draw(st.integers(-rank, rank - 1))
    if draw(st.booleans()):
        k = draw(st.integers(1, shape[axis % rank]))
        return Case(helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis), {"x": shape}, {"k": _i64([k])})
    op = draw(st.sampled_from(["ArgMax", "ArgMin"]))
    return Case(helper.make_node(op, ["x"], ["y"], axis=axis, keepdims=draw(st.integers(0, 1))), {"x": shape})


def broadcast_ops(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 4))
    base = _shape(draw, rank)
    a = [draw(st.sampled_from([1, d])) for d in base][draw(st.integers(0, rank - 1)):]
    b = [draw(st.sampled_from([1, d])) for d in base][draw(st.integers(0, rank - 1)):]
    op = draw(st.sampled_from(["Add", "Sub", "Mul", "Div", "Mod", "Pow", "Max", "Min", "Mean", "Sum", "PRelu"]))
    if op in ("Max", "Min", "Mean", "Sum"):
        c = [draw(st.sampled_from([1, d])) for d in base][draw(st.integers(0, rank - 1)):]
        return Case(helper.make_node(op, ["a", "b", "c"], ["y"]), {"a": a, "b": b, "c": c})
    fmod: dict[str, Any] = {"fmod": 1} if op == "Mod" else {}  # a float Mod needs fmod
    return Case(helper.make_node(op, ["a", "b"], ["y"], **fmod), {"a": a, "b": b})


def gather_elements_nd(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(1, 3))
    shape = _shape(draw, rank, 1, 4)
    if draw(st.booleans()):
        axis = draw(st.integers(-rank, rank - 1))
        idx_shape = [draw(st.integers(1, d)) for d in shape]
        idx = np.zeros(idx_shape, np.int64)
        return Case(helper.make_node("GatherElements", ["x", "i"], ["y"], axis=axis), {"x": shape}, {"i": idx})
    batch = draw(st.integers(0, rank - 1))
    last = draw(st.integers(1, rank - batch))
    idx_shape = shape[:batch] + _shape(draw, draw(st.integers(0, 2)), 1, 3) + [last]
    return Case(helper.make_node("GatherND", ["x", "i"], ["y"], batch_dims=batch), {"x": shape},
                {"i": np.zeros(idx_shape, np.int64)})


def normalization(draw: st.DrawFn) -> Case:
    rank = draw(st.integers(2, 4))
    shape = _shape(draw, rank)
    op = draw(st.sampled_from(["LayerNormalization", "InstanceNormalization", "LpNormalization", "LRN",
                               "BatchNormalization", "GroupNormalization"]))
    if op == "BatchNormalization":
        c = np.ones(shape[1], np.float32)
        return Case(helper.make_node(op, ["x", "s", "b", "m", "v"], ["y"]), {"x": shape},
                    {"s": c, "b": c, "m": c, "v": c})
    if op == "GroupNormalization":
        groups = draw(st.sampled_from([g for g in range(1, shape[1] + 1) if shape[1] % g == 0]))
        return Case(helper.make_node(op, ["x", "s", "b"], ["y"], num_groups=groups), {"x": shape},
                    {"s": np.ones(shape[1], np.float32), "b": np.zeros(shape[1], np.float32)}, opset=21)
    if op == "LayerNormalization":
        axis = draw(st.integers(-rank, rank - 1))
        norm = shape[axis % rank:]
        return Case(helper.make_node(op, ["x", "s", "b"], ["y"], axis=axis), {"x": shape},
                    {"s": np.ones(norm, np.float32), "b": np.zeros(norm, np.float32)})
    if op == "InstanceNormalization":
        return Case(helper.make_node(op, ["x", "s", "b"], ["y"]), {"x": shape},
                    {"s": np.ones(shape[1], np.float32), "b": np.zeros(shape[1], np.float32)})
    if op == "LRN":
        return Case(helper.make_node(op, ["x"], ["y"], size=draw(st.integers(1, 3))), {"x": shape})
    return Case(helper.make_node(op, ["x"], ["y"], axis=draw(st.integers(-rank, rank - 1))), {"x": shape})


def einsum(draw: st.DrawFn) -> Case:
    eq, shapes = draw(st.sampled_from([
        ("ij,jk->ik", ([2, 3], [3, 4])), ("bij,bjk->bik", ([2, 2, 3], [2, 3, 4])), ("ij->ji", ([2, 5],)),
        ("ii->i", ([3, 3],)), ("bhqd,bhkd->bhqk", ([1, 2, 3, 4], [1, 2, 5, 4])), ("i,i->", ([4], [4])),
        ("...ij,...jk->...ik", ([2, 1, 2, 3], [3, 3, 4])), ("ij,kl->ijkl", ([2, 3], [1, 2]))]))
    names = [f"x{k}" for k in range(len(shapes))]
    return Case(helper.make_node("Einsum", names, ["y"], equation=eq), dict(zip(names, map(list, shapes),
                                                                                strict=True)))


def trilu_onehot_range(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["Trilu", "OneHot", "Range", "ConstantOfShape"]))
    if kind == "Trilu":
        return Case(helper.make_node("Trilu", ["x"], ["y"], upper=draw(st.integers(0, 1))),
                    {"x": _shape(draw, draw(st.integers(2, 4)))})
    if kind == "OneHot":
        shape = _shape(draw, draw(st.integers(1, 3)))
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        return Case(helper.make_node("OneHot", ["i", "depth", "values"], ["y"], axis=axis), {"i": shape},
                    {"depth": np.array(draw(st.integers(1, 6)), np.float32),  # onnxruntime's float/float/float kernel
                     "values": np.array([0.0, 1.0], np.float32)})
    if kind == "Range":
        start, delta = draw(st.integers(-5, 5)), draw(st.sampled_from([-3, -1, 1, 2, 3]))
        limit = draw(st.integers(-8, 8))
        node = helper.make_node("Range", ["s", "l", "d"], ["y"])
        consts = {"s": np.array(float(start), np.float32), "l": np.array(float(limit), np.float32),
                  "d": np.array(float(delta), np.float32)}
        return Case(node, {}, consts)
    shape = _shape(draw, draw(st.integers(0, 3)))
    return Case(helper.make_node("ConstantOfShape", ["s"], ["y"]), {}, {"s": _i64(shape)})


def recurrent(draw: st.DrawFn) -> Case:
    """RNN, GRU and LSTM over [seq, batch, input], one or both directions, with or without an initial state."""
    op = draw(st.sampled_from(["RNN", "GRU", "LSTM"]))
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    seq, batch, inp, hidden = (draw(st.integers(1, 4)) for _ in range(4))
    direction = draw(st.sampled_from(["forward", "reverse", "bidirectional"]))
    dirs = 2 if direction == "bidirectional" else 1
    outs = ["y", "y_h"] + (["y_c"] if op == "LSTM" else [])
    node = helper.make_node(op, ["x", "w", "r"], outs, hidden_size=hidden, direction=direction)
    consts = {"w": np.zeros((dirs, gates * hidden, inp), np.float32),
              "r": np.zeros((dirs, gates * hidden, hidden), np.float32)}
    return Case(node, {"x": [seq, batch, inp]}, consts)


def quantized(draw: st.DrawFn) -> Case:
    """QuantizeLinear/DequantizeLinear per tensor and per axis, and DynamicQuantizeLinear."""
    rank = draw(st.integers(1, 4))
    shape = _shape(draw, rank)
    kind = draw(st.sampled_from(["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"]))
    if kind == "DynamicQuantizeLinear":
        return Case(helper.make_node(kind, ["x"], ["y", "scale", "zero"]), {"x": shape})
    axis = draw(st.integers(-rank, rank - 1))
    per_axis = draw(st.booleans())
    scale = np.ones(shape[axis % rank] if per_axis else (), np.float32)
    if kind == "QuantizeLinear":
        return Case(helper.make_node(kind, ["x", "s"], ["y"], axis=axis), {"x": shape}, {"s": scale})
    # DequantizeLinear reads integers: quantise the float input first, in the same graph
    zero = np.zeros(scale.shape, np.uint8)
    q = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=axis)
    node = helper.make_node(kind, ["q", "s", "z"], ["y"], axis=axis)
    return Case(node, {"x": shape}, {"s": scale, "z": zero}, before=(q,))


def vision(draw: st.DrawFn) -> Case:
    """GridSample, RoiAlign, CenterCropPad and AffineGrid: output sizes from a grid, boxes or a target shape."""
    kind = draw(st.sampled_from(["GridSample", "RoiAlign", "CenterCropPad", "AffineGrid"]))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    if kind == "GridSample":
        gh, gw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
        return Case(helper.make_node(kind, ["x", "grid"], ["y"], mode=draw(st.sampled_from(["linear", "nearest"]))),
                    {"x": [n, c, draw(st.integers(1, 6)), draw(st.integers(1, 6))]},
                    {"grid": np.zeros((n, gh, gw, 2), np.float32)}, opset=20)
    if kind == "RoiAlign":
        rois = draw(st.integers(1, 4))
        node = helper.make_node(kind, ["x", "rois", "idx"], ["y"], output_height=draw(st.integers(1, 4)),
                                output_width=draw(st.integers(1, 4)), sampling_ratio=2)
        return Case(node, {"x": [n, c, 8, 8]}, {"rois": np.tile(np.array([0, 0, 4, 4], np.float32), (rois, 1)),
                                                "idx": np.zeros(rois, np.int64)})
    if kind == "CenterCropPad":
        rank = draw(st.integers(1, 3))
        shape = _shape(draw, rank)
        axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
        target = [draw(st.integers(1, 7)) for _ in axes]
        return Case(helper.make_node(kind, ["x", "shape"], ["y"], axes=axes), {"x": shape},
                    {"shape": _i64(target)}, opset=18)
    size = [n, c, draw(st.integers(1, 5)), draw(st.integers(1, 5))]
    return Case(helper.make_node(kind, ["theta", "size"], ["y"]), {"theta": [n, 2, 3]}, {"size": _i64(size)},
                opset=20)


UNARY = ("Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Relu", "Sigmoid", "Tanh", "Erf", "Sin", "Cos", "Tan",
         "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Celu", "Elu", "Selu", "LeakyRelu",
         "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Mish", "Gelu", "Clip", "Round", "Floor", "Ceil",
         "Sign", "IsNaN", "IsInf", "ThresholdedRelu", "Shrink", "Identity", "Dropout")


def unary(draw: st.DrawFn) -> Case:
    """Element-wise ops of one input: the output has the input's shape (and its type, or bool)."""
    op = draw(st.sampled_from(UNARY))
    return Case(helper.make_node(op, ["x"], ["y"]), {"x": _shape(draw, draw(st.integers(0, 4)))}, opset=20)


def logic(draw: st.DrawFn) -> Case:
    """Comparisons (float in, bool out) and boolean logic on their results, broadcasting."""
    rank = draw(st.integers(1, 3))
    base = _shape(draw, rank)
    a = [draw(st.sampled_from([1, d])) for d in base]
    b = [draw(st.sampled_from([1, d])) for d in base][draw(st.integers(0, rank - 1)):]
    compare = draw(st.sampled_from(["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]))
    kind = draw(st.sampled_from(["compare", "And", "Or", "Xor", "Not", "Where"]))
    if kind == "compare":
        return Case(helper.make_node(compare, ["a", "b"], ["y"]), {"a": a, "b": b})
    first = (helper.make_node("Greater", ["a", "b"], ["p"]),)
    if kind == "Not":
        return Case(helper.make_node("Not", ["p"], ["y"]), {"a": a, "b": b}, before=first)
    if kind == "Where":
        return Case(helper.make_node("Where", ["p", "a", "b"], ["y"]), {"a": a, "b": b}, before=first)
    both = (*first, helper.make_node("Less", ["a", "b"], ["q"]))
    return Case(helper.make_node(kind, ["p", "q"], ["y"]), {"a": a, "b": b}, before=both)


MS = "com.microsoft"


def contrib(draw: st.DrawFn) -> Case:
    """onnxruntime's own ops, as its optimizer writes them."""
    kind = draw(st.sampled_from(["FusedMatMul", "SkipLayerNormalization", "BiasGelu", "QuickGelu", "FastGelu"]))
    if kind == "FusedMatMul":
        batch = _shape(draw, draw(st.integers(0, 2)), 1, 3)
        m, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        ta, tb = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        tba = draw(st.integers(0, 1)) if batch else 0
        tbb = draw(st.integers(0, 1)) if batch else 0

        def operand(rows: int, cols: int, trans: int, trans_batch: int) -> list[int]:
            mat = [cols, rows] if trans else [rows, cols]
            if trans_batch:  # the batch dims move after the first matrix dim
                return [mat[0], *batch, mat[1]]
            return [*batch, *mat]

        node = helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, alpha=0.5, transA=ta, transB=tb,
                                transBatchA=tba, transBatchB=tbb)
        return Case(node, {"a": operand(m, k, ta, tba), "b": operand(k, n, tb, tbb)})
    shape = [draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 8))]
    hidden = shape[-1]
    if kind == "SkipLayerNormalization":
        node = helper.make_node(kind, ["x", "skip", "g", "b"], ["y"], domain=MS)
        return Case(node, {"x": shape, "skip": shape}, {"g": np.ones(hidden, np.float32),
                                                        "b": np.zeros(hidden, np.float32)})
    if kind in ("BiasGelu", "FastGelu"):
        return Case(helper.make_node(kind, ["x", "bias"], ["y"], domain=MS), {"x": shape},
                    {"bias": np.zeros(hidden, np.float32)})
    return Case(helper.make_node(kind, ["x"], ["y"], domain=MS, alpha=1.702), {"x": shape})


def sequences(draw: st.DrawFn) -> Case:
    """A sequence built by SequenceConstruct, SplitToSequence (equal pieces) or SequenceInsert into an empty
    one, then read by SequenceAt, SequenceLength or ConcatFromSequence."""
    shape = _shape(draw, draw(st.integers(1, 3)), 1, 5)
    rank, make = len(shape), draw(st.sampled_from(["construct", "split", "insert"]))
    constants: dict[str, np.ndarray] = {}
    if make == "construct":
        length = draw(st.integers(1, 3))
        before = [helper.make_node("SequenceConstruct", ["x"] * length, ["s"])]
        element = shape
    elif make == "split":
        axis = draw(st.integers(-rank, rank - 1))
        dim, keep = shape[axis], draw(st.integers(0, 1))
        piece = draw(st.sampled_from([d for d in range(1, dim + 1) if dim % d == 0]))
        how = draw(st.sampled_from(["none", "scalar", "list"]))
        ins = ["x"] if how == "none" else ["x", "split"]
        if how == "scalar":
            constants["split"] = np.array(piece, np.int64)
        elif how == "list":
            constants["split"] = _i64([piece] * (dim // piece))
        before = [helper.make_node("SplitToSequence", ins, ["s"], axis=axis, keepdims=keep)]
        length = dim if how == "none" else dim // piece
        element = list(shape)
        if how in ("none", "scalar") and not keep and (how == "none" or piece == 1):
            del element[axis]
        else:
            element[axis] = 1 if how == "none" else piece
    else:
        length = draw(st.integers(1, 3))
        before = [helper.make_node("SequenceEmpty", [], ["s0"], dtype=F)]
        before += [helper.make_node("SequenceInsert", [f"s{k}", "x"], [f"s{k + 1}"]) for k in range(length)]
        before[-1].output[0] = "s"
        element = shape
    if length > 1 and draw(st.booleans()):  # erase one element first
        before = [*before, helper.make_node("SequenceErase", ["s", "erase_at"], ["s_left"])]
        constants["erase_at"] = np.array(draw(st.integers(-length, length - 1)), np.int64)
        for n in before[:-1]:
            n.output[:] = ["s_all" if o == "s" else o for o in n.output]
        before[-1].input[0], before[-1].output[0] = "s_all", "s"
        length -= 1
    read = draw(st.sampled_from(["at", "length", "concat", "sequence"]))
    if read == "sequence":  # the sequence itself is the output: its length and element shape are compared
        if make == "insert" and draw(st.booleans()):
            return Case(before[0], {})  # SequenceEmpty
        return Case(before[-1], {"x": shape}, constants, before=tuple(before[:-1]))
    if read == "at":
        constants["pos"] = np.array(draw(st.integers(-length, length - 1)), np.int64)
        node = helper.make_node("SequenceAt", ["s", "pos"], ["y"])
    elif read == "length":
        node = helper.make_node("SequenceLength", ["s"], ["y"])
    else:
        new_axis = draw(st.integers(0 if element else 1, 1))  # scalars only stack
        out_rank = len(element) + new_axis
        node = helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=draw(st.integers(-out_rank, out_rank - 1)),
                                new_axis=new_axis)
    return Case(node, {"x": shape}, constants, before=tuple(before))


def tensor_misc(draw: st.DrawFn) -> Case:
    """Shape and Size, casts and clips, scatters, cumulative products, reversals, compressions, integer and
    bitwise ops (on a cast input), normalisation over axes, determinants and column-to-image."""
    shape = _shape(draw, draw(st.integers(1, 4)))
    rank = len(shape)
    kind = draw(st.sampled_from(["Shape", "Size", "Cast", "Clip", "EyeLike", "CumProd", "ReverseSequence",
                                 "ScatterElements", "Scatter", "ScatterND", "Compress", "MeanVarianceNormalization",
                                 "BitShift", "Bitwise", "Det", "Col2Im"]))
    if kind == "Shape":
        start, end = draw(st.integers(-rank - 1, rank + 1)), draw(st.integers(-rank - 1, rank + 1))
        return Case(helper.make_node("Shape", ["x"], ["y"], start=start, end=end), {"x": shape}, opset=21)
    if kind == "Size":
        return Case(helper.make_node("Size", ["x"], ["y"]), {"x": shape})
    if kind == "Cast":
        to = draw(st.sampled_from([TensorProto.INT64, TensorProto.INT8, TensorProto.DOUBLE, TensorProto.BOOL,
                                   TensorProto.FLOAT16, TensorProto.UINT8]))
        return Case(helper.make_node("Cast", ["x"], ["y"], to=to), {"x": shape}, opset=21)
    if kind == "Clip":
        ins = ["x", "lo", "hi"][:draw(st.integers(1, 3))]
        return Case(helper.make_node("Clip", ins, ["y"]), {"x": shape},
                    {k: np.array(v, np.float32) for k, v in (("lo", -1.0), ("hi", 1.0)) if k in ins})
    if kind == "EyeLike":
        return Case(helper.make_node("EyeLike", ["x"], ["y"], k=draw(st.integers(-2, 2))), {"x": shape[:1] * 2})
    if kind == "CumProd":
        axis = draw(st.integers(-rank, rank - 1))
        return Case(helper.make_node("CumProd", ["x", "axis"], ["y"], exclusive=draw(st.integers(0, 1))),
                    {"x": shape}, {"axis": np.array(axis, np.int64)}, opset=26)
    if kind == "ReverseSequence":
        seq, batch = _shape(draw, 2)
        lens = [draw(st.integers(1, seq)) for _ in range(batch)]
        return Case(helper.make_node("ReverseSequence", ["x", "lens"], ["y"], time_axis=0, batch_axis=1),
                    {"x": [seq, batch, *shape[:1]]}, {"lens": _i64(lens)})
    if kind == "ScatterElements":
        axis = draw(st.integers(-rank, rank - 1))
        idx = [draw(st.integers(1, d)) for d in shape]
        return Case(helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=axis), {"x": shape, "u": idx},
                    {"i": np.zeros(idx, np.int64)}, opset=18)
    if kind == "Scatter":  # ScatterElements' name before opset 11
        idx = [draw(st.integers(1, d)) for d in shape]
        return Case(helper.make_node("Scatter", ["x", "i", "u"], ["y"], axis=draw(st.integers(0, rank - 1))),
                    {"x": shape, "u": idx}, {"i": np.zeros(idx, np.int64)}, opset=10)
    if kind == "ScatterND":
        k = draw(st.integers(1, rank))
        n = draw(st.integers(1, 3))
        return Case(helper.make_node("ScatterND", ["x", "i", "u"], ["y"]), {"x": shape, "u": [n, *shape[k:]]},
                    {"i": np.zeros((n, k), np.int64)})
    if kind == "Compress":
        along = draw(st.one_of(st.none(), st.integers(-rank, rank - 1)))
        length = math.prod(shape) if along is None else shape[along]
        keep = draw(st.lists(st.booleans(), min_size=1, max_size=length))
        attrs: dict[str, Any] = {} if along is None else {"axis": along}
        return Case(helper.make_node("Compress", ["x", "c"], ["y"], **attrs), {"x": shape},
                    {"c": np.array(keep, bool)})
    if kind == "MeanVarianceNormalization":
        axes = sorted(set(draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank))))
        return Case(helper.make_node(kind, ["x"], ["y"], axes=axes), {"x": shape})
    if kind in ("BitShift", "Bitwise"):
        ints = (helper.make_node("Cast", ["a"], ["ia"], to=TensorProto.UINT8),
                helper.make_node("Cast", ["b"], ["ib"], to=TensorProto.UINT8))
        other = [draw(st.sampled_from([1, d])) for d in shape][draw(st.integers(0, rank - 1)):]
        if kind == "BitShift":
            node = helper.make_node("BitShift", ["ia", "ib"], ["y"], direction=draw(st.sampled_from(["LEFT", "RIGHT"])))
        else:
            op = draw(st.sampled_from(["BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot"]))
            node = helper.make_node(op, ["ia"] if op == "BitwiseNot" else ["ia", "ib"], ["y"])
        return Case(node, {"a": shape, "b": other}, opset=18, before=ints)
    if kind == "Det":
        n = draw(st.integers(1, 4))
        return Case(helper.make_node("Det", ["x"], ["y"]), {"x": [*shape[:draw(st.integers(0, 2))], n, n]})
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    h, w = draw(st.integers(k, 7)), draw(st.integers(k, 7))
    blocks = ((h - k) // s + 1) * ((w - k) // s + 1)
    return Case(helper.make_node("Col2Im", ["x", "image", "block"], ["y"], strides=[s, s]),
                {"x": [1, 2 * k * k, blocks]}, {"image": _i64([h, w]), "block": _i64([k, k])}, opset=18)


def attention_norm(draw: st.DrawFn) -> Case:
    """Attention, rotary embeddings, RMS/skip/embed layer norms and fused activations as onnxruntime's
    transformer optimizer and the opset-23 exporters write them."""
    kind = draw(st.sampled_from(["Attention", "MultiHeadAttention", "GroupQueryAttention", "RotaryEmbedding",
                                 "SkipSimplifiedLayerNormalization", "SimplifiedLayerNormalization",
                                 "RMSNormalization", "EmbedLayerNormalization", "Gelu", "FusedGemm",
                                 "TransposeMatMul", "FusedConv", "Attention23"]))
    b, seq, heads, head = draw(st.integers(1, 2)), draw(st.integers(1, 5)), draw(st.integers(1, 3)), 4
    hidden = heads * head
    ones = np.ones
    if kind == "Attention":
        node = helper.make_node(kind, ["x", "w", "bias"], ["y"], domain=MS, num_heads=heads)
        return Case(node, {"x": [b, seq, hidden]}, {"w": ones((hidden, 3 * hidden), np.float32),
                                                     "bias": ones(3 * hidden, np.float32)})
    if kind == "MultiHeadAttention":
        kv, v_head = draw(st.integers(1, 5)), draw(st.sampled_from([4, 8]))
        node = helper.make_node(kind, ["q", "k", "v"], ["y"], domain=MS, num_heads=heads)
        return Case(node, {"q": [b, seq, hidden], "k": [b, kv, hidden], "v": [b, kv, heads * v_head]})
    if kind == "GroupQueryAttention":  # onnxruntime's CPU kernel wants a head size that is a multiple of 8
        head, hidden = 8, heads * 8
        kv_heads = draw(st.sampled_from([d for d in range(1, heads + 1) if heads % d == 0]))
        past = draw(st.integers(0, 4))
        node = helper.make_node(kind, ["q", "k", "v", "pk", "pv", "lens", "total"], ["y", "present_k", "present_v"],
                                domain=MS, num_heads=heads, kv_num_heads=kv_heads)
        return Case(node, {"q": [b, seq, hidden], "k": [b, seq, kv_heads * head], "v": [b, seq, kv_heads * head],
                           "pk": [b, kv_heads, past, head], "pv": [b, kv_heads, past, head]},
                    {"lens": np.full(b, past + seq - 1, np.int32), "total": np.array(past + seq, np.int32)})
    if kind == "RotaryEmbedding":
        interleaved = draw(st.integers(0, 1))
        node = helper.make_node(kind, ["x", "pos", "cos", "sin"], ["y"], domain=MS, interleaved=interleaved,
                                num_heads=heads)
        return Case(node, {"x": [b, seq, hidden]}, {"pos": np.zeros((b, seq), np.int64),
                                                     "cos": ones((16, head // 2), np.float32),
                                                     "sin": ones((16, head // 2), np.float32)})
    if kind == "SkipSimplifiedLayerNormalization":
        node = helper.make_node(kind, ["x", "skip", "g"], ["y"], domain=MS)
        return Case(node, {"x": [b, seq, hidden], "skip": [b, seq, hidden]}, {"g": ones(hidden, np.float32)})
    if kind in ("SimplifiedLayerNormalization", "RMSNormalization"):
        shape = [b, seq, hidden]
        axis = draw(st.integers(-3, -1))
        node = helper.make_node(kind, ["x", "g"], ["y"], axis=axis)
        return Case(node, {"x": shape}, {"g": ones(shape[axis:], np.float32)}, opset=23)
    if kind == "EmbedLayerNormalization":
        node = helper.make_node(kind, ["ids", "segs", "word", "pos", "seg", "g", "beta"], ["y", "mask"], domain=MS)
        return Case(node, {"dummy": [1]}, {"ids": np.zeros((b, seq), np.int32), "segs": np.zeros((b, seq), np.int32),
                                           "word": ones((10, hidden), np.float32), "pos": ones((8, hidden), np.float32),
                                           "seg": ones((2, hidden), np.float32), "g": ones(hidden, np.float32),
                                           "beta": ones(hidden, np.float32)}, out_types=(F, TensorProto.INT32))
    if kind == "Gelu":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=MS), {"x": _shape(draw, draw(st.integers(1, 4)))})
    if kind in ("FusedGemm", "TransposeMatMul"):
        m, k, n = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
        ta, tb = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        a, w = ([k, m] if ta else [m, k]), ([n, k] if tb else [k, n])
        if kind == "TransposeMatMul":
            return Case(helper.make_node(kind, ["a", "w"], ["y"], domain=MS, transA=ta, transB=tb), {"a": a, "w": w})
        node = helper.make_node(kind, ["a", "w", "c"], ["y"], domain=MS, transA=ta, transB=tb, activation="Relu")
        return Case(node, {"a": a, "w": w, "c": [n]})
    if kind == "FusedConv":
        c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        hw, stride = draw(st.integers(k, 7)), draw(st.integers(1, 2))
        node = helper.make_node(kind, ["x", "w", "bias"], ["y"], domain=MS, activation="Relu", kernel_shape=[k, k],
                                strides=[stride] * 2, pads=[draw(st.integers(0, k - 1))] * 4)
        return Case(node, {"x": [1, c_in, hw, hw]}, {"w": ones((c_out, c_in, k, k), np.float32),
                                                      "bias": ones(c_out, np.float32)})
    kv_len, v_head = draw(st.integers(1, 5)), draw(st.sampled_from([4, 8]))
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], is_causal=draw(st.integers(0, 1)))
    return Case(node, {"q": [b, heads, seq, head], "k": [b, heads, kv_len, head], "v": [b, heads, kv_len, v_head]},
                opset=23)


def signal_random(draw: st.DrawFn) -> Case:
    """Spectral ops and windows, random generators, and the older or rarer spatial ops (Upsample, MaxUnpool,
    MaxRoiPool, DeformConv) and opset 23's RotaryEmbedding and TensorScatter."""
    kind = draw(st.sampled_from(["DFT", "STFT", "Window", "MelWeightMatrix", "Random", "RandomLike", "Multinomial",
                                 "Upsample", "MaxUnpool", "MaxRoiPool", "DeformConv", "RotaryEmbedding",
                                 "TensorScatter"]))
    if kind == "DFT":
        n, complex_in = draw(st.integers(2, 8)), draw(st.integers(0, 1))
        onesided, inverse = draw(st.integers(0, 1)), 0
        consts: dict[str, np.ndarray] = {"axis": np.array(1, np.int64)}
        ins = ["x", "", "axis"]
        if draw(st.booleans()):
            consts["len"] = np.array(draw(st.integers(1, 10)), np.int64)
            ins[1] = "len"
        node = helper.make_node("DFT", ins, ["y"], onesided=onesided, inverse=inverse)
        return Case(node, {"x": [draw(st.integers(1, 2)), n, 1 + complex_in]}, consts, opset=20)
    if kind == "STFT":
        length, frame, step = draw(st.integers(4, 16)), draw(st.integers(2, 4)), draw(st.integers(1, 3))
        node = helper.make_node("STFT", ["x", "step", "", "frame"], ["y"], onesided=draw(st.integers(0, 1)))
        return Case(node, {"x": [1, length, 1]}, {"step": np.array(step, np.int64), "frame": np.array(frame, np.int64)})
    if kind == "Window":
        op = draw(st.sampled_from(["HannWindow", "HammingWindow", "BlackmanWindow"]))
        node = helper.make_node(op, ["size"], ["y"], periodic=draw(st.integers(0, 1)))
        return Case(node, {}, {"size": np.array(draw(st.integers(1, 10)), np.int64)})
    if kind == "MelWeightMatrix":
        dft = draw(st.integers(4, 32))
        node = helper.make_node(kind, ["bins", "dft", "rate", "lo", "hi"], ["y"])
        return Case(node, {}, {"bins": np.array(draw(st.integers(1, 8)), np.int64), "dft": np.array(dft, np.int64),
                               "rate": np.array(16000, np.int64), "lo": np.array(0.0, np.float32),
                               "hi": np.array(8000.0, np.float32)})
    shape = _shape(draw, draw(st.integers(1, 4)))
    if kind == "Random":
        op = draw(st.sampled_from(["RandomNormal", "RandomUniform"]))
        return Case(helper.make_node(op, [], ["y"], shape=shape, seed=1.0), {})
    if kind == "RandomLike":
        op = draw(st.sampled_from(["RandomNormalLike", "RandomUniformLike"]))
        return Case(helper.make_node(op, ["x"], ["y"], seed=1.0), {"x": shape})
    if kind == "Multinomial":
        node = helper.make_node(kind, ["x"], ["y"], sample_size=draw(st.integers(1, 4)), seed=1.0)
        return Case(node, {"x": shape[:1] + [draw(st.integers(1, 5))]})
    if kind == "Upsample":
        scales = [1.0, 1.0, float(draw(st.integers(1, 3))), float(draw(st.integers(1, 3)))]
        node = helper.make_node(kind, ["x", "scales"], ["y"], mode=draw(st.sampled_from(["nearest", "linear"])))
        return Case(node, {"x": [1, 2, *_shape(draw, 2)]}, {"scales": np.array(scales, np.float32)}, opset=9)
    if kind == "MaxUnpool":
        k, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        hw = draw(st.integers(1, 5))
        node = helper.make_node(kind, ["x", "i"], ["y"], kernel_shape=[k, k], strides=[stride, stride])
        return Case(node, {"x": [1, 2, hw, hw]}, {"i": np.zeros((1, 2, hw, hw), np.int64)})
    if kind == "MaxRoiPool":
        rois = draw(st.integers(1, 3))
        pooled = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        node = helper.make_node(kind, ["x", "rois"], ["y"], pooled_shape=pooled)
        return Case(node, {"x": [1, 2, 6, 6]}, {"rois": np.array([[0, 0, 0, 3, 3]] * rois, np.float32)})
    if kind == "DeformConv":
        c_in, c_out, k = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        hw, stride = draw(st.integers(k, 6)), draw(st.integers(1, 2))
        out = (hw - k) // stride + 1
        node = helper.make_node(kind, ["x", "w", "offset"], ["y"], kernel_shape=[k, k], strides=[stride, stride])
        return Case(node, {"x": [1, c_in, hw, hw], "offset": [1, 2 * k * k, out, out]},
                    {"w": np.ones((c_out, c_in, k, k), np.float32)}, opset=19)
    if kind == "RotaryEmbedding":
        b, heads, seq, head = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 4)), 4
        node = helper.make_node(kind, ["x", "cos", "sin"], ["y"], interleaved=draw(st.integers(0, 1)))
        return Case(node, {"x": [b, heads, seq, head], "cos": [b, seq, head // 2], "sin": [b, seq, head // 2]},
                    opset=23)
    b, heads, cache, head, new = draw(st.integers(1, 2)), draw(st.integers(1, 2)), 6, 4, draw(st.integers(1, 3))
    node = helper.make_node("TensorScatter", ["past", "update", "index"], ["y"], axis=-2)
    return Case(node, {"past": [b, heads, cache, head], "update": [b, heads, new, head]},
                {"index": np.zeros(b, np.int64)}, opset=24)


def data_dependent(draw: st.DrawFn) -> Case:
    """Ops whose output size is the data's (NonZero, Unique, NonMaxSuppression): onnxcost says unknown or
    the right size, never a wrong one."""
    shape = _shape(draw, draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["NonZero", "Unique", "UniqueMS", "NonMaxSuppression"]))
    if kind == "NonZero":
        return Case(helper.make_node(kind, ["x"], ["y"]), {"x": shape}, data_dependent=True)
    if kind == "Unique":
        attrs: dict[str, Any] = {"sorted": draw(st.integers(0, 1))}
        if draw(st.booleans()):
            attrs["axis"] = draw(st.integers(-len(shape), len(shape) - 1))
        node = helper.make_node(kind, ["x"], ["y", "idx", "inv", "counts"], **attrs)
        return Case(node, {"x": shape}, opset=11, data_dependent=True)
    if kind == "UniqueMS":
        node = helper.make_node("Unique", ["x"], ["y", "idx", "counts"], domain=MS)
        return Case(node, {"x": shape[:1]}, data_dependent=True, out_types=(F, TensorProto.INT64, TensorProto.INT64))
    boxes, classes = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    node = helper.make_node(kind, ["b", "s", "most"], ["y"])
    return Case(node, {"b": [1, boxes, 4], "s": [1, classes, boxes]}, {"most": np.array(draw(st.integers(0, 4)),
                                                                                         np.int64)},
                data_dependent=True)


def control_flow(draw: st.DrawFn) -> Case:
    """If on a constant condition with branches of different shapes, a Loop of constant count carrying a
    state and stacking a scan output, a Scan over a sequence axis."""
    shape = _shape(draw, draw(st.integers(1, 3)))
    kind = draw(st.sampled_from(["If", "Loop", "Scan"]))
    out = helper.make_tensor_value_info("o", F, None)
    if kind == "If":
        then = helper.make_graph([helper.make_node("Identity", ["x"], ["o"])], "then", [], [out])
        other = helper.make_graph([helper.make_node("ReduceSum", ["x"], ["o"], keepdims=0)], "else", [], [out])
        node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)
        return Case(node, {"x": shape}, {"c": np.array(draw(st.booleans()))})
    if kind == "Loop":
        body = helper.make_graph(
            [helper.make_node("Identity", ["cond"], ["cond_out"]), helper.make_node("Add", ["s", "x"], ["s_out"]),
             helper.make_node("ReduceSum", ["s_out"], ["scan"], keepdims=draw(st.integers(0, 1)))], "body",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("cond", TensorProto.BOOL, []), helper.make_tensor_value_info("s", F, None)],
            [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
             helper.make_tensor_value_info("s_out", F, None), helper.make_tensor_value_info("scan", F, None)])
        node = helper.make_node("Loop", ["m", "t", "x"], ["y", "ys"], body=body)
        return Case(node, {"x": shape}, {"m": np.array(draw(st.integers(0, 4)), np.int64), "t": np.array(True)})
    body = helper.make_graph(
        [helper.make_node("Add", ["s", "xi"], ["s_out"]), helper.make_node("Identity", ["s_out"], ["yi"])], "body",
        [helper.make_tensor_value_info("s", F, None), helper.make_tensor_value_info("xi", F, None)],
        [helper.make_tensor_value_info("s_out", F, None), helper.make_tensor_value_info("yi", F, None)])
    node = helper.make_node("Scan", ["s0", "x"], ["y", "ys"], body=body, num_scan_inputs=1)
    return Case(node, {"s0": shape[1:], "x": shape})


U8 = TensorProto.UINT8


def _quantized(name: str) -> tuple[onnx.NodeProto, dict[str, np.ndarray]]:
    """QuantizeLinear of float input `name` to uint8 `name`q, with its scale and zero point constants."""
    node = helper.make_node("QuantizeLinear", [name, f"{name}_s", f"{name}_z"], [f"{name}q"])
    return node, {f"{name}_s": np.array(0.1, np.float32), f"{name}_z": np.array(128, np.uint8)}


def quantized_contraction(draw: st.DrawFn) -> Case:
    """Integer and quantised contractions and element-wise ops, default domain and com.microsoft, on uint8
    activations (quantised in the graph) and constant uint8/int8 weights."""
    kind = draw(st.sampled_from(["MatMulInteger", "QLinearMatMul", "ConvInteger", "QLinearConv",
                                 "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QGemm", "MatMulNBits",
                                 "QLinearBinary", "QLinearUnary", "QLinearPool", "QLinearConcat"]))
    quant, consts = _quantized("a")
    zero = np.array(128, np.uint8)
    if kind in ("MatMulInteger", "QLinearMatMul", "MatMulIntegerToFloat", "DynamicQuantizeMatMul", "QGemm",
                "MatMulNBits"):
        m, k, n = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 5))
        batch = _shape(draw, draw(st.integers(0, 2)), 1, 3) if kind not in ("QGemm",) else []
        w = np.full((k, n), 128, np.uint8)
        if kind == "MatMulInteger":
            node = helper.make_node(kind, ["aq", "w", "a_z", "w_z"], ["y"])
            return Case(node, {"a": [*batch, m, k]}, {**consts, "w": w, "w_z": zero}, before=(quant,))
        if kind == "QLinearMatMul":
            node = helper.make_node(kind, ["aq", "a_s", "a_z", "w", "a_s", "a_z", "a_s", "a_z"], ["y"])
            return Case(node, {"a": [*batch, m, k]}, {**consts, "w": w}, before=(quant,))
        if kind == "MatMulIntegerToFloat":
            node = helper.make_node(kind, ["aq", "w", "a_s", "a_s", "a_z", "a_z"], ["y"], domain=MS)
            return Case(node, {"a": [*batch, m, k]}, {**consts, "w": w}, before=(quant,))
        if kind == "DynamicQuantizeMatMul":
            node = helper.make_node(kind, ["a", "w", "a_s", "a_z"], ["y"], domain=MS)
            return Case(node, {"a": [*batch, m, k]}, {**consts, "w": w})
        if kind == "QGemm":
            ta, tb = draw(st.integers(0, 1)), draw(st.integers(0, 1))
            node = helper.make_node(kind, ["aq", "a_s", "a_z", "w", "a_s", "a_z"], ["y"], domain=MS, transA=ta,
                                    transB=tb)
            a = [k, m] if ta else [m, k]
            wt = np.full((n, k) if tb else (k, n), 128, np.uint8)
            return Case(node, {"a": a}, {**consts, "w": wt}, before=(quant,))
        block = draw(st.sampled_from([16, 32]))
        k = block * draw(st.integers(1, 3))
        blocks = k // block
        node = helper.make_node(kind, ["a", "w", "ws"], ["y"], domain=MS, K=k, N=n, bits=4, block_size=block)
        return Case(node, {"a": [*batch, m, k]}, {"w": np.zeros((n, blocks, block // 2), np.uint8),
                                                   "ws": np.ones(n * blocks, np.float32)})
    if kind in ("ConvInteger", "QLinearConv"):
        c_in, c_out, kk = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        hw, stride = draw(st.integers(kk, 7)), draw(st.integers(1, 2))
        pads = [draw(st.integers(0, kk - 1))] * 4
        w = np.full((c_out, c_in, kk, kk), 128, np.uint8)
        attrs: dict[str, Any] = {"strides": [stride] * 2, "pads": pads}
        if kind == "ConvInteger":
            node = helper.make_node(kind, ["aq", "w", "a_z", "a_z"], ["y"], **attrs)
        else:
            node = helper.make_node(kind, ["aq", "a_s", "a_z", "w", "a_s", "a_z", "a_s", "a_z"], ["y"], **attrs)
        return Case(node, {"a": [1, c_in, hw, hw]}, {**consts, "w": w}, before=(quant,))
    shape = _shape(draw, draw(st.integers(1, 4)))
    if kind == "QLinearBinary":
        other = [draw(st.sampled_from([1, d])) for d in shape][draw(st.integers(0, len(shape) - 1)):]
        quant_b, consts_b = _quantized("b")
        op = draw(st.sampled_from(["QLinearAdd", "QLinearMul"]))
        node = helper.make_node(op, ["aq", "a_s", "a_z", "bq", "b_s", "b_z", "a_s", "a_z"], ["y"], domain=MS)
        return Case(node, {"a": shape, "b": other}, {**consts, **consts_b}, before=(quant, quant_b), out_types=(U8,))
    if kind == "QLinearUnary":
        op = draw(st.sampled_from(["QLinearSigmoid", "QLinearLeakyRelu"]))
        node = helper.make_node(op, ["aq", "a_s", "a_z", "a_s", "a_z"], ["y"], domain=MS)
        return Case(node, {"a": shape}, consts, before=(quant,), out_types=(U8,))
    if kind == "QLinearPool":
        hw = draw(st.integers(2, 6))
        if draw(st.booleans()):
            node = helper.make_node("QLinearGlobalAveragePool", ["aq", "a_s", "a_z", "a_s", "a_z"], ["y"],
                                    domain=MS, channels_last=0)
        else:
            k = draw(st.integers(1, hw))
            node = helper.make_node("QLinearAveragePool", ["aq", "a_s", "a_z", "a_s", "a_z"], ["y"], domain=MS,
                                    kernel_shape=[k, k], strides=[draw(st.integers(1, 2))] * 2)
        return Case(node, {"a": [1, 2, hw, hw]}, consts, before=(quant,), out_types=(U8,))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = draw(st.integers(1, 4))
    quant_b, consts_b = _quantized("b")
    node = helper.make_node("QLinearConcat", ["a_s", "a_z", "aq", "a_s", "a_z", "bq", "b_s", "b_z"], ["y"],
                            domain=MS, axis=axis)
    return Case(node, {"a": shape, "b": other}, {**consts, **consts_b}, before=(quant, quant_b), out_types=(U8,))


ML = "ai.onnx.ml"


def classical_ml(draw: st.DrawFn) -> Case:
    """ai.onnx.ml ops as skl2onnx writes them, on a [samples, features] float input."""
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["Normalizer", "Scaler", "Binarizer", "LinearRegressor", "LinearClassifier",
                                 "ArrayFeatureExtractor", "Imputer", "SVMRegressor"]))
    x = {"x": [rows, cols]}
    if kind == "Normalizer":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, norm=draw(st.sampled_from(["L1", "L2", "MAX"]))),
                    x)
    if kind == "Scaler":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, offset=[0.5] * cols, scale=[2.0] * cols), x)
    if kind == "Binarizer":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, threshold=0.5), x)
    if kind == "Imputer":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, imputed_value_floats=[0.0] * cols,
                                     replaced_value_float=-1.0), x)
    targets = draw(st.integers(1, 3))
    if kind == "LinearRegressor":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, coefficients=[0.1] * (cols * targets),
                                     intercepts=[0.0] * targets, targets=targets), x)
    if kind == "LinearClassifier":
        classes = max(targets, 2)
        n_coef = classes if classes > 2 or draw(st.booleans()) else 1
        return Case(helper.make_node(kind, ["x"], ["label", "y"], domain=ML, coefficients=[0.1] * (cols * n_coef),
                                     intercepts=[0.0] * n_coef, classlabels_ints=list(range(classes))), x)
    if kind == "SVMRegressor":
        vectors = draw(st.integers(1, 3))
        return Case(helper.make_node(kind, ["x"], ["y"], domain=ML, coefficients=[1.0] * vectors, rho=[0.0],
                                     support_vectors=[0.5] * (vectors * cols), n_supports=vectors,
                                     kernel_type=draw(st.sampled_from(["LINEAR", "RBF", "POLY"])),
                                     kernel_params=[0.1, 0.0, 2.0]), x)
    picks = draw(st.lists(st.integers(0, cols - 1), min_size=1, max_size=3))
    return Case(helper.make_node(kind, ["x", "i"], ["y"], domain=ML), x, {"i": _i64(picks)})


def _tree_attrs(draw: st.DrawFn, cols: int, outputs: int, kind: str) -> dict[str, Any]:
    """One decision stump per tree (a root split on a feature, two leaves), each leaf feeding every output."""
    trees = draw(st.integers(1, 3))
    attrs: dict[str, Any] = {
        "nodes_treeids": [t for t in range(trees) for _ in range(3)], "nodes_nodeids": [0, 1, 2] * trees,
        "nodes_featureids": [draw(st.integers(0, cols - 1)) if k == 0 else 0 for _ in range(trees) for k in range(3)],
        "nodes_values": [0.5, 0.0, 0.0] * trees, "nodes_modes": ["BRANCH_LEQ", "LEAF", "LEAF"] * trees,
        "nodes_truenodeids": [1, 0, 0] * trees, "nodes_falsenodeids": [2, 0, 0] * trees}
    leaves = [(t, leaf, o) for t in range(trees) for leaf in (1, 2) for o in range(outputs)]
    prefix = "class" if kind == "TreeEnsembleClassifier" else "target"
    attrs.update({f"{prefix}_treeids": [t for t, _, _ in leaves], f"{prefix}_nodeids": [n for _, n, _ in leaves],
                  f"{prefix}_ids": [o for _, _, o in leaves], f"{prefix}_weights": [0.5] * len(leaves)})
    if kind == "TreeEnsembleClassifier":
        attrs["classlabels_int64s"] = list(range(max(outputs, 2)))
    else:
        attrs["n_targets"] = outputs
    return attrs


def classical_ml_more(draw: st.DrawFn) -> Case:
    """Tree ensembles, the SVM classifier and the encoders, as skl2onnx and onnxmltools write them."""
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["TreeEnsembleRegressor", "TreeEnsembleClassifier", "SVMClassifier", "LabelEncoder",
                                 "OneHotEncoder", "FeatureVectorizer", "CategoryMapper"]))
    x = {"x": [rows, cols]}
    if kind == "TreeEnsembleRegressor":
        node = helper.make_node(kind, ["x"], ["y"], domain=ML, **_tree_attrs(draw, cols, draw(st.integers(1, 3)), kind))
        return Case(node, x)
    if kind == "TreeEnsembleClassifier":
        classes = draw(st.integers(2, 4))
        node = helper.make_node(kind, ["x"], ["label", "y"], domain=ML, **_tree_attrs(draw, cols, classes, kind))
        return Case(node, x)
    if kind == "SVMClassifier":
        classes, vectors = 2, draw(st.integers(1, 3))
        node = helper.make_node(kind, ["x"], ["label", "y"], domain=ML, classlabels_ints=[0, 1],
                                coefficients=[1.0] * vectors, rho=[0.0], support_vectors=[0.5] * (vectors * cols),
                                vectors_per_class=[vectors - vectors // 2, vectors // 2] if vectors > 1 else [1, 0],
                                kernel_type=draw(st.sampled_from(["LINEAR", "RBF"])), kernel_params=[0.1, 0.0, 2.0])
        return Case(node, x, out_types=(TensorProto.INT64, F))
    if kind == "LabelEncoder":
        node = helper.make_node(kind, ["x"], ["y"], domain=ML, keys_floats=[1.0, 2.0], values_floats=[10.0, 20.0],
                                default_float=-1.0)
        return Case(node, x)
    if kind == "OneHotEncoder":
        node = helper.make_node(kind, ["x"], ["y"], domain=ML, cats_int64s=list(range(draw(st.integers(1, 4)))),
                                zeros=1)
        return Case(node, x)
    if kind == "FeatureVectorizer":
        widths = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 3)))]
        ins = [f"x{k}" for k in range(len(widths))]
        node = helper.make_node(kind, ins, ["y"], domain=ML, inputdimensions=widths)
        return Case(node, {name: [rows, w] for name, w in zip(ins, widths, strict=True)})
    if kind == "CategoryMapper":
        words = np.array([["a", "b", "c"][k % 3] for k in range(rows * cols)], dtype=object).reshape(rows, cols)
        node = helper.make_node(kind, ["w"], ["y"], domain=ML, cats_strings=["a", "b"], cats_int64s=[1, 2],
                                default_int64=0)
        return Case(node, {}, {"w": words})
    raise AssertionError(kind)  # (ZipMap's sequence of maps is no tensor this harness can declare; the corpus's
    # LightGBM export covers it)


def strings_optionals(draw: st.DrawFn) -> Case:
    """String ops on constant string tensors, and optionals wrapped around a tensor."""
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    words = np.array([["ab cd", "e", "fg h i"][k % 3] for k in range(rows * cols)], dtype=object).reshape(rows, cols)
    kind = draw(st.sampled_from(["StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch",
                                 "OptionalGetElement", "OptionalHasElement", "Optional"]))
    if kind == "StringConcat":
        other = words[:1] if draw(st.booleans()) else words
        return Case(helper.make_node(kind, ["w", "v"], ["y"]), {}, {"w": words, "v": other}, opset=20)
    if kind == "StringNormalizer":
        # the C locale: onnxruntime's default (en_US.UTF-8) need not be installed
        node = helper.make_node(kind, ["w"], ["y"], case_change_action="LOWER", stopwords=["e"], locale="C")
        return Case(node, {}, {"w": words[:1]}, data_dependent=True)
    if kind == "StringSplit":
        node = helper.make_node(kind, ["w"], ["y", "n"], delimiter=" ")
        return Case(node, {}, {"w": words}, opset=20, data_dependent=True)
    if kind == "RegexFullMatch":
        return Case(helper.make_node(kind, ["w"], ["y"], pattern="a.*"), {}, {"w": words}, opset=20)
    wrap = helper.make_node("Optional", ["x"], ["o"])
    if kind == "Optional":
        return Case(wrap, {"x": [rows, cols]}, opset=18)
    return Case(helper.make_node(kind, ["o"], ["y"]), {"x": [rows, cols]}, opset=18, before=(wrap,))


def contrib_twins(draw: st.DrawFn) -> Case:
    """com.microsoft's versions of default-domain ops, and its small math ops (Inverse, CDist, ExpandDims)."""
    kind = draw(st.sampled_from(["GatherND", "Pad", "Range", "Trilu", "ExpandDims", "QuantizeLinear",
                                 "DequantizeLinear", "GridSample", "Inverse", "CDist", "MatMulInteger16",
                                 "QLinearSoftmax", "NhwcMaxPool"]))
    shape = _shape(draw, draw(st.integers(2, 3)), 1, 5)
    if kind == "GatherND":
        k = draw(st.integers(1, len(shape)))
        n = draw(st.integers(1, 3))
        return Case(helper.make_node(kind, ["x", "i"], ["y"], domain=MS), {"x": shape},
                    {"i": np.zeros((n, k), np.int64)})
    if kind == "Pad":
        pads = [draw(st.integers(0, 2)) for _ in range(2 * len(shape))]
        return Case(helper.make_node(kind, ["x", "p"], ["y"], domain=MS), {"x": shape}, {"p": _i64(pads)})
    if kind == "Range":
        start, delta = draw(st.integers(-3, 3)), draw(st.sampled_from([-2, -1, 1, 2, 3]))
        limit = draw(st.integers(-6, 6))
        return Case(helper.make_node(kind, ["a", "b", "c"], ["y"], domain=MS), {},
                    {"a": np.array(start, np.int64), "b": np.array(limit, np.int64), "c": np.array(delta, np.int64)},
                    out_types=(TensorProto.INT64,))
    if kind == "Trilu":
        return Case(helper.make_node(kind, ["x", "k"], ["y"], domain=MS, upper=draw(st.integers(0, 1))), {"x": shape},
                    {"k": np.array(draw(st.integers(-2, 2)), np.int64)})
    if kind == "ExpandDims":
        axis = draw(st.integers(-len(shape) - 1, len(shape)))
        return Case(helper.make_node(kind, ["x", "a"], ["y"], domain=MS), {"x": shape},
                    {"a": np.array(axis, np.int32)})
    if kind == "QuantizeLinear":
        return Case(helper.make_node(kind, ["x", "s", "z"], ["y"], domain=MS), {"x": shape},
                    {"s": np.array(0.1, np.float32), "z": np.array(128, np.uint8)}, out_types=(U8,))
    if kind == "DequantizeLinear":
        quant = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"])
        return Case(helper.make_node(kind, ["xq", "s", "z"], ["y"], domain=MS), {"x": shape},
                    {"s": np.array(0.1, np.float32), "z": np.array(128, np.uint8)}, before=(quant,))
    if kind == "GridSample":
        h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        return Case(helper.make_node(kind, ["x", "g"], ["y"], domain=MS), {"x": [1, 2, 5, 5], "g": [1, h, w, 2]})
    if kind == "Inverse":
        n = draw(st.integers(1, 4))
        return Case(helper.make_node(kind, ["x"], ["y"], domain=MS), {"x": [*shape[:1], n, n]})
    if kind == "CDist":
        a, b, d = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
        node = helper.make_node(kind, ["a", "b"], ["y"], domain=MS, metric="euclidean")
        return Case(node, {"a": [a, d], "b": [b, d]})
    if kind == "MatMulInteger16":
        m, k, n = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        casts = (helper.make_node("Cast", ["a"], ["ai"], to=TensorProto.INT16),
                 helper.make_node("Cast", ["b"], ["bi"], to=TensorProto.INT16))
        return Case(helper.make_node(kind, ["ai", "bi"], ["y"], domain=MS), {"a": [m, k], "b": [k, n]}, before=casts,
                    out_types=(TensorProto.INT32,))
    if kind == "QLinearSoftmax":
        quant, consts = _quantized("a")
        node = helper.make_node(kind, ["aq", "a_s", "a_z", "a_s", "a_z"], ["y"], domain=MS, axis=-1, opset=13)
        return Case(node, {"a": shape}, consts, before=(quant,), out_types=(U8,))
    quant, consts = _quantized("a")
    k = draw(st.integers(1, 3))
    hw = draw(st.integers(k, 6))
    node = helper.make_node(kind, ["aq"], ["y"], domain=MS, kernel_shape=[k, k], strides=[draw(st.integers(1, 2))] * 2)
    return Case(node, {"a": [1, hw, hw, 2]}, consts, before=(quant,), out_types=(U8,))


def contrib_quantized(draw: st.DrawFn) -> Case:
    """com.microsoft's quantized transformer and conv ops: QAttention, GatherBlockQuantized (4-bit embedding
    tables), QLinearConv."""
    kind = draw(st.sampled_from(["QAttention", "GatherBlockQuantized", "QLinearConv"]))
    quant, consts = _quantized("a")
    if kind == "QAttention":
        b, seq, heads = draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 2))
        hidden = 4 * heads
        node = helper.make_node(kind, ["aq", "w", "bias", "a_s", "w_s", "", "a_z", "w_z"], ["y"], domain=MS,
                                num_heads=heads)
        return Case(node, {"a": [b, seq, hidden]},
                    {**consts, "w": np.full((hidden, 3 * hidden), 128, np.uint8), "bias": np.zeros(3 * hidden,
                                                                                                   np.float32),
                     "w_s": np.array(0.1, np.float32), "w_z": np.array(128, np.uint8)}, before=(quant,))
    if kind == "GatherBlockQuantized":
        rows, block = draw(st.integers(2, 6)), draw(st.sampled_from([16, 32]))
        width = block * draw(st.integers(1, 3))
        idx = _shape(draw, draw(st.integers(1, 2)), 1, 3)
        node = helper.make_node(kind, ["table", "i", "scales"], ["y"], domain=MS, block_size=block, gather_axis=0,
                                quantize_axis=1, bits=4)
        return Case(node, {}, {"table": np.zeros((rows, width // 2), np.uint8), "i": np.zeros(idx, np.int64),
                               "scales": np.ones((rows, width // block), np.float32)})
    c_in, c_out, k = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hw = draw(st.integers(k, 6))
    node = helper.make_node(kind, ["aq", "a_s", "a_z", "w", "a_s", "a_z", "a_s", "a_z"], ["y"], domain=MS,
                            kernel_shape=[k, k], strides=[draw(st.integers(1, 2))] * 2)
    return Case(node, {"a": [1, c_in, hw, hw]}, {**consts, "w": np.full((c_out, c_in, k, k), 128, np.uint8)},
                before=(quant,), out_types=(U8,))


NCHWC = "com.microsoft.nchwc"
LEGACY_EW = ["Affine", "Scale", "ImageScaler", "ScaledTanh", "ParametricSoftplus", "MemcpyFromHost", "MemcpyToHost"]


def legacy_nchwc(draw: st.DrawFn) -> Case:
    """The experimental ops ONNX dropped at opset 10, onnxruntime's Memcpy nodes, and its NCHWc ops (fed by a
    ReorderInput, as its optimizer writes them)."""
    kind = draw(st.sampled_from([*LEGACY_EW, "Crop", "DynamicSlice", "Conv", "MaxPool", "AveragePool",
                                 "GlobalAveragePool", "GlobalMaxPool", "Upsample", "ReorderInput",
                                 "ReorderOutput"]))
    shape = [draw(st.integers(1, 2)), draw(st.integers(1, 20)), draw(st.integers(1, 7)), draw(st.integers(1, 7))]
    if kind in LEGACY_EW:
        attrs: dict[str, Any] = {"bias": [0.5] * shape[1]} if kind == "ImageScaler" else {}
        if kind in ("ScaledTanh", "ParametricSoftplus"):
            attrs = {"alpha": 0.5, "beta": 2.0}
        return Case(helper.make_node(kind, ["x"], ["y"], **attrs), {"x": shape}, opset=9)
    if kind == "Crop":
        border = [draw(st.integers(0, 2)) for _ in range(4)]
        crop: dict[str, Any] = {"border": border}
        if draw(st.booleans()):
            crop["scale"] = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        return Case(helper.make_node(kind, ["x"], ["y"], **crop), {"x": shape}, opset=9)
    if kind == "DynamicSlice":
        axes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True))
        starts = [draw(st.integers(-4, 4)) for _ in axes]
        ends = [draw(st.integers(-4, 8)) for _ in axes]
        return Case(helper.make_node(kind, ["x", "s", "e", "a"], ["y"]), {"x": shape},
                    {"s": _i64(starts), "e": _i64(ends), "a": _i64(axes)}, opset=9)
    shape[1] = 4 * draw(st.integers(1, 5))  # onnxruntime reorders whole groups of 4 channels
    last = bool(draw(st.integers(0, 1))) if kind == "ReorderInput" else False
    reorder = helper.make_node("ReorderInput", ["x"], ["xb"], domain=NCHWC, channels_last=int(last))
    if kind == "ReorderInput":
        return Case(reorder, {"x": [shape[0], *shape[2:], shape[1]] if last else shape})
    blocked = -(-shape[1] // 8) * 8
    if kind == "ReorderOutput":
        node = helper.make_node(kind, ["xb"], ["y"], domain=NCHWC, channels=shape[1],
                                channels_last=draw(st.integers(0, 1)))
        return Case(node, {"x": shape}, before=(reorder,))
    if kind == "Upsample":
        scales = [1, 1, draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        node = helper.make_node(kind, ["xb"], ["y"], domain=NCHWC, scales=scales,
                                mode=draw(st.sampled_from(["nearest", "linear"])))
        return Case(node, {"x": shape}, before=(reorder,))
    if kind.startswith("Global"):
        return Case(helper.make_node(kind, ["xb"], ["y"], domain=NCHWC), {"x": shape}, before=(reorder,))
    k = draw(st.integers(1, min(3, *shape[2:])))
    window: dict[str, Any] = {"kernel_shape": [k, k], "strides": [draw(st.integers(1, 2))] * 2,
                              "pads": [draw(st.integers(0, k - 1)) for _ in range(4)]}
    if kind != "Conv":
        return Case(helper.make_node(kind, ["xb"], ["y"], domain=NCHWC, **window), {"x": shape}, before=(reorder,))
    depthwise = draw(st.booleans())
    out = blocked if depthwise else 8 * draw(st.integers(1, 3))
    weight = np.ones((out, 1 if depthwise else blocked, k, k), np.float32)
    node = helper.make_node(kind, ["xb", "w"], ["y"], domain=NCHWC, group=blocked if depthwise else 1,
                            **({"activation": "Relu"} if draw(st.booleans()) else {}), **window)
    return Case(node, {"x": shape}, {"w": weight}, before=(reorder,))


def _cast(name: str, to: int) -> onnx.NodeProto:
    """Cast of float input `name` to `name`_c of type `to` (the harness feeds float32 inputs)."""
    return helper.make_node("Cast", [name], [f"{name}_c"], to=to)


def attn_lstm(draw: st.DrawFn) -> Case:
    """com.microsoft's AttnLSTM: an LSTM with Bahdanau attention over a memory (W takes x and the attention)."""
    seq, batch, inp, hidden = (draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 5)),
                               draw(st.integers(1, 4)))
    slots, depth, attn, layer = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                                 draw(st.integers(1, 4)))
    dirs = draw(st.integers(1, 2))
    direction = "bidirectional" if dirs == 2 else "forward"
    weights = {"w": (dirs, 4 * hidden, inp + layer), "r": (dirs, 4 * hidden, hidden), "qw": (dirs, hidden, attn),
               "mw": (dirs, depth, attn), "v": (dirs, attn), "aw": (dirs, depth + hidden, layer)}
    node = helper.make_node("AttnLSTM", ["x", "w", "r", "", "", "", "", "", "qw", "mw", "v", "m", "", "aw"],
                            ["y", "yh", "yc"], domain=MS, hidden_size=hidden, direction=direction)
    return Case(node, {"x": [seq, batch, inp], "m": [batch, slots, depth]},
                {k: np.ones(v, np.float32) for k, v in weights.items()})


def decoder_step(draw: st.DrawFn) -> Case:
    """com.microsoft's DecoderMaskedMultiHeadAttention (one decoding step over a shared KV buffer, or cross
    attention over projected keys) and DynamicQuantizeLSTM (int8 weights)."""
    b, heads, head = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.sampled_from([4, 8]))
    if draw(st.booleans()):
        seq, dirs, hidden, inp = draw(st.integers(1, 4)), draw(st.integers(1, 2)), draw(st.integers(1, 4)), \
            draw(st.integers(1, 4))
        names = ["x", "w", "r", "", "", "", "", "", "ws", "wz", "rs", "rz"]
        node = helper.make_node("DynamicQuantizeLSTM", names, ["y", "yh", "yc"], domain=MS, hidden_size=hidden,
                                direction="bidirectional" if dirs == 2 else "forward")
        return Case(node, {"x": [seq, b, inp]}, {
            "w": np.ones((dirs, inp, 4 * hidden), np.int8), "r": np.ones((dirs, hidden, 4 * hidden), np.int8),
            "ws": np.full(dirs, 0.1, np.float32), "wz": np.zeros(dirs, np.int8), "rs": np.full(dirs, 0.1, np.float32),
            "rz": np.zeros(dirs, np.int8)})
    hidden = heads * head
    if draw(st.booleans()):  # cross attention: keys and values already [B, N, L, H]
        length = draw(st.integers(1, 5))
        node = helper.make_node("DecoderMaskedMultiHeadAttention", ["q", "k", "v"], ["y"], domain=MS,
                                num_heads=heads)
        return Case(node, {"q": [b, 1, hidden], "k": [b, heads, length, head], "v": [b, heads, length, head]})
    cache = draw(st.integers(2, 6))
    past = draw(st.integers(0, cache - 1))
    names = ["q", "k", "v", "", "", "pk", "pv", "plen"]
    node = helper.make_node("DecoderMaskedMultiHeadAttention", names, ["y", "yk", "yv"], domain=MS, num_heads=heads,
                            past_present_share_buffer=1)
    return Case(node, {"q": [b, 1, hidden], "k": [b, 1, hidden], "v": [b, 1, hidden],
                       "pk": [b, heads, cache, head], "pv": [b, heads, cache, head]},
                {"plen": np.array([past], np.int32)}, aliases=(("yk", "pk"), ("yv", "pv")))


def gpt2_decoder(vocab: int, heads: int, head: int) -> onnx.GraphProto:
    """The smallest decoder GreedySearch, Sampling and BeamSearch accept (model_type 0, GPT-2's interface):
    logits from an embedding of the ids, and the cache grown by one [2, B, N, S, H] block made from them."""
    def ints(name: str, values: list[int]) -> onnx.TensorProto:
        return numpy_helper.from_array(np.array(values, np.int64), name)

    nodes = [helper.make_node("Gather", ["emb", "input_ids"], ["logits"]),
             helper.make_node("Cast", ["input_ids"], ["idf"], to=F),
             helper.make_node("Unsqueeze", ["idf", "axes"], ["u"]),
             helper.make_node("Shape", ["past_0"], ["ps"]), helper.make_node("Shape", ["input_ids"], ["is"]),
             helper.make_node("Slice", ["ps", "c0", "c3"], ["lead"]),
             helper.make_node("Slice", ["is", "c1", "c2"], ["s"]),
             helper.make_node("Slice", ["ps", "c4", "c5"], ["tail"]),
             helper.make_node("Concat", ["lead", "s", "tail"], ["kv_shape"], axis=0),
             helper.make_node("Expand", ["u", "kv_shape"], ["kv"]),
             helper.make_node("Concat", ["past_0", "kv"], ["present_0"], axis=3)]
    inits = [numpy_helper.from_array(np.eye(vocab, dtype=np.float32), "emb"), ints("axes", [0, 2, 4]),
             *(ints(f"c{k}", [k]) for k in range(6))]
    i32 = TensorProto.INT32
    inputs = [helper.make_tensor_value_info("input_ids", i32, ["b", "s"]),
              helper.make_tensor_value_info("position_ids", i32, ["b", "s"]),
              helper.make_tensor_value_info("attention_mask", i32, ["b", "t"]),
              helper.make_tensor_value_info("past_0", F, [2, "b", heads, "p", head])]
    outputs = [helper.make_tensor_value_info("logits", F, ["b", "s", vocab]),
               helper.make_tensor_value_info("present_0", F, [2, "b", heads, "t", head])]
    return helper.make_graph(nodes, "decoder", inputs, outputs, inits)


def _ids_to_cache(ids: str, out: str, heads: int, head: int) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """[B, S] int ids -> a [B, heads, S, head] float block (Cast, Unsqueeze, Expand)."""
    nodes = [helper.make_node("Cast", [ids], [f"{out}_f"], to=F),
             helper.make_node("Unsqueeze", [f"{out}_f", f"{out}_axes"], [f"{out}_u"]),
             helper.make_node("Expand", [f"{out}_u", f"{out}_shape"], [out])]
    return nodes, [numpy_helper.from_array(_i64([1, 3]), f"{out}_axes"),
                   numpy_helper.from_array(_i64([1, heads, 1, head]), f"{out}_shape")]


def whisper_graphs(vocab: int, heads: int, head: int, features: int) -> tuple[onnx.GraphProto, onnx.GraphProto]:
    """The smallest encoder (with decoder initialisation) and decoder WhisperBeamSearch accepts: logits from an
    embedding of the ids, hidden states the transposed features, self caches grown from the ids, cross caches
    from the hidden states."""
    emb = numpy_helper.from_array(np.eye(vocab, dtype=np.float32), "emb")
    i32 = TensorProto.INT32
    caches = [_ids_to_cache("decoder_input_ids", f"present_{k}_self_0", heads, head) for k in ("key", "value")]
    encoder_nodes = [helper.make_node("Gather", ["emb", "decoder_input_ids"], ["logits"]),
                     helper.make_node("Transpose", ["encoder_input_ids"], ["encoder_hidden_states"], perm=[0, 2, 1]),
                     helper.make_node("ReduceMean", ["encoder_hidden_states"], ["mean"], axes=[2], keepdims=1),
                     helper.make_node("Unsqueeze", ["mean", "axis1"], ["mean_u"]),
                     *(helper.make_node("Expand", ["mean_u", "cross_shape"], [f"present_{k}_cross_0"])
                       for k in ("key", "value")), *(n for nodes, _ in caches for n in nodes)]
    encoder = helper.make_graph(
        encoder_nodes, "encoder",
        [helper.make_tensor_value_info("encoder_input_ids", F, ["b", features, "t"]),
         helper.make_tensor_value_info("decoder_input_ids", i32, ["b", "s"])],
        [helper.make_tensor_value_info("logits", F, ["b", "s", vocab]),
         helper.make_tensor_value_info("encoder_hidden_states", F, ["b", "t", features]),
         *(helper.make_tensor_value_info(f"present_{k}_self_0", F, ["b", heads, "s", head]) for k in ("key", "value")),
         *(helper.make_tensor_value_info(f"present_{k}_cross_0", F, ["b", heads, "t", head])
           for k in ("key", "value"))],
        [emb, numpy_helper.from_array(_i64([1]), "axis1"), numpy_helper.from_array(_i64([1, heads, 1, head]),
                                                                                   "cross_shape"),
         *(t for _, inits in caches for t in inits)])
    grown = [_ids_to_cache("input_ids", f"new_{k}", heads, head) for k in ("key", "value")]
    decoder = helper.make_graph(
        [helper.make_node("Gather", ["emb", "input_ids"], ["logits"]), *(n for nodes, _ in grown for n in nodes),
         *(helper.make_node("Concat", [f"past_{k}_self_0", f"new_{k}"], [f"present_{k}_self_0"], axis=2)
           for k in ("key", "value"))], "decoder",
        [helper.make_tensor_value_info("input_ids", i32, ["b", 1]),
         helper.make_tensor_value_info("encoder_hidden_states", F, ["b", "t", features]),
         *(helper.make_tensor_value_info(f"past_{k}_self_0", F, ["b", heads, "p", head]) for k in ("key", "value")),
         *(helper.make_tensor_value_info(f"past_{k}_cross_0", F, ["b", heads, "t", head]) for k in ("key", "value"))],
        [helper.make_tensor_value_info("logits", F, ["b", 1, vocab]),
         *(helper.make_tensor_value_info(f"present_{k}_self_0", F, ["b", heads, "q", head]) for k in ("key", "value"))],
        [emb, *(t for _, inits in grown for t in inits)])
    return encoder, decoder


def generation(draw: st.DrawFn) -> Case:
    """com.microsoft's GreedySearch, Sampling and BeamSearch around a GPT-2-style decoder: the generated
    sequences' shapes from the batch, max_length, num_beams and num_return_sequences."""
    kind = draw(st.sampled_from(["GreedySearch", "Sampling", "BeamSearch", "WhisperBeamSearch"]))
    batch, prompt, vocab = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(2, 8))
    max_length = prompt + draw(st.integers(1, 5))
    attrs: dict[str, Any] = {"decoder": gpt2_decoder(vocab, 2, 4), "eos_token_id": 0, "pad_token_id": 0,
                             "model_type": 0, "vocab_size": vocab}
    consts = {"max_length": np.array([max_length], np.int32)}
    cast: tuple[onnx.NodeProto, ...] = (_cast("ids", TensorProto.INT32),)
    if kind in ("GreedySearch", "Sampling"):
        node = helper.make_node(kind, ["ids_c", "max_length"], ["y"], domain=MS, **attrs)
        return Case(node, {"ids": [batch, prompt]}, consts, before=cast, out_types=(TensorProto.INT32,))
    beams = draw(st.integers(1, 4))
    inputs = {"ids": [batch, prompt]}
    if kind == "WhisperBeamSearch":
        features, frames = draw(st.integers(1, 4)), draw(st.integers(1, 8))
        attrs["encoder"], attrs["decoder"] = whisper_graphs(vocab, 2, 4, features)
        attrs["model_type"], attrs["decoder_start_token_id"] = 2, 1
        inputs, cast = {"features": [batch, features, frames]}, ()
    consts |= {"min_length": np.array([1], np.int32), "num_beams": np.array([beams], np.int32),
               "num_return_sequences": np.array([draw(st.integers(1, beams))], np.int32),
               "length_penalty": np.array([1.0], np.float32), "repetition_penalty": np.array([1.0], np.float32)}
    outs = ["y", "y_scores", "step_scores"][:draw(st.integers(1, 3))]
    node = helper.make_node(kind, ["features" if cast == () else "ids_c", *consts], outs, domain=MS, **attrs)
    return Case(node, inputs, consts, before=cast, out_types=(TensorProto.INT32, F, F))


def contrib_misc(draw: st.DrawFn) -> Case:
    """com.microsoft's small ops: ScaledSiLU, GatedAdd, MurmurHash3, UnfoldTensor, Unique, SampleOp,
    DynamicTimeWarping, CropAndResize, WordConvEmbedding, ConvTransposeWithDynamicPads, MaxpoolWithMask."""
    kind = draw(st.sampled_from(["ScaledSiLU", "GatedAdd", "MurmurHash3", "UnfoldTensor", "Unique", "SampleOp",
                                 "DynamicTimeWarping", "CropAndResize", "WordConvEmbedding",
                                 "ConvTransposeWithDynamicPads", "MaxpoolWithMask", "SparseToDenseMatMul"]))
    shape = _shape(draw, draw(st.integers(1, 4)), 1, 6)
    if kind in ("ScaledSiLU", "SampleOp"):
        return Case(helper.make_node(kind, ["x"], ["y"], domain=MS), {"x": shape})
    if kind == "SparseToDenseMatMul":
        m, k, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
        trans_a, trans_b = draw(st.integers(0, 1)), draw(st.integers(0, 1))
        a_shape = [k, m] if trans_a else [m, k]
        info = helper.make_sparse_tensor_value_info("a", F, a_shape)
        dense = np.eye(*a_shape, dtype=np.float32)
        node = helper.make_node(kind, ["a", "b"], ["y"], domain=MS, transA=trans_a, transB=trans_b)
        return Case(node, {"b": [cols, k] if trans_b else [k, cols]}, typed_inputs=((info, SparseFeed(dense)),))
    if kind == "GatedAdd":
        return Case(helper.make_node(kind, ["x", "z", "g"], ["y"], domain=MS),
                    {"x": shape, "z": shape, "g": [*shape[:-1], 1]})
    if kind == "MurmurHash3":
        positive = draw(st.integers(0, 1))
        return Case(helper.make_node(kind, ["x_c"], ["y"], domain=MS, positive=positive), {"x": shape},
                    before=(_cast("x", TensorProto.INT32),), out_types=(TensorProto.UINT32 if positive else
                                                                        TensorProto.INT32,))
    if kind == "UnfoldTensor":
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        size = draw(st.integers(1, shape[dim]))
        return Case(helper.make_node(kind, ["x"], ["y"], domain=MS, dim=dim, size=size, step=draw(st.integers(1, 3))),
                    {"x": shape})
    if kind == "Unique":
        return Case(helper.make_node(kind, ["x"], ["y", "i", "c"], domain=MS), {"x": shape[:1]}, data_dependent=True,
                    out_types=(F, TensorProto.INT64, TensorProto.INT64))
    if kind == "DynamicTimeWarping":
        return Case(helper.make_node(kind, ["x"], ["y"], domain=MS), {"x": _shape(draw, 2, 1, 6)},
                    data_dependent=True, out_types=(TensorProto.INT32,))
    if kind == "CropAndResize":
        boxes, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        node = helper.make_node(kind, ["x", "r", "b", "s"], ["y"], domain=MS,
                                mode=draw(st.sampled_from(["bilinear", "nearest"])))
        return Case(node, {"x": [2, c, 5, 5]}, {"r": np.tile(np.array([0, 0, 1, 1], np.float32), (boxes, 1)),
                                               "b": np.zeros(boxes, np.int32),
                                               "s": np.array([draw(st.integers(1, 4)), draw(st.integers(1, 4))],
                                                             np.int32)})
    if kind == "WordConvEmbedding":
        words, length, window = draw(st.integers(1, 4)), draw(st.integers(1, 6)), draw(st.integers(1, 3))
        emb, chars = draw(st.integers(1, 5)), draw(st.integers(1, 4))
        node = helper.make_node(kind, ["x_c", "w", "b", "t"], ["y"], domain=MS, embedding_size=emb,
                                conv_window_size=window, char_embedding_size=chars)
        return Case(node, {"x": [words, length]}, {"w": np.ones((emb, 1, window, chars), np.float32),
                                                   "b": np.zeros(emb, np.float32),
                                                   "t": np.ones((10, chars), np.float32)},
                    before=(_cast("x", TensorProto.INT32),))
    k = draw(st.integers(1, 3))
    hw = draw(st.integers(k, 6))
    stride = draw(st.integers(1, 2))
    if kind == "MaxpoolWithMask":
        node = helper.make_node(kind, ["x", "m_c"], ["y"], domain=MS, kernel_shape=[k, k], strides=[stride] * 2)
        return Case(node, {"x": [1, 2, hw, hw], "m": [1, 2, hw, hw]}, before=(_cast("m", TensorProto.INT32),))
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pads = [draw(st.integers(0, k - 1)) for _ in range(4)]
    node = helper.make_node(kind, ["x", "w", "p"], ["y"], domain=MS, strides=[stride] * 2)
    return Case(node, {"x": [1, c_in, hw, hw]}, {"w": np.ones((c_in, c_out, k, k), np.float32), "p": _i64(pads)})


def contrib_llm(draw: st.DrawFn) -> Case:
    """com.microsoft's newer LLM ops: hyper-connection mixes, branch-wise and gated RMS norms, the Engram
    gate, M-RoPE, linear-attention gates and convolutions, n-gram hashing and blocking, MoE routing."""
    kind = draw(st.sampled_from(["BranchwiseRMSNorm", "GatedRMSNorm", "HyperConnectionPreMix",
                                 "HyperConnectionPostMix", "EngramGate", "MRotaryEmbedding", "LinearAttentionGate",
                                 "NGramHashMapping", "NGramRepeatBlock", "MoEGroupRouter", "BifurcationDetector",
                                 "CausalConvWithState", "LinearAttention"]))
    b, seq, streams, hidden = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                               draw(st.sampled_from([4, 8])))
    flat = draw(st.booleans())
    x = [b, seq, streams * hidden] if flat else [b, seq, streams, hidden]
    branches: dict[str, Any] = {"num_branches": streams} if flat else {}
    ones = np.ones
    if kind == "BranchwiseRMSNorm":
        return Case(helper.make_node(kind, ["x", "s"], ["y"], domain=MS, **branches), {"x": x},
                    {"s": ones(hidden, np.float32)})
    if kind == "GatedRMSNorm":
        act = draw(st.sampled_from(["silu", "sigmoid"]))
        return Case(helper.make_node(kind, ["x", "s", "g"], ["y"], domain=MS, activation=act),
                    {"x": x, "g": x}, {"s": ones(hidden, np.float32)})
    if kind == "HyperConnectionPreMix":
        return Case(helper.make_node(kind, ["x", "p"], ["y"], domain=MS, **branches), {"x": x, "p": [b, seq, streams]})
    if kind == "HyperConnectionPostMix":
        mix = draw(st.booleans())
        node = helper.make_node(kind, ["x", "o", "p", *(["m"] if mix else [])], ["y"], domain=MS, **branches)
        return Case(node, {"x": x, "o": [b, seq, hidden], "p": [b, seq, streams],
                           **({"m": [b, seq, streams, streams]} if mix else {})})
    if kind == "EngramGate":
        two = draw(st.booleans())
        scales = {k: ones((streams, hidden), np.float32) for k in ("ks", "qs", *(["cs"] if two else []))}
        node = helper.make_node(kind, ["k", "q", "v", *scales], ["y", *(["z"] if two else [])], domain=MS)
        return Case(node, {"k": [b, seq, streams, hidden], "q": [b, seq, streams, hidden], "v": [b, seq, hidden]},
                    scales)
    if kind == "MRotaryEmbedding":
        heads, half = draw(st.integers(1, 2)), 4
        node = helper.make_node(kind, ["x", "p_c", "c", "s"], ["y"], domain=MS, mrope_section=[2, 1, 1],
                                num_heads=heads)
        return Case(node, {"x": [b, seq, heads * 2 * half], "p": [3, b, seq]},
                    {"c": ones((10, half), np.float32), "s": ones((10, half), np.float32)},
                    before=(_cast("p", TensorProto.INT64),))
    if kind == "LinearAttentionGate":
        beta = draw(st.booleans())
        node = helper.make_node(kind, ["a", "d", "s", *(["b"] if beta else [])], ["y", *(["z"] if beta else [])],
                                domain=MS)
        return Case(node, {"a": [b, seq, hidden], **({"b": [b, seq, hidden]} if beta else {})},
                    {"d": ones(hidden, np.float32), "s": ones(hidden, np.float32)})
    if kind == "NGramHashMapping":
        order, heads = draw(st.integers(2, 4)), draw(st.integers(1, 3))
        node = helper.make_node(kind, ["x_c", "m", "v"], ["y", "p"], domain=MS, pad_id=0, n_head_per_ngram=heads,
                                max_ngram_size=order)
        return Case(node, {"x": [b, seq]}, {"m": ones(order, np.int64), "v": np.full((order - 1) * heads, 97,
                                                                                      np.int64)},
                    before=(_cast("x", TensorProto.INT64),), out_types=(TensorProto.INT64, TensorProto.INT64))
    if kind == "NGramRepeatBlock":
        node = helper.make_node(kind, ["x_c", "s"], ["y"], domain=MS, ngram_size=draw(st.integers(1, 3)))
        return Case(node, {"x": [b, seq], "s": [b, draw(st.integers(1, 12))]}, before=(_cast("x", TensorProto.INT64),))
    if kind == "MoEGroupRouter":
        experts = draw(st.sampled_from([4, 8]))
        project = draw(st.booleans())
        outs = ["", "s", "w"] if project or draw(st.booleans()) else ["y"]
        node = helper.make_node(kind, ["l", "e", *(["p"] if project else [])], outs, domain=MS, top_k=2)
        width = 256 if project else experts
        return Case(node, {"l": [seq, width]}, {"e": np.zeros(experts, np.float32),
                                                **({"p": ones((experts, width), np.float32)} if project else {})})
    if kind == "BifurcationDetector":
        src, cur = draw(st.integers(1, 6)), draw(st.integers(1, 4))
        pred = draw(st.booleans())
        node = helper.make_node(kind, ["s_c", "c_c", "i", *(["p_c"] if pred else [])], ["y", "z"], domain=MS)
        casts = tuple(_cast(k, TensorProto.INT64) for k in ("s", "c", *(["p"] if pred else [])))
        return Case(node, {"s": [src], "c": [cur], **({"p": [src + 1]} if pred else {})},
                    {"i": np.array(0, np.int64)}, before=casts, data_dependent=pred,
                    out_types=(TensorProto.INT64, TensorProto.INT64))
    if kind == "CausalConvWithState":
        k, last = draw(st.integers(1, 4)), draw(st.booleans())
        attrs: dict[str, Any] = {"dilation": draw(st.integers(1, 3)), "channels_last": int(last)}
        c = hidden
        shape = [b, seq, c] if last else [b, c, seq]
        return Case(helper.make_node(kind, ["x", "w"], ["y", "st"], domain=MS, **attrs), {"x": shape},
                    {"w": ones((c, 1, k), np.float32)})
    qh = draw(st.integers(1, 2))
    kvh, dk, dv = qh, draw(st.sampled_from([2, 4])), draw(st.sampled_from([2, 4]))
    rule = draw(st.sampled_from(["linear", "gated", "delta", "gated_delta"]))
    extra = {"decay": [b, seq, kvh] if rule.startswith("gated") else None, "beta": [b, seq, kvh] if "delta" in rule
             else None}
    names = ["q", "k", "v", "", "decay" if extra["decay"] else "", "beta" if extra["beta"] else ""]
    node = helper.make_node(kind, names, ["y", "st"], domain=MS, q_num_heads=qh, kv_num_heads=kvh, update_rule=rule)
    return Case(node, {"q": [b, seq, qh * dk], "k": [b, seq, kvh * dk], "v": [b, seq, kvh * dv],
                       **{k: v for k, v in extra.items() if v}})


def contrib_llm_blocks(draw: st.DrawFn) -> Case:
    """com.microsoft's larger LLM blocks: GatedDeltaNet, MoE and QMoE, SparseAttention, and the packed
    variable-length n-gram hashing and causal convolution."""
    kind = draw(st.sampled_from(["GatedDeltaNet", "MoE", "QMoE", "SparseAttention", "VarlenNGramHashMapping",
                                 "VarlenCausalConvWithState"]))
    b, seq = draw(st.integers(1, 2)), draw(st.integers(1, 4))
    ones = np.ones
    cu = np.array([0, *sorted(draw(st.lists(st.integers(1, 5), min_size=b, max_size=b)))], np.int32)
    cu[-1] = max(cu[-1], b)
    cu = np.maximum.accumulate(cu + np.arange(b + 1, dtype=np.int32))
    tokens = int(cu[-1])
    if kind == "GatedDeltaNet":
        hq, group, dk, dv = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.sampled_from([2, 4])), \
            draw(st.sampled_from([2, 3]))
        hv = hq * group
        form = draw(st.sampled_from(["rank4", "cu", "state"]))
        lead = [b, seq] if form == "rank4" else [tokens]
        inputs = {"q": [*lead, hq, dk], "k": [*lead, hq, dk], "v": [*lead, hv, dv], "d": [*lead, hv],
                  "b": [*lead, hv]}
        consts: dict[str, np.ndarray] = {"cu": cu} if form == "cu" else {}
        if form == "state":
            inputs["s"] = [1, hv, dv, dk]
        names = ["q", "k", "v", "cu" if form == "cu" else "", "d", "b", "s" if form == "state" else ""]
        return Case(helper.make_node(kind, names, ["y", "st"], domain=MS), inputs, consts)
    if kind in ("MoE", "QMoE"):
        experts, hidden, inter = draw(st.integers(2, 4)), draw(st.sampled_from([16, 32])), \
            draw(st.sampled_from([16, 32]))
        x = [b, seq, hidden] if draw(st.booleans()) else [b * seq, hidden]
        k = draw(st.integers(1, 2))
        if kind == "MoE":
            node = helper.make_node(kind, ["x", "r", "w1", "", "w2"], ["y"], domain=MS, k=k, activation_type="relu")
            return Case(node, {"x": x, "r": [b * seq, experts]},
                        {"w1": ones((experts, inter, hidden), np.float32),
                         "w2": ones((experts, hidden, inter), np.float32)})
        bits = draw(st.sampled_from([4, 8]))
        node = helper.make_node(kind, ["x", "r", "w1", "s1", "", "w2", "s2"], ["y"], domain=MS, k=k,
                                activation_type="relu", expert_weight_bits=bits)
        per = 8 // bits
        return Case(node, {"x": x, "r": [b * seq, experts]},
                    {"w1": np.full((experts, inter, hidden // per), 0x88, np.uint8),
                     "s1": ones((experts, inter), np.float32),
                     "w2": np.full((experts, hidden, inter // per), 0x88, np.uint8),
                     "s2": ones((experts, hidden), np.float32)})
    if kind == "SparseAttention":
        heads, head, block, cache = draw(st.integers(1, 2)), 8, 4, 8
        blocks = cache // block
        rows = np.arange(blocks + 1, dtype=np.int32).reshape(1, -1)
        cols = np.arange(blocks, dtype=np.int32).reshape(1, -1)
        seq = min(seq, cache)
        node = helper.make_node(kind, ["q", "k", "v", "pk", "pv", "rows", "cols", "total", "klen"],
                                ["y", "yk", "yv"], domain=MS, num_heads=heads, kv_num_heads=heads,
                                sparse_block_size=block)
        return Case(node, {"q": [b, seq, heads * head], "k": [b, seq, heads * head], "v": [b, seq, heads * head],
                           "pk": [b, heads, cache, head], "pv": [b, heads, cache, head]},
                    {"rows": rows, "cols": cols, "total": np.array([seq], np.int32),
                     "klen": np.full(b, seq, np.int32)}, aliases=(("yk", "pk"), ("yv", "pv")))
    if kind == "VarlenNGramHashMapping":
        order, heads = draw(st.integers(2, 4)), draw(st.integers(1, 3))
        node = helper.make_node(kind, ["x_c", "m", "v", "cu"], ["y", "p"], domain=MS, pad_id=0,
                                n_head_per_ngram=heads, max_ngram_size=order)
        return Case(node, {"x": [tokens]}, {"m": ones(order, np.int64),
                                            "v": np.full((order - 1) * heads, 97, np.int64), "cu": cu},
                    before=(_cast("x", TensorProto.INT64),), out_types=(TensorProto.INT64, TensorProto.INT64))
    channels, k = draw(st.sampled_from([2, 4])), draw(st.integers(2, 4))
    node = helper.make_node(kind, ["x", "w", "cu", "", "s"], ["y", "st"], domain=MS)
    return Case(node, {"x": [tokens, channels], "s": [b, channels, k - 1]},
                {"w": ones((channels, 1, k), np.float32), "cu": cu})


#: GatherPacked's formats (GGML type ids): bytes per row of K values
PACKED_ROW_BYTES = {0: lambda k: 4 * k, 1: lambda k: 2 * k, 2: lambda k: 18 * k // 32, 6: lambda k: 22 * k // 32,
                    8: lambda k: 34 * k // 32}


def contrib_packed(draw: st.DrawFn) -> Case:
    """com.microsoft's packed and quantised ops: MatMulBnb4, MatMulFpQ4 (onnxruntime runs it only where MLAS
    has 4-bit kernels), GatherPacked, QLinearWhere, QEmbedLayerNormalization."""
    kind = draw(st.sampled_from(["MatMulBnb4", "MatMulFpQ4", "GatherPacked", "QLinearWhere",
                                 "QEmbedLayerNormalization"]))
    lead = _shape(draw, draw(st.integers(1, 2)), 1, 4)
    if kind == "MatMulBnb4":
        k, cols, block = draw(st.sampled_from([16, 32, 48])), draw(st.integers(1, 8)), draw(st.sampled_from([16, 32]))
        trans = draw(st.integers(0, 1))
        node = helper.make_node(kind, ["a", "b", "m"], ["y"], domain=MS, K=k, N=cols, block_size=block,
                                quant_type=draw(st.integers(0, 1)), transB=trans)
        return Case(node, {"a": [*lead, k if trans else cols]},
                    {"b": np.zeros((cols * k + 1) // 2, np.uint8), "m": np.ones((cols * k + block - 1) // block,
                                                                                 np.float32)})
    if kind == "MatMulFpQ4":
        k, cols = draw(st.sampled_from([32, 64])), draw(st.integers(1, 8))
        node = helper.make_node(kind, ["a", "b", "s"], ["y"], domain=MS, blk_quant_type=0)
        return Case(node, {"a": [*lead, k]}, {"b": np.zeros(cols * (k // 32) * 20, np.uint8),
                                              "s": _i64([k, cols])})
    if kind == "GatherPacked":
        fmt, k = draw(st.sampled_from(sorted(PACKED_ROW_BYTES))), draw(st.sampled_from([32, 64]))
        out = draw(st.sampled_from([0, TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16]))
        attrs: dict[str, Any] = {"output_dtype": out} if out else {}
        node = helper.make_node(kind, ["d", "i"], ["y"], domain=MS, packed_type=fmt, K=k, **attrs)
        return Case(node, {}, {"d": np.zeros((5, PACKED_ROW_BYTES[fmt](k)), np.uint8),
                               "i": np.zeros(lead, np.int64)}, out_types=(out or TensorProto.BFLOAT16,))
    if kind == "QLinearWhere":
        quant, consts = _quantized("a")
        shape = _shape(draw, 2, 1, 4)
        cond = [draw(st.sampled_from([1, d])) for d in shape]
        node = helper.make_node(kind, ["c", "aq", "a_s", "a_z", "aq", "a_s", "a_z", "a_s", "a_z"], ["y"], domain=MS)
        return Case(node, {"a": shape}, {**consts, "c": np.ones(cond, bool)}, before=(quant,), out_types=(U8,))
    hidden, segments = draw(st.integers(1, 6)), draw(st.booleans())
    names = ["ids_c", "seg_c" if segments else "", "we", "pe", "se" if segments else "", "g", "b", "", "ws", "ps",
             "ss" if segments else "", "gs", "bs", "wz", "pz", "sz" if segments else "", "gz", "bz"]
    consts = {"we": np.zeros((10, hidden), np.uint8), "pe": np.zeros((8, hidden), np.uint8),
              "se": np.zeros((2, hidden), np.uint8), "g": np.zeros(hidden, np.uint8), "b": np.zeros(hidden, np.uint8),
              **{k: np.array(0.1, np.float32) for k in ("ws", "ps", "ss", "gs", "bs")},
              **{k: np.array(0, np.uint8) for k in ("wz", "pz", "sz", "gz", "bz")}}
    ids = [draw(st.integers(1, 2)), draw(st.integers(1, 8))]
    casts = (_cast("ids", TensorProto.INT32), *([_cast("seg", TensorProto.INT32)] if segments else []))
    node = helper.make_node(kind, names, ["y", "m"], domain=MS)
    used = {k: v for k, v in consts.items() if k in names}
    return Case(node, {"ids": ids, **({"seg": ids} if segments else {})}, used, before=casts,
                out_types=(F, TensorProto.INT32))


def ml_maps_strings(draw: st.DrawFn) -> Case:
    """What the other families cannot declare: map inputs (CastMap, DictVectorizer), ZipMap's sequence of
    maps, TreeEnsemble at ai.onnx.ml 5, TfIdfVectorizer, BitCast (opset 26) and com.microsoft's Tokenizer."""
    kind = draw(st.sampled_from(["CastMap", "DictVectorizer", "ZipMap", "TreeEnsemble", "TfIdfVectorizer", "BitCast",
                                 "Tokenizer"]))
    if kind in ("CastMap", "DictVectorizer"):
        keys = sorted(draw(st.lists(st.integers(0, 6), min_size=1, max_size=5, unique=True)))
        info = helper.make_value_info("m", helper.make_map_type_proto(TensorProto.INT64,
                                                                      helper.make_tensor_type_proto(F, None)))
        feed = {k: 1.0 for k in keys}
        if kind == "CastMap":
            sparse = draw(st.booleans())
            attrs: dict[str, Any] = {"map_form": "SPARSE", "max_map": 7} if sparse else {"map_form": "DENSE"}
            node = helper.make_node(kind, ["m"], ["y"], domain=ML, cast_to="TO_FLOAT", **attrs)
            return Case(node, {}, typed_inputs=((info, feed),), data_dependent=not sparse, out_types=(F,))
        vocab = sorted(draw(st.lists(st.integers(0, 8), min_size=1, max_size=6, unique=True)))
        node = helper.make_node(kind, ["m"], ["y"], domain=ML, int64_vocabulary=vocab)
        return Case(node, {}, typed_inputs=((info, feed),), out_types=(F,))
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if kind == "ZipMap":
        node = helper.make_node(kind, ["x"], ["y"], domain=ML, classlabels_int64s=list(range(cols)))
        return Case(node, {"x": [rows, cols]})
    if kind == "TreeEnsemble":
        targets, trees = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        # each tree: one split on feature 0, both children leaves
        node = helper.make_node(
            kind, ["x"], ["y"], domain=ML, n_targets=targets, tree_roots=list(range(trees)),
            nodes_featureids=[0] * trees, nodes_splits=numpy_helper.from_array(np.zeros(trees, np.float32)),
            nodes_modes=numpy_helper.from_array(np.zeros(trees, np.uint8)), nodes_truenodeids=[2 * t for t in
                                                                                            range(trees)],
            nodes_falsenodeids=[2 * t + 1 for t in range(trees)], nodes_trueleafs=[1] * trees,
            nodes_falseleafs=[1] * trees, leaf_targetids=[t % targets for t in range(2 * trees)],
            leaf_weights=numpy_helper.from_array(np.ones(2 * trees, np.float32)))
        return Case(node, {"x": [rows, cols]}, domain_opsets=((ML, 5),))
    if kind == "TfIdfVectorizer":
        pool = sorted(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True)))
        indexes = [draw(st.integers(0, 6)) for _ in pool]
        node = helper.make_node(kind, ["x_c"], ["y"], mode="TF", min_gram_length=1, max_gram_length=1,
                                max_skip_count=0, ngram_counts=[0], ngram_indexes=indexes, pool_int64s=pool)
        shape = [rows, cols] if draw(st.booleans()) else [cols]
        return Case(node, {"x": shape}, before=(_cast("x", TensorProto.INT64),), opset=9)
    if kind == "BitCast":
        to = draw(st.sampled_from([TensorProto.INT32, TensorProto.UINT32, TensorProto.FLOAT16, TensorProto.UINT8,
                                   TensorProto.INT64, TensorProto.DOUBLE]))
        shape = [rows, cols * draw(st.sampled_from([1, 2]))]
        return Case(helper.make_node(kind, ["x"], ["y"], to=to), {"x": shape}, opset=26)
    node = helper.make_node(kind, ["x_c"], ["y"], domain=MS, mincharnum=1, pad_value="#", mark=draw(st.integers(0, 1)),
                            separators=[" "])
    return Case(node, {"x": [rows, cols]}, before=(_cast("x", TensorProto.STRING),), data_dependent=True,
                out_types=(TensorProto.STRING,))


GENERATORS: dict[str, Callable[[st.DrawFn], Case]] = {
    "ConvTranspose": conv_transpose, "Pad": pad, "Slice": slice_, "Reshape": reshape, "Transpose": transpose,
    "Concat": concat, "Split": split, "Squeeze/Unsqueeze": squeeze_unsqueeze, "Tile/Expand": tile_expand,
    "Reduce*": reduce, "MatMul/Gemm": matmul_gemm, "Gather": gather, "DepthToSpace/SpaceToDepth": depth_space,
    "Resize": resize, "Pool": pool, "Conv": conv, "Flatten/Softmax/CumSum": flatten_softmax,
    "TopK/ArgMax": topk_argmax, "Broadcasting": broadcast_ops, "GatherElements/GatherND": gather_elements_nd,
    "Normalization": normalization, "Einsum": einsum, "Trilu/OneHot/Range/ConstantOfShape": trilu_onehot_range,
    "com.microsoft": contrib, "ai.onnx.ml": classical_ml, "RNN/GRU/LSTM": recurrent,
    "Quantize/Dequantize": quantized, "GridSample/RoiAlign/CenterCropPad/AffineGrid": vision,
    "Unary element-wise": unary, "Comparison/logic/Where": logic, "Sequences": sequences,
    "Shape/Cast/Scatter/Bitwise/...": tensor_misc, "Quantized contractions": quantized_contraction,
    "Attention/RMSNorm/fused (com.microsoft, opset 23)": attention_norm,
    "DFT/STFT/windows/random/Upsample/MaxUnpool/...": signal_random,
    "NonZero/Unique/NonMaxSuppression (data-dependent)": data_dependent, "If/Loop/Scan": control_flow,
    "ai.onnx.ml trees/SVM/encoders": classical_ml_more, "Strings/optionals": strings_optionals,
    "com.microsoft twins and math": contrib_twins, "com.microsoft quantized": contrib_quantized,
    "Legacy/Memcpy/NCHWc": legacy_nchwc, "com.microsoft misc": contrib_misc, "com.microsoft AttnLSTM": attn_lstm,
    "com.microsoft decoder step, DynamicQuantizeLSTM": decoder_step, "com.microsoft generation": generation,
    "com.microsoft LLM ops": contrib_llm, "com.microsoft LLM blocks": contrib_llm_blocks,
    "com.microsoft packed/quantised": contrib_packed, "ai.onnx.ml maps, TfIdf, BitCast, Tokenizer": ml_maps_strings,
}


def model_of(case: Case) -> onnx.ModelProto:
    inputs = [*(helper.make_tensor_value_info(k, F, v) for k, v in case.inputs.items()),
              *(info for info, _ in case.typed_inputs)]
    inits = [numpy_helper.from_array(v, k) for k, v in case.constants.items()]
    outputs = [onnx.ValueInfoProto(name=o) for o in case.node.output if o]  # typed by ONNX's inference below
    graph = helper.make_graph([*case.before, case.node], "g", inputs, outputs, initializer=inits)
    domains = {n.domain for n in (*case.before, case.node)} - {"", "ai.onnx"}
    opsets = dict(case.domain_opsets)
    extra = [helper.make_opsetid(d, opsets.get(d, 3 if d == ML else 1)) for d in sorted(domains)]
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", case.opset), *extra])
    try:
        typed = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - onnx rejects the case: onnxruntime will too (out of scope)
        return model
    for k, (out, inferred) in enumerate(zip(model.graph.output, typed.graph.output, strict=True)):
        if any(inferred.type.HasField(k) for k in ("sequence_type", "map_type", "optional_type")):
            out.type.CopyFrom(inferred.type)  # a sequence (of tensors or maps) stays one
            continue
        given = case.out_types[k] if k < len(case.out_types) else 0
        out.type.tensor_type.elem_type = given or inferred.type.tensor_type.elem_type or F
    return model


#: What `outcome` says of a case onnxruntime will not run (out of scope).
REJECTED = "rejected by onnxruntime"


def check(case: Case) -> str | None:
    """None when onnxcost's output shapes are onnxruntime's (or onnxruntime rejects the case), else what
    differs."""
    result = outcome(case)
    return None if result == REJECTED else result


@dataclass(frozen=True)
class SparseFeed:
    """A typed input fed as a COO sparse tensor of this dense value."""

    dense: np.ndarray


def _ort_value(value: Any) -> Any:
    import onnxruntime as ort

    if not isinstance(value, SparseFeed):
        return ort.OrtValue.ortvalue_from_numpy(value)
    where = np.ascontiguousarray(np.argwhere(value.dense != 0).astype(np.int64))
    sparse = ort.SparseTensor.sparse_coo_from_numpy(list(value.dense.shape), value.dense[value.dense != 0], where,
                                                    ort.OrtDevice.make("cpu", 0))
    return ort.OrtValue.ort_value_from_sparse_tensor(sparse)


def _run(session: Any, case: Case) -> list[np.ndarray]:
    """The session's outputs for all-ones inputs; aliased outputs bound to their input's buffer (SparseAttention
    updates its KV cache in place and checks that it may)."""
    feeds: dict[str, Any] = {k: np.ones(v, np.float32) for k, v in case.inputs.items()}
    feeds.update((info.name, value) for info, value in case.typed_inputs)
    if any(isinstance(v, SparseFeed) for v in feeds.values()):
        names = [o.name for o in session.get_outputs()]
        return [v.numpy() for v in session.run_with_ort_values(names, {k: _ort_value(v) for k, v in feeds.items()})]
    if not case.aliases:
        return list(session.run(None, feeds))
    import onnxruntime as ort

    binding = session.io_binding()
    values = {k: ort.OrtValue.ortvalue_from_numpy(v) for k, v in feeds.items()}
    for k, v in values.items():
        binding.bind_ortvalue_input(k, v)
    shared = dict(case.aliases)
    for out in (o.name for o in session.get_outputs()):
        if out in shared:
            binding.bind_ortvalue_output(out, values[shared[out]])
        else:
            binding.bind_output(out, "cpu")
    session.run_with_iobinding(binding)
    return [np.asarray(v.numpy()) for v in binding.get_outputs()]


def _shape_of(output: Any) -> tuple[int, ...]:
    """An output's shape as onnxcost gives it: a sequence is its length, then its elements' shape when they all
    agree (onnxcost holds a sequence stacked); a sequence of maps is its length."""
    if not isinstance(output, list):
        return tuple(output.shape)
    shapes = {e.shape for e in output if isinstance(e, np.ndarray)}
    if len(shapes) == 1 and all(isinstance(e, np.ndarray) for e in output):
        return (len(output), *shapes.pop())
    return (len(output),)


def outcome(case: Case) -> str | None:
    """None when the shapes agree, REJECTED when onnxruntime will not run the case, else what differs."""
    import onnxruntime as ort

    model = model_of(case)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        outs = _run(session, case)
    except Exception:  # noqa: BLE001 - a configuration onnxruntime rejects is out of scope
        return REJECTED
    try:
        # bound as a user binds an empty past (a declared 0 in a graph input reads as "unknown")
        node = onnxcost.analyze(model, input_shapes={k: v for k, v in case.inputs.items() if 0 in v}).nodes[-1]
    except onnxcost.ModelError as exc:
        return f"onnxcost refused a case onnxruntime runs: {exc}"
    got = [tuple(s) if s is not None else None for s, name in zip(node.output_shapes, case.node.output,
                                                                   strict=False) if name]
    want = [_shape_of(o) for o in outs]
    if case.data_dependent:
        got = [w if g is None else g for g, w in zip(got, want, strict=True)]
    if got != want:
        return f"{onnx.helper.printable_node(case.node)} on {case.inputs}: shapes {got} != onnxruntime's {want}"
    return None
