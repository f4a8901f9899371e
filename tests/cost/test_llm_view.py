"""The LLM view on a Llama-2-7B-shaped int4 decoder (32 layers, weights absent) with every dim unbound:
its symbolic MACs in closed form, its KV cache per token, prefill against decode, and sweep points."""

from __future__ import annotations

import onnx
import pytest
import sympy

import onnxcost
from models.llama import LLAMA2_7B, TINY, llama
from onnxcost.base import symbolic
from onnxcost.measure.sweep import sweep
from tests.helpers import known

L, H, F, V, HEADS = LLAMA2_7B.layers, LLAMA2_7B.hidden, LLAMA2_7B.ffn, LLAMA2_7B.vocab, LLAMA2_7B.heads


@pytest.fixture(scope="module")
def decoder() -> tuple[onnx.ModelProto, onnxcost.Report]:
    model = llama(LLAMA2_7B, weights="external")
    return model, onnxcost.analyze(model)


def test_symbolic_macs_are_the_closed_form(decoder: tuple[onnx.ModelProto, onnxcost.Report]) -> None:
    _, rep = decoder
    b, s, p, t = (sympy.Symbol(k) for k in ("batch", "seq", "past", "total"))
    macs = symbolic.parse(rep.symbolic["totals"]["macs"]).subs(t, p + s)  # type: ignore[index]
    # L·(4·B·S·h² + 3·B·S·h·f + 2·B·S·(P+S)·h) + B·S·h·V
    closed = L * (4 * b * s * H**2 + 3 * b * s * H * F + 2 * b * s * (p + s) * H) + b * s * H * V
    assert sympy.expand(macs - closed) == 0
    assert rep.totals.unknown_cost_nodes == 0


def test_kv_cache_per_token_and_prefill_against_decode(decoder: tuple[onnx.ModelProto, onnxcost.Report]) -> None:
    _, rep = decoder
    assert rep.llm is not None and len(rep.llm.kv_cache_inputs) == 2 * L
    # per sequence: 32 layers x (K and V) x 32 heads x 128 x 4 bytes (this graph keeps its cache in fp32;
    # Llama-2-7B's fp16 cache is half of it, 512 KiB)
    assert rep.llm.kv_cache_bytes_per_token == L * 2 * HEADS * (H // HEADS) * 4 == 1 << 20
    n = sympy.Symbol("n")
    prefill, decode = symbolic.parse(known(rep.llm.prefill_macs)), symbolic.parse(known(rep.llm.decode_macs))
    per_token = L * (4 * H**2 + 3 * H * F) + H * V
    assert sympy.expand(prefill - (per_token * n + 2 * L * H * n**2)) == 0  # n prompt tokens attend to n
    assert sympy.expand(decode - (per_token + 2 * L * H * (n + 1))) == 0  # one token attends to n + 1


def test_kv_cache_bytes_at_a_bound_length() -> None:
    rep = onnxcost.analyze(llama(TINY), dims={"batch": 2, "seq": 1, "past": 9, "total": 10})
    # 2 layers x (K, V) x batch 2 x 4 heads x 9 positions x 16 x 4 bytes
    assert rep.llm is not None and rep.llm.kv_cache_bytes == 2 * 2 * 2 * 4 * 9 * 16 * 4
    assert rep.llm.prefill_macs is None  # every dim bound: no formula to split, but the bound phases
    assert rep.llm.bound is not None and (rep.llm.bound.seq, rep.llm.bound.past) == (1, 9)


def test_sweep_points_equal_single_reports_on_the_decoder(decoder: tuple[onnx.ModelProto, onnxcost.Report]) -> None:
    model, _ = decoder
    for past in (0, 511):  # the mask's length is past + 1: bound with it, point by point
        (point,) = sweep(model, {"past": [past]}, dims={"batch": 1, "seq": 1, "total": past + 1}, memory=False)
        single = onnxcost.analyze(model, dims=point.dims, schedule="file")
        assert point.totals["macs"] == single.totals.macs and point.totals["flops"] == single.totals.flops
