"""com.microsoft's newer LLM ops (onnxruntime 1.32): hyper-connection mixing, branch-wise and gated RMS norms,
the Engram gate, M-RoPE, the gates and convolutions of linear-attention models, n-gram hashing and MoE
routing. Shapes follow the contrib schemas as onnxruntime's CPU kernels run them."""

from __future__ import annotations

import math
from typing import Any

from ..base import dtypes
from . import attention
from .contractions import causal_conv_cost, dense
from .core import (
    FLOAT,
    INT,
    INTS,
    MS,
    STRING,
    Cost,
    CostFn,
    NodeView,
    OpDef,
    Shape,
    ShapeFn,
    Spec,
    Traits,
    UnknownShape,
    no_work,
    per_output_element,
    same_shape,
)
from .elementwise import UNARY
from .normalization import rms_norm_cost
from .twins import twin

FAMILY = "ms_llm"
RMS = 4  # FLOPs per element of an RMS norm with its scale (normalization.rms_norm_cost)


def _streams(n: NodeView, x: Shape) -> tuple[Shape, int, int]:
    """(leading dims, streams C, hidden H) of a hyper-connection tensor: grouped (..., C, H), or flattened
    (..., C·H) with num_branches = C."""
    branches = int(n.attr("num_branches", 0))
    if branches > 0:
        if not x or (isinstance(x[-1], int) and x[-1] % branches):
            raise n.fail(f"num_branches={branches} does not divide the last dim of {list(x)}")
        return x[:-1], branches, x[-1] // branches
    if len(x) < 2:
        raise n.fail(f"streams of rank {len(x)} need a (C, H) pair or num_branches")
    return x[:-2], x[-2], x[-1]


def _pre_mix_shape(n: NodeView) -> list[Spec]:
    """C streams reduced to one: (..., H)."""
    lead, _, hidden = _streams(n, n.input_shape(0))
    return [((*lead, hidden), n.dtype(0))]


def _pre_mix_cost(n: NodeView) -> Cost:
    """Per output element, a C-long weighted sum and the reduction scale."""
    _, streams, _ = _streams(n, n.input_shape(0))
    macs = n.out_elems() * streams
    return Cost(macs, 2 * macs + n.out_elems())


def _post_mix_cost(n: NodeView) -> Cost:
    """Per output element, a C-long mix of the old streams (when stream_mix is given; else a copy) plus
    post_mix times the block output."""
    _, streams, _ = _streams(n, n.input_shape(0))
    macs = n.out_elems() * (streams if n.has_input(3) else 0)
    return Cost(macs, 2 * macs + 2 * n.out_elems())


def _gated_rms_cost(n: NodeView) -> Cost:
    """RMS norm with scale (4), the gate's activation (SiLU 5, sigmoid 4) and the product."""
    act = UNARY["Sigmoid"] + (1 if str(n.attr("activation", "silu")) in ("silu", "swish") else 0)
    return Cost(0, n.in_elems(0) * (RMS + act + 1))


def _engram_shape(n: NodeView) -> list[Spec]:
    """gate·value broadcast over the hyper-connections: the key's shape (B, S, hc, H), for both outputs."""
    k = n.input_shape(0)
    return [(k, n.dtype(2)), (k, n.dtype(2))]


def _engram_cost(n: NodeView) -> Cost:
    """RMS-normed key and query (4 each per element), their H-long dot per (token, hc) and the gate (sqrt,
    sign, sigmoid: 6), gate·value per element, and RMS-normed again for the second output."""
    k = n.input_shape(0)
    rows = math.prod(k[:-1])
    macs = rows * k[-1]
    return Cost(macs, 2 * RMS * n.in_elems(0) + 2 * macs + 6 * rows
                + n.out_elems() * (1 + (RMS if n.n_out > 1 else 0)))


def _gate_shape(n: NodeView) -> list[Spec]:
    """decay as `a`; beta as `b` when given."""
    out: list[Spec] = [(n.input_shape(0), n.dtype(0))]
    if n.has_input(3):
        out.append((n.input_shape(3), n.dtype(3)))
    return out


def _gate_cost(n: NodeView) -> Cost:
    """decay = scale·softplus(a + bias): 5 per element; beta = sigmoid(b): 4."""
    return Cost(0, 5 * n.in_elems(0) + (UNARY["Sigmoid"] * n.in_elems(3) if n.has_input(3) else 0))


def _ngram_hash_shape(n: NodeView) -> list[Spec]:
    """hash ids (B, S, (max_ngram_size - 1)·n_head_per_ngram) and the ids to carry, (B, max_ngram_size - 1)."""
    ids = n.input_shape(0)
    orders, heads = int(n.attrs["max_ngram_size"]) - 1, int(n.attrs["n_head_per_ngram"])
    if len(ids) != 2 or orders < 1 or heads < 1:
        raise n.fail(f"needs ids (B, S), max_ngram_size >= 2 and n_head_per_ngram >= 1 (ids rank {len(ids)})")
    return [((*ids, orders * heads), n.dtype(0)), ((ids[0], orders), n.dtype(0))]


