"""onnxruntime's com.microsoft ops as optimised and quantised LLM exports use them: shapes against
onnxruntime itself, MACs and parameters by hand."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import onnxcost

MS = "com.microsoft"


def _model(nodes: list[onnx.NodeProto], inputs: dict[str, list[int]], outputs: list[str],
           inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    graph_inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in inputs.items()]
    g = helper.make_graph(nodes, "g", graph_inputs,
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)])


def _ort_shapes(model: onnx.ModelProto) -> list[tuple[int, ...]]:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.random.default_rng(0).standard_normal(i.shape).astype(np.float32) for i in sess.get_inputs()}
    return [tuple(np.asarray(r).shape) for r in sess.run(None, feeds)]


def test_matmul_nbits_int4() -> None:
    # A [2, 5, 64] x 4-bit B (N=32, K=64, blocks of 32): out [2, 5, 32]; 10 rows x 64 x 32 = 20,480 MACs.
    # params: the 64 x 32 = 2,048 weights the packed uint8 [32, 2, 16] tensor holds (scales are not params);
    # param bytes: 1,024 packed + 64 scales x 4 = 1,280
    k, n, block = 64, 32, 32
    blocks = k // block
    inits: dict[str, np.ndarray] = {"B": np.zeros((n, blocks, block // 2), np.uint8),
                                   "scales": np.ones(n * blocks, np.float32)}
    node = helper.make_node("MatMulNBits", ["A", "B", "scales"], ["Y"], domain=MS, K=k, N=n, bits=4,
                            block_size=block)
    model = _model([node], {"A": [2, 5, k]}, ["Y"], inits)
    rep = onnxcost.analyze(model)
    assert [tuple(s or ()) for s in rep.nodes[0].output_shapes] == _ort_shapes(model) == [(2, 5, 32)]
    assert rep.nodes[0].macs == 20_480
    assert rep.totals.params == 2_048 and rep.totals.param_bytes == 1_280
    assert rep.totals.unknown_cost_nodes == 0


def test_skip_layernorm_fused_matmul_and_gelus() -> None:
    x = {"x": [2, 4, 16], "skip": [2, 4, 16]}
    inits = {"gamma": np.ones(16, np.float32), "beta": np.zeros(16, np.float32),
             "w": np.zeros((8, 16), np.float32)}
    nodes = [
        helper.make_node("SkipLayerNormalization", ["x", "skip", "gamma", "beta"], ["ln", "", "", "sum"],
                         domain=MS, epsilon=1e-5),
        helper.make_node("FusedMatMul", ["ln", "w"], ["mm"], domain=MS, transB=1, alpha=0.5),
        helper.make_node("FastGelu", ["mm"], ["fg"], domain=MS),
        helper.make_node("Gelu", ["fg"], ["g"], domain=MS),
        helper.make_node("QuickGelu", ["g"], ["y"], domain=MS),
    ]
    model = _model(nodes, x, ["y", "sum"], inits)
    rep = onnxcost.analyze(model)
    by_name = {n.op_type: n for n in rep.nodes}
    assert [tuple(s or ()) for s in (rep.outputs[0].shape, rep.outputs[1].shape)] == _ort_shapes(model)
    # FusedMatMul: [2,4,16] x [16,8] (B transposed): 64 outputs x 16 = 1,024 MACs, +64 for alpha
    assert by_name["FusedMatMul"].output_shapes == [[2, 4, 8]]
    assert (by_name["FusedMatMul"].macs, by_name["FusedMatMul"].flops) == (1_024, 2_048 + 64)
    # SkipLayerNorm with gamma and beta: skip add 1 + normalise 5 + scale 1 + shift 1 = 8 per element (128)
    assert by_name["SkipLayerNormalization"].flops == 8 * 128
    assert by_name["QuickGelu"].flops == 5 * 64 and by_name["FastGelu"].flops == 8 * 64
    assert rep.totals.unknown_cost_nodes == 0


def test_gather_block_quantized_embedding() -> None:
    # a 4-bit table of 10 rows x 64 (packed [10, 32] uint8, blocks of 32: scales [10, 2]); 2 x 3 ids gather
    # [2, 3, 64] float rows, 2 FLOPs each to dequantise = 768; params: the 640 logical weights, not the scales
    inits: dict[str, np.ndarray] = {"table": np.zeros((10, 32), np.uint8), "scales": np.ones((10, 2), np.float32)}
    node = helper.make_node("GatherBlockQuantized", ["table", "ids", "scales"], ["y"], domain=MS, gather_axis=0,
                            quantize_axis=1, block_size=32, bits=4)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)])
    rep = onnxcost.analyze(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"ids": np.array([[0, 1, 2], [3, 4, 5]], np.int64)})
    assert rep.nodes[0].output_shapes == [list(y.shape)] == [[2, 3, 64]]
    assert rep.nodes[0].flops == 768 and rep.totals.params == 640


def test_quick_gelu_the_readme_example() -> None:
    from tests.helpers import node_of, one_node

    # a [2, 4, 16] input: 128 elements x 5 FLOPs = 640; the shape as onnxruntime computes it
    model = one_node("QuickGelu", {"x": [2, 4, 16]}, domain=MS)
    assert node_of(model).flops == 640 and node_of(model).output_shapes == [[2, 4, 16]]
    assert [list(s) for s in _ort_shapes(model)] == [[2, 4, 16]]


def test_fused_conv_gemm_and_nhwc_conv() -> None:
    from tests.helpers import node_of, one_node, w

    # FusedConv (Relu): 1x6x6x6 outputs x 4·3·3 = 7,776 MACs; FLOPs 2·MACs + bias 216 + Relu 216 = 15,984
    model = one_node("FusedConv", {"x": [1, 4, 8, 8], "w": w(6, 4, 3, 3), "b": w(6)}, domain=MS, activation="Relu")
    node = node_of(model)
    assert (node.macs, node.flops) == (7_776, 15_984)
    assert [list(s) for s in _ort_shapes(model)] == node.output_shapes == [[1, 6, 6, 6]]
    # FusedGemm (Relu): 3x7 outputs x 5 = 105 MACs; 2·105 + C 21 + Relu 21 = 252 FLOPs
    model = one_node("FusedGemm", {"a": [3, 5], "b": w(5, 7), "c": w(7)}, domain=MS, activation="Relu")
    node = node_of(model)
    assert (node.macs, node.flops) == (105, 252)
    assert [list(s) for s in _ort_shapes(model)] == node.output_shapes == [[3, 7]]
    # NhwcConv, [1, 8, 8, 4] padded by 1: [1, 8, 8, 6] x 4·3·3 = 13,824 MACs (onnxruntime has no CPU kernel)
    node = node_of(one_node("NhwcConv", {"x": [1, 8, 8, 4], "w": w(6, 4, 3, 3)}, domain=MS, pads=[1, 1, 1, 1]))
    assert node.macs == 13_824 and node.output_shapes == [[1, 8, 8, 6]]
