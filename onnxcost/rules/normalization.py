"""Normalisation layers, softmax and reductions: FLOPs per element, documented per op; no MACs."""

from __future__ import annotations

from ..registry import NodeView, Work, rule


@rule("BatchNormalization")
def batchnorm(node: NodeView) -> Work:
    """Inference: statistics fold into one scale and one shift per channel, so x·a + b: 2 FLOPs/element."""
    return Work(0, 2 * node.in_elems(0))


@rule("LayerNormalization", "GroupNormalization", "InstanceNormalization")
def layernorm(node: NodeView) -> Work:
    """Mean (1 add), centre (1 sub), square and sum (2), scale by 1/std (1): 5 FLOPs/element,
    plus 1 for the scale and 1 for the bias input when present."""
    n = node.in_elems(0)
    return Work(0, n * (5 + int(node.has_input(1)) + int(node.has_input(2))))


@rule("MeanVarianceNormalization")
def mvn(node: NodeView) -> Work:
    return Work(0, 5 * node.in_elems(0))


@rule("LpNormalization")
def lp_norm(node: NodeView) -> Work:
    """Square and sum (2), divide by the norm (1): 3 FLOPs/element."""
    return Work(0, 3 * node.in_elems(0))


@rule("Softmax", "LogSoftmax")
def softmax(node: NodeView) -> Work:
    """Max, subtract, exp, sum, divide (or log): 5 FLOPs/element."""
    return Work(0, 5 * node.in_elems(0))


@rule("Hardmax", "ArgMax", "ArgMin", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1",
      "CumSum", "TopK")
def reduce_once(node: NodeView) -> Work:
    """One comparison or add per input element."""
    return Work(0, node.in_elems(0))


@rule("ReduceMean")
def reduce_mean(node: NodeView) -> Work:
    """One add per input element, one divide per output element."""
    return Work(0, node.in_elems(0) + node.out_elems())


@rule("ReduceSumSquare", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp")
def reduce_twice(node: NodeView) -> Work:
    """A square (or exp/log) and an add per input element."""
    return Work(0, 2 * node.in_elems(0))


@rule("LRN")
def lrn(node: NodeView) -> Work:
    """size squares and adds over the channel window, then bias, power and divide: 2·size + 3 per element."""
    return Work(0, node.in_elems(0) * (2 * int(node.attr("size")) + 3))
