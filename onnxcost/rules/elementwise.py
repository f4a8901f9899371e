"""Element-wise ops: FLOPs per output element (after broadcasting), from one table; no MACs.

Transcendentals count as a few FLOPs each, following the usual convention of profilers (fvcore,
onnx-tool): the figure says how much arithmetic, not how many instructions a given library issues."""

from __future__ import annotations

from collections.abc import Callable

from ..registry import NodeView, Work, register

#: FLOPs per output element of each unary or binary op.
FLOPS_PER_ELEMENT: dict[str, int] = {
    # arithmetic and comparison: one operation each
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Mod": 1, "Pow": 1, "Neg": 1, "Abs": 1, "Sign": 1,
    "Reciprocal": 1, "Sqrt": 1, "Exp": 1, "Log": 1, "Floor": 1, "Ceil": 1, "Round": 1,
    "Equal": 1, "Less": 1, "Greater": 1, "LessOrEqual": 1, "GreaterOrEqual": 1, "And": 1, "Or": 1,
    "Xor": 1, "Not": 1, "BitShift": 1, "BitwiseAnd": 1, "BitwiseOr": 1, "BitwiseXor": 1, "BitwiseNot": 1,
    "IsNaN": 1, "IsInf": 1, "Sin": 1, "Cos": 1, "Tan": 1, "Asin": 1, "Acos": 1, "Atan": 1,
    "Sinh": 1, "Cosh": 1, "Asinh": 1, "Acosh": 1, "Atanh": 1,
    # activations: compare/select, or the arithmetic of their closed form
    "Relu": 1, "LeakyRelu": 2, "PRelu": 2, "ThresholdedRelu": 1, "Clip": 2, "Shrink": 2,
    "Sigmoid": 4,  # exp, add, divide, negate
    "HardSigmoid": 3, "HardSwish": 4, "Softsign": 3, "Softplus": 3, "Elu": 3, "Celu": 4, "Selu": 4,
    "Tanh": 5, "Erf": 5, "Swish": 5, "Mish": 7,
    "Gelu": 8,  # 0.5·x·(1 + erf(x/√2)): erf 5 + 3
    "QuantizeLinear": 2, "DequantizeLinear": 2,  # scale and zero point
}
#: Ops over any number of inputs: one FLOP per output element for each input past the first.
VARIADIC = ("Sum", "Max", "Min", "Mean")


def elementwise(flops_per_element: int) -> Callable[[NodeView], Work]:
    def cost(node: NodeView) -> Work:
        return Work(0, flops_per_element * node.out_elems())

    cost.__doc__ = f"{flops_per_element} FLOP(s) per output element."
    return cost


def variadic(node: NodeView) -> Work:
    """(inputs − 1) FLOPs per output element; Mean adds one divide."""
    n = sum(node.present)
    extra = 1 if node.op_type == "Mean" else 0
    return Work(0, (max(n - 1, 0) + extra) * node.out_elems())


for _op, _flops in FLOPS_PER_ELEMENT.items():
    register(_op, elementwise(_flops))
for _op in VARIADIC:
    register(_op, variadic)
