"""The experimental ops ONNX dropped at opset 10 (Affine, Crop, ImageScaler, ...) that onnxruntime still runs
in the default domain, and its Memcpy nodes, which its partitioner writes between devices."""

from __future__ import annotations

from . import movement
from .core import (
    DEFAULT,
    FLOAT,
    FLOATS,
    INTS,
    Cost,
    CostFn,
    NodeView,
    OpDef,
    ShapeFn,
    Spec,
    Traits,
    per_output_element,
    same_shape,
)
from .elementwise import UNARY
from .twins import twin

FAMILY = "legacy"
EW = Traits(inplace=True)


def _crop_shape(n: NodeView) -> list[Spec]:
    """NCHW cropped by border = [left, top, right, bottom]; with scale = [height, width], a window of that size
    from the left-top border instead."""
    x = n.input_shape(0)
    border, scale = list(n.attrs.get("border", [])), list(n.attr("scale", []))
    if len(x) != 4 or len(border) != 4 or len(scale) not in (0, 2) or min(border + scale, default=0) < 0:
        raise n.fail(f"needs a 4-D input, border of 4 and scale of 0 or 2 non-negative values "
                     f"(input rank {len(x)}, border {border}, scale {scale})")
    left, top, right, bottom = border
    height, width = (scale[0], scale[1]) if scale else (x[2] - top - bottom, x[3] - left - right)
    for size, end, dim in ((height, top + height, x[2]), (width, left + width, x[3])):
        if all(isinstance(v, int) for v in (size, end, dim)) and (size < 0 or end > dim):
            raise n.fail(f"the crop window ends at {end}, beyond the input's {dim}")
    return [((x[0], x[1], height, width), n.dtype(0))]


def _copy(n: NodeView) -> Cost:
    """A copy between devices: bytes move, no arithmetic."""
    return Cost(0, 0)


def _legacy(op: str, shape: ShapeFn = same_shape, cost: CostFn | None = None, traits: Traits = EW,
            attrs: dict[str, int] | None = None) -> OpDef:
    return OpDef(op, DEFAULT, FAMILY, shape=shape, cost=cost, traits=traits,
                 attr_types={"alpha": FLOAT, "beta": FLOAT, **(attrs or {})})


OPS: list[OpDef] = [
    _legacy("Affine", cost=per_output_element(2, "alpha·x + beta")),
    _legacy("Scale", cost=per_output_element(1, "scale·x"), attrs={"scale": FLOAT}),
    _legacy("ImageScaler", cost=per_output_element(2, "scale·x + bias[channel]"),
            attrs={"scale": FLOAT, "bias": FLOATS}),
    _legacy("ScaledTanh", cost=per_output_element(UNARY["Tanh"] + 2, "alpha·tanh(beta·x)")),
    _legacy("ParametricSoftplus", cost=per_output_element(UNARY["Softplus"] + 2, "alpha·ln(exp(beta·x) + 1)")),
    _legacy("Crop", _crop_shape, _copy, Traits(selecting=True), attrs={"border": INTS, "scale": INTS}),
    _legacy("MemcpyFromHost", cost=_copy, traits=Traits()),
    _legacy("MemcpyToHost", cost=_copy, traits=Traits()),
    # Slice as opset 10 has it (starts, ends, axes as inputs), under its experimental name
    twin(movement, "Slice", domain=DEFAULT, family=FAMILY, at_opset=10, name="DynamicSlice"),
]
