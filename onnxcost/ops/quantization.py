"""Quantised ops: the default domain's QuantizeLinear family and integer contractions, and the QLinear*,
QGemm and dynamic-quantisation ops that onnxruntime's quantizer writes (com.microsoft).

A quantised op does the MACs of the float op it replaces (the invariant the tests check: a quantised model
reports its float original's MACs). Around them, (de)quantising costs 2 FLOPs per element (subtract the
zero point, multiply by the scale), and requantising an output 2 more."""

from __future__ import annotations

import math

from ..base import dtypes
from .contractions import conv_geometry, conv_macs, conv_out, dense, matmul_geometry, matmul_spec
from .core import (
    DEFAULT,
    FLOAT,
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
    bcast,
    per_output_element,
    same_shape,
)
from .pooling import global_pool_shape, pool_cost, window_out
from .recurrent import POINTWISE

FAMILY = "quantization"
QUANT = Traits()
DEQUANT_FLOPS = 2


# --- default domain ---------------------------------------------------------------------------------------


def _quantize(n: NodeView) -> list[Spec]:
    out_type = n.dtype(2) if n.has_input(2) else int(n.attr("output_dtype", 0) or dtypes.UINT8)
    return [(n.input_shape(0), out_type)]


def _dequantize(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), int(n.attr("output_dtype", 0) or n.dtype(1)))]


def _dynamic_quantize(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), dtypes.UINT8), ((), dtypes.FLOAT), ((), dtypes.UINT8)]


def _qlinear_conv_shape(n: NodeView) -> list[Spec]:
    return [(conv_out(n, n.input_shape(0), n.input_shape(3)), n.dtype(7) or n.dtype(0))]


def _qlinear_conv_cost(n: NodeView) -> Cost:
    """Conv MACs on the weight at input 3; requantisation 2 FLOPs per output element, the bias 1."""
    macs = conv_macs(n, weight=3)
    return Cost(macs, 2 * macs + 2 * n.out_elems() + (n.out_elems() if n.has_input(8) else 0))


def _qconv_geometry(n: NodeView) -> tuple[int, int]:
    out = n.output_shape(0)
    return (out[0] * math.prod(out[2:]) if len(out) > 2 else 0), math.prod(n.input_shape(3)[1:])


def _conv_integer_cost(n: NodeView) -> Cost:
    macs = conv_macs(n)
    return Cost(macs, 2 * macs)


def qmatmul_cost(a: int, requant: bool, extra: int = 0) -> CostFn:
    """MatMul MACs with A at input `a`; + 2 FLOPs per output to requantise, + `extra` per output."""

    def cost(n: NodeView) -> Cost:
        macs = n.out_elems() * n.input_shape(a)[-1]
        return Cost(macs, 2 * macs + (2 * n.out_elems() if requant else 0) + extra * n.out_elems())

    cost.__doc__ = "∏batch·M·N·K MACs" + (", requantised: 2 FLOPs per output" if requant else "")
    return cost


# --- com.microsoft: QLinear element-wise and pooling ------------------------------------------------------


def _qlinear_binary(n: NodeView) -> list[Spec]:
    """(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp) -> broadcast(A, B), A's type."""
    return [(bcast(n, [n.input_shape(0), n.input_shape(3)]), n.dtype(0))]


def _qlinear_concat(n: NodeView) -> list[Spec]:
    """(Y_scale, Y_zp, then (X, X_scale, X_zp) per input) -> the concatenation of the Xs."""
    shapes = [n.input_shape(i) for i in range(2, len(n.present), 3)]
    if not shapes:
        raise n.fail("no inputs to concatenate")
    axis = int(n.attr("axis", 0)) % len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return [(tuple(out), n.dtype(2))]


def _channels_last(x: Shape) -> Shape:
    return (x[0], x[-1]) + x[1:-1]


