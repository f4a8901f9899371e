"""com.microsoft's newer LLM ops (onnxruntime 1.32): hyper-connection mixing, branch-wise and gated RMS norms,
the Engram gate, M-RoPE, the gates and convolutions of linear-attention models, n-gram hashing and MoE
routing. Shapes follow the contrib schemas as onnxruntime's CPU kernels run them."""

from __future__ import annotations

import math

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


def _llm(op: str, shape: ShapeFn | None, cost: CostFn | None, traits: Traits | None = None,
         attrs: dict[str, int] | None = None, note: str = "") -> OpDef:
    return OpDef(op, MS, FAMILY, shape=shape, cost=cost, traits=traits or Traits(),
                 attr_types={"epsilon": FLOAT, **(attrs or {})}, note=note)


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
]
