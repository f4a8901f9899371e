"""Binding a graph's inputs: declared, given or anonymous dims become ints or named symbols, given values
become constants, and initializers keep their declared shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from ..base.errors import ConfigError
from ..base.symbolic import SymbolInfo
from ..load.model import LoadedModel
from ..ops import Shape
from .tensors import TensorInfo, check_shape


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
        sparse = vi.type.sparse_tensor_type
        if vi.type.HasField("sparse_tensor_type") and sparse.HasField("shape") and all(
                d.HasField("dim_value") and d.dim_value > 0 for d in sparse.shape.dim):
            dense = check_shape(tuple(int(d.dim_value) for d in sparse.shape.dim), f"sparse input '{vi.name}'")
            warnings.append(f"graph input '{vi.name}' is a sparse tensor: its dense shape {list(dense)} stands in "
                            "for it, so its bytes are an upper bound")
            tensors[vi.name] = TensorInfo(vi.name, "input", sparse.elem_type, dense)
            continue
        if not vi.type.HasField("tensor_type") and vi.name not in input_shapes:
            kind = vi.type.WhichOneof("value") or "untyped"
            warnings.append(f"graph input '{vi.name}' is a {kind.replace('_type', '')}, not a tensor; "
                            "its size and the costs that depend on it are unknown")
            # a map's element type is its values' (DictVectorizer's output type)
            value_type = vi.type.map_type.value_type.tensor_type.elem_type if kind == "map_type" else 0
            tensors[vi.name] = TensorInfo(vi.name, "input", dtype=value_type)
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
