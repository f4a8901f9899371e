"""The parts every op definition is made of: the read-only node view its rules see, its traits, and the
definition itself. Family modules build `OpDef`s from these; `ops/__init__.py` collects them."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base import symbolic
from ..base.errors import ModelError
from ..base.proto import AttributeProto, TensorProto
from ..base.symbolic import is_symbolic, normal

Shape = tuple[int, ...]
Spec = tuple[Shape | None, int]  # (shape, ONNX element type)
DEFAULT = "ai.onnx"
MS = "com.microsoft"
ML = "ai.onnx.ml"


class UnknownShape(LookupError):
    """A rule needed a shape or a value that is not known: the node's output (or cost) stays unknown."""


@dataclass(frozen=True)
class InnerNode:
    """A node inside a control-flow subgraph, named by its path (`If_0/then_branch/MatMul_3`), with its cost per
    execution of the subgraph."""

    path: str
    op_type: str
    macs: int
    flops: int


@dataclass(frozen=True)
class Cost:
    """What a cost rule computes: multiply-accumulates of contractions, and all floating-point operations;
    `upper_bound` when the true figure depends on run-time data and may be lower. Control flow also says
    which If branch it counted, its subgraph's nodes, and a warning when the count is a bound."""

    macs: int
    flops: int
    upper_bound: bool = False
    branch: str | None = None  # an If: "then", "else", "max" (data decides: the larger) or "piecewise"
    inner: tuple[InnerNode, ...] = ()
    warning: str | None = None


@dataclass(frozen=True)
class NodeView:
    """Read-only view of one node, the same for shape, value and cost rules: attributes, opset, inputs'
    shapes, types and small values, and (for cost rules, once known) output shapes."""

    name: str
    op_type: str
    domain: str
    opset: int
    attrs: dict[str, Any]
    input_shapes: tuple[Shape | None, ...]  # None for an omitted input or an unknown shape
    input_types: tuple[int, ...]
    present: tuple[bool, ...]
    n_out: int
    output_shapes: tuple[Shape | None, ...] = ()
    value_of: Callable[[int], np.ndarray | None] = field(default=lambda i: None, repr=False, compare=False)
    #: where symbolic dims make a check undecidable, the condition the model needs ("height >= 7"); the
    #: shapes stage reports them as warnings
    conditions: list[object] = field(default_factory=list, repr=False, compare=False)
    #: control flow: the (shape, dtype) of each output of a subgraph that reads the enclosing graph, given the
    #: (shape, dtype) of its own inputs (none for an If branch)
    subgraph_of: Callable[..., list[tuple[Shape | None, int]] | None] = field(
        default=lambda body, given=(): None, repr=False, compare=False)
    #: control flow, for cost rules: the cost of one run of the subgraph in attribute `key` (then_branch, body),
    #: as the shapes stage analysed it; None when it was not analysed or a cost inside is unknown
    subgraph_cost: Callable[[str], Cost | None] = field(default=lambda key: None, repr=False, compare=False)
    #: control flow: the small value of a tensor in the subgraph in attribute `key`, as last analysed (a Loop
    #: body's condition that is True on every iteration); None when unknown
    subgraph_value: Callable[[str, str], np.ndarray | None] = field(
        default=lambda key, name: None, repr=False, compare=False)

    def require_equal(self, a: Any, b: Any, what: str) -> None:
        """Dims the op needs equal: `what` as this node's ModelError when they provably differ; when only the
        unbound dims' values decide, the equality becomes a stated condition (a warning)."""
        if not dims_agree(a, b, self.conditions):
            raise self.fail(what)

    def has_input(self, i: int) -> bool:
        return i < len(self.present) and self.present[i]

    def inputs(self) -> list[int]:
        """Indices of the inputs that are present."""
        return [i for i, p in enumerate(self.present) if p]

    def input_shape(self, i: int) -> Shape:
        s = self.input_shapes[i] if self.has_input(i) else None
        if s is None:
            raise UnknownShape(f"shape of input {i} of '{self.name}'")
        return s

    def output_shape(self, i: int = 0) -> Shape:
        s = self.output_shapes[i] if i < len(self.output_shapes) else None
        if s is None:
            raise UnknownShape(f"shape of output {i} of '{self.name}'")
        return s

    def dtype(self, i: int) -> int:
        return self.input_types[i] if self.has_input(i) else 0

    def in_elems(self, i: int = 0) -> int:
        return math.prod(self.input_shape(i))

    def out_elems(self, i: int = 0) -> int:
        return math.prod(self.output_shape(i))

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def value(self, i: int) -> np.ndarray | None:
        """The small value of input i when known, else None."""
        return self.value_of(i) if self.has_input(i) else None

    def array(self, i: int) -> np.ndarray:
        """The value of input i; raises UnknownShape when it is not known."""
        v = self.value(i)
        if v is None:
            raise UnknownShape(f"value of input {i} of '{self.name}'")
        return np.asarray(v)

    def ints(self, i: int) -> list[int]:
        """Integer values of input i (shape targets, axes, pads), symbolic dims among them where a shape chain
        carries one; raises UnknownShape when not known."""
        flat = self.array(i).reshape(-1)
        if flat.dtype.kind in "iu":  # plain integers, nearly always: numpy makes the Python ints itself
            return flat.tolist()
        return [_int(x) for x in flat]

    def scalar(self, i: int) -> Any:
        """The one value of input i (an int, a float, or a symbolic dim); raises UnknownShape when unknown."""
        v = self.array(i)
        if v.size != 1:
            raise self.fail(f"input {i} must hold one value, has {v.size}")
        x = v.reshape(-1)[0]
        return normal(x) if is_symbolic(x) else x.item()

    def axes(self, index: int, rank: int) -> list[int] | None:
        """Axes from the `axes` attribute (older opsets) or input `index`, normalised to [0, rank)."""
        if "axes" in self.attrs:
            raw = list(self.attrs["axes"])
        elif self.has_input(index):
            raw = self.ints(index)
        else:
            return None
        if any(is_symbolic(a) for a in raw):
            raise UnknownShape("axes computed from symbolic dims")
        for a in raw:
            if not -max(rank, 1) <= a < max(rank, 1):
                raise self.fail(f"axis {a} is out of range for rank {rank}")
        return [a % rank if rank else 0 for a in raw]

    def fail(self, message: str) -> ModelError:
        return ModelError(f"node '{self.name}' ({self.op_type}): {message}")


