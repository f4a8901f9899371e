"""Run a model in onnxruntime with every intermediate tensor exposed, to compare our shapes with its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

import onnxcost
from onnxcost.base import dtypes


def with_weights(src: Path, weights_bytes: int, tmp: Path) -> Path:
    """Copy a graph-only export next to a zero-filled weights file of the right size (its README's recipe)."""
    dst = tmp / src.name
    shutil.copy(src, dst)
    with open(tmp / (src.stem + ".weights"), "wb") as f:
        f.truncate(weights_bytes)
    return dst


def ort_shapes(model: onnx.ModelProto, model_dir: Path | None, report: onnxcost.Report,
               feeds_shapes: dict[str, list[int]] | None = None) -> dict[str, tuple[int, ...]]:
    """Shapes onnxruntime produces for every node output of `model` (dtypes from our own report)."""
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output}
    by_name = {n.name: n for n in report.nodes}
    for n in by_name.values():
        if n.folded:
            continue
        for out, dt in zip(n.outputs, n.output_dtypes, strict=True):
            if out and out not in existing and dt != "unknown":
                t = report.graph.tensors[out] if report.graph else None
                m.graph.output.append(helper.make_tensor_value_info(out, t.dtype if t else 1, None))
                existing.add(out)
    path = None
    if model_dir is not None:
        path = model_dir / "_exposed.onnx"
        onnx.save_model(m, str(path))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(path) if path else m.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for spec in report.inputs:
        bound: list[int] | list[int | str] | None = (feeds_shapes or {}).get(spec.name, spec.shape)
        assert bound is not None, f"{spec.name} has no shape to feed"
        shape = [int(d) for d in bound]
        t = report.graph.tensors[spec.name] if report.graph else None
        np_type = np.dtype(dtypes.to_numpy(t.dtype) if t else np.float32)
        feeds[spec.name] = (np.asarray(rng.standard_normal(shape)).astype(np_type) if np_type.kind == "f"
                            else np.ones(shape, dtype=np_type))
    names = [o.name for o in sess.get_outputs()]
    results = sess.run(names, feeds)
    return {n: tuple(np.asarray(r).shape) for n, r in zip(names, results, strict=True)}


def mismatches(report: onnxcost.Report, actual: dict[str, tuple[int, ...]]) -> list[str]:
    out = []
    assert report.graph is not None
    for name, shape in actual.items():
        ours = report.graph.tensors[name].shape
        if ours != shape:
            out.append(f"{name}: ours {ours} onnxruntime {shape}")
    return out
