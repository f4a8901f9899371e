"""onnxruntime's fused ops (domain com.microsoft) that its graph optimizer and the LLM exporters write: each
reuses the shape and cost of the default-domain ops it fuses, plus the FLOPs of what was folded in."""

from __future__ import annotations

import math

from ..base import dtypes
from ..base.errors import ModelError
from . import movement
from .contractions import (
    conv_cost,
    conv_geometry,
    conv_out,
    dense,
    gemm_cost,
    gemm_shape,
    matmul_cost,
    matmul_geometry,
    matmul_shape,
    matmul_spec,
)
from .core import (
    DEFAULT,
    FLOAT,
    FLOATS,
    GEMM_ATTRS,
    INT,
    MS,
    STRING,
    WINDOW_ATTRS,
    Cost,
    CostFn,
    GeometryFn,
    NodeView,
    OpDef,
    ParamsFn,
    Shape,
    ShapeFn,
    Spec,
    Traits,
    no_work,
    per_output_element,
    same_shape,
)
from .elementwise import UNARY
from .normalization import layernorm_shape, rms_norm_cost
from .pooling import pool_cost, window_out
from .twins import twin
from .vision import grid_sample_cost

FAMILY = "ms_contrib"
EW = Traits()


def _activation_flops(n: NodeView) -> int:
    """FLOPs per element of a fused `activation` attribute (FusedConv, FusedGemm); 0 without one."""
    act = n.attr("activation")
    if not act:
        return 0
    if act not in UNARY:
        raise n.fail(f"unknown fused activation {act!r}")
    return UNARY[act]


def fused_conv_cost(n: NodeView) -> Cost:
    """Conv, its bias, the residual Z (input 3) and the activation, per output element."""
    base = conv_cost(n)
    return Cost(base.macs, base.flops + n.out_elems() * (int(n.has_input(3)) + _activation_flops(n)))


def _fused_gemm_cost(n: NodeView) -> Cost:
    base = gemm_cost(n)
    return Cost(base.macs, base.flops + n.out_elems() * _activation_flops(n))


def _nhwc_conv_shape(n: NodeView) -> list[Spec]:
    """Input [N, H, W, C] and weight [M, C/group, kH, kW]: output [N, H', W', M]."""
    x = n.input_shape(0)
    nchw = conv_out(n, (x[0], x[-1]) + x[1:-1], n.input_shape(1))
    return [((nchw[0],) + nchw[2:] + (nchw[1],), n.dtype(0))]


def _nhwc_geometry(n: NodeView) -> tuple[int, int]:
    out = n.output_shape(0)
    return out[0] * math.prod(out[1:-1]), math.prod(n.input_shape(1)[1:])


def _nhwc_pool_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    spatial = window_out(n, x[1:-1], list(n.attrs["kernel_shape"]), ceil=bool(n.attr("ceil_mode", 0)))
    return [((x[0],) + spatial + (x[-1],), n.dtype(0))]


def _transposed(s: Shape, flag: object) -> Shape:
    return s[:-2] + (s[-1], s[-2]) if flag and len(s) >= 2 else s


def _fused_operand(n: NodeView, i: int) -> Shape:
    """An operand of FusedMatMul as the product sees it: with transBatch, its first dim moves behind the batch
    dims ([m, b..., k] -> [b..., m, k]); then trans swaps the last two."""
    x = n.input_shape(i)
    side = "A" if i == 0 else "B"
    if n.attr(f"transBatch{side}", 0) and len(x) >= 3:
        x = tuple(x[1:-1]) + (x[0], x[-1])
    return _transposed(x, n.attr(f"trans{side}", 0))


def _fused_matmul_shape(n: NodeView) -> list[Spec]:
    try:
        return [(matmul_shape(_fused_operand(n, 0), _fused_operand(n, 1), n.conditions), n.dtype(0))]
    except ModelError as exc:
        raise n.fail(str(exc)) from None


def _fused_matmul_cost(n: NodeView) -> Cost:
    """MatMul with transposes folded in and an alpha scale: one extra FLOP per output when alpha != 1."""
    macs = n.out_elems() * _fused_operand(n, 0)[-1]
    return Cost(macs, 2 * macs + (n.out_elems() if n.attr("alpha", 1.0) != 1 else 0))