def _router_shape(n: NodeView) -> list[Spec]:
    """(tokens, experts) for each output: experts from expert_bias; with a projection, from its rows."""
    logits, experts = n.input_shape(0), n.input_shape(1)[-1]
    if n.has_input(2):
        experts = n.input_shape(2)[0]
    spec = ((*logits[:-1], experts), dtypes.FLOAT)
    return [((*logits[:-1], experts), n.dtype(0)), spec, spec]


def _router_cost(n: NodeView) -> Cost:
    """sigmoid and bias per (token, expert) (5), top-k selection not counted; a projection is a MatMul."""
    out = n.out_elems() if n.output_shapes and n.output_shapes[0] is not None else n.out_elems(1)
    macs = out * n.input_shape(0)[-1] if n.has_input(2) else 0
    return Cost(macs, 2 * macs + 5 * out)


def _bifurcation_shape(n: NodeView) -> list[Spec]:
    """tokens: the current ones, plus predicted ones from a data-dependent index when predictions are given;
    the suffix match index: a scalar."""
    return [(None if n.has_input(3) else n.input_shape(1), n.dtype(1)), ((), dtypes.INT64)]


def _causal_conv_shape(n: NodeView) -> list[Spec]:
    """output as the input; present_state holds the last (k - 1)·dilation positions along the causal axis:
    (B, C, ..., state) channels first, (B, state, d...) with channels_last."""
    x, w = n.input_shape(0), n.input_shape(1)
    extended = [a for a in ("state_window", "state_length", "input_channels", "input_channel_offset",
                            "state_channels_last", "state_update_capacity") if n.attr(a, 0)]
    if extended:
        raise UnknownShape(f"extended attributes {', '.join(extended)} (no onnxruntime CPU kernel)")
    if len(x) < 3:
        raise n.fail(f"input of rank {len(x)}; needs (batch, channels, sequence)")
    state = (w[-1] - 1) * int(n.attr("dilation", 1))
    if n.attr("channels_last", 0):
        return [(x, n.dtype(0)), ((x[0], state, *x[2:]), n.dtype(0))]
    return [(x, n.dtype(0)), ((*x[:-1], state), n.dtype(0))]


def _varlen_conv_shape(n: NodeView) -> list[Spec]:
    """output (tokens, channels) as the input; final_state as initial_state; the state update (B, capacity,
    channels) when state_update_capacity > 0."""
    x, state = n.input_shape(0), n.input_shape(4)
    out: list[Spec] = [(x, n.dtype(0)), (state, n.dtype(4))]
    capacity = int(n.attr("state_update_capacity", 0))
    if capacity > 0:
        out.append(((state[0], capacity, x[-1]), n.dtype(0)))
    return out


def _delta_net_dims(n: NodeView) -> tuple[Shape, int, int, int, int, Any]:
    """(token dims, Hq, Hv, dk, dv, batch) of GatedDeltaNet: heads and sizes from the shapes (q/k/v token-major,
    or packed QKV sized by initial_state [B, Hv, dv, dk]); batch from cu_seqlens, initial_state or rank 4."""
    q = n.input_shape(0)
    state = n.input_shape(6) if n.has_input(6) else None
    if n.has_input(1) and n.has_input(2):
        v = n.input_shape(2)
        if len(q) not in (3, 4) or len(v) != len(q):
            raise n.fail(f"query and value must both be rank 3 or 4, are {len(q)} and {len(v)}")
        tokens, hq, dk, hv, dv = q[:-2], q[-2], q[-1], v[-2], v[-1]
    elif state is not None and len(state) == 4:
        hv, dv, dk = state[1], state[2], state[3]
        tokens = q[:-1]
        hq = (q[-1] - hv * dv) // (2 * dk)
    else:
        raise n.fail("packed QKV needs initial_state to give the head counts")
    if n.has_input(3):
        batch = n.input_shape(3)[0] - 1
    elif state is not None:
        batch = state[0]
    elif len(tokens) == 2:
        batch = tokens[0]
    else:
        raise n.fail("token-major input needs cu_seqlens or initial_state for its batch size")
    return tuple(tokens), hq, hv, dk, dv, batch


def _delta_net_shape(n: NodeView) -> list[Spec]:
    """output (tokens..., Hv, dv); final_state (batch, Hv, dv, dk), value-major; the state update (compact
    capture) is left unknown."""
    tokens, _, hv, dk, dv, batch = _delta_net_dims(n)
    return [((*tokens, hv, dv), n.dtype(0)), ((batch, hv, dv, dk), n.dtype(0)), (None, n.dtype(0))]


