"""A GPT-2-small-shaped ONNX graph built with onnx.helper the way torch.onnx.export lays it out: dynamic
`batch` and `seq`, run-time shape chains (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) in every
attention block, a causal-mask Slice, 163 M parameters (untied LM head). Used by bench_speed.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


@dataclass(frozen=True)
class Dims:
    """The sizes of a GPT-2-shaped model (GPT-2 small by default)."""

    vocab: int = 50257
    ctx: int = 1024
    d: int = 768
    heads: int = 12
    layers: int = 12


GPT2_SMALL = Dims()


class _G:
    def __init__(self, zeros: bool, dims: Dims) -> None:
        self.dims = dims
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.zeros = zeros
        self.k = 0

    def n(self, op: str, ins: list[str], n_out: int = 1, **attrs: Any) -> list[str]:
        self.k += 1
        outs = [f"/{op}_{self.k}_output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, ins, outs, name=f"/{op}_{self.k}", **attrs))
        return outs

    def one(self, op: str, ins: list[str], **attrs: Any) -> str:
        return self.n(op, ins, **attrs)[0]

    def const(self, value: np.ndarray) -> str:
        self.k += 1
        name = f"/Constant_{self.k}_output_0"
        self.nodes.append(helper.make_node("Constant", [], [name], name=f"/Constant_{self.k}",
                                           value=numpy_helper.from_array(value)))
        return name

    def weight(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> str:
        if self.zeros:
            self.inits.append(numpy_helper.from_array(np.zeros(shape, dtype=dtype), name))
        else:
            t = onnx.TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                 dims=list(shape))
            self.inits.append(t)
        return name


def _split_heads(g: _G, x: str) -> str:
    """[b, s, 768] -> [b, 12, s, 64] through a run-time shape chain, as torch exports it."""
    shape = g.one("Shape", [x])
    b = g.one("Unsqueeze", [g.one("Gather", [shape, g.const(np.array(0, np.int64))], axis=0),
                            g.const(np.array([0], np.int64))])
    s = g.one("Unsqueeze", [g.one("Gather", [shape, g.const(np.array(1, np.int64))], axis=0),
                            g.const(np.array([0], np.int64))])
    heads, head = g.const(np.array([g.dims.heads], np.int64)), g.const(np.array([g.dims.d // g.dims.heads], np.int64))
    target = g.one("Concat", [b, s, heads, head], axis=0)
    return g.one("Transpose", [g.one("Reshape", [x, target])], perm=[0, 2, 1, 3])


def _layernorm(g: _G, x: str, prefix: str) -> str:
    d = g.dims.d
    return g.one("LayerNormalization", [x, g.weight(f"{prefix}.weight", (d,)), g.weight(f"{prefix}.bias", (d,))],
                 axis=-1, epsilon=1e-5)


def _linear(g: _G, x: str, prefix: str, d_in: int, d_out: int) -> str:
    y = g.one("MatMul", [x, g.weight(f"{prefix}.weight", (d_in, d_out))])
    return g.one("Add", [g.weight(f"{prefix}.bias", (d_out,)), y])


def build(zeros: bool = True, dims: Dims = GPT2_SMALL) -> onnx.ModelProto:
    g = _G(zeros, dims)
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])
    shape = g.one("Shape", ["input_ids"])
    seq = g.one("Gather", [shape, g.const(np.array(1, np.int64))], axis=0)
    pos = g.one("Unsqueeze", [g.one("Range", [g.const(np.array(0, np.int64)), seq,
                                                g.const(np.array(1, np.int64))]), g.const(np.array([0], np.int64))])
    x = g.one("Add", [g.one("Gather", [g.weight("wte", (g.dims.vocab, g.dims.d)), "input_ids"]),
                      g.one("Gather", [g.weight("wpe", (g.dims.ctx, g.dims.d)), pos])])
    mask_all = g.weight("attn.bias", (1, 1, g.dims.ctx, g.dims.ctx), np.bool_)
    for layer in range(g.dims.layers):
        p = f"h.{layer}"
        h = _layernorm(g, x, f"{p}.ln_1")
        qkv = _linear(g, h, f"{p}.attn.c_attn", g.dims.d, 3 * g.dims.d)
        q, k, v = g.n("Split", [qkv, g.const(np.array([g.dims.d, g.dims.d, g.dims.d], np.int64))], n_out=3, axis=2)
        q, k, v = (_split_heads(g, t) for t in (q, k, v))
        scores = g.one("MatMul", [q, g.one("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = g.one("Div", [scores, g.const(np.array((g.dims.d // g.dims.heads) ** 0.5, np.float32))])
        s_len = g.one("Unsqueeze", [g.one("Gather", [g.one("Shape", [scores]), g.const(np.array(3, np.int64))],
                                          axis=0), g.const(np.array([0], np.int64))])
        zero = g.const(np.array([0], np.int64))
        mask = g.one("Slice", [g.one("Slice", [mask_all, zero, s_len, g.const(np.array([2], np.int64))]),
                               zero, s_len, g.const(np.array([3], np.int64))])
        scores = g.one("Where", [mask, scores, g.const(np.array(-3.4e38, np.float32))])
        attn = g.one("MatMul", [g.one("Softmax", [scores], axis=-1), v])
        merged_shape = g.one("Concat", [
            g.one("Unsqueeze", [g.one("Gather", [g.one("Shape", [h]), g.const(np.array(0, np.int64))], axis=0),
                                g.const(np.array([0], np.int64))]),
            g.one("Unsqueeze", [g.one("Gather", [g.one("Shape", [h]), g.const(np.array(1, np.int64))], axis=0),
                                g.const(np.array([0], np.int64))]),
            g.const(np.array([g.dims.d], np.int64))], axis=0)
        merged = g.one("Reshape", [g.one("Transpose", [attn], perm=[0, 2, 1, 3]), merged_shape])
        x = g.one("Add", [x, _linear(g, merged, f"{p}.attn.c_proj", g.dims.d, g.dims.d)])
        h = _layernorm(g, x, f"{p}.ln_2")
        up = _linear(g, h, f"{p}.mlp.c_fc", g.dims.d, 4 * g.dims.d)
        cube = g.one("Mul", [g.one("Pow", [up, g.const(np.array(3.0, np.float32))]),
                             g.const(np.array(0.044715, np.float32))])
        inner = g.one("Mul", [g.one("Add", [up, cube]), g.const(np.array(0.7978845608, np.float32))])
        gelu = g.one("Mul", [g.one("Mul", [up, g.const(np.array(0.5, np.float32))]),
                             g.one("Add", [g.one("Tanh", [inner]), g.const(np.array(1.0, np.float32))])])
        x = g.one("Add", [x, _linear(g, gelu, f"{p}.mlp.c_proj", 4 * g.dims.d, g.dims.d)])
    logits = g.one("MatMul", [_layernorm(g, x, "ln_f"), g.weight("lm_head.weight", (g.dims.d, g.dims.vocab))])
    out = helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["batch", "seq", g.dims.vocab])
    graph = helper.make_graph(g.nodes, "gpt2_small_like", [ids], [out], initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="pytorch")
    model.ir_version = 8
    return model