def _fused_matmul_geometry(n: NodeView) -> tuple[int, int]:
    return matmul_geometry(n, _fused_operand(n, 0)[-1])


def _nbits_sizes(n: NodeView) -> tuple[int, int]:
    """K and N, which must be positive."""
    k, cols = int(n.attr("K", 0)), int(n.attr("N", 0))
    if k < 1 or cols < 1 or int(n.attr("bits", 4)) not in (2, 3, 4, 5, 6, 7, 8):
        raise n.fail(f"K={k}, N={cols} and bits={n.attr('bits', 4)} must be positive (bits 2 to 8)")
    return k, cols


def _matmul_nbits_shape(n: NodeView) -> list[Spec]:
    """A [..., K] x block-quantised B (N, k_blocks, blob) -> [..., N]."""
    _nbits_sizes(n)
    a = n.input_shape(0)
    if not a:
        raise n.fail("input has rank 0")
    n.require_equal(a[-1], int(n.attrs["K"]), f"input's last dim {a[-1]} differs from attribute K={n.attrs['K']}")
    return [(a[:-1] + (int(n.attrs["N"]),), n.dtype(0))]


def _matmul_nbits_cost(n: NodeView) -> Cost:
    """[..., K] x dequantised [K, N]: ∏rows·K·N MACs; dequantising costs 2 FLOPs per weight (code - zero
    point, times scale), and a bias 1 per output element."""
    k, cols = _nbits_sizes(n)
    macs = n.out_elems() * k
    return Cost(macs, 2 * macs + 2 * k * cols + (n.out_elems() if n.has_input(5) else 0))


def _matmul_nbits_params(n: NodeView) -> dict[int, int]:
    """The packed codes stand for K·N weights; scales, zero points and group indices are not parameters."""
    k, cols = _nbits_sizes(n)
    return {1: k * cols, 2: 0, 3: 0, 4: 0}


def _skip_layernorm_shape(n: NodeView) -> list[Spec]:
    """Outputs: normalised x + skip (+ bias), mean, inverse std dev, and the sum x + skip (+ bias)."""
    x = n.input_shape(0)
    stat = x[:-1] + (1,)
    return [(x, n.dtype(0)), (stat, dtypes.FLOAT), (stat, dtypes.FLOAT), (x, n.dtype(0))]


def _skip_layernorm_cost(n: NodeView) -> Cost:
    """x + skip (+ bias), then LayerNorm (5 per element + scale + shift) or RMSNorm (3 per element + scale)."""
    simplified = n.op_type.startswith("SkipSimplified")
    per_element = 1 + int(n.has_input(4)) + (4 if simplified else 5 + 1 + int(n.has_input(3)))
    return Cost(0, per_element * n.in_elems(0))


def _embed_layernorm_shape(n: NodeView) -> list[Spec]:
    """input_ids [B, S] and word embeddings [V, H] -> [B, S, H], a mask index [B], the embedding sum."""
    ids, table = n.input_shape(0), n.input_shape(2)
    out = ids + (table[-1],)
    return [(out, n.dtype(2)), ((ids[0],), dtypes.INT32), (out, n.dtype(2))]


def _embed_layernorm_cost(n: NodeView) -> Cost:
    """Word + position (+ segment) embeddings added (1-2 per element), then LayerNorm with scale and shift (7)."""
    return Cost(0, n.out_elems() * (1 + int(n.has_input(4)) + 7))


def _group_norm_cost(n: NodeView) -> Cost:
    """GroupNorm (5 per element), scale and shift (2), and SiLU when activation=1 (5)."""
    return Cost(0, n.in_elems(0) * (7 + (5 if n.attr("activation", 0) else 0)))


def _skip_group_norm_shape(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), n.dtype(0)), (n.input_shape(0), n.dtype(0))]


def _skip_group_norm_cost(n: NodeView) -> Cost:
    """x + skip (+ bias), then GroupNorm as above."""
    return Cost(0, n.in_elems(0) * (1 + int(n.has_input(4))) + _group_norm_cost(n).flops)


