"""Shapes stage: a concrete shape, dtype and (when small) value for every tensor, in one pass over the
topological order. Small integer values are propagated so run-time shape chains become concrete."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .. import ops
from ..base import dtypes, symbolic
from ..base.errors import ConfigError, ModelError, OnnxcostError
from ..base.symbolic import SymbolInfo
from ..load.model import SMALL_TENSOR_ELEMENTS, LoadedModel, node_inputs
from ..ops import DEFAULT, NodeView, Shape, UnknownShape
from . import attributes

#: Largest tensor (in elements) whose value is computed or decoded; larger ones keep only their shape.
VALUE_LIMIT = SMALL_TENSOR_ELEMENTS
#: Domains whose ops onnxcost defines (an op outside them is from "an unknown domain").
KNOWN_DOMAINS = frozenset(d.domain for d in ops.all_defs())


@dataclass
class TensorInfo:
    """One tensor: where it comes from, its shape and type, and whether it is fixed at load time."""

    name: str
    kind: str  # "input", "initializer", "constant" (Constant node or folded), "activation"
    dtype: int = 0
    shape: Shape | None = None
    producer: int | None = None  # index of the producing node in the model's node list
    from_shape: bool = False  # a constant computed from activation shapes (Shape -> ...), not a weight
    proto: onnx.TensorProto | None = field(default=None, repr=False)
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
        """The tensor's value when known and small; embedded initializers are decoded on first use."""
        if self._value is None and self.proto is not None:
            n = self.elements
            if n is not None and n <= VALUE_LIMIT and self.proto.data_location != onnx.TensorProto.EXTERNAL:
                self._value = dtypes.decode(self.proto, f"initializer '{self.name}'", self.shape or ())
            self.proto = None if self._value is not None else self.proto
        return self._value


@dataclass
class ShapeResult:
    tensors: dict[str, TensorInfo]
    attrs: list[dict[str, Any]]  # parsed attributes per node (model order)
    folded: list[bool]  # node computes only from constants (runtimes fold it at load time)
    warnings: list[str]
    symbols: dict[str, SymbolInfo] = field(default_factory=dict)  # unbound dims, by symbol name
    #: unbound dims the graph ties to the others (an attention mask's total = past + seq): symbol -> formula
    ties: dict[str, str] = field(default_factory=dict)


#: More elements than any tensor can have (256 Ti): a dim or a size beyond it is a hostile or broken file.
MAX_ELEMENTS = 1 << 48


def check_shape(shape: Shape, what: str, verb: str = "has") -> Shape:
    """`shape` when it is one a tensor can have: no negative dim, fewer than MAX_ELEMENTS elements (checked
    on the concrete dims; a symbolic dim is a positive integer by construction)."""
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


def _valued_input(name: str, elem_type: int, rank: int | None, values: Sequence[float]) -> TensorInfo:
    """A graph input whose value the user gave (a sample rate, a length, a flag): a constant that folds, as
    its value would at run time."""
    if rank not in (None, 0, 1) or (rank == 0 and len(values) != 1):
        raise ConfigError(f"input_values['{name}']: the input has rank {rank}; give one value for a scalar, "
                          "several for a 1-D input")
    array = np.array(values if rank != 0 else values[0], dtype=dtypes.to_numpy(elem_type))
    info = TensorInfo(name, "constant", elem_type, tuple(int(d) for d in array.shape))
    info._value = array
    return info


def _is_dim_name(name: str) -> bool:
    """A dim_param that names a dim shared by the axes that carry it. Exporters write '?', '-1', 'None',
    'unk__7' or 'p2o.DynamicDimension.0' for "unknown": those are anonymous, one symbol per (input, axis)."""
    return bool(name) and name.isidentifier() and name != "None" and not name.startswith("unk__")


def _symbol_name(label: str, taken: set[str]) -> str:
    """A dim's label as a symbol name sympy parses back: letters, digits and _, not starting with a digit."""
    name = re.sub(r"\W", "_", label) or "dim"
    if not name[0].isalpha():
        name = f"d_{name}"
    while name in taken:
        name += "_"
    return name