def _qlinear_global_pool(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    if n.attr("channels_last", 0):
        return [((x[0],) + (1,) * (len(x) - 2) + (x[-1],), n.dtype(0))]
    return global_pool_shape(n)


def _qlinear_pool(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    nchw = _channels_last(x) if n.attr("channels_last", 0) else x
    spatial = window_out(n, nchw[2:], list(n.attrs["kernel_shape"]), ceil=bool(n.attr("ceil_mode", 0)))
    out = (x[0],) + spatial + (x[-1],) if n.attr("channels_last", 0) else (x[0], x[1]) + spatial
    return [(out, n.dtype(0))]


def _requantised(float_flops: int, inputs: int) -> CostFn:
    def cost(n: NodeView) -> Cost:
        return Cost(0, n.out_elems() * (float_flops + DEQUANT_FLOPS * (inputs + 1)))

    cost.__doc__ = f"the float op's {float_flops} FLOP(s), dequantising {inputs} input(s) and requantising: per output"
    return cost


def _qlinear_global_pool_cost(n: NodeView) -> Cost:
    """Every input element is added into its channel's sum; dequantise and requantise per output."""
    return Cost(0, n.in_elems(0) + 2 * DEQUANT_FLOPS * n.out_elems())


# --- com.microsoft: QGemm, dynamic quantisation, quantised LSTM and gathers -------------------------------


def _qgemm_shape(n: NodeView) -> list[Spec]:
    """(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): float output without y_scale."""
    a, b = n.input_shape(0), n.input_shape(3)
    m = a[1] if n.attr("transA", 0) else a[0]
    cols = b[0] if n.attr("transB", 0) else b[1]
    return [((m, cols), n.dtype(0) if n.has_input(7) else dtypes.FLOAT)]


def _qgemm_cost(n: NodeView) -> Cost:
    a = n.input_shape(0)
    k = a[0] if n.attr("transA", 0) else a[1]
    macs = n.out_elems() * k
    return Cost(macs, 2 * macs + n.out_elems() * (int(n.has_input(6)) + (2 if n.has_input(7) else 1)))


def _qgemm_geometry(n: NodeView) -> tuple[int, int]:
    a = n.input_shape(0)
    return matmul_geometry(n, a[0] if n.attr("transA", 0) else a[1], shared_right=True)


def _dynamic_quantize_matmul_cost(n: NodeView) -> Cost:
    """Quantise A (min/max pass and quantise: 4 FLOPs per element), the integer MatMul, dequantise the output,
    and the bias."""
    macs = n.out_elems() * n.input_shape(0)[-1]
    return Cost(macs, 2 * macs + 4 * n.in_elems(0) + n.out_elems() * (DEQUANT_FLOPS + int(n.has_input(4))))


def _dq_lstm_cost(n: NodeView) -> Cost:
    """LSTM MACs; its quantised weights are [dirs, I, 4H] (transposed from the float op's [dirs, 4H, I])."""
    x, w = n.input_shape(0), n.input_shape(1)
    hidden = int(n.attr("hidden_size") or w[2] // 4)
    seq, batch = x[0], x[1]
    dirs, inp = w[0], w[1]
    steps = seq * dirs * batch
    macs = steps * 4 * hidden * (inp + hidden)
    # per step: quantise x and h (4 FLOPs each), dequantise the gate sums (2 per gate unit), the LSTM pointwise
    return Cost(macs, 2 * macs + steps * (4 * (inp + hidden) + 2 * 4 * hidden + hidden * POINTWISE["LSTM"]))


def _dq_lstm_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    hidden = int(n.attr("hidden_size"))
    dirs = 2 if n.attr("direction", "forward") == "bidirectional" else 1
    y, state = (x[0], dirs, x[1], hidden), (dirs, x[1], hidden)
    return [(y, n.dtype(0)), (state, n.dtype(0)), (state, n.dtype(0))]


def _bits(n: NodeView) -> int:
    bits = int(n.attr("bits", 4))
    if bits not in (2, 4, 8):
        raise n.fail(f"bits={bits} (2, 4 or 8)")
    return bits


def _gather_block_quantized(n: NodeView) -> list[Spec]:
    """Rows of a block-quantised table: data's shape with the gathered axis replaced by the indices' shape, the
    quantised axis counted in elements (sub-byte codes packed into uint8), the scales' type."""
    data, idx = list(n.input_shape(0)), n.input_shape(1)
    bits = _bits(n)
    q_axis = int(n.attr("quantize_axis", len(data) - 1)) % len(data)
    if n.dtype(0) == dtypes.UINT8 and bits < 8:
        data[q_axis] *= 8 // bits
    axis = int(n.attr("gather_axis", 0)) % len(data)
    return [(tuple(data[:axis]) + idx + tuple(data[axis + 1:]), n.dtype(2))]


def _gather_block_quantized_params(n: NodeView) -> dict[int, int]:
    """The packed table stands for its unpacked elements; scales and zero points are not parameters."""
    data = n.input_shape(0)
    bits = _bits(n)
    per_byte = 8 // bits if n.dtype(0) == dtypes.UINT8 and bits < 8 else 1
    return {0: math.prod(data) * per_byte, 2: 0, 3: 0}


def _qlinear_where(n: NodeView) -> list[Spec]:
    """condition, X (input 1) and Y (input 4) broadcast; X's quantised type."""
    return [(bcast(n, [n.input_shape(0), n.input_shape(1), n.input_shape(4)]), n.dtype(1))]


def _qembed_layernorm_shape(n: NodeView) -> list[Spec]:
    """input_ids [B, S] and the quantised word table [V, H] -> float [B, S, H]; the mask index [B] (int32)."""
    ids, table = n.input_shape(0), n.input_shape(2)
    return [((*ids, table[-1]), dtypes.FLOAT), ((ids[0],), dtypes.INT32)]


def _qembed_layernorm_cost(n: NodeView) -> Cost:
    """Dequantise the 2-3 embeddings and gamma/beta per element (2 each), add them, LayerNorm with scale and
    shift (7)."""
    parts = 3 if n.has_input(4) else 2
    return Cost(0, n.out_elems() * (DEQUANT_FLOPS * (parts + 2) + parts - 1 + 7))


#: The attributes onnxruntime's quantised ops take, by name (their types agree across these ops).
Q_ATTRS = {**WINDOW_ATTRS, **GEMM_ATTRS, "axis": INT, "alpha": FLOAT, "hidden_size": INT, "direction": STRING,
           "gather_axis": INT, "quantize_axis": INT, "block_size": INT, "bits": INT, "count_include_pad": INT,
           "output_dtype": INT}


def _ms(op: str, shape: ShapeFn | None, cost: CostFn, traits: Traits = QUANT, geometry: GeometryFn | None = None,
        params: ParamsFn | None = None) -> OpDef:
    return OpDef(op, MS, FAMILY, shape=shape, cost=cost, traits=traits, geometry=geometry, params=params,
                 attr_types=Q_ATTRS)


QDENSE = dense()
OPS: list[OpDef] = [
    OpDef("QuantizeLinear", DEFAULT, FAMILY, shape=_quantize, traits=QUANT,
          cost=per_output_element(DEQUANT_FLOPS, "divide by the scale, add the zero point")),
    OpDef("DequantizeLinear", DEFAULT, FAMILY, shape=_dequantize, traits=QUANT,
          cost=per_output_element(DEQUANT_FLOPS, "subtract the zero point, multiply by the scale")),
    OpDef("DynamicQuantizeLinear", DEFAULT, FAMILY, shape=_dynamic_quantize, traits=QUANT,
          cost=per_output_element(4, "a min/max pass (2) and quantising (2) per element")),
    OpDef("QLinearConv", DEFAULT, FAMILY, shape=_qlinear_conv_shape, cost=_qlinear_conv_cost,
          geometry=_qconv_geometry, traits=dense()),
    OpDef("ConvInteger", DEFAULT, FAMILY, shape=lambda n: [(conv_out(n, n.input_shape(0), n.input_shape(1)),
                                                            dtypes.INT32)],
          cost=_conv_integer_cost, geometry=conv_geometry, traits=dense()),
    OpDef("QLinearMatMul", DEFAULT, FAMILY, shape=lambda n: matmul_spec(n, 0, 3, n.dtype(7) or n.dtype(0)),
          cost=qmatmul_cost(0, requant=True), geometry=matmul_geometry, traits=QDENSE),
    OpDef("MatMulInteger", DEFAULT, FAMILY, shape=lambda n: matmul_spec(n, 0, 1, dtypes.INT32),
          cost=qmatmul_cost(0, requant=False), geometry=matmul_geometry, traits=QDENSE),
    # com.microsoft
    _ms("QuantizeLinear", _quantize, per_output_element(DEQUANT_FLOPS)),
    _ms("DequantizeLinear", _dequantize, per_output_element(DEQUANT_FLOPS)),
    _ms("QLinearAdd", _qlinear_binary, _requantised(1, 2)),
    _ms("QLinearMul", _qlinear_binary, _requantised(1, 2)),
    _ms("QLinearSigmoid", same_shape, _requantised(4, 1)),
    _ms("QLinearLeakyRelu", same_shape, _requantised(2, 1)),
    _ms("QLinearSoftmax", same_shape, _requantised(5, 1)),
    _ms("QLinearConcat", _qlinear_concat, per_output_element(DEQUANT_FLOPS * 2, "requantise each input"),
        Traits()),
    _ms("QLinearGlobalAveragePool", _qlinear_global_pool, _qlinear_global_pool_cost),
    _ms("QLinearAveragePool", _qlinear_pool, lambda n: Cost(0, pool_cost(n).flops + 2 * DEQUANT_FLOPS * n.out_elems())),
    _ms("QLinearConv", _qlinear_conv_shape, _qlinear_conv_cost, dense(), geometry=_qconv_geometry),
    _ms("QGemm", _qgemm_shape, _qgemm_cost, QDENSE, geometry=_qgemm_geometry),
    _ms("DynamicQuantizeMatMul", lambda n: matmul_spec(n, 0, 1, n.dtype(0)), _dynamic_quantize_matmul_cost, QDENSE,
        geometry=matmul_geometry),
    _ms("MatMulIntegerToFloat", lambda n: matmul_spec(n, 0, 1, n.dtype(2)),
        qmatmul_cost(0, requant=False, extra=DEQUANT_FLOPS), QDENSE, geometry=matmul_geometry),
    _ms("DynamicQuantizeLSTM", _dq_lstm_shape, _dq_lstm_cost, Traits(contraction=True, recurrent=True)),
    _ms("QLinearWhere", _qlinear_where, per_output_element(DEQUANT_FLOPS, "requantise the chosen element"),
        Traits()),
    _ms("QEmbedLayerNormalization", _qembed_layernorm_shape, _qembed_layernorm_cost),
    _ms("GatherBlockQuantized", _gather_block_quantized,
        per_output_element(DEQUANT_FLOPS, "dequantise each gathered element"), Traits(selecting=True),
        params=_gather_block_quantized_params),
]
