"""Training cost from the inference analysis (seed 000's rule, seed 001's "operational space").

Compute: a contraction's backward pass costs twice its forward pass (the gradient with respect to the input
and the gradient with respect to the weights: forward 2w, backward 2w, gradient w FLOPs in seed 000, i.e.
3w multiply-adds in all). Every other op's backward pass costs about its forward FLOPs again.
Memory: parameters + gradients (one per parameter) + optimizer state (SGD none, momentum one buffer, Adam
two) + the activations saved for the backward pass, taken as every activation of the forward pass at the
training batch size (activations scale linearly with batch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import ops
from ..base.errors import ConfigError
from ..shapes.graph import Graph

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
        raise ConfigError(f"the training batch must be at least 1, got {batch}")
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


def batch_dims(model_graph: Any, batch: int) -> dict[str, int]:
    """A training estimate at `batch`: the first input's leading dim, when the model leaves it free, is that
    batch (by the name the dim is bound by: its dim_param, or <input>_0)."""
    inits = {t.name for t in model_graph.initializer}
    first = next((vi for vi in model_graph.input if vi.name not in inits), None)
    if first is None or not first.type.tensor_type.HasField("shape") or not first.type.tensor_type.shape.dim:
        return {}
    d = first.type.tensor_type.shape.dim[0]
    if d.HasField("dim_value") and d.dim_value > 0:
        return {}
    return {d.dim_param or f"{first.name}_0": batch}


def for_graph(g: Graph, costs: list[Any], param_bytes: int, activation_bytes: int | None, free: list[str],
              batch: int | None, optimizer: str) -> TrainingEstimate:
    """The training estimate of an analysed graph: every dim bound (`free` names those left) and every
    activation size known, else a ConfigError saying which."""
    if free:
        raise ConfigError(f"training memory needs every dim bound: {', '.join(free)} left free; bind them with "
                          f"dims={{'{free[0]}': N}}")
    if activation_bytes is None:
        raise ConfigError("training memory needs every activation size; some shapes are unknown")
    first = g.tensors.get(g.inputs[0]) if g.inputs else None
    model_batch = first.shape[0] if first is not None and first.shape else 1
    return estimate([(ops.traits(n.domain, n.op_type, g.opsets.get(n.domain)).contraction, c.macs, c.flops)
                     for n, c in zip(g.nodes, costs, strict=True)],
                    param_bytes, activation_bytes, model_batch, batch or model_batch, optimizer)
