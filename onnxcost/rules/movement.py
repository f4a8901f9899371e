"""Data movement and bookkeeping: no arithmetic (0 MACs, 0 FLOPs); their cost is the bytes they move."""

from __future__ import annotations

from ..registry import NodeView, Work, register, rule

MOVEMENT_OPS = (
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Identity", "Dropout", "Gather",
    "GatherElements", "GatherND", "Slice", "Concat", "Split", "SplitToSequence", "Expand", "Tile", "Pad",
    "Shape", "Size", "Cast", "CastLike", "DepthToSpace", "SpaceToDepth", "Constant", "ConstantOfShape",
    "ScatterND", "ScatterElements", "Scatter", "Where", "Trilu", "EyeLike", "OneHot", "NonZero", "Compress",
    "ReverseSequence", "Col2Im", "CenterCropPad", "Optional", "OptionalGetElement", "OptionalHasElement",
    "SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
    "SequenceLength", "ConcatFromSequence", "Unique",
)


def _move(node: NodeView) -> Work:
    return Work(0, 0)


for _op in MOVEMENT_OPS:
    register(_op, _move)


@rule("Range")
def range_(node: NodeView) -> Work:
    """start + i·delta: one add per element."""
    return Work(0, node.out_elems())


@rule("Resize", "Upsample")
def resize(node: NodeView) -> Work:
    """Nearest: a copy. Linear: per output element, 3 FLOPs per resized axis (two products, one add)
    for each of the 2 taps folded together; cubic: 4 taps, 7 FLOPs per resized axis."""
    mode = str(node.attr("mode", "nearest"))
    if mode == "nearest":
        return Work(0, 0)
    x, y = node.input_shape(0), node.output_shape(0)
    axes = sum(1 for a, b in zip(x, y, strict=False) if a != b)
    per_axis = 7 if mode == "cubic" else 3
    return Work(0, node.out_elems() * per_axis * axes)
