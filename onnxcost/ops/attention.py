"""Attention ops: the default domain's Attention and RotaryEmbedding (opset 23), and onnxruntime's fused
attention ops (com.microsoft) that its optimizer and the onnxruntime-genai/optimum exporters write.

Attention counts QK^T + AV = batch·q_heads·q_len·kv_len·(head_qk + head_v) MACs, grouped-query attention by
query heads, plus the Q/K/V projections when the op holds the weights (Attention, QAttention, PackedAttention).
Around them: the scale (1 FLOP per score), an optional mask or bias (1), and softmax (5)."""

from __future__ import annotations

from ..base import dtypes, symbolic
from .core import (
    DEFAULT,
    HEAD_ATTRS,
    MS,
    Cost,
    CostFn,
    NodeView,
    OpDef,
    Shape,
    ShapeFn,
    Spec,
    Traits,
    UnknownShape,
    per_output_element,
)

FAMILY = "attention"
PREVIEW = "ai.onnx.preview"
ATTENTION = Traits(contraction=True)


def cached(*inputs: int) -> Traits:
    """Attention whose inputs at these positions are the past keys and values."""
    return Traits(contraction=True, kv_cache_inputs=inputs)
SOFTMAX_FLOPS = 5


def attention_cost(batch: int, q_heads: int, q_len: int, kv_len: int, head_qk: int, head_v: int,
                   masked: bool = False, upper_bound: bool = False) -> Cost:
    """Scores, softmax and the weighted sum of values for every query head."""
    scores = batch * q_heads * q_len * kv_len
    macs = scores * (head_qk + head_v)
    return Cost(macs, 2 * macs + scores * (1 + int(masked) + SOFTMAX_FLOPS), upper_bound)


def _heads(n: NodeView, key: str) -> int:
    heads = int(n.attr(key, 0))
    if heads < 1:
        raise n.fail(f"attribute {key} must be a positive head count")
    return heads


def _split_heads(n: NodeView, x: Shape, heads_attr: str) -> tuple[int, int, int, int]:
    """(batch, heads, seq, head_size) of a 4-D [B, N, S, H] or a 3-D [B, S, N·H] tensor."""
    if len(x) == 4:
        return x[0], x[1], x[2], x[3]
    if len(x) != 3:
        raise n.fail(f"expected a 3-D or 4-D tensor, got {list(x)}")
    heads = _heads(n, heads_attr)
    fits = symbolic.divides(x[2], heads)
    if fits is False:
        raise n.fail(f"hidden size {x[2]} is not a multiple of {heads_attr}={heads}")
    if fits is None:
        n.conditions.append(f"{heads} divides {x[2]}")
    return x[0], heads, x[1], x[2] // heads


# --- default domain (opset 23+) ---------------------------------------------------------------------------


def _onnx_attention_dims(n: NodeView) -> tuple[int, int, int, int, int, int, int, int]:
    """(batch, q_heads, q_len, head_qk, kv_heads, past_len, kv_len_new, head_v)."""
    b, qh, s, hd = _split_heads(n, n.input_shape(0), "q_num_heads")
    _, kvh, kv_new, _ = _split_heads(n, n.input_shape(1), "kv_num_heads")
    v = n.input_shape(2)
    vd = v[3] if len(v) == 4 else v[2] // kvh
    past = n.input_shape(4)[2] if n.has_input(4) else 0
    return b, qh, s, hd, kvh, past, kv_new, vd


def _onnx_attention_shape(n: NodeView) -> list[Spec]:
    b, qh, s, hd, kvh, past, kv_new, vd = _onnx_attention_dims(n)
    total = past + kv_new
    y = (b, qh, s, vd) if len(n.input_shape(0)) == 4 else (b, s, qh * vd)
    return [(y, n.dtype(0)), ((b, kvh, total, hd), n.dtype(1)), ((b, kvh, total, vd), n.dtype(2)),
            ((b, qh, s, total), n.dtype(0))]


def _onnx_attention_cost(n: NodeView) -> Cost:
    b, qh, s, hd, _, past, kv_new, vd = _onnx_attention_dims(n)
    return attention_cost(b, qh, s, past + kv_new, hd, vd, masked=n.has_input(3) or bool(n.attr("is_causal", 0)))


# --- com.microsoft ----------------------------------------------------------------------------------------


