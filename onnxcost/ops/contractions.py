"""Multiply-accumulate contractions: Conv, ConvTranspose, Gemm, MatMul, Einsum and their relatives
(seed 003: MACs; 1 MAC = 2 FLOPs). The shape, cost and geometry functions here are reused by the quantised
and fused variants in `quantization.py` and `ms_contrib.py`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..base.errors import ModelError
from ..base.symbolic import Equal, decide, differ, divides
from .core import DEFAULT, Cost, NodeView, OpDef, Shape, Spec, Traits, UnknownShape, broadcast, dims_agree

if TYPE_CHECKING:
    from .einsum import EinsumPlan

FAMILY = "contractions"



def dense() -> Traits:
    """Traits of a dense contraction."""
    return Traits(contraction=True)


# --- shapes -----------------------------------------------------------------------------------------------


def window_out(n: NodeView, spatial: Shape, kernel: Sequence[int], ceil: bool = False) -> Shape:
    """Output spatial dims of a sliding window (Conv, pooling): pads, strides, dilations, auto_pad."""
    rank = len(spatial)
    strides = list(n.attr("strides", [1] * rank))
    dil = list(n.attr("dilations", [1] * rank))
    auto_pad = n.attr("auto_pad", "NOTSET")
    pads = list(n.attr("pads", [0] * (2 * rank)))
    for name, values, size in (("strides", strides, rank), ("dilations", dil, rank), ("pads", pads, 2 * rank),
                               ("kernel_shape", list(kernel), rank)):
        if len(values) != size:
            raise n.fail(f"attribute {name} has {len(values)} values for {rank} spatial dims (needs {size})")
        if any(v < (0 if name == "pads" else 1) for v in values):
            raise n.fail(f"attribute {name}={values} must be {'non-negative' if name == 'pads' else 'positive'}")
    out = []
    for i in range(rank):
        eff = (kernel[i] - 1) * dil[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-spatial[i] // strides[i])
        else:
            total = spatial[i] + (0 if auto_pad == "VALID" else pads[i] + pads[i + rank]) - eff
            too_small = decide(total < 0)
            if too_small:
                raise n.fail(f"window of size {eff} is larger than padded input dim {total + eff} "
                             f"on spatial axis {i}")
            if too_small is None:  # symbolic: a condition on the dims, checked once they are bound
                n.conditions.append(f"{total + eff} >= {eff}")
            if ceil:
                o = -(-total // strides[i]) + 1
                # The last window must start inside the input or the left padding (onnxruntime, PyTorch).
                begin, end = (pads[i], pads[i + rank]) if auto_pad != "VALID" else (0, 0)
                past_end = decide((o - 1) * strides[i] >= spatial[i] + begin)
                if past_end is None:
                    # (o - 1)·stride < total + stride = spatial + begin + end - eff + stride: when end + stride
                    # <= eff the last window always starts inside, whatever the dim
                    if end + strides[i] > eff:
                        raise UnknownShape("ceil_mode over a symbolic dim")
                    past_end = False
                if past_end:
                    o -= 1
            else:
                o = total // strides[i] + 1
        out.append(o)
    return tuple(out)


def conv_out(n: NodeView, x: Shape, w: Shape) -> Shape:
    """[N, C_out, spatial...] of a convolution of x (NCHW) with w [C_out, C_in/group, k...]."""
    group = int(n.attr("group", 1))
    if len(x) != len(w) or len(x) < 3:
        raise n.fail(f"input rank {len(x)} and weight rank {len(w)} differ or are below 3")
    if group >= 1 and differ(x[1] // group, w[1]) is None:  # symbolic channels: valid where they fit the weight
        n.conditions.append(Equal(x[1], w[1] * group))
    if group < 1 or divides(x[1], group) is False or differ(x[1] // group, w[1]):
        raise n.fail(f"group={group} does not fit {x[1]} input channels and weight shape {list(w)} "
                     f"(needs C_in / group == weight dim 1)")
    if divides(w[0], group) is False:
        raise n.fail(f"group={group} does not divide {w[0]} output channels")
    kernel = list(n.attr("kernel_shape", w[2:]))
    if len(kernel) != len(w) - 2 or any(differ(k, d) for k, d in zip(kernel, w[2:], strict=False)):
        raise n.fail(f"kernel_shape {kernel} differs from the weight's spatial dims {list(w[2:])}")
    return (x[0], w[0]) + window_out(n, x[2:], kernel)


def conv_shape(n: NodeView) -> list[Spec]:
    return [(conv_out(n, n.input_shape(0), n.input_shape(1)), n.dtype(0))]


def _conv_transpose_shape(n: NodeView) -> list[Spec]:
    x, w = n.input_shape(0), n.input_shape(1)
    group = int(n.attr("group", 1))
    if len(x) < 3 or len(w) != len(x):
        raise n.fail(f"input rank {len(x)} and weight rank {len(w)} differ or are below 3")
    n.require_equal(x[1], w[0], f"input {list(x)} does not fit weight {list(w)} (channels must equal weight dim 0)")
    rank = len(x) - 2
    kernel = list(n.attr("kernel_shape", w[2:]))
    strides = list(n.attr("strides", [1] * rank))
    dil = list(n.attr("dilations", [1] * rank))
    out_pad = list(n.attr("output_padding", [0] * rank))
    if "output_shape" in n.attrs:
        spatial = tuple(int(v) for v in n.attrs["output_shape"][-rank:])
    elif n.attr("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        spatial = tuple(x[2 + i] * strides[i] for i in range(rank))
    else:
        pads = list(n.attr("pads", [0] * (2 * rank)))
        if n.attr("auto_pad") == "VALID":
            pads = [0] * (2 * rank)
        spatial = tuple(
            strides[i] * (x[2 + i] - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + rank]
            for i in range(rank)
        )
    return [((x[0], w[1] * group) + spatial, n.dtype(0))]


def matmul_shape(a: Shape, b: Shape, conditions: list[object] | None = None) -> Shape:
    """numpy.matmul's output shape (1-D operands promoted then squeezed). Inner dims that only the unbound
    dims' values decide are a condition in `conditions` (an error without it)."""
    if not a or not b:
        raise ModelError(f"MatMul operands must have rank ≥ 1: {list(a)} x {list(b)}")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if not dims_agree(a2[-1], b2[-2], conditions):
        raise ModelError(f"MatMul inner dims differ: {list(a)} x {list(b)}")
    out = broadcast([a2[:-2], b2[:-2]], conditions) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def matmul_spec(n: NodeView, a: int, b: int, out_type: int) -> list[Spec]:
    """MatMul of inputs a and b, the node named in a shape error."""
    try:
        return [(matmul_shape(n.input_shape(a), n.input_shape(b), n.conditions), out_type)]
    except ModelError as exc:
        raise n.fail(str(exc)) from None