def bind_inputs(
    loaded: LoadedModel, dims: Mapping[str, int], input_shapes: Mapping[str, Shape],
    input_values: Mapping[str, Sequence[float]] | None = None,
) -> tuple[dict[str, TensorInfo], list[str], dict[str, SymbolInfo]]:
    """Graph inputs with their dims bound by input_shapes or dims; a dim left unbound is a symbol, named after
    the file's dim name or <input>_<axis>."""
    g = loaded.graph
    init_names = {t.name for t in g.initializer}
    tensors: dict[str, TensorInfo] = {}
    warnings: list[str] = []
    known_inputs = {i.name for i in g.input if i.name not in init_names}
    for flag, given in (("input_shapes", input_shapes), ("input_values", input_values or {})):
        for name in given:
            if name not in known_inputs:
                raise ConfigError(f"{flag}['{name}'] is not a graph input "
                                  f"(inputs: {', '.join(sorted(known_inputs)) or 'none'})")
    used_dims: set[str] = set()
    symbols: dict[str, SymbolInfo] = {}
    names: dict[str, str] = {}  # dim label (its name in the file, or <input>_<axis>) -> symbol name
    for vi in g.input:
        if vi.name in init_names:
            continue
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") and vi.name not in input_shapes:
            kind = vi.type.WhichOneof("value") or "untyped"
            warnings.append(f"graph input '{vi.name}' is a {kind.replace('_type', '')}, not a tensor; "
                            "its size and the costs that depend on it are unknown")
            tensors[vi.name] = TensorInfo(vi.name, "input")
            continue
        declared_rank = len(tt.shape.dim) if tt.HasField("shape") else None
        if vi.name in input_shapes:
            shape: Shape = tuple(int(d) for d in input_shapes[vi.name])
            if declared_rank is not None and len(shape) != declared_rank:
                raise ConfigError(f"input_shapes['{vi.name}'] has rank {len(shape)}; input '{vi.name}' has rank "
                                  f"{declared_rank}")
        elif tt.HasField("shape"):
            out: list[Any] = []
            for k, d in enumerate(tt.shape.dim):
                named = d.dim_param if _is_dim_name(d.dim_param) else None
                label = named or f"{vi.name}_{k}"
                if label not in names:
                    names[label] = _symbol_name(label, set(names.values()))
                # a dim is bound by the symbol's name, and the file's own spelling of the dim ('?' excepted)
                key = next((k for k in (names[label], label, d.dim_param) if k and k in dims), None)
                if d.HasField("dim_value") and d.dim_value > 0:
                    out.append(int(d.dim_value))
                elif key is not None:
                    used_dims.add(key)
                    out.append(int(dims[key]))
                else:
                    symbols.setdefault(names[label], SymbolInfo(d.dim_param or None, vi.name, k))
                    out.append(symbolic.symbol(names[label]))
            shape = tuple(out)
        else:
            warnings.append(f"graph input '{vi.name}' declares no shape; costs that depend on it are "
                            f"unknown (give one with input_shapes={{'{vi.name}': [1, 3, 224, 224]}})")
            tensors[vi.name] = TensorInfo(vi.name, "input", tt.elem_type)
            continue
        check_shape(shape, f"graph input '{vi.name}'")
        if input_values and vi.name in input_values:
            tensors[vi.name] = _valued_input(vi.name, tt.elem_type, declared_rank, input_values[vi.name])
            continue
        tensors[vi.name] = TensorInfo(vi.name, "input", tt.elem_type, shape)
    unknown = sorted(set(dims) - used_dims)
    if unknown and symbols:  # a dim left unbound beside a name that matches nothing: most likely a typo
        raise ConfigError(f"dims['{unknown[0]}']: the model has no dim of that name; its unbound dims: "
                          f"{', '.join(symbols)}" + (f" (bound: {', '.join(sorted(used_dims))})" if used_dims else ""))
    warnings += [f"dims['{name}'] matches no dim of this model's inputs" for name in unknown]
    if symbols:
        warnings.append(f"dim(s) {', '.join(symbols)} left unbound: shapes and costs that depend on them are "
                        f"formulas (bind them with dims={{'{next(iter(symbols))}': N}})")
    for t in g.initializer:
        declared = check_shape(tuple(int(d) for d in t.dims), f"initializer '{t.name}'")
        tensors[t.name] = TensorInfo(t.name, "initializer", t.data_type, declared, proto=t)
    for st in g.sparse_initializer:
        declared = check_shape(tuple(int(d) for d in st.dims), f"sparse initializer '{st.values.name}'")
        tensors[st.values.name] = TensorInfo(st.values.name, "initializer", st.values.data_type, declared)
    return tensors, warnings, symbols


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
    nodes = loaded.graph.node
    attrs: list[dict[str, Any]] = [{} for _ in nodes]
    folded = [False] * len(nodes)
    declared = _declared_shapes(loaded.graph)
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
        foldable = domain == DEFAULT and not ops.traits(domain, node.op_type).nondeterministic
        is_const = foldable and all(t is None or t.is_constant for t in reads)
        equalities: list[symbolic.Equal] = []
        outs = _infer_node(node, name, attrs[idx], ins, opset, domain, warnings, declared, loaded.opsets,
                           equalities, tensors)
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
            if shape is not None:
                check_shape(shape, f"node '{name}' ({node.op_type}): output '{out_name}'", "would have")
            info = TensorInfo(out_name, "constant" if is_const else "activation", dtype, shape, idx,
                              from_shape=from_shape and is_const)
            info._value = value
            tensors[out_name] = info
    if ties:  # tensors made before a tie was found (the mask input itself) take it too
        for t in tensors.values():
            t.shape, t._value = _tied_shape(t.shape, ties), _tied_value(t._value, ties)
        for sym, expr in ties.items():
            symbols.pop(sym.name, None)
            warnings.append(f"dim {sym.name} is {expr} wherever the model is valid (they meet on one axis); "
                            f"formulas use {expr}")
    return ShapeResult(tensors, attrs, folded, warnings, symbols,
                       {sym.name: symbolic.text(expr) for sym, expr in ties.items()})


