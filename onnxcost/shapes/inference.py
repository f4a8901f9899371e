"""Shapes stage: a concrete shape, dtype and (when small) value for every tensor, in one pass over the
topological order. Small integer values are propagated so run-time shape chains become concrete."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops
from ..base import dtypes, symbolic
from ..base.proto import GraphProto, NodeProto, TensorProto
from ..load.model import LoadedModel
from ..ops import DEFAULT, NodeView, Shape, UnknownShape
from . import attributes
from .bind import bind_inputs
from .tensors import VALUE_LIMIT, ShapeResult, TensorInfo, check_shape, plain_shape
from .view import node_view

if TYPE_CHECKING:
    from .subgraph import SubgraphAnalysis

#: an output's shape, element type and value: computed, or a tensor the node holds (decoded on first read)
Out = tuple[Shape | None, int, np.ndarray | TensorProto | None]

#: Domains whose ops onnxcost defines (an op outside them is from "an unknown domain").
KNOWN_DOMAINS = frozenset(d.domain for d in ops.all_defs())

def infer(
    loaded: LoadedModel, dims: Mapping[str, int] | None = None,
    input_shapes: Mapping[str, Shape] | None = None, input_values: Mapping[str, Sequence[float]] | None = None,
    known_values: Mapping[str, np.ndarray] | None = None,
) -> ShapeResult:
    """Propagate shapes, dtypes and small values through the graph in topological order. `known_values` are
    values of inputs already computed, symbols and all (a subgraph reading its outer graph's shape vectors)."""
    tensors, warnings, symbols = bind_inputs(loaded, dims or {}, input_shapes or {}, input_values)
    for name, known in (known_values or {}).items():
        if name in tensors:
            tensors[name] = replace(tensors[name], _value=known)
    ties: dict[Any, Any] = {}  # a symbol the graph ties to an expression of the others
    subgraphs: dict[int, dict[str, SubgraphAnalysis]] = {}
    nodes = loaded.graph.node
    attrs: list[dict[str, Any]] = [{} for _ in range(len(nodes))]  # not over `nodes`: each would be wrapped
    folded = [False] * len(nodes)
    declared = _declared(loaded.graph)
    for idx in loaded.order:
        node = nodes[idx]
        name = node.name or f"{node.op_type}_{idx}"
        domain = node.domain if node.domain not in ("", "ai.onnx") else "ai.onnx"
        opset = loaded.opsets.get(domain, 0)
        attrs[idx] = attributes.parse(node, name, domain, opset)
        ins = [tensors.get(n) if n else None for n in node.input]
        # Constant only if everything it reads is, outer-scope names its subgraphs read included (a node that
        # reads nothing, as Constant, is constant); random draws never are.
        reads = [tensors.get(n) for n in loaded.reads[idx]] if loaded.reads else ins
        foldable = domain == DEFAULT and not ops.traits(domain, node.op_type, opset or None).nondeterministic
        is_const = foldable and all(t is None or t.is_constant for t in reads)
        equalities: list[symbolic.Equal] = []
        inner: dict[str, SubgraphAnalysis] = {}
        outs = _infer_node(node, name, attrs[idx], ins, opset, domain, warnings, declared, loaded.opsets,
                           equalities, tensors, inner)
        if inner:
            subgraphs[idx] = inner
        for eq in equalities:
            found = symbolic.tie(eq, ties)
            if found is not None:
                ties = {k: symbolic.substitute(v, {found[0]: found[1]}) for k, v in ties.items()}
                ties[found[0]] = found[1]
        if ties:
            outs = [(_tied_shape(shape, ties), dtype, _tied_value(value, ties)) for shape, dtype, value in outs]
        from_shape = any(t is not None and t.from_shape for t in ins)
        if not is_const and foldable and outs and all(v is not None for _, _, v in outs):
            # Known values computed from static shapes (Shape, Size and what follows): runtimes fold them too.
            is_const = from_shape = True
        folded[idx] = is_const
        for k, out_name in enumerate(node.output):
            if not out_name:
                continue
            shape, dtype, value = outs[k] if k < len(outs) else (None, 0, None)
            if shape is not None and not plain_shape(shape):  # the message is made only for a shape to check
                check_shape(shape, f"node '{name}' ({node.op_type}): output '{out_name}'", "would have")
            info = TensorInfo(out_name, "constant" if is_const else "activation", dtype, shape, idx,
                              from_shape=from_shape and is_const)
            if isinstance(value, TensorProto):
                info.proto = value
            else:
                info._value = value
            tensors[out_name] = info
    if ties:  # tensors made before a tie was found (the mask input itself) take it too
        for t in tensors.values():
            t.shape, t._value = _tied_shape(t.shape, ties), _tied_value(t._value, ties)
        subgraphs = {idx: {k: _tied_analysis(a, ties) for k, a in found.items()} for idx, found in subgraphs.items()}
        for sym, expr in ties.items():
            symbols.pop(sym.name, None)
            warnings.append(f"dim {sym.name} is {expr} wherever the model is valid (they meet on one axis); "
                            f"formulas use {expr}")
    return ShapeResult(tensors, attrs, folded, warnings, symbols,
                       {sym.name: symbolic.text(expr) for sym, expr in ties.items()}, subgraphs)


def _inner_ties(analysis: SubgraphAnalysis) -> list[str]:
    """What a subgraph's shapes assume of the enclosing graph's dims: the dims it found equal (two that meet on
    one axis), in the enclosing graph's symbols. Ties of the stand-ins a probe put in (a Loop's state, its
    iteration number) are the probe's own and left out."""
    out = []
    for sym, expr in analysis.shaped.ties.items():
        if ":" in sym or ":" in expr:  # an iteration number
            continue
        a, b = (symbolic.text(analysis.sub.outer(symbolic.parse(x))) for x in (sym, expr))
        if symbolic.PLACEHOLDER not in a + b:
            out.append(f"{a} = {b}")
    return out


def _tied_analysis(analysis: SubgraphAnalysis, ties: dict[Any, Any]) -> SubgraphAnalysis:
    """A subgraph analysed before a tie was found: its outer formulas take the tie too."""
    placeholders = {k: symbolic.substitute(v, ties) for k, v in analysis.sub.placeholders.items()}
    return replace(analysis, sub=replace(analysis.sub, placeholders={**placeholders, **ties}))


def _tied_shape(shape: Shape | None, ties: dict[Any, Any]) -> Shape | None:
    return None if shape is None else tuple(symbolic.substitute(d, ties) for d in shape)


def _tied_value(value: Any, ties: dict[Any, Any]) -> Any:
    """A value with the tied symbols substituted (a held tensor or a value without symbols as it is)."""
    if not isinstance(value, np.ndarray) or value.dtype != object:
        return value
    out = np.empty(value.shape, dtype=object)
    out.reshape(-1)[:] = [symbolic.substitute(v, ties) for v in value.reshape(-1)]
    return out


def _infer_node(
    node: NodeProto, name: str, attrs: dict[str, Any], ins: list[TensorInfo | None], opset: int,
    domain: str, warnings: list[str], declared: dict[str, tuple[Shape | None, int]], opsets: dict[str, int],
    equalities: list[symbolic.Equal], outer: Mapping[str, TensorInfo], inner: dict[str, SubgraphAnalysis],
) -> list[Out]:
    op = node.op_type
    n_out = len(node.output)
    specs: list[tuple[Shape | None, int]] | None = None
    definition = ops.lookup(domain, op, opset)
    # The view's conditions, which a subgraph's analysis adds to: the closures hold this list, not the view, so
    # that view and closures form no reference cycle and each node's objects go when it is done (no GC work).
    conditions: list[object] = []

    def subgraph(body: GraphProto,
                 given: Sequence[tuple[Shape, int]] = ()) -> list[tuple[Shape | None, int]] | None:
        from .subgraph import analyse  # control flow only: most models never load it

        found = analyse(body, outer, opsets, given)
        if found is None:
            return None
        key = next((k for k, v in attrs.items() if v is body), None)
        if key is not None:
            inner[key] = found  # kept for the cost stage, which costs this analysis instead of redoing it
        conditions.extend(_inner_ties(found))
        return found.outputs

    def subgraph_value(key: str, tensor: str) -> np.ndarray | None:
        t = inner[key].shaped.tensors.get(tensor) if key in inner else None
        return None if t is None else t.value()

    view = node_view(name, op, domain, opset, attrs, list(node.input), outer, n_out, subgraph_of=subgraph,
                     subgraph_value=subgraph_value, conditions=conditions)
    if definition is not None and definition.shape is not None:
        try:
            specs = definition.shape(view)
        except UnknownShape:
            specs = None
        if conditions:
            warnings += [f"node '{name}' ({op}): valid only when {c}" for c in dict.fromkeys(conditions)]
            equalities += [c for c in conditions if isinstance(c, symbolic.Equal)]
    if definition is not None and definition.stored is not None and specs is not None and len(specs) == 1:
        held = definition.stored(view)
        if held is not None:  # kept as an initializer is: decoded when a rule first reads it
            return [(specs[0][0], specs[0][1], held)]
    values: list[np.ndarray] | None = None
    if definition is not None and definition.value is not None and _small(specs) and (
            definition.value_from_shapes or _values_known(ins)):
        values = _evaluate(definition, view)
    if specs is None and values is None:
        if definition is None or definition.onnx_inference:
            specs = _onnx_fallback(node, ins, opsets)
        if specs is None or all(s[0] is None for s in specs):
            known = [declared.get(o) for o in node.output]
            if any(k is not None and k[0] is not None for k in known):
                specs = [(k[0], k[1]) if k else (None, 0) for k in known]
            else:
                given = specs or [(None, 0)] * len(known)  # element types unknown: those the file declares
                specs = [(None, dtype or (k[1] if k else 0)) for (_, dtype), k in zip(given, known, strict=False)]
                if definition is not None:
                    what = "output shape not inferable from its inputs' shapes"
                elif domain not in KNOWN_DOMAINS:
                    what = f"op from an unknown domain '{domain}'"
                else:
                    what = "op onnxcost has no definition for"
                warnings.append(f"node '{name}' ({op}): {what}; its output shapes are unknown")
    out: list[Out] = []
    for k in range(n_out):
        shape, dtype = specs[k] if specs is not None and k < len(specs) else (None, 0)
        value = values[k] if values is not None and k < len(values) else None
        if value is not None:
            shape = tuple(int(d) for d in value.shape)
            dtype = dtype or dtypes.from_numpy(value.dtype)
        out.append((shape, dtype, value))
    return out


def _evaluate(definition: ops.OpDef, view: NodeView) -> list[np.ndarray] | None:
    """The op's value function on known small inputs; None when a value it needs is unknown, or too large,
    or holds a symbolic dim in a slot the op does not compute symbols in (it would cast the symbol)."""
    for i in [] if definition.value_from_shapes else view.inputs():  # Shape and Size read no input value
        if not definition.computes_symbols(i):
            v = view.value(i)
            if v is not None and v.dtype == object and symbolic.any_symbolic(v):
                return None
    try:
        with np.errstate(all="ignore"):
            values = [np.asarray(v) for v in definition.value(view)]  # type: ignore[misc]
    except UnknownShape:
        return None
    except (ValueError, IndexError, ZeroDivisionError, OverflowError) as exc:
        # numpy rejects values the graph holds (an index out of range): the model is wrong at this node.
        raise view.fail(f"cannot evaluate on its constant inputs: {_first_line(exc)}") from None
    return None if any(v.size > VALUE_LIMIT for v in values) else values


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__



def _values_known(ins: list[TensorInfo | None]) -> bool:
    """Every present input has, or can cheaply decode, a small value (checked without decoding)."""
    for t in ins:
        if t is None:
            continue
        if t._value is not None:
            continue
        if t.proto is None or t.elements is None or t.elements > VALUE_LIMIT:
            return False
        if t.proto.data_location == TensorProto.EXTERNAL:
            return False
    return True


def _small(specs: list[tuple[Shape | None, int]] | None) -> bool:
    """Every output's size is known, concrete and small enough to compute."""
    if specs is None:
        return True
    return all(s is not None and not any(symbolic.is_symbolic(d) for d in s) and math.prod(s) <= VALUE_LIMIT
               for s, _ in specs)


def _declared(graph: GraphProto) -> dict[str, tuple[Shape | None, int]]:
    """The element types the file itself declares (value_info, outputs), with the shape where it is fully
    static: a last resort for unknown ops."""
    out: dict[str, tuple[Shape | None, int]] = {}
    for vi in list(graph.value_info) + list(graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            out[vi.name] = (tuple(int(d.dim_value) for d in tt.shape.dim), tt.elem_type)
        elif tt.elem_type:  # a shape declared elsewhere (value_info and an output both name it) stays
            out.setdefault(vi.name, (None, tt.elem_type))
    return out


def _onnx_fallback(
    node: NodeProto, ins: list[TensorInfo | None], opsets: dict[str, int]
) -> list[tuple[Shape | None, int]] | None:
    """ONNX's own inference on a one-node model, for ops without a rule here. Symbolic dims go in as named
    dim_params and come back as the same expressions."""
    import onnx.shape_inference
    from onnx import helper, numpy_helper

    inputs, inits = [], []
    params: dict[str, Any] = {}  # dim_param -> the symbolic dim it stands for

    def dims(shape: Shape | None) -> list[Any] | None:
        if shape is None:
            return None
        out: list[Any] = []
        for d in shape:
            if symbolic.is_symbolic(d):
                key = next((k for k, v in params.items() if v == d), f"__onnxcost_{len(params)}")
                params[key] = d
                out.append(key)
            else:
                out.append(int(d))
        return out

    for name, t in zip(node.input, ins, strict=False):
        if not name or t is None:
            continue
        if t.dtype == 0:
            return None
        v = t.value()
        if v is not None and t.dtype != TensorProto.STRING and not symbolic.any_symbolic(v):
            with contextlib.suppress(TypeError, ValueError):
                inits.append(numpy_helper.from_array(np.asarray(v), name))
        inputs.append(helper.make_tensor_value_info(name, t.dtype, dims(t.shape)))
    outputs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
    graph = helper.make_graph([node], "one_node", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("" if d == "ai.onnx" else d, v) for d, v in opsets.items()])
    try:
        # no data propagation: it allocates what hostile declared dims ask for, and the values it would use
        # are already passed as initializers
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=False)
    except Exception:  # noqa: BLE001 - ONNX raises many types; an op it cannot infer stays unknown
        return None
    found: dict[str, tuple[Shape | None, int]] = {}
    for vi in list(inferred.graph.output) + list(inferred.graph.value_info):
        tt = vi.type.tensor_type
        shape: Shape | None = None
        if tt.HasField("shape") and all(d.HasField("dim_value") or d.dim_param in params for d in tt.shape.dim):
            shape = tuple(int(d.dim_value) if d.HasField("dim_value") else params[d.dim_param]
                          for d in tt.shape.dim)
        found[vi.name] = (shape, tt.elem_type)
    return [found.get(o, (None, 0)) for o in node.output]
