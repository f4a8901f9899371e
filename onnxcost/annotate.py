"""`onnxcost annotate`: a copy of the model whose nodes carry their costs where Netron shows them (each node's
metadata_props and doc_string), and the totals in the model's metadata_props. The graph is otherwise
unchanged, weights are carried over byte for byte (an external weights file is copied beside the output),
and the input file is never modified."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import onnx
from onnx import helper

from .base import symbolic
from .base.errors import ConfigError, ModelError
from .load.model import inside_folder
from .pipeline import analyze
from .report.schema import Report

PREFIX = "onnxcost."


def annotate(model: str | os.PathLike[str], output: str | os.PathLike[str], **kwargs: Any) -> Report:
    """Write `output`: `model` with per-node and total costs as metadata; kwargs go to `analyze`.

    Returns
    -------
    The report the annotations come from."""
    src, dst = Path(model), Path(output)
    if dst.resolve() == src.resolve():
        raise ConfigError(f"{dst}: annotate never overwrites its input; write to another path")
    rep = analyze(src, **kwargs)
    proto = onnx.load_model(str(src), load_external_data=False)
    assert rep.graph is not None
    for info, node in zip(rep.graph.nodes, rep.nodes, strict=True):
        target = proto.graph.node[info.index]
        fields = {"macs": node.macs if node.macs is not None else node.macs_expr,
                  "flops": node.flops if node.flops is not None else node.flops_expr,
                  "params": node.params, "output_bytes": node.output_bytes, "latency_us": node.latency_us,
                  "bound": node.bound}
        _set(target.metadata_props, {k: v for k, v in fields.items() if v is not None})
        target.doc_string = (target.doc_string + "\n" if target.doc_string else "") + "onnxcost: " + ", ".join(
            f"{k} {v}" for k, v in fields.items() if v is not None)
    totals = {k: v for k, v in vars(rep.totals).items() if v is not None and not isinstance(v, bool)}
    if rep.symbolic:
        totals.update({k: v for k, v in rep.symbolic["totals"].items() if v is not None})
    totals["inputs"] = json.dumps({i.name: i.shape for i in rep.inputs})  # the shapes the costs are at
    _set(proto.metadata_props, totals)
    _value_info(proto, rep)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        _copy_external_data(proto, src.parent, dst.parent)
        onnx.save_model(proto, str(dst))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot write {dst}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    return rep


def _value_info(proto: onnx.ModelProto, rep: Report) -> None:
    """value_info for every inner tensor of a known shape, so Netron shows shapes on every edge: dims as
    analysed, a symbolic dim as a dim_param of its formula. Inputs, outputs and weights keep their own."""
    assert rep.graph is not None
    declared = {vi.name for vi in (*proto.graph.input, *proto.graph.output)} | {
        t.name for t in proto.graph.initializer}
    del proto.graph.value_info[:]
    for name, t in rep.graph.tensors.items():
        if name in declared or t.shape is None or not t.dtype or t.kind == "initializer":
            continue
        dims = [symbolic.show(d) if symbolic.is_symbolic(d) else int(d) for d in t.shape]
        proto.graph.value_info.append(helper.make_tensor_value_info(name, t.dtype, dims))


def _set(props: Any, values: dict[str, Any]) -> None:
    """Replace onnxcost's entries in a metadata_props list, keeping everyone else's."""
    keep = [p for p in props if not p.key.startswith(PREFIX)]
    del props[:]
    props.extend(keep)
    for key, value in values.items():
        entry = props.add()
        entry.key, entry.value = PREFIX + key, str(value)


def _copy_external_data(proto: onnx.ModelProto, src: Path, dst: Path) -> None:
    """External weight files the model references, copied beside the output when it goes to another folder
    (locations stay as they are, relative to the model). Only files inside the model's folder are copied."""
    if src.resolve() == dst.resolve():
        return
    locations = {e.value for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
                 for e in t.external_data if e.key == "location"}
    for location in sorted(locations):
        if not inside_folder(location):
            raise ModelError(f"external data location '{location}' points outside the model's folder; "
                             "annotate copies only a model's own weights")
        source = src / location
        if source.exists() and not source.resolve().is_relative_to(src.resolve()):  # a symlink out of the folder
            raise ModelError(f"external data file '{location}' resolves outside the model's folder; "
                             "annotate copies only a model's own weights")
        if source.is_file():
            (dst / location).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dst / location)