def _int(x: Any) -> Any:
    return normal(x) if is_symbolic(x) else int(x)


ShapeFn = Callable[[NodeView], list[Spec]]
ValueFn = Callable[[NodeView], list[np.ndarray]]
CostFn = Callable[[NodeView], Cost]
#: (M, K) of a contraction: rows of each output matrix and the length of each dot product.
GeometryFn = Callable[[NodeView], tuple[int, int]]
CopiesFn = Callable[[NodeView], int]
#: Packed weight formats: input slot -> the number of parameters its constant stands for (0 for scales).
ParamsFn = Callable[[NodeView], dict[int, int]]


@dataclass(frozen=True)
class Traits:
    """What later stages need to know about an op's ONNX semantics besides its cost; they ask, and keep no op
    lists. (How one runtime's kernels run it is the latency stage's `RuntimeHints`.)

    contraction: MACs are its work; training costs 3x its forward pass.
    view: the output aliases the input's buffer (no data moves).
    inplace: an element-wise unary op that may overwrite its input when it is the last reader.
    selecting: reads only the part of its data input that it copies out.
    recurrent: runs one small kernel per time step and direction.
    control: its work is a subgraph's (If, Loop, Scan).
    nondeterministic: never constant-folded (random draws).
    kv_cache_inputs: the inputs that carry an attention op's past keys and values (the LLM view)."""

    contraction: bool = False
    view: bool = False
    inplace: bool = False
    selecting: bool = False
    recurrent: bool = False
    control: bool = False
    nondeterministic: bool = False
    kv_cache_inputs: tuple[int, ...] = ()


def dims_agree(a: Any, b: Any, conditions: list[object] | None) -> bool:
    """False when dims a and b provably differ; True when they are equal or may be, with `a = b` added to
    `conditions` in the second case (without a list to record it in, only a proof counts)."""
    same = symbolic.equal(a, b)
    if same is None and conditions is not None:
        conditions.append(symbolic.Equal(a, b))
        return True
    return bool(same)


#: OpDef.symbolic_inputs for value functions that compute on symbols in any input.
ALL_INPUTS = "all"


