"""Pooling: one FLOP per window element per output position (seed 002: (C·H'·W')·(K·K))."""

from __future__ import annotations

import math

from ..registry import NodeView, Work, rule


@rule("MaxPool", "AveragePool")
def pool(node: NodeView) -> Work:
    return Work(0, node.out_elems() * math.prod(node.attr("kernel_shape")))


@rule("LpPool")
def lp_pool(node: NodeView) -> Work:
    """|x|^p, sum, then one root per output: two FLOPs per window element."""
    return Work(0, 2 * node.out_elems() * math.prod(node.attr("kernel_shape")))


@rule("GlobalAveragePool", "GlobalMaxPool")
def global_pool(node: NodeView) -> Work:
    """Every input element is read once into its channel's sum or max."""
    return Work(0, node.in_elems(0))


@rule("GlobalLpPool")
def global_lp_pool(node: NodeView) -> Work:
    return Work(0, 2 * node.in_elems(0))