def _tied_shape(shape: Shape | None, ties: dict[Any, Any]) -> Shape | None:
    return None if shape is None else tuple(symbolic.substitute(d, ties) for d in shape)


def _tied_value(value: np.ndarray | None, ties: dict[Any, Any]) -> np.ndarray | None:
    if value is None or value.dtype != object:
        return value
    out = np.empty(value.shape, dtype=object)
    out.reshape(-1)[:] = [symbolic.substitute(v, ties) for v in value.reshape(-1)]
    return out


@dataclass(frozen=True)
class Subgraph:
    """A subgraph as a model of its own, and the outer expressions its placeholder dims stand for."""

    model: onnx.ModelProto
    placeholders: dict[Any, Any]  # symbol of the inner analysis -> the outer dim expression
    values: dict[str, np.ndarray] = field(default_factory=dict)  # outer values holding symbols, in inner symbols

    def infer(self) -> ShapeResult:
        """The inner analysis, with the outer values that hold symbols (a shape vector) known inside too."""
        from ..load import model as load  # the module, for load.load (this one imports names from it)

        return infer(load.load(self.model), known_values=self.values)

    def outer(self, x: Any) -> Any:
        """An inner dim, count or formula in the enclosing graph's symbols."""
        return symbolic.substitute(x, self.placeholders)


def subgraph_model(body: onnx.GraphProto, given: Mapping[str, TensorInfo], outer: Mapping[str, TensorInfo],
                   opsets: Mapping[str, int]) -> Subgraph | None:
    """A subgraph (an If branch, a Loop body) as a model of its own: its inputs from `given`, and the names it
    reads from the enclosing graph as inputs of their known shapes (small known values as initializers).
    A lone symbol goes in as a dim_param of its name (the inner analysis makes the same symbol); a compound
    expression (floor(h/2) + 1) as a placeholder dim that `Subgraph.outer` turns back into it. None when an
    input has no shape."""
    defined = {i.name for i in body.input} | {i.name for i in body.initializer}
    inputs: list[onnx.ValueInfoProto] = []
    inits: list[onnx.TensorProto] = []
    placeholders: dict[Any, Any] = {}
    names: dict[Any, str] = {}
    values: dict[str, np.ndarray] = {}

    def dim(d: Any) -> int | str:
        if not symbolic.is_symbolic(d):
            return int(d)
        if getattr(d, "is_Symbol", False):
            return str(d)
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
        inputs.append(helper.make_tensor_value_info(vi.name, t.dtype, dims(t.shape)))
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
                inits.append(numpy_helper.from_array(v, name))
            elif v is None and t.is_constant and not symbolic.any_symbolic(t.shape):
                inits.append(onnx.TensorProto(name=name, data_type=t.dtype, dims=list(t.shape)))
            else:
                inputs.append(helper.make_tensor_value_info(name, t.dtype, dims(t.shape)))
                if v is not None:
                    values[name] = inner_value(v)
        defined.update(inner.output)
    graph = helper.make_graph(list(body.node), "subgraph", inputs, list(body.output),
                              initializer=list(body.initializer) + inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("" if d == DEFAULT else d, v)
                                                    for d, v in opsets.items()])
    return Subgraph(model, placeholders, values)


