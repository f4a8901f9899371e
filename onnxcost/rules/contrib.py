"""onnxruntime's contrib ops (domain com.microsoft) that optimised and quantised exports use."""

from __future__ import annotations

from collections.abc import Callable

from ..registry import NodeView, Work, register, rule

MS = "com.microsoft"


@rule("MatMulNBits", domain=MS)
def matmul_nbits(node: NodeView) -> Work:
    """[..., K] x dequantised [K, N]: ∏rows·K·N MACs; dequantising costs 2 FLOPs per weight (code - zero
    point, times scale), and a bias 1 per output element."""
    k, n = int(node.attr("K")), int(node.attr("N"))
    macs = node.out_elems() * k
    bias = node.out_elems() if node.has_input(5) else 0
    return Work(macs, 2 * macs + 2 * k * n + bias)


@rule("FusedMatMul", domain=MS)
def fused_matmul(node: NodeView) -> Work:
    """MatMul with transposes folded in and an alpha scale: one extra FLOP per output when alpha != 1."""
    a = node.input_shape(0)
    k = a[-2] if node.attr("transA", 0) and len(a) >= 2 else a[-1]
    macs = node.out_elems() * k
    return Work(macs, 2 * macs + (node.out_elems() if node.attr("alpha", 1.0) != 1 else 0))


@rule("SkipLayerNormalization", "SkipSimplifiedLayerNormalization", domain=MS)
def skip_layernorm(node: NodeView) -> Work:
    """x + skip (+ bias), then LayerNorm (5 per element + scale + shift) or RMSNorm (3 per element + scale)."""
    simplified = node.op_type.startswith("SkipSimplified")
    per_element = 1 + int(node.has_input(4)) + (4 if simplified else 5 + 1 + int(node.has_input(3)))
    return Work(0, per_element * node.in_elems(0))


def _rms_norm(node: NodeView) -> Work:
    """RMSNorm: square and sum (2), scale by 1/rms (1), times the weight (1): 4 FLOPs per element."""
    return Work(0, 4 * node.in_elems(0))


register("SimplifiedLayerNormalization", _rms_norm, MS)
register("SimplifiedLayerNormalization", _rms_norm)


def _per_element(flops: int, doc: str) -> Callable[[NodeView], Work]:
    def cost(node: NodeView) -> Work:
        return Work(0, flops * node.out_elems())

    cost.__doc__ = doc
    return cost


for _op, _flops, _doc in (
    ("Gelu", 8, "erf form: 8 FLOPs per element (as the default-domain Gelu)"),
    ("FastGelu", 8, "tanh approximation: x·(1 + tanh(…)): 8 FLOPs per element (+1 with bias)"),
    ("BiasGelu", 9, "bias add then GELU: 9 FLOPs per element"),
    ("QuickGelu", 5, "x·sigmoid(alpha·x): sigmoid 4 + 1"),
    ("BiasAdd", 2, "x + bias + skip: 2 FLOPs per element"),
    ("RotaryEmbedding", 3, "x·cos ± rotate(x)·sin: 3 FLOPs per element"),
):
    register(_op, _per_element(_flops, _doc), MS)
