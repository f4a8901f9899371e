"""An onnxruntime-genai-style int4 Llama decoder: MatMulNBits projections, GroupQueryAttention with rotary
embedding over a KV cache, SkipSimplifiedLayerNormalization, a SiLU-gated MLP, and seqlens_k /
total_sequence_length computed from the attention mask, as the genai builder writes them. Dims batch, seq,
past and total are left dynamic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"


@dataclass(frozen=True)
class LlamaSize:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    block: int = 32


#: A two-layer toy that onnxruntime runs in tests.
TINY = LlamaSize(layers=2, hidden=64, heads=4, kv_heads=4, ffn=128, vocab=96)
#: Llama-2-7B's shape: 32 layers, hidden 4096, 32 heads, MLP 11008, vocabulary 32000.
LLAMA2_7B = LlamaSize(layers=32, hidden=4096, heads=32, kv_heads=32, ffn=11008, vocab=32000)


def _decoder_io(logits: str, layers: int, kv_heads: int, head_size: int,
                vocab: int) -> tuple[list[onnx.ValueInfoProto], list[onnx.ValueInfoProto]]:
    """A decoder step's inputs and outputs: ids [batch, seq], the mask [batch, total], a key and a value cache
    per layer [batch, kv_heads, past, head_size] in, [.., total, ..] out, and the logits."""
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total"])]
    outputs = [helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["batch", "seq", vocab])]
    for i in range(layers):
        for t in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{t}", TensorProto.FLOAT,
                                                        ["batch", kv_heads, "past", head_size]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{t}", TensorProto.FLOAT,
                                                         ["batch", kv_heads, "total", head_size]))
    return inputs, outputs


class _Builder:
    """Nodes and initializers of one decoder graph; weights random (runnable) or external references to an
    absent file (graph only: a 7B model is then a few hundred KB on disk)."""

    def __init__(self, weights: str) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.weights = weights
        self.rng = np.random.default_rng(0)

    def init(self, name: str, a: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def weight(self, name: str, shape: tuple[int, ...], dtype: type, make: Callable[[], np.ndarray]) -> str:
        if self.weights == "random":
            return self.init(name, make())
        t = onnx.TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims=list(shape))
        t.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", "llama.weights"), ("offset", "0"), ("length", "0")):
            e = t.external_data.add()
            e.key, e.value = key, value
        self.inits.append(t)
        return name

    def node(self, op: str, ins: list[str], outs: list[str], domain: str = "", **attrs: Any) -> list[str]:
        self.nodes.append(helper.make_node(op, ins, outs, name=f"/{outs[0]}", domain=domain, **attrs))
        return outs


def llama(size: LlamaSize = TINY, weights: str = "random") -> onnx.ModelProto:
    """The decoder graph. weights="random": runnable by onnxruntime; "external": graph only, every weight a
    reference to an absent external file (a 7B model is then a few hundred KB on disk)."""
    layers, H, HEADS, KV, F, V, BLOCK = (size.layers, size.hidden, size.heads, size.kv_heads, size.ffn, size.vocab,
                                         size.block)
    HD = H // HEADS
    b = _Builder(weights)
    nodes, inits, rng, init, weight, node = b.nodes, b.inits, b.rng, b.init, b.weight, b.node

    def nbits(x: str, k: int, n: int, name: str) -> str:
        blocks = k // BLOCK
        w = weight(f"{name}.qweight", (n, blocks, BLOCK // 2), np.uint8,
                   lambda: rng.integers(0, 255, (n, blocks, BLOCK // 2), dtype=np.uint8))
        s = weight(f"{name}.scales", (n * blocks,), np.float32,
                   lambda: (rng.random(n * blocks) * 0.01).astype(np.float32))
        return node("MatMulNBits", [x, w, s], [f"{name}.out"], MS, K=k, N=n, bits=4, block_size=BLOCK)[0]

    mask_sum = node("ReduceSum", ["attention_mask", init("one_axis", np.array([1], np.int64))], ["mask_sum"],
                    keepdims=0)[0]
    seqlens = node("Cast", [node("Sub", [mask_sum, init("one", np.array(1, np.int64))], ["seqlens64"])[0]],
                   ["seqlens_k"], to=TensorProto.INT32)[0]
    total = node("Cast", [node("Gather", [node("Shape", ["attention_mask"], ["mask_shape"])[0],
                                          init("idx1", np.array(1, np.int64))], ["total64"], axis=0)[0]],
                 ["total_len"], to=TensorProto.INT32)[0]
    x = node("Gather", [weight("embed", (V, H), np.float32,
                               lambda: (rng.standard_normal((V, H)) * 0.02).astype(np.float32)), "input_ids"],
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
        q = nbits(h, H, H, f"{p}.q_proj")
        k, v = (nbits(h, H, KV * HD, f"{p}.{t}_proj") for t in "kv")
        att = node("GroupQueryAttention", [q, k, v, f"past_key_values.{i}.key", f"past_key_values.{i}.value",
                                           seqlens, total, cos, sin],
                   [f"{p}.attn", f"present.{i}.key", f"present.{i}.value"], MS, num_heads=HEADS,
                   kv_num_heads=KV, do_rotary=1)[0]
        o = nbits(att, H, H, f"{p}.o_proj")
        h, _, _, res = node("SkipSimplifiedLayerNormalization", [o, res, init(f"{p}.ln2", np.ones(H, np.float32))],
                            [f"{p}.ln2.out", "", "", f"{p}.res2"], MS, epsilon=1e-5)
        gate, up = nbits(h, H, F, f"{p}.gate_proj"), nbits(h, H, F, f"{p}.up_proj")
        act = node("Mul", [gate, node("Sigmoid", [gate], [f"{p}.sig"])[0]], [f"{p}.silu"])[0]
        x = nbits(node("Mul", [act, up], [f"{p}.gated"])[0], F, H, f"{p}.down_proj")
        skip = res
    assert skip is not None, "a decoder has at least one layer"
    final, _, _, _ = node("SkipSimplifiedLayerNormalization", [x, skip, init("norm", np.ones(H, np.float32))],
                          ["final_norm", "", "", "final_res"], MS, epsilon=1e-5)
    logits = nbits(final, H, V, "lm_head")
    inputs, outputs = _decoder_io(logits, layers, KV, HD, V)
    g = helper.make_graph(nodes, "llama_int4", inputs, outputs, initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid(MS, 1)])


def llama_standard(size: LlamaSize = TINY, weights: str = "random") -> onnx.ModelProto:
    """The same decoder as a plain torch.onnx export writes it: float MatMul projections, RMSNorm from primitive
    ops, attention as MatMul -> scale -> causal mask -> Softmax -> MatMul over the past keys and values
    concatenated with the new ones, and a SiLU-gated MLP. The causal mask is built from the shapes (Trilu over
    a [seq, total] block), as exporters do. Dims batch, seq, past and total are left dynamic."""
    layers, H, HEADS, F, V = size.layers, size.hidden, size.heads, size.ffn, size.vocab
    HD = H // HEADS
    b = _Builder(weights)
    init, node = b.init, b.node

    def dense(x: str, k: int, n: int, name: str) -> str:
        w = b.weight(f"{name}.weight", (k, n), np.float32,
                     lambda: (b.rng.standard_normal((k, n)) * 0.02).astype(np.float32))
        return node("MatMul", [x, w], [f"{name}.out"])[0]

    def rms_norm(x: str, name: str) -> str:
        ms = node("ReduceMean", [node("Mul", [x, x], [f"{name}.sq"])[0], init(f"{name}.axes", np.array([-1]))],
                  [f"{name}.ms"], keepdims=1)[0]
        rms = node("Sqrt", [node("Add", [ms, init(f"{name}.eps", np.array(1e-5, np.float32))], [f"{name}.mse"])[0]],
                   [f"{name}.rms"])[0]
        return node("Mul", [node("Div", [x, rms], [f"{name}.normed"])[0], init(f"{name}.g", np.ones(H, np.float32))],
                    [f"{name}.out"])[0]

    heads_shape = init("heads_shape", np.array([0, 0, HEADS, HD], np.int64))
    merge_shape = init("merge_shape", np.array([0, 0, H], np.int64))
    scale = init("scale", np.array(1 / np.sqrt(HD), np.float32))
    # causal mask [seq, total]: -inf above the diagonal that ends at the last position, k = total - seq + 1
    one = init("one", np.array([1], np.int64))
    seq_len = node("Gather", [node("Shape", ["input_ids"], ["ids_shape"])[0], one], ["seq_len"], axis=0)[0]
    total_len = node("Gather", [node("Shape", ["attention_mask"], ["mask_shape"])[0], one], ["total_len"], axis=0)[0]
    block = node("ConstantOfShape", [node("Concat", [seq_len, total_len], ["mask_dims"], axis=0)[0]], ["neg_block"],
                 value=numpy_helper.from_array(np.array([-1e9], np.float32)))[0]
    k_diag = node("Add", [node("Sub", [total_len, seq_len], ["past_len"])[0], one], ["diag"])[0]
    causal = node("Trilu", [block, node("Squeeze", [k_diag], ["diag_scalar"])[0]], ["causal"], upper=1)[0]
    x = node("Gather", [b.weight("embed", (V, H), np.float32,
                                 lambda: (b.rng.standard_normal((V, H)) * 0.02).astype(np.float32)), "input_ids"],
             ["embeds"])[0]
    for i in range(layers):
        p = f"layers.{i}"
        h = rms_norm(x, f"{p}.ln1")
        q, k, v = (node("Transpose", [node("Reshape", [dense(h, H, H, f"{p}.{t}_proj"), heads_shape],
                                           [f"{p}.{t}_heads"])[0]], [f"{p}.{t}"], perm=[0, 2, 1, 3])[0]
                   for t in "qkv")
        keys = node("Concat", [f"past_key_values.{i}.key", k], [f"present.{i}.key"], axis=2)[0]
        values = node("Concat", [f"past_key_values.{i}.value", v], [f"present.{i}.value"], axis=2)[0]
        scores = node("MatMul", [q, node("Transpose", [keys], [f"{p}.keys_t"], perm=[0, 1, 3, 2])[0]],
                      [f"{p}.scores"])[0]
        masked = node("Add", [node("Mul", [scores, scale], [f"{p}.scaled"])[0], causal], [f"{p}.masked"])[0]
        probs = node("Softmax", [masked], [f"{p}.probs"], axis=-1)[0]
        ctx = node("Transpose", [node("MatMul", [probs, values], [f"{p}.ctx"])[0]], [f"{p}.ctx_t"],
                   perm=[0, 2, 1, 3])[0]
        merged = node("Reshape", [ctx, merge_shape], [f"{p}.merged"])[0]
        x = node("Add", [x, dense(merged, H, H, f"{p}.o_proj")], [f"{p}.res1"])[0]
        h = rms_norm(x, f"{p}.ln2")
        gate, up = dense(h, H, F, f"{p}.gate_proj"), dense(h, H, F, f"{p}.up_proj")
        act = node("Mul", [gate, node("Sigmoid", [gate], [f"{p}.sig"])[0]], [f"{p}.silu"])[0]
        x = node("Add", [x, dense(node("Mul", [act, up], [f"{p}.gated"])[0], F, H, f"{p}.down_proj")],
                 [f"{p}.res2"])[0]
    logits = dense(rms_norm(x, "final_norm"), H, V, "lm_head")
    inputs, outputs = _decoder_io(logits, layers, HEADS, HD, V)
    g = helper.make_graph(b.nodes, "llama_standard", inputs, outputs, initializer=b.inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