def subgraph_outputs(body: onnx.GraphProto, outer: Mapping[str, TensorInfo], opsets: Mapping[str, int],
                     given: Sequence[tuple[Shape, int]] = ()) -> list[tuple[Shape | None, int]] | None:
    """The (shape, dtype) of each output of a subgraph, from the shapes of the enclosing graph's tensors it
    reads and of its own inputs (`given`, in order: a Scan body's state and slices; none for an If branch);
    None when it cannot be analysed."""
    inputs = {vi.name: TensorInfo(vi.name, "input", dtype, tuple(shape))
              for vi, (shape, dtype) in zip(body.input, given, strict=False)}
    sub = subgraph_model(body, inputs, outer, opsets)
    if sub is None:
        return None
    try:
        inner = sub.infer()
    except OnnxcostError:
        return None
    out = [inner.tensors.get(o.name) for o in body.output]
    return [(None, 0) if t is None or t.shape is None else (tuple(sub.outer(d) for d in t.shape), t.dtype)
            for t in out]


Out = tuple[Shape | None, int, np.ndarray | None]


def node_view(name: str, node: onnx.NodeProto, domain: str, opset: int, attrs: dict[str, Any],
              ins: list[TensorInfo | None], outer: Mapping[str, TensorInfo] | None = None,
              opsets: Mapping[str, int] | None = None) -> NodeView:
    """The read-only view the op's rules see (no output shapes yet); with the enclosing graph's tensors,
    control flow can ask for a subgraph's output shapes."""
    def subgraph(body: onnx.GraphProto,
                 given: Sequence[tuple[Shape, int]] = ()) -> list[tuple[Shape | None, int]] | None:
        return None if outer is None or opsets is None else subgraph_outputs(body, outer, opsets, given)

    return NodeView(
        name=name, op_type=node.op_type, domain=domain, opset=opset, attrs=attrs,
        input_shapes=tuple(t.shape if t is not None else None for t in ins),
        input_types=tuple(t.dtype if t is not None else 0 for t in ins),
        present=tuple(t is not None for t in ins), n_out=len(node.output),
        value_of=lambda i: ins[i].value() if ins[i] is not None else None,  # type: ignore[union-attr]
        subgraph_of=subgraph,
    )


def _infer_node(
    node: onnx.NodeProto, name: str, attrs: dict[str, Any], ins: list[TensorInfo | None], opset: int,
    domain: str, warnings: list[str], declared: dict[str, tuple[Shape, int]], opsets: dict[str, int],
    equalities: list[symbolic.Equal], outer: Mapping[str, TensorInfo],
) -> list[Out]:
    op = node.op_type
    n_out = len(node.output)
    specs: list[tuple[Shape | None, int]] | None = None
    definition = ops.lookup(domain, op, opset)
    view = node_view(name, node, domain, opset, attrs, ins, outer, opsets)
    if definition is not None and definition.shape is not None:
        try:
            specs = definition.shape(view)
        except UnknownShape:
            specs = None
        warnings += [f"node '{name}' ({op}): valid only when {c}" for c in dict.fromkeys(view.conditions)]
        equalities += [c for c in view.conditions if isinstance(c, symbolic.Equal)]
    values: list[np.ndarray] | None = None
    if definition is not None and definition.value is not None and _small(specs) and (
            definition.value_from_shapes or _values_known(ins)):
        values = _evaluate(definition, view)
    if specs is None and values is None:
        specs = _onnx_fallback(node, ins, opsets)
        if specs is None or all(s[0] is None for s in specs):
            known = [declared.get(o) for o in node.output]
            if any(k is not None for k in known):
                specs = [(k[0], k[1]) if k else (None, 0) for k in known]
            else:
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
        if t.proto.data_location == onnx.TensorProto.EXTERNAL:
            return False
    return True


def _small(specs: list[tuple[Shape | None, int]] | None) -> bool:
    """Every output's size is known, concrete and small enough to compute."""
    if specs is None:
        return True
    return all(s is not None and not any(symbolic.is_symbolic(d) for d in s) and math.prod(s) <= VALUE_LIMIT
               for s, _ in specs)


def _declared_shapes(graph: onnx.GraphProto) -> dict[str, tuple[Shape, int]]:
    """Fully static shapes the file itself declares (value_info, outputs): a last resort for unknown ops."""
    out: dict[str, tuple[Shape, int]] = {}
    for vi in list(graph.value_info) + list(graph.output):
        tt = vi.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            out[vi.name] = (tuple(int(d.dim_value) for d in tt.shape.dim), tt.elem_type)
    return out


def _onnx_fallback(
    node: onnx.NodeProto, ins: list[TensorInfo | None], opsets: dict[str, int]
) -> list[tuple[Shape | None, int]] | None:
    """ONNX's own inference on a one-node model, for ops without a rule here. Symbolic dims go in as named
    dim_params and come back as the same expressions."""
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
        if v is not None and t.dtype != onnx.TensorProto.STRING and not symbolic.any_symbolic(v):
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
