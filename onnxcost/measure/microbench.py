"""The calibration's micro-models: tiny ONNX graphs (GEMMs, convs, element-wise streams, chains of
copies) whose timings calibrate one term of the latency model each."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..latency.estimate import PARALLEL_CLASSES

Shape = list[int]


#: The opset of the microbenchmark models: old enough for every onnxruntime onnxcost supports.
CALIBRATION_OPSET = 17


def micro(nodes: list[onnx.NodeProto], inputs: dict[str, Shape], output: str,
           inits: dict[str, np.ndarray] | None = None, dtype: int = TensorProto.FLOAT) -> onnx.ModelProto:
    vis = [helper.make_tensor_value_info(k, dtype, v) for k, v in inputs.items()]
    init = [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    g = helper.make_graph(nodes, "calibration", vis, [helper.make_empty_tensor_value_info(output)], initializer=init)
    opsets = [helper.make_opsetid("", CALIBRATION_OPSET)]
    # The oldest IR version that carries opset 17, not the installed onnx's newest: an older onnxruntime
    # refuses an IR version newer than it knows ("Unsupported model IR version: 14").
    return helper.make_model(g, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))


#: Cheap convs (depthwise, grouped) are timed as a chain of this many, so the two reorders at its ends weigh little.
CHAIN = 4
#: Dot products (K) or output rows (M) up to this length are "short": they set dense_k_half / dense_m_half.
SHORT = 64
#: (M, N) of the GEMM timed without and with a bias: a 56x56 token map at 384 channels (Swin's first MLP).
BIAS_CASE = (3136, 384)
#: Convs in the chain with a weight tensor each: 16 x 9.4 MB, more than a server CPU's last-level cache.
COLD_CHAIN = 16
#: Kinds also timed on one thread, for how a kernel's work spreads over the thread pool (parallel_flops_half):
#: the classes the estimate slows by it.
PARALLEL_KINDS = PARALLEL_CLASSES
#: Kinds whose rates fit() takes the parallel slowdown out of: the ones the estimate slows by it (a blocked
#: grouped conv is costed as a dense kernel, but is not timed on one thread).
SPREAD_KINDS = (*PARALLEL_KINDS, "blocked grouped", "one block", "int8", "int8 unsigned")


def _w(*shape: int) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(shape) * 0.01).astype(np.float32)


def _matmul(m: int, k: int, n: int, bias: bool = False) -> onnx.ModelProto:
    """An (m, k) x (k, n) GEMM of constant weights; with `bias`, an Add of a constant row after it (onnxruntime
    runs the two as one Gemm that copies the bias into the output first)."""
    if not bias:
        return micro([helper.make_node("MatMul", ["a", "w"], ["y"])], {"a": [m, k]}, "y", {"w": _w(k, n)})
    nodes = [helper.make_node("MatMul", ["a", "w"], ["p"]), helper.make_node("Add", ["p", "b"], ["y"])]
    return micro(nodes, {"a": [m, k]}, "y", {"w": _w(k, n), "b": _w(n)})


def _integer(op: str, a: Shape, w: Shape, signed: bool = True, **attrs: Any) -> onnx.ModelProto:
    """A dynamically quantized model's integer kernel alone (quantize_dynamic's MatMulInteger / ConvInteger):
    uint8 activations by constant int8 (`signed`) or uint8 weights, each with its zero point, into int32."""
    rng = np.random.default_rng(0)
    w_type = np.int8 if signed else np.uint8
    info = np.iinfo(w_type)
    weights = {"w": rng.integers(info.min, info.max + 1, w).astype(w_type), "a_zero": np.array(128, dtype=np.uint8),
               "w_zero": np.array(0 if signed else 128, dtype=w_type)}
    node = helper.make_node(op, ["a", "w", "a_zero", "w_zero"], ["y"], **attrs)
    return micro([node], {"a": a}, "y", weights, dtype=TensorProto.UINT8)


def qlinear_matmul(m: int, k: int, n: int) -> onnx.ModelProto:
    """A static QDQ model's GEMM as onnxruntime runs it (QLinearMatMul): uint8 activations by int8 weights, the
    output requantized to uint8."""
    rng = np.random.default_rng(0)
    inits: dict[str, np.ndarray] = {
        "w": rng.integers(-128, 128, (k, n)).astype(np.int8), "a_s": np.array(0.02, dtype=np.float32),
        "a_z": np.array(128, dtype=np.uint8), "w_s": np.array(0.01, dtype=np.float32),
        "w_z": np.array(0, dtype=np.int8), "y_s": np.array(0.05, dtype=np.float32),
        "y_z": np.array(128, dtype=np.uint8)}
    node = helper.make_node("QLinearMatMul", ["a", "a_s", "a_z", "w", "w_s", "w_z", "y_s", "y_z"], ["y"])
    return micro([node], {"a": [m, k]}, "y", inits, dtype=TensorProto.UINT8)


def quantized_softmax(shape: Shape) -> onnx.ModelProto:
    """DequantizeLinear, Softmax and QuantizeLinear on uint8 (a QDQ model's attention): onnxruntime runs the three
    as one QLinearSoftmax."""
    nodes = [helper.make_node("DequantizeLinear", ["a", "s", "z"], ["d"]), helper.make_node("Softmax", ["d"], ["p"]),
             helper.make_node("QuantizeLinear", ["p", "s_out", "z"], ["y"])]
    inits: dict[str, np.ndarray] = {"s": np.array(0.05, dtype=np.float32), "s_out": np.array(1 / 255, dtype=np.float32),
             "z": np.array(0, dtype=np.uint8)}
    return micro(nodes, {"a": shape}, "y", inits, dtype=TensorProto.UINT8)


def expand_model(shape: Shape, to: Shape) -> onnx.ModelProto:
    return micro([helper.make_node("Expand", ["a", "shape"], ["y"])], {"a": shape}, "y",
                  {"shape": np.array(to, dtype=np.int64)})


def conv_chain(c: int, hw: int, k: int, group: int, n: int, distinct: bool = False) -> onnx.ModelProto:
    """n same-shape convs in a row: onnxruntime keeps the blocked layout between them, reordering only at the
    ends. They share one weight tensor, or with `distinct` each has its own (together larger than any cache)."""
    nodes = [helper.make_node("Conv", ["a" if i == 0 else f"t{i}", f"w{i if distinct else 0}"], [f"t{i + 1}"],
                              pads=[k // 2] * 4, group=group) for i in range(n)]
    weights = {f"w{i}": _w(c, c // group, k, k) + i * 1e-3 for i in range(n if distinct else 1)}
    return micro(nodes, {"a": [1, c, hw, hw]}, f"t{n}", weights)


def _conv(c_in: int, c_out: int, hw: int, k: int, group: int) -> onnx.ModelProto:
    node = helper.make_node("Conv", ["a", "w"], ["y"], pads=[k // 2] * 4, group=group)
    return micro([node], {"a": [1, c_in, hw, hw]}, "y", {"w": _w(c_out, c_in // group, k, k)})


def cases(block: int = 0) -> list[tuple[str, str, Callable[[], onnx.ModelProto], int]]:
    """(name, kind, model builder, nodes in the model) for every microbenchmark; with onnxruntime's channel
    `block`, also a grouped conv of one block per group (its blocked grouped kernel)."""
    chain = 64
    tiny = [helper.make_node("Add", ["x" if i == 0 else f"t{i}", "x"], [f"t{i + 1}"]) for i in range(chain)]
    out: list[tuple[str, str, Callable[[], onnx.ModelProto], int]] = [
        ("tiny add chain", "overhead", lambda: micro(tiny, {"x": [1]}, f"t{chain}"), chain),
        ("one tiny add", "run", lambda: micro(tiny[:1], {"x": [1]}, "t1"), 1),
        ("add 8M", "bandwidth", lambda: micro([helper.make_node("Add", ["a", "b"], ["y"])],
                                               {"a": [8 << 20], "b": [8 << 20]}, "y"), 1),
        ("add 256K", "cache", lambda: micro([helper.make_node("Add", ["a", "b"], ["y"])],
                                             {"a": [256 << 10], "b": [256 << 10]}, "y"), 1),
        ("transpose 4M", "movement", lambda: micro([helper.make_node("Transpose", ["a"], ["y"], perm=[0, 2, 3, 1])],
                                                    {"a": [1, 64, 256, 256]}, "y"), 1),
        ("transpose 5-D windows", "movement", lambda: micro(
            [helper.make_node("Transpose", ["a"], ["y"], perm=[0, 1, 3, 2, 4])], {"a": [1, 8, 7, 8, 7 * 64]}, "y"), 1),
        ("transpose 6-D partition", "movement", lambda: micro(
            [helper.make_node("Transpose", ["a"], ["y"], perm=[0, 2, 4, 3, 5, 1])], {"a": [1, 64, 8, 7, 8, 7]},
            "y"), 1),
        # one element per copy call (Swin V2's norm broadcast): onnxruntime's Expand then makes 6 memcpys an element
        ("expand 9408x1 to 9408x32", "copy", lambda: expand_model([9408, 1], [9408, 32]), 1),
        ("einsum attention", "einsum", lambda: micro(
            [helper.make_node("Einsum", ["a", "b"], ["y"], equation="bghid,bghjd->bghij")],
            {"a": [1, 4, 8, 49, 32], "b": [1, 4, 8, 49, 32]}, "y"), 1),
        ("tanh 1M", "elementwise", lambda: micro([helper.make_node("Tanh", ["a"], ["y"])], {"a": [1 << 20]}, "y"),
         1),
        ("erf 1M", "elementwise", lambda: micro([helper.make_node("Erf", ["a"], ["y"])], {"a": [1 << 20]}, "y"), 1),
        ("sigmoid 1M", "elementwise", lambda: micro([helper.make_node("Sigmoid", ["a"], ["y"])],
                                                     {"a": [1 << 20]}, "y"), 1),
        ("softmax 256x1024", "elementwise", lambda: micro([helper.make_node("Softmax", ["a"], ["y"], axis=-1)],
                                                           {"a": [256, 1024]}, "y"), 1),
        # a QDQ transformer's attention probabilities: 6 heads of 400 x 400
        ("quantized softmax 6x400x400 E=960000", "quantized softmax", partial(quantized_softmax, [1, 6, 400, 400]),
         1),
        # onnxruntime's LRN: Caffe2's serial kernel, a powf per element (RuntimeHints.serial_pow)
        ("lrn 64 @56", "serial pow", lambda: micro([helper.make_node("LRN", ["a"], ["y"], size=5, alpha=1e-4,
                                                                      beta=0.75)], {"a": [1, 64, 56, 56]}, "y"), 1),
    ]
    for m, k, n in ((256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 768, 3072), (196, 768, 768),
                    (49, 768, 768)):
        out.append((f"matmul {m}x{k}x{n} K={k} M={m}", "dense", partial(_matmul, m, k, n), 1))
    # Integer kernels of quantized models: uint8 x int8 GEMMs (a dynamic model's MatMulInteger, a static one's
    # QLinearMatMul) set the int8 peak and efficiency (2.5x the uint8 x uint8 rate on a VNNI CPU), and kernels of
    # uint8 weights (quantize_dynamic's ConvInteger: 3x3 ones unfold their input first, 1x1 ones do not) their
    # share of it.
    out += [(f"matmul-integer {m}x{k}x{n} K={k} M={m}", "int8", partial(_integer, "MatMulInteger", [m, k], [k, n]), 1)
            for m, k, n in ((512, 512, 512), (64, 768, 768))]
    out.append(("qlinear-matmul 400x384x384 K=384 M=400", "int8", partial(qlinear_matmul, 400, 384, 384), 1))
    out += [("matmul-integer uint8 512x512x512 K=512 M=512", "int8 unsigned",
             partial(_integer, "MatMulInteger", [512, 512], [512, 512], False), 1),
            ("conv-integer uint8 64->64 3x3 @56 K=576 M=3136", "int8 unsigned",
             partial(_integer, "ConvInteger", [1, 64, 56, 56], [64, 64, 3, 3], False, pads=[1, 1, 1, 1]), 1),
            ("conv-integer uint8 128->128 1x1 @28 K=128 M=784", "int8 unsigned",
             partial(_integer, "ConvInteger", [1, 128, 28, 28], [128, 128, 1, 1], False), 1)]
    # The same cheap GEMM (K = 16: the bias pass dominates) without and with a bias: the bias pass's rate.
    out += [(f"gemm {BIAS_CASE[0]}x16x{BIAS_CASE[1]} M={BIAS_CASE[0]} N={BIAS_CASE[1]}", "gemm",
             partial(_matmul, BIAS_CASE[0], 16, BIAS_CASE[1]), 1),
            (f"gemm+bias {BIAS_CASE[0]}x16x{BIAS_CASE[1]} M={BIAS_CASE[0]} N={BIAS_CASE[1]}", "bias",
             partial(_matmul, BIAS_CASE[0], 16, BIAS_CASE[1], True), 1)]
    # The same chain of convs with one shared weight (it stays in cache) and with 16 of 9.4 MB: what reading a
    # conv's weights from main memory adds to it.
    w_bytes = 512 * 512 * 9 * 4
    out += [(f"conv chain 512 3x3 @7 shared weights W={w_bytes}", "warm weights",
             partial(conv_chain, 512, 7, 3, 1, COLD_CHAIN), COLD_CHAIN),
            (f"conv chain 512 3x3 @7 distinct weights W={w_bytes}", "cold weights",
             partial(conv_chain, 512, 7, 3, 1, COLD_CHAIN, True), COLD_CHAIN)]
    for c_in, c_out, hw, k in ((64, 64, 56, 3), (128, 128, 28, 3), (256, 256, 14, 3), (256, 1024, 14, 1),
                               (3, 64, 112, 7), (512, 512, 7, 3)):
        out.append((f"conv {c_in}->{c_out} {k}x{k} @{hw} K={c_in * k * k} M={hw * hw}", "dense",
                    partial(_conv, c_in, c_out, hw, k, 1), 1))
    for c, hw in ((16, 56), (24, 56), (32, 28), (48, 28)):  # short dot products: cheap, so timed as chains
        out.append((f"conv chain {c}->{c} 1x1 @{hw} K={c} M={hw * hw}", "dense",
                    partial(conv_chain, c, hw, 1, 1, CHAIN), CHAIN))
    for c, hw in ((128, 56), (256, 28), (512, 14)):
        out.append((f"depthwise {c} 3x3 @{hw}", "depthwise", partial(conv_chain, c, hw, 3, c, CHAIN), CHAIN))
    for c, hw in ((64, 56), (128, 28), (256, 14)):
        out.append((f"grouped {c} 8/group 3x3 @{hw}", "grouped", partial(conv_chain, c, hw, 3, c // 8, CHAIN),
                    CHAIN))
    if block:
        c = 24 * block
        out.append((f"grouped {c} {block}/group 3x3 @14 K={9 * block} M=196", "blocked grouped",
                    partial(conv_chain, c, 14, 3, 24, CHAIN), CHAIN))
        # one block of output channels (a detector's first layers): each loaded input is reused less
        out.append((f"conv {block}->{block} 3x3 @184 K={9 * block} M={184 * 184}", "one block",
                    partial(_conv, block, block, 184, 3, 1), 1))
    return out
