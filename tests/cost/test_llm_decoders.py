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
from onnxcost.base import symbolic
from onnxcost.measure.sweep import sweep

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


def test_llm_view_with_dims_bound(decoder: onnx.ModelProto) -> None:
    """Prefill and decode at the bound seq and past, by hand: prefill of 128 tokens over an empty cache is
    128 x 6,607,077,376 (projections, MLP, head per token) + 262,144 x 128 x 128 (attention) = 850,000,871,424
    MACs; decode of one token over 1,024 is 6,607,077,376 + 262,144 x 1,025 = 6,875,774,976. The fp32 cache
    holds 1 MiB per token: prefill writes 128 MiB, a decode step reads 1 GiB."""
    report = onnxcost.analyze(decoder, dims={"batch": 1, "seq": 128, "past": 1024, "total": 1152}, schedule="file")
    assert report.llm is not None and report.llm.bound is not None
    bound = report.llm.bound
    assert (bound.batch, bound.seq, bound.past) == (1, 128, 1024)
    assert bound.prefill_macs == 850_000_871_424 == closed_form(1, 128, 0)
    assert bound.decode_macs == 6_875_774_976 == closed_form(1, 1, 1024)
    assert (bound.prefill_cache_bytes, bound.decode_cache_bytes) == (128 << 20, 1 << 30)
    assert report.totals.macs == closed_form(1, 128, 1024)  # the step as bound: 128 new tokens over 1,024


@pytest.mark.parametrize("name", ["gpt2_past_legacy", "gpt2_past_dynamo", "gpt2_past_ortopt"])
def test_llm_view_bound_on_real_gpt2_exports(name: str) -> None:
    """corpus/exports' GPT-2 (hidden 64, 2 layers, MLP 256, vocabulary 1,000) at batch 2, 4 new tokens over 8
    cached. Per token: 2 layers x 12·64² (QKV 3h², output h², MLP 8h²) + 64 x 1,000 (head) = 162,304 MACs.
    Prefill: 2 x 4 tokens x 162,304 + attention 2 layers x 2·64 x 4 x 4 x batch 2 = 1,306,624; decode: 2 x
    162,304 + 2 x 2·64 x 9 x 2 = 329,216. The cache: 2 layers x K, V x 4 heads x 16 x 4 bytes = 1 KiB per
    token: prefill writes 8 tokens' worth, a decode step reads 16."""
    from tests.corpus import EXPORTS

    model = onnx.load(EXPORTS / f"{name}.onnx")
    shapes = {i.name: [2, 4] if i.name == "input_ids" else [2, 12] if i.name == "attention_mask" else [2, 4, 8, 16]
              for i in model.graph.input}
    report = onnxcost.analyze(model, input_shapes=shapes, schedule="file")
    assert report.llm is not None and report.llm.bound is not None
    bound = report.llm.bound
    assert (bound.prefill_macs, bound.decode_macs) == (1_306_624, 329_216)
    assert (bound.prefill_cache_bytes, bound.decode_cache_bytes) == (8 << 10, 16 << 10)


@pytest.mark.parametrize("name", ["gpt2_past_legacy", "gpt2_past_ortopt", "llama_gqa_past_legacy",
                                  # these name each cache's length apart (s2, s74, s18): all are set together
                                  "gpt2_past_dynamo", "llama_gqa_past_dynamo"])
def test_concrete_phases_equal_the_symbolic_pass(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefill and decode come from two concrete passes (no sympy) where they can; the symbolic pass they
    replace, evaluated at the same lengths, gives the same numbers on every real KV-cache export."""
    from onnxcost.cost import llm
    from tests.corpus import EXPORTS

    model = onnx.load(EXPORTS / f"{name}.onnx")
    shapes = {i.name: [2, 4] if i.name == "input_ids" else [2, 12] if i.name == "attention_mask" else
              [2, *(d.dim_value or 8 for d in i.type.tensor_type.shape.dim[1:])] for i in model.graph.input}
    calls: list[object] = []
    real = llm.concrete_phases

    def recorded(*args: object) -> object:
        calls.append(real(*args))  # type: ignore[arg-type]
        return calls[-1]

    monkeypatch.setattr(llm, "concrete_phases", recorded)
    concrete = onnxcost.analyze(model, input_shapes=shapes, schedule="file")
    assert calls and calls[0] is not None  # the concrete passes decided
    monkeypatch.setattr(llm, "concrete_phases", lambda *a, **k: None)
    symbolic = onnxcost.analyze(model, input_shapes=shapes, schedule="file")
    assert concrete.llm is not None and symbolic.llm is not None and concrete.llm.bound is not None
    assert concrete.llm.bound == symbolic.llm.bound