@dataclass(frozen=True)
class OpDef:
    """Everything onnxcost knows about one op in one opset range.

    shape: output (shape, dtype) per output; None means ONNX's own inference runs for it.
    value: outputs computed with numpy from small known inputs (shape arithmetic); None when not evaluated.
    cost: MACs and FLOPs; None when the op's cost is unknown by nature (data-dependent), see `note`.
    value_from_shapes: the value needs only input shapes (Shape, Size), not input values.
    stored: the output is a tensor the node holds (Constant's `value`): the shapes stage keeps it as it keeps an
      initializer, decoded only when a rule reads it, instead of computing `value` at once. None where not.
    geometry: (M, K) of a contraction, for the estimate's short-dot-product and few-rows terms.
    copies: the memcpy calls onnxruntime's CPU kernel makes, for ops that copy in many small pieces (Expand),
      for the estimate's per-call term.
    params: for packed weight formats, the logical parameter count of the constants in given input slots.
    attr_types: for ops without an onnx schema (com.microsoft), the AttributeProto type of each attribute the
      rules read; the load stage rejects a file whose attribute has another type.
    symbolic_inputs: the input slots whose value may hold symbolic dims (an object array) for `value` to
      compute on; the shapes stage drops the value, rather than cast a symbol, when another slot holds one.
      ALL_INPUTS: every slot.
    onnx_inference: whether ONNX's one-node inference may find what `shape` gives up on; False where it cannot
      (it describes every input as a tensor, so an op that reads a sequence gets nothing from it)."""

    op_type: str
    domain: str
    family: str
    since: int = 1
    until: int | None = None  # exclusive; None: every later opset
    shape: ShapeFn | None = None
    value: ValueFn | None = None
    cost: CostFn | None = None
    traits: Traits = Traits()
    value_from_shapes: bool = False
    stored: Callable[[NodeView], TensorProto | None] | None = None
    geometry: GeometryFn | None = None
    copies: CopiesFn | None = None
    params: ParamsFn | None = None
    #: learned values an op holds in its attributes rather than in tensors (a tree's thresholds and leaf
    #: weights, a linear model's coefficients): how many, all float32
    attribute_params: Callable[[NodeView], int] | None = None
    attr_types: Mapping[str, int] | None = None
    symbolic_inputs: frozenset[int] | str = frozenset()
    onnx_inference: bool = True
    note: str = ""

    def covers(self, opset: int) -> bool:
        return self.since <= opset and (self.until is None or opset < self.until)

    def computes_symbols(self, slot: int) -> bool:
        """Whether `value` computes on symbolic dims held in input `slot` (see symbolic_inputs)."""
        return self.symbolic_inputs == ALL_INPUTS or slot in self.symbolic_inputs


# --- attribute types of ops without an onnx schema -------------------------------------------------------

INT, INTS, FLOAT, FLOATS, STRING = (int(AttributeProto.INT), int(AttributeProto.INTS),
                                    int(AttributeProto.FLOAT), int(AttributeProto.FLOATS),
                                    int(AttributeProto.STRING))
STRINGS, GRAPH = int(AttributeProto.STRINGS), int(AttributeProto.GRAPH)
WINDOW_ATTRS = {"kernel_shape": INTS, "strides": INTS, "pads": INTS, "dilations": INTS, "auto_pad": STRING,
                "group": INT, "ceil_mode": INT, "channels_last": INT}
GEMM_ATTRS = {"transA": INT, "transB": INT, "alpha": FLOAT, "beta": FLOAT}
HEAD_ATTRS = {"num_heads": INT, "kv_num_heads": INT, "qkv_hidden_sizes": INTS, "unidirectional": INT,
              "do_rotary": INT, "scale": FLOAT}


# --- helpers the family modules share --------------------------------------------------------------------


def unify(dims: set[Any], conditions: list[object]) -> Any:
    """One dim for dims that must be equal: with symbols, the simplest, and the equalities as conditions."""
    ordered = sorted(dims, key=lambda d: (is_symbolic(d), d.count_ops() if is_symbolic(d) else 0, str(d)))
    conditions.extend(symbolic.Equal(d, ordered[0]) for d in ordered[1:])
    return ordered[0]


def broadcast(shapes: Sequence[Shape], conditions: list[object] | None = None) -> Shape:
    """Numpy-style multidirectional broadcasting, as ONNX defines it. Two different symbolic dims broadcast
    only if they are equal: the simpler one is taken and the equality is added to `conditions`; dims that are
    all expressions broadcast to their maximum."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1 and conditions is not None and any(is_symbolic(d) for d in dims):
            # A lone symbol is a dim of the model's own: it broadcasts only where equal. Expressions alone (a
            # Reshape's -1) may be 1, and for any valid broadcast the larger is exactly the result.
            lone = any(symbolic.is_model_dim(d) for d in dims)
            dims = {unify(dims, conditions) if lone else functools.reduce(symbolic.smax, dims)}
        if len(dims) > 1:
            raise ModelError(f"shapes {' and '.join(str(list(s)) for s in shapes)} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def bcast(node: NodeView, shapes: Sequence[Shape]) -> Shape:
    """broadcast() with the node named in the error, and its symbolic conditions recorded on the node."""
    try:
        return broadcast(shapes, node.conditions)
    except ModelError as exc:
        raise node.fail(str(exc)) from None


def same_shape(node: NodeView) -> list[Spec]:
    """One output of the first input's shape and type."""
    return [(node.input_shape(0), node.dtype(0))]


def no_work(node: NodeView) -> Cost:
    """No arithmetic: a copy, a view, or bookkeeping (its cost is the bytes it moves)."""
    return Cost(0, 0)


def per_output_element(flops: int, doc: str = "") -> CostFn:
    """A cost of `flops` FLOPs per element of output 0."""

    def cost(node: NodeView) -> Cost:
        return Cost(0, flops * node.out_elems())

    cost.__doc__ = doc or f"{flops} FLOP(s) per output element."
    return cost


def per_input_element(flops: int, doc: str = "") -> CostFn:
    """A cost of `flops` FLOPs per element of input 0."""

    def cost(node: NodeView) -> Cost:
        return Cost(0, flops * node.in_elems(0))

    cost.__doc__ = doc or f"{flops} FLOP(s) per input element."
    return cost