def _bias_split_gelu_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    return [(x[:-1] + (x[-1] // 2,), n.dtype(0))]


def _bias_split_gelu_cost(n: NodeView) -> Cost:
    """A bias add per input element, then left half × GELU(right half): 8 + 1 per output element."""
    return Cost(0, n.in_elems(0) + 9 * n.out_elems())


def _bias_dropout_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    return [(x, n.dtype(0)), (x, dtypes.BOOL)]


def _ms(op: str, shape: ShapeFn, cost: CostFn, traits: Traits = EW, geometry: GeometryFn | None = None,
        params: ParamsFn | None = None, attrs: dict[str, int] | None = None) -> OpDef:
    return OpDef(op, MS, FAMILY, shape=shape, cost=cost, traits=traits, geometry=geometry, params=params,
                 attr_types={"epsilon": FLOAT, "axis": INT, **(attrs or {})})


CONV_ATTRS = {**WINDOW_ATTRS, "activation": STRING, "activation_params": FLOATS}


#: The default-domain opset whose semantics the contrib twins keep (Pad's pads as an input, no axes).
TWIN_OPSET = 17


def _twin(op: str, attrs: dict[str, int] | None = None) -> OpDef:
    """A com.microsoft op that is its default-domain namesake (the older home of Trilu, GatherND, Pad, Range)."""
    return twin(movement, op, domain=MS, family=FAMILY, at_opset=TWIN_OPSET, attrs=attrs)


def _expand_dims(n: NodeView) -> list[Spec]:
    """Unsqueeze at one axis, given as a scalar input (-rank-1 <= axis <= rank)."""
    shape = n.input_shape(0)
    axis = int(n.scalar(1))
    if not -len(shape) - 1 <= axis <= len(shape):
        raise n.fail(f"axis {axis} is out of range for rank {len(shape)}")
    axis %= len(shape) + 1
    return [((*shape[:axis], 1, *shape[axis:]), n.dtype(0))]


def _inverse_cost(n: NodeView) -> Cost:
    """LU factorisation and two triangular solves: about n^3 multiply-adds per [n, n] matrix."""
    shape = n.input_shape(0)
    size = shape[-1]
    count = math.prod(shape[:-2]) * size ** 3
    return Cost(count, 2 * count)


def _cdist_shape(n: NodeView) -> list[Spec]:
    a, b = n.input_shape(0), n.input_shape(1)
    n.require_equal(a[-1], b[-1], f"points of {a[-1]} and {b[-1]} dims")
    return [((a[0], b[0]), n.dtype(0))]


def _cdist_cost(n: NodeView) -> Cost:
    """Per pair and dim: a difference and a multiply-add (euclidean and its square alike); a root per pair."""
    a, b = n.input_shape(0), n.input_shape(1)
    pairs = a[0] * b[0]
    return Cost(pairs * a[-1], pairs * (3 * a[-1] + 1))


def _grid_sample_shape(n: NodeView) -> list[Spec]:
    """[N, C] of the input, [H, W] of the grid [N, H, W, 2]."""
    x, grid = n.input_shape(0), n.input_shape(1)
    return [((x[0], x[1], *grid[1:-1]), n.dtype(0))]


FUSED_CONV = dense()
OPS: list[OpDef] = [
    _twin("GatherND"), _twin("Pad", {"mode": STRING}), _twin("Range"), _twin("Trilu", {"upper": INT}),
    _ms("ExpandDims", _expand_dims, no_work, Traits()),
    _ms("Inverse", same_shape, _inverse_cost, dense()),
    _ms("CDist", _cdist_shape, _cdist_cost, dense(), attrs={"metric": STRING}),
    _ms("MatMulInteger16", lambda n: matmul_spec(n, 0, 1, dtypes.INT32), matmul_cost, dense(),
        geometry=matmul_geometry),
    _ms("GridSample", _grid_sample_shape, grid_sample_cost, Traits(),
        attrs={"mode": STRING, "padding_mode": STRING, "align_corners": INT}),
    _ms("FusedConv", lambda n: [(conv_out(n, n.input_shape(0), n.input_shape(1)), n.dtype(0))], fused_conv_cost,
        FUSED_CONV, geometry=conv_geometry, attrs=CONV_ATTRS),
    _ms("NhwcConv", _nhwc_conv_shape, conv_cost, dense(), geometry=_nhwc_geometry, attrs=CONV_ATTRS),
    _ms("NhwcFusedConv", _nhwc_conv_shape, fused_conv_cost, dense(), geometry=_nhwc_geometry,
        attrs=CONV_ATTRS),
    _ms("NhwcMaxPool", _nhwc_pool_shape, pool_cost, attrs=WINDOW_ATTRS),
    _ms("FusedGemm", gemm_shape, _fused_gemm_cost, dense(), geometry=matmul_geometry,
        attrs={**GEMM_ATTRS, "activation": STRING, "activation_alpha": FLOAT, "activation_beta": FLOAT}),
    _ms("FusedMatMul", _fused_matmul_shape, _fused_matmul_cost, dense(), geometry=_fused_matmul_geometry,
        attrs=GEMM_ATTRS),
    # FusedMatMul's older name, without alpha or the batch transposes
    _ms("TransposeMatMul", _fused_matmul_shape, _fused_matmul_cost, dense(), geometry=_fused_matmul_geometry,
        attrs=GEMM_ATTRS),
    _ms("MatMulNBits", _matmul_nbits_shape, _matmul_nbits_cost, dense(),
        geometry=lambda n: matmul_geometry(n, int(n.attr("K", 0)), shared_right=True),
        params=_matmul_nbits_params, attrs={"K": INT, "N": INT, "bits": INT, "block_size": INT}),
    _ms("Gelu", same_shape, per_output_element(8, "erf form: 8 FLOPs per element (as the default-domain Gelu)"),
        Traits(inplace=True)),
    _ms("FastGelu", same_shape, per_output_element(8, "tanh approximation: x·(1 + tanh(…)): 8 FLOPs per element")),
    _ms("BiasGelu", same_shape, per_output_element(9, "bias add then GELU: 9 FLOPs per element")),
    _ms("QuickGelu", same_shape, per_output_element(5, "x·sigmoid(alpha·x): sigmoid 4 + 1")),
    _ms("BiasAdd", same_shape, per_output_element(2, "x + bias + skip: 2 FLOPs per element")),
    _ms("BiasSoftmax", same_shape, per_output_element(6, "bias add, then softmax (5)")),
    _ms("BiasDropout", _bias_dropout_shape, per_output_element(2, "bias and residual adds (inference: no dropout)")),
    _ms("BiasSplitGelu", _bias_split_gelu_shape, _bias_split_gelu_cost),
    _ms("RotaryEmbedding", same_shape, per_output_element(3, "x·cos ± rotate(x)·sin: 3 FLOPs per element")),
    _ms("SkipLayerNormalization", _skip_layernorm_shape, _skip_layernorm_cost),
    _ms("SkipSimplifiedLayerNormalization", _skip_layernorm_shape, _skip_layernorm_cost),
    _ms("SimplifiedLayerNormalization", lambda n: layernorm_shape(n)[:2], rms_norm_cost),
    _ms("LayerNormalization", layernorm_shape,
        lambda n: Cost(0, n.in_elems(0) * (5 + int(n.has_input(1)) + int(n.has_input(2)))), attrs={"stash_type": INT}),
    _ms("EmbedLayerNormalization", _embed_layernorm_shape, _embed_layernorm_cost),
    _ms("GroupNorm", same_shape, _group_norm_cost, attrs={"activation": INT, "groups": INT}),
    _ms("SkipGroupNorm", _skip_group_norm_shape, _skip_group_norm_cost, attrs={"activation": INT, "groups": INT}),
    # Exporters also write the RMSNorm of LLMs in the default domain, where onnxruntime accepts it.
    OpDef("SimplifiedLayerNormalization", DEFAULT, FAMILY, shape=lambda n: layernorm_shape(n)[:2],
          cost=rms_norm_cost, traits=EW, attr_types={"axis": INT, "epsilon": FLOAT, "stash_type": INT}),
]
