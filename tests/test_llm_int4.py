"""An onnxruntime-genai-style int4 Llama graph: MatMulNBits projections, GroupQueryAttention with rotary
embedding over a KV cache, SkipSimplifiedLayerNormalization, SiLU-gated MLP, and seqlens_k /
total_sequence_length computed from the attention mask, as the genai builder writes them."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import onnxcost

MS = "com.microsoft"
L, H, HEADS, F, V, BLOCK = 2, 64, 4, 128, 96, 32
HD = H // HEADS


def _llama(layers: int = L) -> onnx.ModelProto:
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    rng = np.random.default_rng(0)

    def init(name: str, a: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(a, name))
        return name

    def node(op: str, ins: list[str], outs: list[str], domain: str = "", **attrs: object) -> list[str]:
        nodes.append(helper.make_node(op, ins, outs, name=f"/{outs[0]}", domain=domain, **attrs))
        return outs

    def nbits(x: str, k: int, n: int, name: str) -> str:
        blocks = k // BLOCK
        w = init(f"{name}.qweight", rng.integers(0, 255, (n, blocks, BLOCK // 2), dtype=np.uint8))
        s = init(f"{name}.scales", (rng.random(n * blocks) * 0.01).astype(np.float32))
        return node("MatMulNBits", [x, w, s], [f"{name}.out"], MS, K=k, N=n, bits=4, block_size=BLOCK)[0]

    mask_sum = node("ReduceSum", ["attention_mask", init("one_axis", np.array([1], np.int64))], ["mask_sum"],
                    keepdims=0)[0]
    seqlens = node("Cast", [node("Sub", [mask_sum, init("one", np.array(1, np.int64))], ["seqlens64"])[0]],
                   ["seqlens_k"], to=TensorProto.INT32)[0]
    total = node("Cast", [node("Gather", [node("Shape", ["attention_mask"], ["mask_shape"])[0],
                                          init("idx1", np.array(1, np.int64))], ["total64"], axis=0)[0]],
                 ["total_len"], to=TensorProto.INT32)[0]
    x = node("Gather", [init("embed", (rng.standard_normal((V, H)) * 0.02).astype(np.float32)), "input_ids"],
             ["embeds"])[0]
    cos = init("cos_cache", np.ones((64, HD // 2), np.float32))
    sin = init("sin_cache", np.zeros((64, HD // 2), np.float32))
    skip = None
    for i in range(layers):
        p = f"layers.{i}"
        gamma = init(f"{p}.ln1", np.ones(H, np.float32))
        if skip is None:
            h = node("SimplifiedLayerNormalization", [x, gamma], [f"{p}.ln1.out"], epsilon=1e-5)[0]
            res = x
        else:
            h, _, _, res = node("SkipSimplifiedLayerNormalization", [x, skip, gamma],
                                [f"{p}.ln1.out", "", "", f"{p}.res1"], MS, epsilon=1e-5)
        q, k, v = (nbits(h, H, H, f"{p}.{t}_proj") for t in "qkv")
        att = node("GroupQueryAttention", [q, k, v, f"past_key_values.{i}.key", f"past_key_values.{i}.value",
                                           seqlens, total, cos, sin],
                   [f"{p}.attn", f"present.{i}.key", f"present.{i}.value"], MS, num_heads=HEADS,
                   kv_num_heads=HEADS, do_rotary=1)[0]
        o = nbits(att, H, H, f"{p}.o_proj")
        h, _, _, res = node("SkipSimplifiedLayerNormalization", [o, res, init(f"{p}.ln2", np.ones(H, np.float32))],
                            [f"{p}.ln2.out", "", "", f"{p}.res2"], MS, epsilon=1e-5)
        gate, up = nbits(h, H, F, f"{p}.gate_proj"), nbits(h, H, F, f"{p}.up_proj")
        act = node("Mul", [gate, node("Sigmoid", [gate], [f"{p}.sig"])[0]], [f"{p}.silu"])[0]
        x = nbits(node("Mul", [act, up], [f"{p}.gated"])[0], F, H, f"{p}.down_proj")
        skip = res
    final, _, _, _ = node("SkipSimplifiedLayerNormalization", [x, skip, init("norm", np.ones(H, np.float32))],
                          ["final_norm", "", "", "final_res"], MS, epsilon=1e-5)
    logits = nbits(final, H, V, "lm_head")
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"])]
    outputs = [helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["batch", "seq", V])]
    for i in range(layers):
        for t in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{t}", TensorProto.FLOAT,
                                                        ["batch", HEADS, "past", HD]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{t}", TensorProto.FLOAT,
                                                         ["batch", HEADS, "total", HD]))
    g = helper.make_graph(nodes, "llama_int4", inputs, outputs, initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)])


def _closed_form(s: int, past: int) -> int:
    # per layer: Q, K, V, O projections 4·S·h², the MLP 3·S·h·f, attention 2·S·(P+S)·h; then the LM head S·h·V
    return L * (4 * s * H * H + 3 * s * H * F + 2 * s * (past + s) * H) + s * H * V


def test_prompt_and_decode_macs_equal_the_closed_form() -> None:
    model = _llama()
    for s, past in ((6, 0), (1, 9)):
        rep = onnxcost.analyze(model, dims={"batch": 1, "seq": s, "past": past, "total": past + s})
        assert rep.totals.unknown_cost_nodes == 0, rep.warnings
        assert rep.totals.macs == _closed_form(s, past)
        assert not rep.totals.upper_bound and rep.totals.peak_memory_bytes is not None
        # the packed int4 codes stand for K·N weights each; the embedding table, norms and the rotary cos/sin
        # caches (float constants, counted as any) are float
        assert rep.totals.params == L * (4 * H * H + 3 * H * F) + H * V + V * H + (2 * L + 1) * H + 2 * 64 * HD // 2


def test_shapes_match_onnxruntime() -> None:
    model = _llama()
    s, past = 3, 5
    rep = onnxcost.analyze(model, dims={"batch": 1, "seq": s, "past": past, "total": past + s})
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    feeds = {"input_ids": np.array([[1, 2, 3]], np.int64), "attention_mask": np.ones((1, past + s), np.int64)}
    for i in range(L):
        for t in ("key", "value"):
            feeds[f"past_key_values.{i}.{t}"] = np.zeros((1, HEADS, past, HD), np.float32)
    results = sess.run(None, feeds)
    assert [list(np.asarray(r).shape) for r in results] == [o.shape for o in rep.outputs]
