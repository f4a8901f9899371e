"""Multiply-accumulate contractions: Conv, ConvTranspose, Gemm, MatMul, Einsum (seed 003: MACs; 1 MAC = 2 FLOPs)."""

from __future__ import annotations

import math

from ..einsum import parse_einsum
from ..registry import NodeView, Work, rule


@rule("Conv", "ConvInteger")
def conv(node: NodeView) -> Work:
    """N·C_out·∏out_spatial · (C_in/group)·∏kernel MACs (seed 003, grouped and depthwise conv);
    the bias adds one FLOP per output element."""
    w = node.input_shape(1)  # [C_out, C_in/group, k...]
    macs = node.out_elems() * math.prod(w[1:])
    bias = node.out_elems() if node.op_type == "Conv" and node.has_input(2) else 0
    return Work(macs, 2 * macs + bias)


@rule("QLinearConv")
def qlinear_conv(node: NodeView) -> Work:
    """As Conv with the weight at input 3; requantisation adds 2 FLOPs per output element."""
    w = node.input_shape(3)
    macs = node.out_elems() * math.prod(w[1:])
    return Work(macs, 2 * macs + 2 * node.out_elems() + (node.out_elems() if node.has_input(8) else 0))


@rule("ConvTranspose")
def conv_transpose(node: NodeView) -> Work:
    """Every input element scatters into (C_out/group)·∏kernel outputs: N·C_in·∏in_spatial·(C_out/group)·∏kernel."""
    w = node.input_shape(1)  # [C_in, C_out/group, k...]
    macs = node.in_elems(0) * math.prod(w[1:])
    return Work(macs, 2 * macs + (node.out_elems() if node.has_input(2) else 0))


@rule("Gemm")
def gemm(node: NodeView) -> Work:
    """alpha·A·B + beta·C: M·N·K MACs; +M·N FLOPs for adding C, and for alpha/beta scaling when not 1."""
    a = node.input_shape(0)
    k = a[0] if node.attr("transA", 0) else a[1]
    mn = node.out_elems()
    macs = mn * k
    extra = 0
    if node.has_input(2) and node.attr("beta", 1.0) != 0:
        extra += mn + (mn if node.attr("beta", 1.0) != 1 else 0)
    if node.attr("alpha", 1.0) != 1:
        extra += mn
    return Work(macs, 2 * macs + extra)


@rule("MatMul", "MatMulInteger")
def matmul(node: NodeView) -> Work:
    """∏batch·M·N·K MACs with numpy broadcasting: every output element is a K-long dot product."""
    a = node.input_shape(0)
    macs = node.out_elems() * a[-1]
    return Work(macs, 2 * macs)


@rule("QLinearMatMul")
def qlinear_matmul(node: NodeView) -> Work:
    macs = node.out_elems() * node.input_shape(0)[-1]
    return Work(macs, 2 * macs + 2 * node.out_elems())


@rule("Einsum")
def einsum(node: NodeView) -> Work:
    """Products over the full index space, one MAC per point per extra operand; a single operand only sums."""
    shapes = [node.input_shape(i) for i in range(len(node.present)) if node.has_input(i)]
    plan = parse_einsum(str(node.attr("equation")), shapes)
    if plan.operands >= 2:
        macs = plan.iterations * (plan.operands - 1)
        return Work(macs, 2 * macs)
    return Work(0, plan.iterations if plan.summed else 0)
