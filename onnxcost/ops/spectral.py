"""Spectral transforms: FFT-based DFT and STFT, and the mel filter bank."""

from __future__ import annotations

import math
from typing import Any

from ..base import symbolic
from .core import DEFAULT, Cost, NodeView, OpDef, Spec, Traits, UnknownShape, per_output_element

FAMILY = "spectral"


def fft_flops(length: Any) -> Any:
    """The classic radix-2 count for one complex transform of `length` points: 5·N·log2 N FLOPs (a formula
    with ceiling(log2 N) for a symbolic length, which is >= 1)."""
    if symbolic.is_symbolic(length):
        import sympy

        return 5 * length * symbolic.smax(1, sympy.ceiling(sympy.log(length, 2)))
    return 5 * length * max(1, math.ceil(math.log2(max(length, 2))))


def _stft_shape(n: NodeView) -> list[Spec]:
    """[batch, signal, 1|2] (or [batch, signal]) -> [batch, frames, bins, 2]: frames = (signal - frame) //
    step + 1, bins = frame // 2 + 1 when onesided (the default), else frame. The frame length is input 3, or
    the window's length. (ONNX's own inference ignores onesided.)"""
    x = n.input_shape(0)
    step = n.scalar(1)
    frame = n.scalar(3) if n.has_input(3) else n.input_shape(2)[0] if n.has_input(2) else None
    if frame is None or len(x) not in (2, 3):
        raise UnknownShape("STFT needs a frame length or a window, and a [batch, signal(, 1|2)] input")
    if not symbolic.is_symbolic(step) and step < 1:
        raise n.fail(f"frame_step {step} is below 1")
    frames = (x[1] - frame) // step + 1
    bins = frame // 2 + 1 if int(n.attr("onesided", 1)) else frame
    return [((x[0], symbolic.normal(frames), bins, 2), n.dtype(0))]


def _dft_cost(n: NodeView) -> Cost:
    """One transform per signal along the axis (input [batch, ..., N, 1 or 2])."""
    x = n.input_shape(0)
    axis = int(n.attr("axis", 1)) if n.opset < 20 else int(n.ints(2)[0]) if n.has_input(2) else -2
    length = x[axis % len(x)]
    signals = math.prod(x[:-1]) // length if symbolic.is_symbolic(length) else math.prod(x[:-1]) // max(length, 1)
    return Cost(0, signals * fft_flops(length))


def _stft_cost(n: NodeView) -> Cost:
    """Each frame: a window multiply, then one FFT of the frame length (output [batch, frames, bins, 2])."""
    y = n.output_shape(0)
    batch, frames = y[0], y[1]
    length = n.ints(3)[0] if n.has_input(3) else n.input_shape(2)[0]
    return Cost(0, batch * frames * (length + fft_flops(length)))


OPS: list[OpDef] = [
    OpDef("DFT", DEFAULT, FAMILY, cost=_dft_cost, traits=Traits(),
          note="output shape from ONNX inference"),
    OpDef("STFT", DEFAULT, FAMILY, shape=_stft_shape, cost=_stft_cost, traits=Traits()),
    OpDef("MelWeightMatrix", DEFAULT, FAMILY, traits=Traits(), note="shape from ONNX inference",
          cost=per_output_element(4, "a triangle filter: two slopes, a min and a clamp per element")),
]
