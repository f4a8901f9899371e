"""Each cost rule against a number computed by hand (in the comment beside it)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tests.helpers import node_of, one_node, w


def test_conv_plain_with_bias() -> None:
    # 1x3x32x32, 16 filters 3x3, pad 1: out 1x16x32x32 = 16,384 elements; MACs = 16,384 * 3*3*3 = 442,368
    n = node_of(one_node("Conv", {"x": [1, 3, 32, 32], "w": w(16, 3, 3, 3), "b": w(16)}, pads=[1, 1, 1, 1]))
    assert n.output_shapes == [[1, 16, 32, 32]]
    assert n.macs == 442_368
    assert n.flops == 2 * 442_368 + 16_384  # bias adds one FLOP per output element
    assert n.params == 16 * 3 * 9 + 16


def test_conv_grouped_strided_dilated() -> None:
    # x 2x8x20x20, w 12x(8/4)x3x3, group 4, stride 2, dilation 2, no pad:
    # effective kernel 5 -> out (20-5)//2+1 = 8: 2x12x8x8 = 1,536; MACs = 1,536 * 2*3*3 = 27,648
    n = node_of(one_node("Conv", {"x": [2, 8, 20, 20], "w": w(12, 2, 3, 3)}, group=4, strides=[2, 2],
                         dilations=[2, 2]))
    assert n.output_shapes == [[2, 12, 8, 8]]
    assert (n.macs, n.flops) == (27_648, 55_296)


def test_conv_depthwise() -> None:
    # depthwise 32 channels 3x3 on 1x32x10x10, pad 1: out 3,200 elements, MACs = 3,200 * 9 = 28,800 (seed 003)
    n = node_of(one_node("Conv", {"x": [1, 32, 10, 10], "w": w(32, 1, 3, 3)}, group=32, pads=[1] * 4))
    assert n.macs == 28_800
    assert n.params == 32 * 9  # c_o * k_h * k_w (seed 003, depthwise)


def test_conv_auto_pad_same_upper_1d_and_3d() -> None:
    # 1-D: 1x4x11, k=3, stride 2, SAME_UPPER -> ceil(11/2) = 6; MACs = 1*5*6 * 4*3 = 360
    n = node_of(one_node("Conv", {"x": [1, 4, 11], "w": w(5, 4, 3)}, strides=[2], auto_pad="SAME_UPPER"))
    assert n.output_shapes == [[1, 5, 6]] and n.macs == 360
    # 3-D: 1x2x4x4x4, k 2x2x2, no pad -> 3x3x3; MACs = 3*27 * 2*8 = 1,296
    n = node_of(one_node("Conv", {"x": [1, 2, 4, 4, 4], "w": w(3, 2, 2, 2, 2)}))
    assert n.output_shapes == [[1, 3, 3, 3, 3]] and n.macs == 1_296


def test_conv_transpose() -> None:
    # x 1x4x5x5, w 4x6x3x3 (C_in, C_out/group), stride 2: out = 2*(5-1)+3 = 11 -> 1x6x11x11
    # every input element scatters 6*9 products: MACs = 100 * 54 = 5,400
    n = node_of(one_node("ConvTranspose", {"x": [1, 4, 5, 5], "w": w(4, 6, 3, 3)}, strides=[2, 2]))
    assert n.output_shapes == [[1, 6, 11, 11]]
    assert n.macs == 5_400


def test_gemm_flags() -> None:
    # A^T with A 64x8 -> M=8, K=64; B^T with B 32x64 -> N=32: MACs = 8*32*64 = 16,384
    # C adds M*N = 256; alpha 0.5 scales 256; beta 2 scales C 256: FLOPs = 32,768 + 768
    n = node_of(one_node("Gemm", {"a": [64, 8], "b": w(32, 64), "c": w(32)}, transA=1, transB=1, alpha=0.5,
                         beta=2.0))
    assert n.output_shapes == [[8, 32]]
    assert (n.macs, n.flops) == (16_384, 32_768 + 768)


def test_fc_seed001_examples() -> None:
    # seed 001: 100 -> 10 neurons is about 2,000 operations (2nk), 4096 -> 1000 about 8.2 million;
    # weights n*k + k (seed 000: [784, 10] gives 7,850)
    assert node_of(one_node("Gemm", {"x": [1, 100], "w": w(10, 100)}, transB=1)).flops == 2_000
    assert node_of(one_node("Gemm", {"x": [1, 4096], "w": w(1000, 4096)}, transB=1)).flops == 8_192_000
    assert node_of(one_node("Gemm", {"x": [1, 784], "w": w(10, 784), "b": w(10)}, transB=1)).params == 7_850


def test_matmul_batch_broadcast() -> None:
    # [2,1,5,7] x [3,7,4] -> [2,3,5,4] = 120 outputs, each a 7-long dot product: 840 MACs
    n = node_of(one_node("MatMul", {"a": [2, 1, 5, 7], "b": [3, 7, 4]}))
    assert n.output_shapes == [[2, 3, 5, 4]]
    assert (n.macs, n.flops) == (840, 1_680)
    # vector x matrix: [7] x [7,4] -> [4]: 28 MACs
    n = node_of(one_node("MatMul", {"a": [7], "b": [7, 4]}))
    assert n.output_shapes == [[4]] and n.macs == 28


def test_einsum_contraction_and_single_operand() -> None:
    # bij,bjk->bik with b=2, i=3, j=4, k=5: 2*3*4*5 = 120 MACs
    n = node_of(one_node("Einsum", {"a": [2, 3, 4], "b": [2, 4, 5]}, equation="bij,bjk->bik"))
    assert n.output_shapes == [[2, 3, 5]] and n.macs == 120
    # ...ij->...ji is a transpose: no arithmetic
    n = node_of(one_node("Einsum", {"a": [6, 3, 4]}, equation="...ij->...ji"))
    assert n.output_shapes == [[6, 4, 3]] and (n.macs, n.flops) == (0, 0)
    # ij-> sums 12 elements: 12 FLOPs, 0 MACs
    n = node_of(one_node("Einsum", {"a": [3, 4]}, equation="ij->"))
    assert n.output_shapes == [[]] and (n.macs, n.flops) == (0, 12)


def test_pooling_seed002() -> None:
    # seed 002 pool1: 64x56x56 -> 64x27x27 with 3x3 windows: (64*27*27)*(3*3) = 419,904 FLOPs
    n = node_of(one_node("MaxPool", {"x": [1, 64, 56, 56]}, kernel_shape=[3, 3], strides=[2, 2]))
    assert n.output_shapes == [[1, 64, 27, 27]]
    assert (n.macs, n.flops) == (0, 419_904)
    n = node_of(one_node("GlobalAveragePool", {"x": [1, 8, 7, 7]}))
    assert n.output_shapes == [[1, 8, 1, 1]] and n.flops == 8 * 49


def test_pool_ceil_mode_matches_onnxruntime_rule() -> None:
    # 1x1x6x6, k=3, s=2, ceil: ceil((6-3)/2)+1 = 3; the last window starts at 4 < 6, so it stays 3.
    n = node_of(one_node("MaxPool", {"x": [1, 1, 6, 6]}, kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1))
    assert n.output_shapes[0] == [1, 1, 3, 3]
    # 1x1x5x5, k=2, s=2, pad 1, ceil: ceil((5+2-2)/2)+1 = 4, but window 4 starts at 6 >= 5+1: dropped -> 3
    n = node_of(one_node("MaxPool", {"x": [1, 1, 5, 5]}, kernel_shape=[2, 2], strides=[2, 2], pads=[1] * 4,
                         ceil_mode=1))
    assert n.output_shapes[0] == [1, 1, 3, 3]


def test_batchnorm_layernorm_softmax() -> None:
    x = [2, 4, 3, 3]  # 72 elements
    bn = node_of(one_node("BatchNormalization", {"x": x, "s": w(4), "b": w(4), "m": w(4), "v": w(4)}))
    assert (bn.macs, bn.flops, bn.params) == (0, 144, 16)  # x*a + b: 2 per element; 4 vectors of 4
    ln = node_of(one_node("LayerNormalization", {"x": [2, 5, 8], "g": w(8), "b": w(8)}, axis=-1))
    assert ln.flops == 80 * 7  # 5 for normalising + scale + bias, per element
    sm = node_of(one_node("Softmax", {"x": [3, 10]}))
    assert sm.flops == 30 * 5


def test_elementwise_broadcast() -> None:
    # [4,1,6] + [5,1]: output [4,5,6] = 120 elements, 1 FLOP each
    n = node_of(one_node("Add", {"a": [4, 1, 6], "b": [5, 1]}))
    assert n.output_shapes == [[4, 5, 6]] and (n.macs, n.flops) == (0, 120)
    assert node_of(one_node("Sigmoid", {"x": [10]})).flops == 40
    assert node_of(one_node("Relu", {"x": [10]})).flops == 10
    # Sum of 3 inputs: 2 adds per output element
    assert node_of(one_node("Sum", {"a": [7], "b": [7], "c": [7]})).flops == 14


def test_data_movement_is_free_but_moves_bytes() -> None:
    n = node_of(one_node("Transpose", {"x": [2, 3, 4]}, perm=[2, 0, 1]))
    assert n.output_shapes == [[4, 2, 3]]
    assert (n.macs, n.flops) == (0, 0)
    assert (n.input_bytes, n.output_bytes) == (96, 96)


@pytest.mark.parametrize("op,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_recurrent_gate_macs(op: str, gates: int) -> None:
    # seq 5, batch 2, input 3, hidden 4, bidirectional: 5*2*2 steps*dirs*batch * gates*4*(3+4) MACs
    h = 4
    model = one_node(op, {"x": [5, 2, 3], "w": w(2, gates * h, 3), "r": w(2, gates * h, h)},
                     outputs=("y", "yh"), hidden_size=h, direction="bidirectional")
    n = node_of(model)
    assert n.output_shapes == [[5, 2, 2, 4], [2, 2, 4]]
    assert n.macs == 5 * 2 * 2 * gates * h * (3 + h)
    assert n.flops is not None and n.flops > 2 * n.macs


def test_unknown_op_is_null_not_zero() -> None:
    import onnxcost

    model = one_node("FancyOp", {"x": [3, 3]}, domain="com.example")
    rep = onnxcost.analyze(model)
    assert rep.nodes[0].macs is None and rep.nodes[0].flops is None
    assert rep.totals.unknown_cost_nodes == 1
    assert any("FancyOp" in w_ for w_ in rep.warnings)
    assert rep.to_dict()["nodes"][0]["macs"] is None


def test_integer_constants_are_not_parameters() -> None:
    # Reshape's int64 target is a shape, not a weight
    n = node_of(one_node("Reshape", {"x": [2, 6], "s": np.array([3, 4], dtype=np.int64)}))
    assert n.output_shapes == [[3, 4]] and n.params == 0


def test_flops_at_least_twice_macs_on_every_reference_model() -> None:
    import onnxcost
    from models.zoo import ZOO

    for make in ZOO.values():
        for node in onnxcost.analyze(make()).nodes:
            assert node.flops is not None and node.macs is not None
            assert node.flops >= 2 * node.macs


def _loop_model(trips: int | None) -> onnx.ModelProto:
    """for i in range(trips): h = h @ W (W is an outer-scope 8x8 initializer); 64 MACs per iteration."""
    from onnx import TensorProto, helper, numpy_helper

    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("MatMul", ["h_in", "W"], ["h_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_in", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("h_out", TensorProto.FLOAT, [1, 8])])
    inits = [numpy_helper.from_array(w(8, 8), "W")]
    inputs = [helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, 8])]
    if trips is None:
        inputs.append(helper.make_tensor_value_info("M", TensorProto.INT64, []))
    else:
        inits.append(numpy_helper.from_array(np.array(trips, np.int64), "M"))
    inits.append(numpy_helper.from_array(np.array(True), "cond"))
    loop = helper.make_node("Loop", ["M", "cond", "h0"], ["h"], body=body)
    g = helper.make_graph([loop], "g", inputs, [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, 8])],
                          initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_loop_with_known_trip_count() -> None:
    import onnxcost

    # 4 iterations x (1x8 @ 8x8 = 64 MACs) = 256 MACs; the weight is read by the body: 64 params
    rep = onnxcost.analyze(_loop_model(4))
    assert rep.nodes[0].macs == 256 and rep.nodes[0].flops == 512
    assert rep.totals.unknown_cost_nodes == 0
    # a trip count given at run time: unknown, never 0
    rep = onnxcost.analyze(_loop_model(None))
    assert rep.nodes[0].macs is None and rep.totals.unknown_cost_nodes == 1


def test_if_with_known_condition() -> None:
    from onnx import TensorProto, helper, numpy_helper

    import onnxcost

    def branch(op: str) -> onnx.GraphProto:
        return helper.make_graph([helper.make_node(op, ["x", "W"], ["y"])], op,
                                 [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])])

    for cond, macs in ((True, 64), (False, 0)):
        node = helper.make_node("If", ["c"], ["out"], then_branch=branch("MatMul"), else_branch=branch("Add"))
        g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [4, 4])],
                              initializer=[numpy_helper.from_array(np.array(cond), "c"),
                                           numpy_helper.from_array(w(4, 4), "W")])
        rep = onnxcost.analyze(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
        assert rep.nodes[0].macs == macs  # 4x4 @ 4x4 = 64 MACs in the then-branch, an Add in the else-branch
