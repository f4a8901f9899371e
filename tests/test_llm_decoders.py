"""Both Llama-2-7B-shaped decoders in models/ (int4 GroupQueryAttention, and standard attention with a causal
mask and a past Concat), every dim unbound: the MACs formula is the closed form, and sweep points equal
single reports. The tiny standard decoder's shapes match onnxruntime's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import sympy

import onnxcost
from models.llama import LLAMA2_7B, TINY, LlamaSize, llama, llama_standard
from onnxcost import symbolic
from onnxcost.sweep import sweep

Builder = Callable[..., onnx.ModelProto]
L, H, F, V = LLAMA2_7B.layers, LLAMA2_7B.hidden, LLAMA2_7B.ffn, LLAMA2_7B.vocab


def closed_form(b: Any, s: Any, p: Any) -> Any:
    # per layer: Q, K, V, O projections 4·B·S·h², the MLP 3·B·S·h·f, attention scores and context
    # 2·B·S·(P+S)·h; then the LM head B·S·h·V (Llama-2-7B: L 32, h 4096, f 11008, V 32000)
    return L * (4 * b * s * H * H + 3 * b * s * H * F + 2 * b * s * (p + s) * H) + b * s * H * V


@pytest.fixture(scope="module", params=[llama, llama_standard], ids=["int4_gqa", "standard"])
def decoder(request: pytest.FixtureRequest) -> onnx.ModelProto:
    build: Builder = request.param
    return build(LLAMA2_7B, weights="external")


def test_7b_formula_is_the_closed_form(decoder: onnx.ModelProto) -> None:
    report = onnxcost.analyze(decoder)
    assert report.symbolic is not None
    macs = symbolic.parse(report.symbolic["totals"]["macs"])
    b, s, p, total = (sympy.Symbol(n) for n in ("batch", "seq", "past", "total"))
    # GroupQueryAttention reads its length from the attention mask, whose length is past + seq; the standard
    # decoder ties them itself (its scores meet the causal mask on one axis), so `total` is gone there
    assert ("total" in report.symbolic["symbols"]) == (decoder.graph.name == "llama_int4")
    assert sympy.expand(macs.subs(total, p + s) - closed_form(b, s, p)) == 0


def test_sweep_points_equal_single_reports(decoder: onnx.ModelProto) -> None:
    fixed = {"batch": 1, "total": 1025} if decoder.graph.name == "llama_int4" else {"batch": 1}
    grid = {"seq": [1], "past": [1024]} if "total" in fixed else {"seq": [1, 128], "past": [0, 1024]}
    for point in sweep(decoder, grid, dims=fixed, memory=False):
        single = onnxcost.analyze(decoder, dims=point.dims, schedule="file")
        assert point.totals["macs"] == single.totals.macs == closed_form(1, point.dims["seq"], point.dims["past"])
        assert point.totals["flops"] == single.totals.flops


def _ort_shapes(model: onnx.ModelProto, size: LlamaSize, b: int, s: int, p: int) -> list[tuple[int, ...]]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    hd = size.hidden // size.heads
    feeds = {"input_ids": np.ones((b, s), np.int64), "attention_mask": np.ones((b, p + s), np.int64)}
    for i in range(size.layers):
        for t in ("key", "value"):
            feeds[f"past_key_values.{i}.{t}"] = np.zeros((b, size.heads, p, hd), np.float32)
    return [tuple(o.shape) for o in sess.run(None, feeds)]


def test_tiny_standard_decoder_shapes_match_onnxruntime() -> None:
    model = llama_standard(TINY)
    report = onnxcost.analyze(model, dims={"batch": 2, "seq": 3, "past": 5, "total": 8})
    assert [o.shape for o in report.outputs] == [list(x) for x in _ort_shapes(model, TINY, 2, 3, 5)]
