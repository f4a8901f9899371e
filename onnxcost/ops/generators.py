"""Ops that make tensors from attributes or from a size: random draws and signal windows. Random ops are
never constant-folded; windows usually are (their inputs are constants)."""

from __future__ import annotations

import math

from ..base import dtypes
from .core import DEFAULT, Cost, NodeView, OpDef, Spec, Traits, per_output_element, same_shape

FAMILY = "generators"
RANDOM = Traits(nondeterministic=True)


def _random_shape(n: NodeView) -> list[Spec]:
    shape = tuple(int(d) for d in n.attrs["shape"])
    if any(d < 0 for d in shape):
        raise n.fail(f"negative dims {list(shape)}")
    return [(shape, int(n.attr("dtype", dtypes.FLOAT)))]


def _random_like_shape(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), int(n.attr("dtype", 0)) or n.dtype(0))]


def _multinomial_shape(n: NodeView) -> list[Spec]:
    return [((n.input_shape(0)[0], int(n.attr("sample_size", 1))), int(n.attr("dtype", dtypes.INT32)))]


def _multinomial_cost(n: NodeView) -> Cost:
    """A cumulative sum over the classes (1 per class), then a binary search per sample (log2 classes)."""
    batch, classes = n.input_shape(0)
    samples = int(n.attr("sample_size", 1))
    return Cost(0, batch * (classes + samples * max(1, math.ceil(math.log2(max(classes, 2))))))


UNIFORM = per_output_element(2, "a uniform draw scaled and shifted: 2 FLOPs per element")
NORMAL = per_output_element(6, "Box–Muller: log, sqrt, cos and 3 multiplies and adds per element")
OPS: list[OpDef] = [
    OpDef("RandomUniform", DEFAULT, FAMILY, shape=_random_shape, cost=UNIFORM, traits=RANDOM),
    OpDef("RandomNormal", DEFAULT, FAMILY, shape=_random_shape, cost=NORMAL, traits=RANDOM),
    OpDef("RandomUniformLike", DEFAULT, FAMILY, shape=_random_like_shape, cost=UNIFORM, traits=RANDOM),
    OpDef("RandomNormalLike", DEFAULT, FAMILY, shape=_random_like_shape, cost=NORMAL, traits=RANDOM),
    OpDef("Bernoulli", DEFAULT, FAMILY, shape=same_shape, traits=RANDOM,
          cost=per_output_element(2, "a uniform draw and a comparison per element")),
    OpDef("Multinomial", DEFAULT, FAMILY, shape=_multinomial_shape, cost=_multinomial_cost, traits=RANDOM),
    OpDef("HannWindow", DEFAULT, FAMILY, cost=per_output_element(4, "0.5 − 0.5·cos(2πn/N): 4 FLOPs per element"),
          note="length from ONNX inference"),
    OpDef("HammingWindow", DEFAULT, FAMILY, cost=per_output_element(4, "α − β·cos(2πn/N): 4 FLOPs per element"),
          note="length from ONNX inference"),
    OpDef("BlackmanWindow", DEFAULT, FAMILY, note="length from ONNX inference",
          cost=per_output_element(7, "0.42 − 0.5·cos(2πn/N) + 0.08·cos(4πn/N): 7 FLOPs per element")),
]
