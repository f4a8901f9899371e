"""What the shapes stage knows of one tensor (TensorInfo) and of the whole graph (ShapeResult)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..base import dtypes, symbolic
from ..base.errors import ModelError
from ..base.proto import TensorProto
from ..base.symbolic import SymbolInfo
from ..load.model import SMALL_TENSOR_ELEMENTS
from ..ops import Shape

#: Largest tensor (in elements) whose value is computed or decoded; larger ones keep only their shape.
VALUE_LIMIT = SMALL_TENSOR_ELEMENTS

@dataclass
class TensorInfo:
    """One tensor: where it comes from, its shape and type, and whether it is fixed at load time."""

    name: str
    kind: str  # "input", "initializer", "constant" (Constant node or folded), "activation"
    dtype: int = 0
    shape: Shape | None = None
    producer: int | None = None  # index of the producing node in the model's node list
    from_shape: bool = False  # a constant computed from activation shapes (Shape -> ...), not a weight
    proto: TensorProto | None = field(default=None, repr=False)
    _value: np.ndarray | None = field(default=None, repr=False)

    @property
    def is_constant(self) -> bool:
        return self.kind in ("initializer", "constant")

    @property
    def elements(self) -> int | None:
        return None if self.shape is None else math.prod(self.shape)

    @property
    def nbytes(self) -> int | None:
        n = self.elements
        return None if n is None else dtypes.nbytes(self.dtype, n)

    def value(self) -> np.ndarray | None:
        """The tensor's value when known and small; embedded initializers and the tensors Constant nodes hold are
        decoded on first use."""
        if self._value is None and self.proto is not None:
            n = self.elements
            if n is not None and n <= VALUE_LIMIT and self.proto.data_location != TensorProto.EXTERNAL:
                what = "initializer" if self.kind == "initializer" else "constant"
                self._value = dtypes.decode(self.proto, f"{what} '{self.name}'", self.shape or ())
            self.proto = None if self._value is not None else self.proto
        return self._value

if TYPE_CHECKING:
    from .subgraph import SubgraphAnalysis


@dataclass
class ShapeResult:
    """What shape inference found: every tensor's shape and dtype, each node's attributes, and the free dims."""

    tensors: dict[str, TensorInfo]
    attrs: list[dict[str, Any]]  # parsed attributes per node (model order)
    folded: list[bool]  # node computes only from constants (runtimes fold it at load time)
    warnings: list[str]
    symbols: dict[str, SymbolInfo] = field(default_factory=dict)  # unbound dims, by symbol name
    #: unbound dims the graph ties to the others (an attention mask's total = past + seq): symbol -> formula
    ties: dict[str, str] = field(default_factory=dict)
    #: control flow: the subgraphs analysed for a node's shapes, by node index and attribute (then_branch, body)
    subgraphs: dict[int, dict[str, SubgraphAnalysis]] = field(default_factory=dict)


#: More elements than any tensor can have (256 Ti): a dim or a size beyond it is a hostile or broken file.
MAX_ELEMENTS = 1 << 48


def plain_shape(shape: Shape) -> bool:
    """A shape of plain ints that `check_shape` passes as it is: none negative, fewer than MAX_ELEMENTS
    elements. Checked first where most shapes are, so that the error message is made only when needed."""
    return all(type(d) is int for d in shape) and (
        not shape or (min(shape) >= 0 and max(shape) < MAX_ELEMENTS and math.prod(shape) < MAX_ELEMENTS))


def check_shape(shape: Shape, what: str, verb: str = "has") -> Shape:
    """`shape` when it is one a tensor can have: no negative dim, fewer than MAX_ELEMENTS elements (checked
    on the concrete dims; a symbolic dim is a positive integer by construction)."""
    if plain_shape(shape):  # nearly every shape: decided without a symbol check per dim
        return shape
    if any(symbolic.is_symbolic(d) for d in shape):
        shape = tuple(symbolic.normal(d) for d in shape)
        if any(symbolic.undefined(d) for d in shape):
            raise ModelError(f"{what} {verb} an undefined dim {list(shape)} (a division by zero: a dim bound "
                             "to 0 where the model divides by it)")
        if any(symbolic.decide(d < 0) for d in shape):
            raise ModelError(f"{what} {verb} negative dims {list(shape)}")
        return shape
    if any(d < 0 for d in shape):
        raise ModelError(f"{what} {verb} negative dims {list(shape)}")
    if any(d >= MAX_ELEMENTS for d in shape) or math.prod(shape) >= MAX_ELEMENTS:
        raise ModelError(f"{what} {verb} an absurd shape {list(shape)} (over 2^48 elements)")
    return shape
