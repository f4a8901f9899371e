"""Training losses that exporters leave in a graph."""

from __future__ import annotations

from .core import DEFAULT, Cost, NodeView, OpDef, Traits

FAMILY = "losses"


def _nll_cost(n: NodeView) -> Cost:
    """Per target element: gather the log-probability, weight it (with weights) and add it to the reduction."""
    targets = n.in_elems(1)
    return Cost(0, targets * (2 + int(n.has_input(2))))


def _softmax_ce_cost(n: NodeView) -> Cost:
    """LogSoftmax over the scores (5 FLOPs per element), then the negative log-likelihood."""
    return Cost(0, 5 * n.in_elems(0) + _nll_cost(n).flops)


OPS: list[OpDef] = [
    OpDef("NegativeLogLikelihoodLoss", DEFAULT, FAMILY, cost=_nll_cost, traits=Traits(),
          note="output shape from ONNX inference"),
    OpDef("SoftmaxCrossEntropyLoss", DEFAULT, FAMILY, cost=_softmax_ce_cost, traits=Traits(),
          note="output shape from ONNX inference"),
]
