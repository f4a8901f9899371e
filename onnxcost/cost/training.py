"""Training cost from the inference analysis (seed 000's rule, seed 001's "operational space").

Compute: a contraction's backward pass costs twice its forward pass (the gradient with respect to the input
and the gradient with respect to the weights: forward 2w, backward 2w, gradient w FLOPs in seed 000, i.e.
3w multiply-adds in all). Every other op's backward pass costs about its forward FLOPs again.
Memory: parameters + gradients (one per parameter) + optimizer state (SGD none, momentum one buffer, Adam
two) + the activations saved for the backward pass, taken as every activation of the forward pass at the
training batch size (activations scale linearly with batch)."""

from __future__ import annotations

from dataclasses import dataclass

from ..base.errors import ConfigError

OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


@dataclass(frozen=True)
class TrainingEstimate:
    optimizer: str
    batch: int
    forward_macs: int
    training_macs: int  # forward + backward, per step at `batch`
    training_flops: int
    param_bytes: int
    gradient_bytes: int
    optimizer_state_bytes: int
    activation_bytes: int  # saved for backward at `batch`
    total_memory_bytes: int


def estimate(nodes: list[tuple[bool, int | None, int | None]], param_bytes: int, activation_bytes: int,
             model_batch: int, batch: int, optimizer: str) -> TrainingEstimate:
    """`nodes`: (is a contraction, macs, flops) at the model's own batch size `model_batch`."""
    if optimizer not in OPTIMIZER_STATES:
        raise ConfigError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZER_STATES)}")
    if batch < 1:
        raise ConfigError(f"--batch must be at least 1, got {batch}")
    scale = batch / max(model_batch, 1)
    fwd_macs = sum(m or 0 for _, m, _ in nodes)
    train_macs = sum(3 * (m or 0) if contraction else (m or 0) for contraction, m, _ in nodes)
    train_flops = sum(3 * (f or 0) if contraction else 2 * (f or 0) for contraction, _, f in nodes)
    saved = int(activation_bytes * scale)
    state = OPTIMIZER_STATES[optimizer] * param_bytes
    return TrainingEstimate(
        optimizer=optimizer, batch=batch, forward_macs=int(fwd_macs * scale), training_macs=int(train_macs * scale),
        training_flops=int(train_flops * scale), param_bytes=param_bytes, gradient_bytes=param_bytes,
        optimizer_state_bytes=state, activation_bytes=saved,
        total_memory_bytes=2 * param_bytes + state + saved,
    )
