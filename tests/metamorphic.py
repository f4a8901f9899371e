"""The metamorphic check of symbolic dims: make every input dim of a model a fresh symbol, analyse, and
evaluate each node's formulas at the original dims. A dim of 1 stays 1: whether a dim broadcasts is the
model's structure (a symbol is a size >= 1, and two symbols broadcast only where equal, a stated
condition). They must equal the concrete analysis node by node
(MACs, FLOPs, output shapes), and the symbolic analysis may raise nothing but a ModelError, and that only
where the concrete one does too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import onnx

import onnxcost
from onnxcost.base import symbolic


def symbolised(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """A copy whose graph inputs declare `shapes` with every dim a fresh dim_param."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in m.graph.input:
        if vi.name not in shapes or not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        tt.shape.ClearField("dim")
        for k, d in enumerate(shapes[vi.name]):
            if d == 1:
                tt.shape.dim.add().dim_value = 1
            else:
                tt.shape.dim.add().dim_param = f"m{re.sub(r'[^A-Za-z0-9]', '_', vi.name)}_{k}"
    return m


def _value(v: object, point: dict[str, int]) -> object:
    if isinstance(v, str):
        return symbolic.evaluate(symbolic.parse(v), point)
    return v


def check(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> list[str]:
    """What differs between the concrete and the symbolic analysis ([] when they agree). `shapes` binds the
    inputs whose declared shape is not fixed; the others keep their declared dims."""
    inits = {t.name for t in model.graph.initializer}
    declared = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim] for vi in model.graph.input
                if vi.name not in inits and vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape")
                and all(d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)}
    shapes = {**declared, **shapes}
    try:
        concrete = onnxcost.analyze(model, input_shapes={k: list(v) for k, v in shapes.items()})
    except onnxcost.OnnxcostError:
        concrete = None
    try:
        free = onnxcost.analyze(symbolised(model, shapes))
    except onnxcost.ModelError as exc:
        return [] if concrete is None else [f"symbolic analysis refused a valid model: {exc}"]
    if concrete is None:
        return []
    point = {name: int(shapes[info["input"]][info["axis"]])
             for name, info in (free.symbolic or {}).get("symbols", {}).items() if info["input"] in shapes}
    problems = []
    for a, b in zip(concrete.nodes, free.nodes, strict=True):
        for metric in ("macs", "flops"):
            want = getattr(a, metric)
            expr = getattr(b, f"{metric}_expr")
            got = symbolic.evaluate(symbolic.parse(expr), point) if expr else getattr(b, metric)
            if want is not None and got != want:
                problems.append(f"{a.name}: {metric} {got} (formula {expr}) != {want}")
        for k, (sa, sb) in enumerate(zip(a.output_shapes, b.output_shapes, strict=True)):
            if sa is not None and sb is not None and [_value(d, point) for d in sb] != sa:
                problems.append(f"{a.name}: output {k} shape {sb} != {sa}")
            elif sa is not None and sb is None and not a.folded:
                problems.append(f"{a.name}: output {k} shape unknown with symbols, {sa} when bound")
    return problems
