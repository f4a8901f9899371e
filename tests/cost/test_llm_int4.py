"""An onnxruntime-genai-style int4 Llama graph: MatMulNBits projections, GroupQueryAttention with rotary
embedding over a KV cache, SkipSimplifiedLayerNormalization, SiLU-gated MLP, and seqlens_k /
total_sequence_length computed from the attention mask, as the genai builder writes them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import onnxruntime as ort

import onnxcost
from models.llama import TINY, llama

L, H, HEADS, F, V = TINY.layers, TINY.hidden, TINY.heads, TINY.ffn, TINY.vocab
HD = H // HEADS


def _llama(layers: int = L) -> onnx.ModelProto:
    return llama(replace(TINY, layers=layers))


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
