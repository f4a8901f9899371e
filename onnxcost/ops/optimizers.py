"""The training ops of `ai.onnx.preview.training`: optimizer steps over tensors, and the autodiff Gradient op."""

from __future__ import annotations

from .core import Cost, CostFn, NodeView, OpDef, Traits

FAMILY = "optimizers"
DOMAIN = "ai.onnx.preview.training"

#: FLOPs per updated element, and how many tensors each updated tensor comes with (X, G, state...).
_STEPS = {
    "Momentum": (4, 3),  # v = β·v + g (2); x -= α·v (2)
    "Adagrad": (8, 3),  # g += λ·x (2); h += g² (2); x -= r·g / (√h + ε) (4)
    "Adam": (12, 4),  # g += λ·x (2); v, h moving averages (4 + 1 for g²); bias-corrected step with √ (5)
}


def _step_cost(flops: int, per_tensor: int) -> CostFn:
    def cost(n: NodeView) -> Cost:
        tensors = (len(n.present) - 2) // per_tensor
        return Cost(0, flops * sum(n.in_elems(2 + k) for k in range(tensors)))

    cost.__doc__ = f"{flops} FLOPs per updated element"
    return cost


OPS: list[OpDef] = [
    *(OpDef(op, DOMAIN, FAMILY, cost=_step_cost(f, per), traits=Traits(),
            note="output shapes from ONNX inference") for op, (f, per) in _STEPS.items()),
    OpDef("Gradient", DOMAIN, FAMILY, traits=Traits(),
          note="known but uncosted: the backward graph it stands for is not in the file"),
]
