"""Sequences, optionals and strings: bookkeeping with no floating-point work (0 FLOPs).

A sequence whose elements share one shape S is held as the tensor it stacks into, (length, *S), so that its
bytes count right and a Loop that appends to it grows one axis (TorchScript's list append in a loop). An
empty sequence, whose elements have no shape yet, is (0,). A sequence whose elements differ (ragged) is
unknown. An optional holding a tensor is that tensor's shape. Strings keep ONNX's own inference."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from .core import DEFAULT, Cost, NodeView, OpDef, Spec, Traits, UnknownShape, no_work, same_shape

FAMILY = "sequences"
META = Traits()
MOVE = Traits()

_STRING_OPS = ("StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch")


def _stacked(length: Any, element: tuple[Any, ...], dtype: int) -> list[Spec]:
    return [((length, *element), dtype)]


def _sequence(n: NodeView, i: int = 0) -> tuple[Any, tuple[Any, ...]]:
    """A sequence input's length and element shape; the element shape is () for an empty sequence's (unknown)."""
    shape = n.input_shape(i)
    if not shape:
        raise UnknownShape(f"input {i} of '{n.name}' is not a sequence of one element shape")
    return shape[0], tuple(shape[1:])


def _empty(n: NodeView) -> list[Spec]:
    return _stacked(0, (), int(n.attr("dtype", dtypes.FLOAT)))


def _construct(n: NodeView) -> list[Spec]:
    shapes = [n.input_shape(i) for i in n.inputs()]
    if any(len(s) != len(shapes[0]) or any(symbolic.equal(a, b) is not True for a, b in zip(s, shapes[0], strict=True))
           for s in shapes):
        raise UnknownShape("a sequence of tensors of different shapes")
    return _stacked(len(shapes), shapes[0], n.dtype(0))


def _insert(n: NodeView) -> list[Spec]:
    length, element = _sequence(n)
    item = n.input_shape(1)
    if length != 0 and (len(item) != len(element) or any(
            symbolic.equal(a, b) is not True for a, b in zip(item, element, strict=True))):
        raise UnknownShape("a sequence of tensors of different shapes")
    return _stacked(length + 1, item, n.dtype(1))


def _erase(n: NodeView) -> list[Spec]:
    length, element = _sequence(n)
    if length == 0:
        raise n.fail("erases from an empty sequence")
    return _stacked(length - 1, element, n.dtype(0))


def _at(n: NodeView) -> list[Spec]:
    length, element = _sequence(n)
    if length == 0:
        raise n.fail("reads from an empty sequence")
    return [(element, n.dtype(0))]


def _length(n: NodeView) -> list[Spec]:
    _sequence(n)
    return [((), dtypes.INT64)]


def _length_value(n: NodeView) -> list[np.ndarray]:
    return [symbolic.int_array([_sequence(n)[0]]).reshape(())]


def _concat(n: NodeView) -> list[Spec]:
    """ConcatFromSequence: the elements stacked on a new axis, or joined along an existing one."""
    length, element = _sequence(n)
    if length == 0:
        raise n.fail("concatenates an empty sequence")
    rank = len(element) + (1 if n.attr("new_axis", 0) else 0)
    axis = int(n.attr("axis", 0))
    if not -rank <= axis < rank:
        raise n.fail(f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    if n.attr("new_axis", 0):
        return [((*element[:axis], length, *element[axis:]), n.dtype(0))]
    return [((*element[:axis], element[axis] * length, *element[axis + 1:]), n.dtype(0))]


def _split(n: NodeView) -> list[Spec]:
    """SplitToSequence into equal pieces: one per index of the axis, or of a scalar or uniform `split`."""
    shape = n.input_shape(0)
    axis = int(n.attr("axis", 0))
    if not -len(shape) <= axis < len(shape):
        raise n.fail(f"axis {axis} is out of range for rank {len(shape)}")
    axis %= len(shape)
    dim = shape[axis]
    if not n.has_input(1):
        keep = (1,) if n.attr("keepdims", 1) else ()
        return _stacked(dim, (*shape[:axis], *keep, *shape[axis + 1:]), n.dtype(0))
    split = n.ints(1)
    if n.array(1).ndim == 0 and len(split) == 1 and not symbolic.is_symbolic(dim) and dim % split[0] == 0:
        # onnxruntime honours keepdims=0 for a scalar split of 1 (the spec says a split ignores it)
        keep = () if split[0] == 1 and not n.attr("keepdims", 1) else (split[0],)
        return _stacked(dim // split[0], (*shape[:axis], *keep, *shape[axis + 1:]), n.dtype(0))
    if n.array(1).ndim == 1 and split and all(symbolic.equal(x, split[0]) is True for x in split):
        return _stacked(len(split), (*shape[:axis], split[0], *shape[axis + 1:]), n.dtype(0))
    raise UnknownShape("a split into pieces of different sizes")


def _optional(n: NodeView) -> list[Spec]:
    """An optional holding a tensor is that tensor's shape (Optional, OptionalGetElement); an empty one, none."""
    if not n.has_input(0):
        raise UnknownShape("an empty optional")
    return [(n.input_shape(0), n.dtype(0))]


def _tfidf_cost(n: NodeView) -> Cost:
    """N-gram counting is integer work; the TF-IDF weighting is one multiply per output element."""
    return Cost(0, n.out_elems() if n.attr("mode", "TF") != "TF" else 0)


OPS: list[OpDef] = [
    OpDef("SequenceEmpty", DEFAULT, FAMILY, shape=_empty, cost=no_work, traits=META),
    OpDef("SequenceConstruct", DEFAULT, FAMILY, shape=_construct, cost=no_work, traits=MOVE),
    OpDef("SequenceInsert", DEFAULT, FAMILY, shape=_insert, cost=no_work, traits=MOVE, onnx_inference=False),
    OpDef("SequenceErase", DEFAULT, FAMILY, shape=_erase, cost=no_work, traits=MOVE, onnx_inference=False),
    OpDef("SequenceAt", DEFAULT, FAMILY, shape=_at, cost=no_work, traits=MOVE, onnx_inference=False),
    OpDef("SequenceLength", DEFAULT, FAMILY, shape=_length, value=_length_value, value_from_shapes=True,
          cost=no_work, traits=META),
    OpDef("ConcatFromSequence", DEFAULT, FAMILY, shape=_concat, cost=no_work, traits=MOVE, onnx_inference=False),
    OpDef("SplitToSequence", DEFAULT, FAMILY, shape=_split, cost=no_work, traits=MOVE),
    OpDef("Optional", DEFAULT, FAMILY, shape=_optional, cost=no_work, traits=META),
    OpDef("OptionalGetElement", DEFAULT, FAMILY, shape=_optional, cost=no_work, traits=META),
    OpDef("OptionalHasElement", DEFAULT, FAMILY, shape=lambda n: [((), dtypes.BOOL)], cost=no_work, traits=META),
    *(OpDef(op, DEFAULT, FAMILY, cost=no_work, traits=MOVE, shape=same_shape if op == "RegexFullMatch" else None)
      for op in _STRING_OPS),
    OpDef("TfIdfVectorizer", DEFAULT, FAMILY, cost=_tfidf_cost, traits=MOVE, note="shape from ONNX inference"),
]