def _qkv_sizes(n: NodeView, weights: Shape) -> tuple[int, int, int]:
    sizes = list(n.attr("qkv_hidden_sizes", []))
    if sizes:
        if len(sizes) != 3 or sum(sizes) != weights[-1]:
            raise n.fail(f"qkv_hidden_sizes {sizes} do not add up to the weights' {weights[-1]} columns")
        return sizes[0], sizes[1], sizes[2]
    if weights[-1] % 3:
        raise n.fail(f"weights' {weights[-1]} columns are not 3 equal Q, K, V blocks")
    h = weights[-1] // 3
    return h, h, h


def _ms_attention_dims(n: NodeView, weight: int, past: int) -> tuple[int, int, int, int, int, int, int]:
    """(batch, seq, in_hidden, q_hidden, v_hidden, heads, past_len) of Attention/QAttention."""
    x, w = n.input_shape(0), n.input_shape(weight)
    if len(x) != 3 or len(w) != 2 or w[0] != x[2]:
        raise n.fail(f"input {list(x)} does not fit weights {list(w)}")
    q, _, v = _qkv_sizes(n, w)
    heads = _heads(n, "num_heads")
    p = n.input_shape(past)[3] if n.has_input(past) else 0
    return x[0], x[1], x[2], q, v, heads, p