def _delta_net_cost(n: NodeView) -> Cost:
    """Per token and value head, a [dk, dv] state: read out, and the delta update (k·S, then the rank-1
    update): 3·dk·dv MACs (2 for the plain linear rule), the decay 1 FLOP per state element."""
    tokens, _, hv, dk, dv, _ = _delta_net_dims(n)
    rule = str(n.attr("update_rule", "gated_delta"))
    steps = math.prod(tokens) * hv
    macs = steps * (3 if "delta" in rule else 2) * dk * dv
    return Cost(macs, 2 * macs + (steps * dk * dv if n.has_input(4) else 0))


def _expert_weights(n: NodeView, slot: int, bits: int) -> int:
    """Logical weights of one expert in the fc input at `slot`: its elements, times 8 / bits when packed."""
    w = n.input_shape(slot)
    return math.prod(w[1:]) * 8 // bits


def _moe_bits(n: NodeView, fc: int) -> int:
    """Bits per weight of fc1/fc2/fc3 (QMoE: fc*_expert_weight_bits, else expert_weight_bits; MoE: 8 per
    byte of a float is the element itself)."""
    if n.op_type != "QMoE":
        return 8
    bits = int(n.attr(f"fc{fc}_expert_weight_bits", 0) or n.attr("expert_weight_bits", 4))
    if bits not in (2, 4, 8):
        raise n.fail(f"expert weight bits {bits} (2, 4 or 8)")
    return bits


_FC_SLOTS = {"MoE": (2, 4, 6), "QMoE": (2, 5, 8)}


def _moe_cost(n: NodeView) -> Cost:
    """Each token runs its k experts: per expert, the MACs of fc1, fc2 (and fc3) are their weights; the
    activation (5 per intermediate element) and the weighted combine (2 per output element) are added, and the
    router's softmax over experts (5 per probability)."""
    hidden = n.input_shape(0)[-1]
    tokens = n.in_elems(0) // hidden if hidden else 0
    k = int(n.attr("k", 1))
    per_expert = sum(_expert_weights(n, slot, _moe_bits(n, i + 1))
                     for i, slot in enumerate(_FC_SLOTS[n.op_type]) if n.has_input(slot))
    inter = _expert_weights(n, _FC_SLOTS[n.op_type][1], _moe_bits(n, 2)) // hidden if hidden else 0
    macs = tokens * k * per_expert
    return Cost(macs, 2 * macs + tokens * k * (5 * inter + 2 * hidden) + 5 * n.in_elems(1))


def _moe_params(n: NodeView) -> dict[int, int]:
    """Packed expert weights stand for their logical count; scales and zero points are not parameters."""
    out = {slot: n.input_shape(slot)[0] * _expert_weights(n, slot, _moe_bits(n, i + 1))
           for i, slot in enumerate(_FC_SLOTS["QMoE"]) if n.has_input(slot)}
    return {**out, 3: 0, 6: 0, 9: 0, 11: 0, 12: 0, 13: 0}


def _sparse_attention_shape(n: NodeView) -> list[Spec]:
    """output (B, S, num_heads·head_size); present key and value share the past buffers' shapes."""
    q, past_k, past_v = n.input_shape(0), n.input_shape(3), n.input_shape(4)
    heads = int(n.attrs["num_heads"])
    return [((q[0], q[1], heads * past_k[-1]), n.dtype(0)), (past_k, n.dtype(3)), (past_v, n.dtype(4))]


def _sparse_attention_cost(n: NodeView) -> Cost:
    """At most dense causal attention over the whole cache (B·heads·S·L·head_size MACs for scores and again
    for the weighted sum): an upper bound, since the block mask skips blocks."""
    q, past_k = n.input_shape(0), n.input_shape(3)
    heads, head = int(n.attrs["num_heads"]), past_k[-1]
    return attention.attention_cost(q[0], heads, q[1], past_k[2], head, head, upper_bound=True)


def _varlen_ngram_shape(n: NodeView) -> list[Spec]:
    """hash ids (tokens, (max_ngram_size - 1)·n_head_per_ngram); the carried ids (batch, max_ngram_size - 1)
    when asked for, batch from cumulative_sequence_length."""
    ids = n.input_shape(0)
    orders, heads = int(n.attrs["max_ngram_size"]) - 1, int(n.attrs["n_head_per_ngram"])
    batch = n.input_shape(3)[0] - 1 if n.has_input(3) else None
    return [((*ids, orders * heads), n.dtype(0)), (None if batch is None else (batch, orders), n.dtype(0)),
            (None, dtypes.INT32), (None, n.dtype(0))]


