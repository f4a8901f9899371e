"""Spectral transforms: FFT-based DFT and STFT, and the mel filter bank."""

from __future__ import annotations

import math

from .core import DEFAULT, Cost, NodeView, OpDef, Traits, per_output_element

FAMILY = "spectral"


def fft_flops(length: int) -> int:
    """The classic radix-2 count for one complex transform of `length` points: 5·N·log2 N FLOPs."""
    return 5 * length * max(1, math.ceil(math.log2(max(length, 2))))


def _dft_cost(n: NodeView) -> Cost:
    """One transform per signal along the axis (input [batch, ..., N, 1 or 2])."""
    x = n.input_shape(0)
    axis = int(n.attr("axis", 1)) if n.opset < 20 else int(n.ints(2)[0]) if n.has_input(2) else -2
    length = x[axis % len(x)]
    signals = math.prod(x[:-1]) // max(length, 1)
    return Cost(0, signals * fft_flops(length))


def _stft_cost(n: NodeView) -> Cost:
    """Each frame: a window multiply, then one FFT of the frame length (output [batch, frames, bins, 2])."""
    y = n.output_shape(0)
    batch, frames = y[0], y[1]
    length = n.ints(3)[0] if n.has_input(3) else n.input_shape(2)[0]
    return Cost(0, batch * frames * (length + fft_flops(length)))


OPS: list[OpDef] = [
    OpDef("DFT", DEFAULT, FAMILY, cost=_dft_cost, traits=Traits("elementwise"),
          note="output shape from ONNX inference"),
    OpDef("STFT", DEFAULT, FAMILY, cost=_stft_cost, traits=Traits("elementwise"),
          note="output shape from ONNX inference"),
    OpDef("MelWeightMatrix", DEFAULT, FAMILY, traits=Traits("elementwise"), note="shape from ONNX inference",
          cost=per_output_element(4, "a triangle filter: two slopes, a min and a clamp per element")),
]