def gemm_shape(n: NodeView) -> list[Spec]:
    a, b = n.input_shape(0), n.input_shape(1)
    if len(a) != 2 or len(b) != 2:
        raise n.fail(f"Gemm needs 2-D operands, got {list(a)} and {list(b)}")
    m = a[1] if n.attr("transA", 0) else a[0]
    ka = a[0] if n.attr("transA", 0) else a[1]
    kb = b[1] if n.attr("transB", 0) else b[0]
    cols = b[0] if n.attr("transB", 0) else b[1]
    n.require_equal(ka, kb, f"inner dims differ: A {list(a)} and B {list(b)} (transA/transB applied)")
    return [((m, cols), n.dtype(0))]


def _einsum_plan(n: NodeView) -> EinsumPlan:
    """The node's equation against its input shapes; the parser is imported by the first Einsum, not at start."""
    from .einsum import parse_einsum

    return parse_einsum(str(n.attr("equation")), [n.input_shape(i) for i in n.inputs()])


def _einsum_shape(n: NodeView) -> list[Spec]:
    return [(_einsum_plan(n).output_shape, n.dtype(0))]


# --- costs ------------------------------------------------------------------------------------------------


def conv_macs(n: NodeView, weight: int = 1) -> int:
    """N·C_out·∏out_spatial · (C_in/group)·∏kernel (seed 003, grouped and depthwise conv)."""
    return n.out_elems() * math.prod(n.input_shape(weight)[1:])


def conv_cost(n: NodeView) -> Cost:
    """Conv MACs; the bias adds one FLOP per output element."""
    macs = conv_macs(n)
    return Cost(macs, 2 * macs + (n.out_elems() if n.has_input(2) else 0))


def _conv_transpose_cost(n: NodeView) -> Cost:
    """Every input element scatters into (C_out/group)·∏kernel outputs: N·C_in·∏in_spatial·(C_out/group)·∏kernel."""
    macs = n.in_elems(0) * math.prod(n.input_shape(1)[1:])
    return Cost(macs, 2 * macs + (n.out_elems() if n.has_input(2) else 0))


def gemm_cost(n: NodeView) -> Cost:
    """alpha·A·B + beta·C: M·N·K MACs; +M·N FLOPs for adding C, and for alpha/beta scaling when not 1."""
    a = n.input_shape(0)
    k = a[0] if n.attr("transA", 0) else a[1]
    mn = n.out_elems()
    macs = mn * k
    extra = 0
    if n.has_input(2) and n.attr("beta", 1.0) != 0:
        extra += mn + (mn if n.attr("beta", 1.0) != 1 else 0)
    if n.attr("alpha", 1.0) != 1:
        extra += mn
    return Cost(macs, 2 * macs + extra)


def matmul_cost(n: NodeView) -> Cost:
    """∏batch·M·N·K MACs with numpy broadcasting: every output element is a K-long dot product."""
    macs = n.out_elems() * n.input_shape(0)[-1]
    return Cost(macs, 2 * macs)


