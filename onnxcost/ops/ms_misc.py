"""com.microsoft's small ops outside the transformer fusions: hashing, unfolding, cropping, time warping, a
word embedding by character convolution, and the internal ops onnxruntime's tests and exporters write."""

from __future__ import annotations

import math
from dataclasses import replace

from ..base import dtypes
from . import contractions, pooling
from .core import (
    FLOAT,
    INT,
    INTS,
    MS,
    STRING,
    STRINGS,
    WINDOW_ATTRS,
    Cost,
    CostFn,
    NodeView,
    OpDef,
    ShapeFn,
    Spec,
    Traits,
    no_work,
    per_output_element,
    same_shape,
)
from .elementwise import UNARY
from .twins import twin

FAMILY = "ms_misc"


def _murmur_shape(n: NodeView) -> list[Spec]:
    """A 32-bit hash per element: uint32 when `positive`, else int32."""
    return [(n.input_shape(0), dtypes.UINT32 if n.attr("positive", 1) else dtypes.INT32)]


def _unfold_shape(n: NodeView) -> list[Spec]:
    """Windows of `size` every `step` along `dim`: that dim becomes the window count, and a last dim of `size`
    is appended (torch.Tensor.unfold)."""
    x = n.input_shape(0)
    size, step = int(n.attrs["size"]), int(n.attr("step", 1))
    if not x or not -len(x) <= int(n.attr("dim", -1)) < len(x) or size < 1 or step < 1:
        raise n.fail(f"dim={n.attr('dim', -1)}, size={size} and step={step} do not fit rank {len(x)}")
    dim = int(n.attr("dim", -1)) % len(x)
    if isinstance(x[dim], int) and x[dim] < size:
        raise n.fail(f"window of {size} is longer than dim {dim} ({x[dim]})")
    return [((*x[:dim], (x[dim] - size) // step + 1, *x[dim + 1:], size), n.dtype(0))]


def _unique_shape(n: NodeView) -> list[Spec]:
    """The unique values and their counts have a data-dependent length; the index of each input element
    has the input's shape."""
    return [(None, n.dtype(0)), (n.input_shape(0), dtypes.INT64), (None, dtypes.INT64)]


def _crop_and_resize_shape(n: NodeView) -> list[Spec]:
    """[num_boxes, C, crop_height, crop_width]: one resized crop per box, crop size an input."""
    x, rois = n.input_shape(0), n.input_shape(1)
    size = n.ints(3)
    if len(x) != 4 or len(size) != 2:
        raise n.fail(f"needs a 4-D image and a crop size of 2 (image rank {len(x)}, crop size {size})")
    return [((rois[0], x[1], *size), n.dtype(0))]


def _crop_and_resize_cost(n: NodeView) -> Cost:
    """A bilinear sample per output element: 4 taps folded with 3 FLOPs each way, as Resize's linear mode."""
    return Cost(0, n.out_elems() * (8 if n.attr("mode", "bilinear") == "bilinear" else 0))


def _as_conv_transpose(n: NodeView) -> NodeView:
    """ConvTransposeWithDynamicPads as ConvTranspose: pads from input 2 (when given and known), bias at
    slot 2 rather than 3."""
    attrs = dict(n.attrs)
    if n.has_input(2):
        attrs["pads"] = n.ints(2)
    slots = (0, 1, 3)
    return replace(n, attrs=attrs, input_shapes=tuple(n.input_shapes[i] if i < len(n.input_shapes) else None
                                                      for i in slots),
                   input_types=tuple(n.dtype(i) for i in slots), present=tuple(n.has_input(i) for i in slots),
                   value_of=lambda i: n.value(slots[i]))


def _conv_transpose_with_pads() -> OpDef:
    base = twin(contractions, "ConvTranspose", domain=MS, family=FAMILY, at_opset=11,
                attrs={**WINDOW_ATTRS, "output_padding": INTS}, name="ConvTransposeWithDynamicPads")
    shape, cost, geometry = base.shape, base.cost, base.geometry
    assert shape is not None and cost is not None and geometry is not None  # noqa: S101 - ConvTranspose has all
    return replace(base, shape=lambda n: shape(_as_conv_transpose(n)), cost=lambda n: cost(_as_conv_transpose(n)),
                   geometry=lambda n: geometry(_as_conv_transpose(n)))


def _word_conv_shape(n: NodeView) -> list[Spec]:
    """Words [S, word_length] (character ids) -> [S, E]: characters embedded (table [V, C]), convolved by W
    [E, 1, window, C] along each word, then max-pooled over positions."""
    words, weight = n.input_shape(0), n.input_shape(1)
    if len(words) < 2 or len(weight) != 4:
        raise n.fail(f"needs words of rank 2 and a 4-D filter (ranks {len(words)}, {len(weight)})")
    if isinstance(words[1], int) and isinstance(weight[2], int) and words[1] < weight[2]:
        raise n.fail(f"filter width {weight[2]} exceeds the word length {words[1]}")
    return [((words[0], weight[0]), n.dtype(1))]


def _word_conv_cost(n: NodeView) -> Cost:
    """Per word, (length - window + 1) positions of an [E, window·C] filter: MACs; then bias, tanh and a max per
    position and filter."""
    words, weight = n.input_shape(0), n.input_shape(1)
    outputs = words[0] * (words[1] - weight[2] + 1) * weight[0]
    macs = outputs * weight[2] * weight[3]
    return Cost(macs, 2 * macs + outputs * (1 + UNARY["Tanh"] + 1))


def _dtw_cost(n: NodeView) -> Cost:
    """One cell of the cost matrix per input element: the smallest of 3 neighbours (2 comparisons) plus its
    cost; the backtracked path is data."""
    return Cost(0, 3 * n.in_elems(0))


def _dtw_shape(n: NodeView) -> list[Spec]:
    """[2, path length]: the length lies between max(M, N) and M + N - 1 and depends on the costs."""
    if len(n.input_shape(0)) not in (2, 3):
        raise n.fail(f"needs a cost matrix of rank 2 or 3, has rank {len(n.input_shape(0))}")
    return [(None, dtypes.INT32)]


def _gated_add_cost(n: NodeView) -> Cost:
    """X + Y·gate: 2 FLOPs per element; a projected gate adds a K-long dot product and a sigmoid per row."""
    rows = n.in_elems(2) // n.input_shape(2)[-1] if n.input_shape(2) else 1
    if n.has_input(3):
        k = n.input_shape(2)[-1]
        return Cost(rows * k, 2 * n.out_elems() + rows * (2 * k + UNARY["Sigmoid"]))
    return Cost(0, 2 * n.out_elems())


def _sparse_dense_shape(n: NodeView) -> list[Spec]:
    """Sparse A [M, K] (transposed with transA) times dense B [K, N] (transB): [M, N], B's type."""
    a, b = n.input_shape(0), n.input_shape(1)
    if len(a) != 2 or len(b) != 2:
        raise n.fail(f"needs 2-D A and B, has ranks {len(a)} and {len(b)}")
    a = a[::-1] if n.attr("transA", 0) else a
    b = b[::-1] if n.attr("transB", 0) else b
    n.require_equal(a[1], b[0], f"A's {a[1]} columns do not meet B's {b[0]} rows")
    return [((a[0], b[1]), n.dtype(1))]


def _sparse_dense_cost(n: NodeView) -> Cost:
    """Each stored value of A meets a row of B: at most M·K·N MACs (every value stored), an upper bound."""
    a = n.input_shape(0)
    macs = math.prod(a) * n.output_shape(0)[1]
    return Cost(macs, 2 * macs + (n.out_elems() if n.attr("alpha", 1.0) != 1 else 0), upper_bound=True)


PLAIN = Traits()


def _misc(op: str, shape: ShapeFn | None, cost: CostFn | None, traits: Traits = PLAIN,
          attrs: dict[str, int] | None = None, note: str = "") -> OpDef:
    return OpDef(op, MS, FAMILY, shape=shape, cost=cost, traits=traits, attr_types=attrs or {}, note=note)


OPS: list[OpDef] = [
    _misc("ScaledSiLU", same_shape, per_output_element(1 + UNARY["Sigmoid"] + 1, "scale, sigmoid, product"),
          attrs={"alpha": FLOAT}),
    _misc("GatedAdd", same_shape, _gated_add_cost),
    _misc("MurmurHash3", _murmur_shape, no_work, attrs={"positive": INT, "seed": INT}),
    _misc("UnfoldTensor", _unfold_shape, no_work, attrs={"size": INT, "step": INT, "dim": INT}),
    _misc("Unique", _unique_shape, no_work, note="the unique values' count depends on the data"),
    _misc("SampleOp", same_shape, no_work),
    _misc("Tokenizer", lambda n: [(None, n.dtype(0))], no_work,
          attrs={"mincharnum": INT, "separators": STRINGS, "tokenexp": STRING, "pad_value": STRING, "mark": INT},
          note="the tokens per string depend on the data"),
    _misc("DynamicTimeWarping", _dtw_shape, _dtw_cost, note="the path length depends on the data"),
    _misc("CropAndResize", _crop_and_resize_shape, _crop_and_resize_cost,
          attrs={"mode": STRING, "extrapolation_value": FLOAT}),
    _misc("WordConvEmbedding", _word_conv_shape, _word_conv_cost, contractions.dense(),
          attrs={"embedding_size": INT, "conv_window_size": INT, "char_embedding_size": INT}),
    _conv_transpose_with_pads(),
    _misc("SparseToDenseMatMul", _sparse_dense_shape, _sparse_dense_cost, contractions.dense(),
          attrs={"transA": INT, "transB": INT, "alpha": FLOAT}, note="MACs as if A were dense: an upper bound"),
    twin(pooling, "MaxPool", domain=MS, family=FAMILY, at_opset=12, attrs=WINDOW_ATTRS, name="MaxpoolWithMask",
         n_outputs=1),
]