def _llm(op: str, shape: ShapeFn | None, cost: CostFn | None, traits: Traits | None = None,
         attrs: dict[str, int] | None = None, note: str = "") -> OpDef:
    return OpDef(op, MS, FAMILY, shape=shape, cost=cost, traits=traits or Traits(),
                 attr_types={"epsilon": FLOAT, **(attrs or {})}, note=note)


MOE_ATTRS = {"k": INT, "activation_type": STRING, "activation_alpha": FLOAT, "activation_beta": FLOAT,
             "normalize_routing_weights": INT, "use_sparse_mixer": INT, "swiglu_fusion": INT, "swiglu_limit": FLOAT,
             "swiglu_limit_after_activation": INT}
CONV_ATTRS = {"dilation": INT, "ndim": INT, "activation": STRING, "channels_last": INT, "state_window": INT,
              "state_length": INT, "input_channels": INT, "input_channel_offset": INT, "state_channels_last": INT,
              "state_update_capacity": INT}
OPS: list[OpDef] = [
    _llm("BranchwiseRMSNorm", same_shape, rms_norm_cost, attrs={"num_branches": INT}),
    _llm("GatedRMSNorm", same_shape, _gated_rms_cost, attrs={"activation": STRING}),
    _llm("HyperConnectionPreMix", _pre_mix_shape, _pre_mix_cost, dense(),
         attrs={"num_branches": INT, "reduction_scale": FLOAT}),
    _llm("HyperConnectionPostMix", same_shape, _post_mix_cost, dense(), attrs={"num_branches": INT}),
    _llm("EngramGate", _engram_shape, _engram_cost),
    _llm("MRotaryEmbedding", same_shape, per_output_element(3, "x·cos ± rotate(x)·sin: 3 FLOPs per element"),
         attrs={"mrope_section": INTS, "num_heads": INT, "rotary_embedding_dim": INT, "interleaved": INT,
                "mrope_layout": INT, "is_packed_batching": INT, "scale": FLOAT}),
    _llm("LinearAttentionGate", _gate_shape, _gate_cost),
    _llm("NGramHashMapping", _ngram_hash_shape, no_work,
         attrs={"reset_on_eos": INT, "pad_id": INT, "n_head_per_ngram": INT, "max_ngram_size": INT}),
    _llm("NGramRepeatBlock", lambda n: [(n.input_shape(1), n.dtype(1))], no_work, attrs={"ngram_size": INT}),
    _llm("MoEGroupRouter", _router_shape, _router_cost,
         attrs={"router_sentinel": FLOAT, "group_topk": INT, "topk_group": INT, "n_group": INT, "top_k": INT}),
    _llm("BifurcationDetector", _bifurcation_shape, no_work, attrs={"max_ngram_size": INT, "min_ngram_size": INT},
         note="the tokens' count depends on the data when predictions are given"),
    _llm("CausalConvWithState", _causal_conv_shape, causal_conv_cost, dense(), attrs=CONV_ATTRS),
    _llm("VarlenCausalConvWithState", _varlen_conv_shape, causal_conv_cost, dense(),
         attrs={"delta_offset": INT, "group_size": INT, "state_update_capacity": INT, "dilation": INT,
                "activation": STRING}),
    twin(attention, "LinearAttention", domain=MS, family=FAMILY, at_opset=27,
         attrs={"chunk_size": INT, "kv_num_heads": INT, "q_num_heads": INT, "scale": FLOAT, "update_rule": STRING,
                "state_window": INT}),
    _llm("GatedDeltaNet", _delta_net_shape, _delta_net_cost, dense(),
         attrs={"state_update_capacity": INT, "chunk_size": INT, "beta_activation": STRING,
                "gate_activation": STRING, "scale": FLOAT, "qk_l2_norm": INT, "gate_lower_bound": FLOAT,
                "update_rule": STRING}),
    _llm("VarlenNGramHashMapping", _varlen_ngram_shape, no_work,
         attrs={"reset_on_eos": INT, "state_update_capacity": INT, "pad_id": INT, "n_head_per_ngram": INT,
                "max_ngram_size": INT}),
    _llm("MoE", same_shape, _moe_cost, dense(), attrs=MOE_ATTRS),
    OpDef("QMoE", MS, FAMILY, shape=same_shape, cost=_moe_cost, traits=dense(), params=_moe_params,
          attr_types={**MOE_ATTRS, "expert_weight_bits": INT, "fc1_expert_weight_bits": INT,
                      "fc2_expert_weight_bits": INT, "fc3_expert_weight_bits": INT, "block_size": INT,
                      "quant_type": STRING, "weights_prepacked": INT, "accuracy_level": INT}),
    _llm("SparseAttention", _sparse_attention_shape, _sparse_attention_cost, attention.cached(3, 4),
         attrs={"num_heads": INT, "kv_num_heads": INT, "sparse_block_size": INT, "scale": FLOAT, "do_rotary": INT,
                "rotary_interleaved": INT}),
]