def _einsum_cost(n: NodeView) -> Cost:
    """Products over the full index space, one MAC per point per extra operand; a single operand only sums."""
    plan = _einsum_plan(n)
    if plan.operands >= 2:
        macs = plan.iterations * (plan.operands - 1)
        return Cost(macs, 2 * macs)
    return Cost(0, plan.iterations if plan.summed else 0)


def _deform_conv_cost(n: NodeView) -> Cost:
    """Conv MACs, plus bilinear sampling of each kernel tap (4 reads, 7 FLOPs) and, with a mask, one multiply."""
    macs = conv_macs(n)
    taps = n.out_elems() // max(n.output_shape(0)[1], 1) * math.prod(n.input_shape(1)[1:])
    return Cost(macs, 2 * macs + taps * (7 + int(n.has_input(4))) + (n.out_elems() if n.has_input(3) else 0))


def _det_cost(n: NodeView) -> Cost:
    """LU factorisation of each [n, n] matrix: n³/3 MACs, then the product of the diagonal."""
    x = n.input_shape(0)
    size, batch = x[-1], math.prod(x[:-2])
    macs = batch * (size ** 3 // 3)
    return Cost(macs, 2 * macs + batch * size)


def _causal_conv_shape(n: NodeView) -> list[Spec]:
    """output as the input; present_state [batch, channels, k - 1]: the last k - 1 positions seen."""
    x, w = n.input_shape(0), n.input_shape(1)
    return [(x, n.dtype(0)), ((x[0], x[1], w[-1] - 1), n.dtype(0))]


def causal_conv_cost(n: NodeView) -> Cost:
    """A depthwise causal conv over the sequence: every output element is a kernel-long dot product."""
    w = n.input_shape(1)  # [channels, 1, kernel]
    macs = n.out_elems() * math.prod(w[1:])
    act = 5 if n.attr("activation", "none") != "none" else 0
    return Cost(macs, 2 * macs + n.out_elems() * (int(n.has_input(2)) + act))


# --- geometry: (M rows of each output matrix, K length of each dot product) -------------------------------


def conv_geometry(n: NodeView) -> tuple[int, int]:
    out = n.output_shape(0)
    return (out[0] * math.prod(out[2:]) if len(out) > 2 else 0), math.prod(n.input_shape(1)[1:])


def _conv_transpose_geometry(n: NodeView) -> tuple[int, int]:
    out = n.output_shape(0)
    return (out[0] * math.prod(out[2:]) if len(out) > 2 else 0), n.input_shape(1)[0]


def matmul_geometry(n: NodeView, k: int | None = None, shared_right: bool | None = None) -> tuple[int, int]:
    """Rows per product: all leading dims when the right side is one weight matrix (runtimes flatten them)."""
    out = n.output_shape(0)
    if k is None:
        k = n.input_shape(0)[-1]
    if shared_right is None:
        b = n.input_shapes[1] if len(n.input_shapes) > 1 else None
        shared_right = b is not None and len(b) <= 2
    if len(out) < 2:
        return 1, k
    return (math.prod(out[:-1]) if shared_right else out[-2]), k


def _gemm_geometry(n: NodeView) -> tuple[int, int]:
    a = n.input_shape(0)
    return matmul_geometry(n, a[0] if n.attr("transA", 0) else a[1], shared_right=True)


OPS: list[OpDef] = [
    OpDef("Conv", DEFAULT, FAMILY, shape=conv_shape, cost=conv_cost, geometry=conv_geometry,
          traits=dense()),
    OpDef("ConvTranspose", DEFAULT, FAMILY, shape=_conv_transpose_shape, cost=_conv_transpose_cost,
          geometry=_conv_transpose_geometry, traits=dense()),
    OpDef("Gemm", DEFAULT, FAMILY, shape=gemm_shape, cost=gemm_cost, geometry=_gemm_geometry,
          traits=dense()),
    OpDef("MatMul", DEFAULT, FAMILY, shape=lambda n: matmul_spec(n, 0, 1, n.dtype(0)), cost=matmul_cost,
          geometry=matmul_geometry, traits=dense()),
    OpDef("Einsum", DEFAULT, FAMILY, shape=_einsum_shape, cost=_einsum_cost,
          traits=Traits(contraction=True)),
    OpDef("DeformConv", DEFAULT, FAMILY, cost=_deform_conv_cost, geometry=conv_geometry,
          traits=dense(), note="output shape from ONNX inference"),
    OpDef("Det", DEFAULT, FAMILY, cost=_det_cost, traits=Traits(),
          note="output shape from ONNX inference"),
    OpDef("CausalConvWithState", DEFAULT, FAMILY, shape=_causal_conv_shape, cost=causal_conv_cost,
          traits=dense()),
]
