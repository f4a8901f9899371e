"""com.microsoft's ops over weights packed below a float: bitsandbytes' 4-bit MatMul, MLAS's prepacked 4-bit
blob, and the GGUF-style block formats GatherPacked reads. Packed weights count as the parameters they stand
for; scales are not parameters."""

from __future__ import annotations

from ..base.proto import TensorProto
from .contractions import dense, matmul_geometry
from .core import INT, MS, Cost, NodeView, OpDef, Spec

FAMILY = "ms_packed"
DEQUANT_FLOPS = 2  # code minus offset, times scale


def _bnb4_sizes(n: NodeView) -> tuple[int, int]:
    k, cols = int(n.attrs["K"]), int(n.attrs["N"])
    if k < 1 or cols < 1:
        raise n.fail(f"K={k} and N={cols} must be positive")
    return k, cols


def _bnb4_shape(n: NodeView) -> list[Spec]:
    """A [..., K] x dequantised B^T [K, N] -> [..., N] (transB=1, the default); A [..., N] x B [N, K] with
    transB=0."""
    k, cols = _bnb4_sizes(n)
    a = n.input_shape(0)
    inner, outer = (k, cols) if n.attr("transB", 1) else (cols, k)
    if not a:
        raise n.fail("input has rank 0")
    n.require_equal(a[-1], inner, f"input's last dim {a[-1]} is not {inner}")
    return [((*a[:-1], outer), n.dtype(0))]


def _bnb4_cost(n: NodeView) -> Cost:
    k, cols = _bnb4_sizes(n)
    macs = n.out_elems() * n.input_shape(0)[-1]
    return Cost(macs, 2 * macs + DEQUANT_FLOPS * k * cols)


def _fpq4_sizes(n: NodeView) -> tuple[int, int]:
    """(K, N) from the B_shape input."""
    shape = n.ints(2)
    if len(shape) != 2 or min(shape) < 1:
        raise n.fail(f"B_shape {shape} must be two positive dims")
    return shape[0], shape[1]


def _fpq4_shape(n: NodeView) -> list[Spec]:
    k, cols = _fpq4_sizes(n)
    a = n.input_shape(0)
    n.require_equal(a[-1], k, f"input's last dim {a[-1]} is not K={k}")
    return [((*a[:-1], cols), n.dtype(0))]


def _fpq4_cost(n: NodeView) -> Cost:
    k, cols = _fpq4_sizes(n)
    macs = n.out_elems() * k
    return Cost(macs, 2 * macs + DEQUANT_FLOPS * k * cols)


def _gather_packed_shape(n: NodeView) -> list[Spec]:
    """Rows of a packed [rows, row_bytes] table, dequantised to K values each: [*indices, K], bfloat16 unless
    output_dtype says otherwise."""
    k = int(n.attrs["K"])
    if k < 1:
        raise n.fail(f"K={k} must be positive")
    return [((*n.input_shape(1), k), int(n.attr("output_dtype", TensorProto.BFLOAT16)))]


def _gather_packed_cost(n: NodeView) -> Cost:
    """A float table is a copy; a block-quantised one dequantises each gathered value."""
    return Cost(0, 0 if int(n.attrs["packed_type"]) in (0, 1) else DEQUANT_FLOPS * n.out_elems())


OPS: list[OpDef] = [
    OpDef("MatMulBnb4", MS, FAMILY, shape=_bnb4_shape, cost=_bnb4_cost, traits=dense(),
          geometry=lambda n: matmul_geometry(n, n.input_shape(0)[-1], shared_right=True),
          params=lambda n: {1: _bnb4_sizes(n)[0] * _bnb4_sizes(n)[1], 2: 0},
          attr_types={"K": INT, "N": INT, "block_size": INT, "quant_type": INT, "transB": INT,
                      "training_mode": INT}),
    OpDef("MatMulFpQ4", MS, FAMILY, shape=_fpq4_shape, cost=_fpq4_cost, traits=dense(),
          geometry=lambda n: matmul_geometry(n, _fpq4_sizes(n)[0], shared_right=True),
          params=lambda n: {1: _fpq4_sizes(n)[0] * _fpq4_sizes(n)[1], 2: 0}, attr_types={"blk_quant_type": INT}),
    OpDef("GatherPacked", MS, FAMILY, shape=_gather_packed_shape, cost=_gather_packed_cost,
          params=lambda n: {0: n.input_shape(0)[0] * int(n.attrs["K"])},
          attr_types={"packed_type": INT, "output_dtype": INT, "K": INT}),
]