def _projected_attention_shape(weight: int, past: int, out_type: int | None = None) -> ShapeFn:
    def shape(n: NodeView) -> list[Spec]:
        b, s, _, q, v, heads, p = _ms_attention_dims(n, weight, past)
        dtype = out_type or n.dtype(0)
        return [((b, s, v), dtype), ((2, b, heads, p + s, q // heads), dtype)]

    return shape


def _projected_attention_cost(weight: int, past: int, mask: int) -> CostFn:
    def cost(n: NodeView) -> Cost:
        b, s, inp, q, v, heads, p = _ms_attention_dims(n, weight, past)
        w = n.input_shape(weight)
        proj = b * s * inp * w[-1]
        att = attention_cost(b, heads, s, p + s, q // heads, v // heads,
                             masked=n.has_input(mask) or bool(n.attr("unidirectional", 0)))
        return Cost(proj + att.macs, 2 * proj + b * s * w[-1] + att.flops)

    cost.__doc__ = "The Q/K/V projection (B·S·in·3h MACs, bias 1 FLOP per column), then attention over past + S."
    return cost


def _mha_dims(n: NodeView) -> tuple[int, int, int, int, int, int]:
    """(batch, heads, q_len, kv_len, head_qk, head_v) of MultiHeadAttention."""
    q = n.input_shape(0)
    heads = _heads(n, "num_heads")
    if not n.has_input(1):  # packed QKV: query is [B, S, N, 3, H]
        if len(q) != 5:
            raise n.fail(f"without key, query must be packed [B, S, N, 3, H], got {list(q)}")
        return q[0], heads, q[1], q[1], q[4], q[4]
    b, s = q[0], q[1]
    k = n.input_shape(1)
    if len(k) == 5:  # packed KV: [B, L, N, 2, H]
        return b, heads, s, k[1], k[4], k[4]
    if len(k) == 4:  # already projected and split: [B, N, L, H]; past is not used
        v = n.input_shape(2)
        return b, heads, s, k[2], k[3], v[3]
    hd, vd = q[2] // heads, n.input_shape(2)[2] // heads
    past = n.input_shape(6)[2] if n.has_input(6) else 0
    return b, heads, s, past + k[1], hd, vd


def _mha_shape(n: NodeView) -> list[Spec]:
    b, heads, s, total, hd, vd = _mha_dims(n)
    if n.has_input(1) and len(n.input_shape(1)) == 4:
        return [((b, s, heads * vd), n.dtype(0))]
    return [((b, s, heads * vd), n.dtype(0)), ((b, heads, total, hd), n.dtype(0)), ((b, heads, total, vd), n.dtype(0))]


def _mha_cost(n: NodeView) -> Cost:
    b, heads, s, total, hd, vd = _mha_dims(n)
    att = attention_cost(b, heads, s, total, hd, vd, masked=n.has_input(4) or n.has_input(5))
    bias = b * s * heads * (2 * hd + vd) if n.has_input(3) else 0
    return Cost(att.macs, att.flops + bias)


def _gqa_dims(n: NodeView) -> tuple[int, int, int, int, int, int, int, bool]:
    """(batch, q_heads, kv_heads, q_len, head, past_buffer, kv_len, kv_len is a bound) of GroupQueryAttention."""
    q = n.input_shape(0)
    heads, kv_heads = _heads(n, "num_heads"), _heads(n, "kv_num_heads")
    if len(q) != 3:
        raise n.fail(f"query must be [B, S, hidden], got {list(q)}")
    packed = not n.has_input(1)
    hd = q[2] // (heads + 2 * kv_heads) if packed else q[2] // heads
    past = n.input_shape(3)[2] if n.has_input(3) else 0
    if n.value(6) is not None:
        return q[0], heads, kv_heads, q[1], hd, past, n.scalar(6), False
    # Unknown total length: the keys are at most the past buffer plus the new ones.
    return q[0], heads, kv_heads, q[1], hd, past, past + q[1], True


def _gqa_shape(n: NodeView) -> list[Spec]:
    b, heads, kv_heads, s, hd, past, total, bound = _gqa_dims(n)
    if bound:
        raise UnknownShape("total_sequence_length unknown: present length unknown")
    present = symbolic.smax(past, total)  # a shared past/present buffer keeps its maximum length
    return [((b, s, heads * hd), n.dtype(0)), ((b, kv_heads, present, hd), n.dtype(0)),
            ((b, kv_heads, present, hd), n.dtype(0))]


def _gqa_cost(n: NodeView) -> Cost:
    """Attention by query heads over total_sequence_length keys; rotary embedding of Q and K when fused in."""
    b, heads, kv_heads, s, hd, _, total, bound = _gqa_dims(n)
    att = attention_cost(b, heads, s, total, hd, hd, masked=True, upper_bound=bound)
    rotary = 3 * b * s * (heads + kv_heads) * hd if n.attr("do_rotary", 0) else 0
    return Cost(att.macs, att.flops + rotary, att.upper_bound)


def _dmmha_dims(n: NodeView) -> tuple[int, int, int, int, int, bool]:
    """(batch, heads, q_len, kv_len, head, kv_len is a bound) of DecoderMaskedMultiHeadAttention."""
    q = n.input_shape(0)
    heads = _heads(n, "num_heads")
    hd = q[2] // heads
    k = n.input_shape(1)
    if len(k) == 4:  # cross attention over projected keys [B, N, L, H]
        return q[0], heads, q[1], k[2], hd, False
    if n.value(7) is not None:
        return q[0], heads, q[1], n.scalar(7) + q[1], hd, False
    max_len = n.input_shape(5)[2] if n.has_input(5) else q[1]
    return q[0], heads, q[1], max_len, hd, True  # at most the whole cache buffer


def _dmmha_shape(n: NodeView) -> list[Spec]:
    q = n.input_shape(0)
    outs: list[Spec] = [(q, n.dtype(0))]
    if n.has_input(5):
        outs += [(n.input_shape(5), n.dtype(0)), (n.input_shape(6), n.dtype(0))]
    return outs


def _dmmha_cost(n: NodeView) -> Cost:
    b, heads, s, total, hd, bound = _dmmha_dims(n)
    return attention_cost(b, heads, s, total, hd, hd, masked=True, upper_bound=bound)


def _packed_attention_shape(n: NodeView) -> list[Spec]:
    x, w = n.input_shape(0), n.input_shape(1)
    _, _, v = _qkv_sizes(n, w)
    return [((x[0], v), n.dtype(0))]


def _packed_attention_cost(n: NodeView) -> Cost:
    """Projection of every token, then attention within each sequence: Σ len_i² per head when the cumulative
    lengths are known, else at most tokens × the padded length."""
    x, w = n.input_shape(0), n.input_shape(1)
    q, _, v = _qkv_sizes(n, w)
    heads = _heads(n, "num_heads")
    tokens = x[0]
    proj = tokens * x[1] * w[-1]
    cum = n.value(4)
    if cum is not None:
        lens = [int(b) - int(a) for a, b in zip(cum.reshape(-1)[:-1], cum.reshape(-1)[1:], strict=True)]
        pairs, bound = sum(m * m for m in lens), False
    else:
        pairs, bound = tokens * n.input_shape(3)[1], True
    att = attention_cost(1, heads, 1, pairs, q // heads, v // heads, masked=n.has_input(5), upper_bound=bound)
    return Cost(proj + att.macs, 2 * proj + tokens * w[-1] + att.flops, bound)


def _linear_attention_dims(n: NodeView) -> tuple[int, int, int, int, int, int]:
    """(batch, tokens, query heads, kv heads, d_k, d_v) from the packed [B, T, H·D] inputs."""
    b, qh, s, dk = _split_heads(n, n.input_shape(0), "q_num_heads")
    _, kvh, _, _ = _split_heads(n, n.input_shape(1), "kv_num_heads")
    v = n.input_shape(2)
    dv = v[3] if len(v) == 4 else v[2] // kvh
    return b, s, qh, kvh, dk, dv


def _linear_attention_shape(n: NodeView) -> list[Spec]:
    """output [B, T, H_q·d_v] and present_state [B, H_kv, d_k, d_v]."""
    b, s, qh, kvh, dk, dv = _linear_attention_dims(n)
    return [((b, s, qh * dv), n.dtype(0)), ((b, kvh, dk, dv), n.dtype(0))]


def _linear_attention_cost(n: NodeView) -> Cost:
    """Per token and head, a recurrent state [d_k, d_v]: read out q·S, and update S with k^T v (the delta rule
    also reads k·S first): 2 (linear) or 3 (delta, gated_delta) d_k·d_v MACs; a gate scales S (1 FLOP each)."""
    b, s, qh, _, dk, dv = _linear_attention_dims(n)
    rule = str(n.attr("update_rule", "gated_delta"))
    per_token = (3 if "delta" in rule else 2) * dk * dv
    macs = b * s * qh * per_token
    return Cost(macs, 2 * macs + (b * s * qh * dk * dv if rule.startswith("gated") else 0))


def _flex_attention_cost(n: NodeView) -> Cost:
    """As Attention on rank-4 Q, K, V; a score_mod or prob_mod subgraph adds FLOPs this does not analyse."""
    if "score_mod" in n.attrs or "prob_mod" in n.attrs:
        raise UnknownShape("the cost of its score_mod/prob_mod subgraph")
    b, qh, s, hd = n.input_shape(0)
    vd = n.input_shape(2)[3]
    return attention_cost(b, qh, s, n.input_shape(1)[2], hd, vd)


OPS: list[OpDef] = [
    OpDef("FlexAttention", PREVIEW, FAMILY, cost=_flex_attention_cost, traits=ATTENTION,
          shape=lambda n: [(n.input_shape(0)[:3] + n.input_shape(2)[3:], n.dtype(0))]),
    OpDef("Attention", DEFAULT, FAMILY, since=23, shape=_onnx_attention_shape, cost=_onnx_attention_cost,
          traits=cached(4, 5)),
    OpDef("RotaryEmbedding", DEFAULT, FAMILY, since=23, shape=lambda n: [(n.input_shape(0), n.dtype(0))],
          cost=per_output_element(3, "x·cos ± rotate(x)·sin: 3 FLOPs per element"), traits=Traits()),
    OpDef("LinearAttention", DEFAULT, FAMILY, since=27, shape=_linear_attention_shape,
          cost=_linear_attention_cost, traits=ATTENTION),
    OpDef("Attention", MS, FAMILY, shape=_projected_attention_shape(1, 4), cost=_projected_attention_cost(1, 4, 3),
          traits=cached(4), attr_types=HEAD_ATTRS),
    OpDef("QAttention", MS, FAMILY, shape=_projected_attention_shape(1, 8, dtypes.FLOAT),
          cost=_projected_attention_cost(1, 8, 5), traits=cached(8), attr_types=HEAD_ATTRS),
    OpDef("MultiHeadAttention", MS, FAMILY, shape=_mha_shape, cost=_mha_cost, traits=cached(6, 7),
          attr_types=HEAD_ATTRS),
    OpDef("GroupQueryAttention", MS, FAMILY, shape=_gqa_shape, cost=_gqa_cost, traits=cached(3, 4),
          attr_types=HEAD_ATTRS),
    OpDef("DecoderMaskedMultiHeadAttention", MS, FAMILY, shape=_dmmha_shape, cost=_dmmha_cost, traits=cached(5, 6),
          attr_types=HEAD_ATTRS),
    OpDef("PackedAttention", MS, FAMILY, shape=_packed_attention_shape, cost=_packed_attention_cost,
          traits=ATTENTION, attr_types=HEAD_ATTRS),
]
