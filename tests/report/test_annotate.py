"""`onnxcost annotate`: costs where Netron shows them, weights carried over, the input never modified."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import onnxcost
from models import zoo
from onnxcost.cli.app import main


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_conv_carries_its_costs_and_weights_are_unchanged(tmp_path: Path) -> None:
    src = tmp_path / "in" / "lenet.onnx"
    src.parent.mkdir()
    model = zoo.lenet_1989("random")
    onnx.save_model(model, str(src), save_as_external_data=True, location="lenet.bin")  # weights over 1 KiB
    before = (_digest(src), _digest(src.parent / "lenet.bin"))
    out = tmp_path / "out" / "lenet.annotated.onnx"
    assert main(["annotate", str(src), "-o", str(out), "--profile", "xeon-8480"]) == 0
    assert (_digest(src), _digest(src.parent / "lenet.bin")) == before  # the input is never modified
    annotated = onnx.load_model(str(out))  # opens, external weights included
    rep = onnxcost.analyze(src)
    by_name = {n.name: n for n in rep.nodes}
    convs = [n for n in annotated.graph.node if n.op_type == "Conv"]
    assert convs
    for node in convs:
        meta = {p.key: p.value for p in node.metadata_props}
        assert int(meta["onnxcost.macs"]) == by_name[node.name].macs
        assert float(meta["onnxcost.latency_us"]) > 0 and "onnxcost: macs" in node.doc_string
    totals = {p.key: p.value for p in annotated.metadata_props}
    assert int(totals["onnxcost.macs"]) == rep.totals.macs
    original = onnx.load_model(str(src))
    for a, b in zip(original.graph.initializer, annotated.graph.initializer, strict=True):
        assert np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))
    # nothing but annotations changed: the graphs are equal once the metadata and the inferred shapes
    # (value_info, which Netron draws on the edges) are taken off
    bare = onnx.load_model(str(out), load_external_data=False)
    for node in bare.graph.node:
        del node.metadata_props[:]
        node.ClearField("doc_string")
    del bare.graph.value_info[:]
    assert bare.graph == onnx.load_model(str(src), load_external_data=False).graph


def test_annotate_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(path))
    assert main(["annotate", str(path), "-o", str(path)]) == 2
    assert "never overwrites" in capsys.readouterr().err


def test_value_info_carries_every_inner_shape_symbolic_ones_as_dim_params(tmp_path: Path) -> None:
    """Netron shows a shape on an edge only where value_info has one: every inner tensor gets its analysed
    shape (checked against onnx's own inference of the copy), a free batch as a dim_param, and the input
    shapes the costs were computed at are in the metadata."""
    import json

    src = tmp_path / "lenet.onnx"
    model = zoo.lenet_1989("random")
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save_model(model, str(src))
    out = tmp_path / "annotated.onnx"
    assert main(["annotate", str(src), "-o", str(out)]) == 0
    annotated = onnx.load(str(out))
    ours = {vi.name: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
            for vi in annotated.graph.value_info}
    inner = {o for n in annotated.graph.node for o in n.output} - {o.name for o in annotated.graph.output}
    assert inner and set(ours) == inner
    assert all(dims[0] == "batch" for dims in ours.values() if len(dims) == 4)
    stripped = onnx.ModelProto()
    stripped.CopyFrom(annotated)
    del stripped.graph.value_info[:]
    theirs = {vi.name: [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in onnx.shape_inference.infer_shapes(stripped).graph.value_info}
    assert all(ours[k] == theirs[k] for k in ours if k in theirs)
    meta = {p.key: p.value for p in annotated.metadata_props}
    assert json.loads(meta["onnxcost.inputs"]) == {model.graph.input[0].name: ["batch", 1, 16, 16]}
