"""Attention ops, one node each: MACs by hand (QK^T + AV = batch·q_heads·q_len·kv_len·(head_qk + head_v), plus
the projections when the op holds the weights), output shapes against onnxruntime running the same node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost

MS = "com.microsoft"
F = TensorProto.FLOAT


def _model(op: str, inputs: list[str], inputs_spec: Mapping[str, tuple[int, list[int]]], inits: Mapping[str, Any],
           outputs: list[str], domain: str = MS, opset: int = 21, **attrs: Any) -> onnx.ModelProto:
    node = helper.make_node(op, inputs, outputs, name="att", domain=domain, **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info(k, t, s) for k, (t, s) in inputs_spec.items()],
                          [helper.make_empty_tensor_value_info(o) for o in outputs if o],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid(MS, 1)])


def _ort_shapes(model: onnx.ModelProto) -> list[tuple[int, ...]]:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sess.get_inputs():
        kind = onnx.helper.tensor_dtype_to_np_dtype(onnx.helper.np_dtype_to_tensor_dtype(
            np.dtype({"tensor(float)": "float32", "tensor(uint8)": "uint8", "tensor(int32)": "int32"}[i.type])))
        feeds[i.name] = (rng.standard_normal(i.shape) if kind.kind == "f" else rng.integers(0, 3, i.shape)).astype(kind)
    return [tuple(np.asarray(r).shape) for r in sess.run(None, feeds)]


def _check(model: onnx.ModelProto, macs: int, run_ort: bool = True) -> onnxcost.Report:
    rep = onnxcost.analyze(model)
    node = rep.nodes[0]
    assert node.macs == macs, rep.warnings
    assert rep.totals.unknown_cost_nodes == 0 and not node.upper_bound
    ours = [tuple(s) for s in node.output_shapes if s is not None]
    assert len(ours) == len([o for o in node.outputs if o])
    if run_ort:
        assert ours == _ort_shapes(model)
    return rep


def test_onnx_attention_4d_grouped_query() -> None:
    # 4 query heads over 2 KV heads: 2·4·3·5·(8 + 6) = 1,680 MACs
    spec = {"Q": (F, [2, 4, 3, 8]), "K": (F, [2, 2, 5, 8]), "V": (F, [2, 2, 5, 6])}
    rep = _check(_model("Attention", ["Q", "K", "V"], spec, {}, ["Y"], domain="", opset=23), 1_680)
    assert rep.nodes[0].output_shapes == [[2, 4, 3, 6]]


def test_onnx_attention_3d_with_past() -> None:
    # 3-D inputs with head counts; 7 past + 5 new keys: 2·4·3·12·(8 + 6) = 4,032 MACs
    spec = {"Q": (F, [2, 3, 32]), "K": (F, [2, 5, 16]), "V": (F, [2, 5, 12]),
            "pk": (F, [2, 2, 7, 8]), "pv": (F, [2, 2, 7, 6])}
    rep = _check(_model("Attention", ["Q", "K", "V", "", "pk", "pv"], spec, {}, ["Y", "present_k", "present_v"],
                        domain="", opset=23, q_num_heads=4, kv_num_heads=2), 4_032)
    assert rep.nodes[0].output_shapes == [[2, 3, 24], [2, 2, 12, 8], [2, 2, 12, 6]]


def test_ms_attention_with_projection_and_past() -> None:
    # projection 2·3·16·48 = 4,608; 4 heads of 4 over 5 past + 3 new keys: 2·4·3·8·(4 + 4) = 1,536
    spec = {"x": (F, [2, 3, 16]), "past": (F, [2, 2, 4, 5, 4])}
    inits = {"w": np.zeros((16, 48), np.float32), "b": np.zeros(48, np.float32)}
    rep = _check(_model("Attention", ["x", "w", "b", "", "past"], spec, inits, ["y", "present"], num_heads=4,
                        unidirectional=1), 4_608 + 1_536)
    assert rep.totals.params == 16 * 48 + 48


def test_qattention_counts_the_float_attentions_macs() -> None:
    # as the float Attention without past: 4,608 + 2·4·3·3·8 = 576
    spec = {"x": (TensorProto.UINT8, [2, 3, 16])}
    inits = {"w": np.zeros((16, 48), np.uint8), "b": np.zeros(48, np.float32), "xs": np.array(0.1, np.float32),
             "ws": np.array(0.1, np.float32), "xz": np.array(1, np.uint8), "wz": np.array(1, np.uint8)}
    _check(_model("QAttention", ["x", "w", "b", "xs", "ws", "", "xz", "wz"], spec, inits, ["y"], num_heads=4),
           4_608 + 576)


def test_multi_head_attention_with_and_without_past() -> None:
    # 4 heads of 4: 2·4·3·5·(4 + 4) = 960; with 6 past keys 2·4·3·11·8 = 2,112
    spec = {"q": (F, [2, 3, 16]), "k": (F, [2, 5, 16]), "v": (F, [2, 5, 16])}
    _check(_model("MultiHeadAttention", ["q", "k", "v"], spec, {}, ["y"], num_heads=4), 960)
    spec |= {"pk": (F, [2, 4, 6, 4]), "pv": (F, [2, 4, 6, 4])}
    rep = _check(_model("MultiHeadAttention", ["q", "k", "v", "", "", "", "pk", "pv"], spec, {},
                        ["y", "present_k", "present_v"], num_heads=4), 2_112)
    assert rep.nodes[0].output_shapes == [[2, 3, 16], [2, 4, 11, 4], [2, 4, 11, 4]]


def test_group_query_attention_decode_over_a_kv_cache() -> None:
    # 4 query heads of 8 over 2 KV heads; 5 cached + 3 new = total_sequence_length 8: 1·4·3·8·(8 + 8) = 1,536
    spec = {"q": (F, [1, 3, 32]), "k": (F, [1, 3, 16]), "v": (F, [1, 3, 16]), "pk": (F, [1, 2, 5, 8]),
            "pv": (F, [1, 2, 5, 8])}
    inits = {"seqlens_k": np.array([7], np.int32), "total": np.array(8, np.int32)}
    rep = _check(_model("GroupQueryAttention", ["q", "k", "v", "pk", "pv", "seqlens_k", "total"], spec, inits,
                        ["y", "present_k", "present_v"], num_heads=4, kv_num_heads=2), 1_536)
    assert rep.nodes[0].output_shapes == [[1, 3, 32], [1, 2, 8, 8], [1, 2, 8, 8]]


def test_group_query_attention_without_total_length_is_an_upper_bound() -> None:
    # total_sequence_length a run-time input: at most 5 cached + 3 new keys, and the node says it is a bound
    spec = {"q": (F, [1, 3, 32]), "k": (F, [1, 3, 16]), "v": (F, [1, 3, 16]), "pk": (F, [1, 2, 5, 8]),
            "pv": (F, [1, 2, 5, 8]), "seqlens_k": (TensorProto.INT32, [1]), "total": (TensorProto.INT32, [])}
    rep = onnxcost.analyze(_model("GroupQueryAttention", ["q", "k", "v", "pk", "pv", "seqlens_k", "total"], spec, {},
                                  ["y", "pko", "pvo"], num_heads=4, kv_num_heads=2))
    assert rep.nodes[0].macs == 1_536 and rep.nodes[0].upper_bound and rep.totals.upper_bound


def test_decoder_masked_mha_over_a_known_past_length() -> None:
    # decode one token: past_sequence_length 9, so 10 keys; 4 heads of 4, batch 2: 2·4·1·10·(4 + 4) = 640.
    # onnxruntime runs this op on CUDA only: shapes by its spec (present = the shared cache buffer).
    spec = {"q": (F, [2, 1, 16]), "k": (F, [2, 1, 16]), "v": (F, [2, 1, 16]), "pk": (F, [2, 4, 32, 4]),
            "pv": (F, [2, 4, 32, 4])}
    inits = {"past_len": np.array(9, np.int32)}
    rep = _check(_model("DecoderMaskedMultiHeadAttention", ["q", "k", "v", "", "", "pk", "pv", "past_len"], spec,
                        inits, ["y", "pko", "pvo"], num_heads=4), 640, run_ort=False)
    assert rep.nodes[0].output_shapes == [[2, 1, 16], [2, 4, 32, 4], [2, 4, 32, 4]]


def test_packed_attention_with_known_sequence_lengths() -> None:
    # 7 tokens of 2 sequences (3 and 4): projection 7·16·48 = 5,376; attention 4 heads of 4:
    # (3² + 4²)·4·(4 + 4) = 800. onnxruntime runs it on CUDA only: shapes by its spec.
    spec = {"x": (F, [7, 16]), "offsets": (TensorProto.INT32, [2, 4])}
    inits = {"w": np.zeros((16, 48), np.float32), "b": np.zeros(48, np.float32),
             "cum": np.array([0, 3, 7], np.int32)}
    rep = _check(_model("PackedAttention", ["x", "w", "b", "offsets", "cum"], spec, inits, ["y"], num_heads=4),
                 5_376 + 800, run_ort=False)
    assert rep.nodes[0].output_shapes == [[7, 16]]


@pytest.mark.parametrize("op", ["Attention", "MultiHeadAttention", "GroupQueryAttention"])
def test_attention_ops_are_contractions(op: str) -> None:
    # training counts their forward MACs three times, as any contraction's
    assert onnxcost.ops.traits(MS, op).contraction
