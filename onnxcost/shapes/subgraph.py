"""A subgraph (an If branch, a Loop or Scan body) analysed as a model of its own, from the shapes and
values of the enclosing graph it reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from ..base.errors import OnnxcostError
from ..base.proto import IR_VERSION, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, ValueInfoProto
from ..load.model import LoadedModel, node_inputs
from ..ops import DEFAULT, Shape
from .tensors import ShapeResult, TensorInfo


@dataclass(frozen=True)
class Subgraph:
    """A subgraph as a model of its own, and the outer expressions its placeholder dims stand for."""

    model: ModelProto
    placeholders: dict[Any, Any]  # symbol of the inner analysis -> the outer dim expression
    values: dict[str, np.ndarray] = field(default_factory=dict)  # outer values holding symbols, in inner symbols
    #: inputs with a dim of 0 (an empty sequence), bound as such: a declared 0 in a graph input means "unknown"
    empty: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def infer(self, loaded: LoadedModel) -> ShapeResult:
        """The inner analysis of the loaded `model`, with the outer values that hold symbols (a shape vector)
        known inside too."""
        from .inference import infer  # the stage itself: a subgraph is analysed as a model

        return infer(loaded, input_shapes=self.empty, known_values=self.values)

    def outer(self, x: Any) -> Any:
        """An inner dim, count or formula in the enclosing graph's symbols."""
        return symbolic.substitute(x, self.placeholders)


def subgraph_model(body: GraphProto, given: Mapping[str, TensorInfo], outer: Mapping[str, TensorInfo],
                   opsets: Mapping[str, int]) -> Subgraph | None:
    """A subgraph (an If branch, a Loop body) as a model of its own: its inputs from `given`, and the names it
    reads from the enclosing graph as inputs of their known shapes (small known values as initializers).
    A lone symbol goes in as a dim_param of its name (the inner analysis makes the same symbol); a compound
    expression (floor(h/2) + 1) as a placeholder dim that `Subgraph.outer` turns back into it. None when an
    input has no shape."""
    defined = {i.name for i in body.input} | {i.name for i in body.initializer}
    inputs: list[ValueInfoProto] = []
    inits: list[TensorProto] = []
    placeholders: dict[Any, Any] = {}
    names: dict[Any, str] = {}
    values: dict[str, np.ndarray] = {}
    empty: dict[str, tuple[int, ...]] = {}

    def dim(d: Any) -> int | str:
        if not symbolic.is_symbolic(d):
            return int(d)
        if getattr(d, "is_Symbol", False) and str(d).isidentifier() and d.is_positive:
            return str(d)  # a dim of the model's own: the inner analysis makes the same symbol
        if d not in names:
            names[d] = symbolic.placeholder(len(names))
            placeholders[symbolic.symbol(names[d])] = d
        return names[d]

    def dims(shape: tuple[Any, ...]) -> list[Any]:
        return [dim(d) for d in shape]

    def inner_value(v: np.ndarray) -> np.ndarray:
        out = np.empty(v.shape, dtype=object)
        for k, d in np.ndenumerate(v):
            x = dim(d) if symbolic.is_symbolic(d) else d
            out[k] = symbolic.symbol(x) if isinstance(x, str) else x
        return out

    for vi in body.input:
        t = given.get(vi.name)
        if t is None or t.shape is None or t.dtype == 0:
            return None
        inputs.append(_value_info(vi.name, t.dtype, dims(t.shape)))
        if 0 in t.shape and not symbolic.any_symbolic(t.shape):
            empty[vi.name] = tuple(int(d) for d in t.shape)
    for inner in body.node:
        for name in node_inputs(inner):
            if not name or name in defined:
                continue
            defined.add(name)
            t = outer.get(name)
            if t is None or t.shape is None or t.dtype == 0:
                return None
            v = t.value()
            if v is not None and not symbolic.any_symbolic(v):
                inits.append(dtypes.from_array(v, name))
            elif v is None and t.is_constant and not symbolic.any_symbolic(t.shape):
                inits.append(TensorProto(name=name, data_type=t.dtype, dims=list(t.shape)))
            else:
                inputs.append(_value_info(name, t.dtype, dims(t.shape)))
                if v is not None:
                    values[name] = inner_value(v)
        defined.update(inner.output)
    graph = GraphProto(node=body.node, name="subgraph", input=inputs, output=body.output,
                       initializer=[*body.initializer, *inits])
    model = ModelProto(ir_version=IR_VERSION, graph=graph, opset_import=[
        OperatorSetIdProto(domain="" if d == DEFAULT else d, version=v) for d, v in opsets.items()])
    return Subgraph(model, placeholders, values, empty)


def _value_info(name: str, elem_type: int, shape: Sequence[int | str]) -> ValueInfoProto:
    """A tensor's declaration, as onnx.helper.make_tensor_value_info writes it (a str dim is a dim_param)."""
    info = ValueInfoProto(name=name)
    tensor = info.type.tensor_type
    tensor.elem_type = elem_type
    tensor.shape.SetInParent()
    for d in shape:
        if isinstance(d, str):
            tensor.shape.dim.add().dim_param = d
        else:
            tensor.shape.dim.add().dim_value = d
    return info


@dataclass(frozen=True)
class SubgraphAnalysis:
    """A subgraph analysed by the shapes stage: the model it became, its shapes, and its outputs' (shape,
    dtype) in the enclosing graph's symbols. The graph stage builds it; the cost stage costs that graph."""

    sub: Subgraph
    loaded: LoadedModel
    shaped: ShapeResult
    outputs: list[tuple[Shape | None, int]]


def analyse(body: GraphProto, outer: Mapping[str, TensorInfo], opsets: Mapping[str, int],
            given: Sequence[tuple[Shape, int]] = ()) -> SubgraphAnalysis | None:
    """A subgraph analysed from the shapes of the enclosing graph's tensors it reads and of its own inputs
    (`given`, in order: a Loop or Scan body's counters, state and slices; none for an If branch); None when it
    cannot be analysed."""
    from ..load import model as load

    inputs = {vi.name: TensorInfo(vi.name, "input", dtype, tuple(shape))
              for vi, (shape, dtype) in zip(body.input, given, strict=False)}
    sub = subgraph_model(body, inputs, outer, opsets)
    if sub is None:
        return None
    try:
        loaded = load.load(sub.model)
        inner = sub.infer(loaded)
    except OnnxcostError:
        return None
    out = [inner.tensors.get(o.name) for o in body.output]
    return SubgraphAnalysis(sub, loaded, inner, [
        (None, 0) if t is None or t.shape is None else (tuple(sub.outer(d) for d in t.shape), t.dtype) for t in out])
