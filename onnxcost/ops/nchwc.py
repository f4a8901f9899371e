"""onnxruntime's NCHWc ops (domain com.microsoft.nchwc), which its optimizer writes at level ALL into a saved
model: channels are blocked in groups the CPU's vector width sets, so the file holds only on a machine like
the one that wrote it, and these rules size it as onnxruntime does, for the machine that runs the analysis."""

from __future__ import annotations

import platform

from . import pooling
from .contractions import conv_geometry, conv_out
from .core import (
    FLOATS,
    INT,
    INTS,
    STRING,
    WINDOW_ATTRS,
    Cost,
    NodeView,
    OpDef,
    Spec,
    Traits,
    UnknownShape,
    no_work,
)
from .movement import resize_cost
from .ms_contrib import FUSED_CONV, fused_conv_cost
from .twins import twin

FAMILY = "nchwc"
NCHWC = "com.microsoft.nchwc"


def block_size() -> int:
    """The channel block of onnxruntime's NCHWc kernels on this CPU: 16 floats with AVX-512, else 8 on x86-64
    (read from numpy's CPU feature detection, not from a file)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise UnknownShape("the NCHWc channel block of a non-x86 CPU")
    from numpy._core._multiarray_umath import __cpu_features__ as features

    return 16 if features.get("AVX512F") else 8


def _reorder_input_shape(n: NodeView) -> list[Spec]:
    """NCHW (or NHWC with channels_last) -> NCHWc: channels rounded up to whole blocks."""
    x = n.input_shape(0)
    if len(x) != 4:
        raise n.fail(f"input of rank {len(x)}; NCHWc reorders take 4-D tensors")
    channels, spatial = (x[3], x[1:3]) if n.attr("channels_last", 0) else (x[1], x[2:])
    block = block_size()
    return [((x[0], -(-channels // block) * block, *spatial), n.dtype(0))]


def _reorder_output_shape(n: NodeView) -> list[Spec]:
    """NCHWc -> NCHW (or NHWC), keeping the first `channels` channels."""
    x = n.input_shape(0)
    channels = int(n.attr("channels", 0))
    if len(x) != 4 or channels < 1:
        raise n.fail(f"needs a 4-D input and a positive channels attribute (rank {len(x)}, channels={channels})")
    out = (x[0], *x[2:], channels) if n.attr("channels_last", 0) else (x[0], channels, *x[2:])
    return [(out, n.dtype(0))]


def _upsample_shape(n: NodeView) -> list[Spec]:
    """Every dim times its integer scale."""
    x, scales = n.input_shape(0), list(n.attr("scales", []))
    if len(scales) != len(x) or min(scales, default=0) < 1:
        raise n.fail(f"scales {scales} must be {len(x)} positive integers")
    return [(tuple(d * s for d, s in zip(x, scales, strict=True)), n.dtype(0))]


def _reorder_cost(n: NodeView) -> Cost:
    """A layout copy: no arithmetic."""
    return no_work(n)


def _conv_shape(n: NodeView) -> list[Spec]:
    return [(conv_out(n, n.input_shape(0), n.input_shape(1)), n.dtype(0))]


def _pool_twin(op: str) -> OpDef:
    return twin(pooling, op, domain=NCHWC, family=FAMILY, at_opset=12, attrs=WINDOW_ATTRS, n_outputs=1)


OPS: list[OpDef] = [
    OpDef("Conv", NCHWC, FAMILY, shape=_conv_shape, cost=fused_conv_cost, traits=FUSED_CONV, geometry=conv_geometry,
          attr_types={**WINDOW_ATTRS, "activation": STRING, "activation_params": FLOATS}),
    _pool_twin("MaxPool"), _pool_twin("AveragePool"), _pool_twin("GlobalAveragePool"), _pool_twin("GlobalMaxPool"),
    OpDef("Upsample", NCHWC, FAMILY, shape=_upsample_shape, cost=resize_cost, traits=Traits(),
          attr_types={"scales": INTS, "mode": STRING, "coordinate_transformation_mode": STRING}),
    OpDef("ReorderInput", NCHWC, FAMILY, shape=_reorder_input_shape, cost=_reorder_cost, traits=Traits(),
          attr_types={"channels_last": INT}),
    OpDef("ReorderOutput", NCHWC, FAMILY, shape=_reorder_output_shape, cost=_reorder_cost, traits=Traits(),
          attr_types={"channels_last": INT, "channels": INT}),
]

