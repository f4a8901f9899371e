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
from onnxcost.cli import main


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
    # nothing but metadata changed: the graphs are equal once the annotations are taken off
    bare = onnx.load_model(str(out), load_external_data=False)
    for node in bare.graph.node:
        del node.metadata_props[:]
        node.ClearField("doc_string")
    assert bare.graph == onnx.load_model(str(src), load_external_data=False).graph


def test_annotate_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(path))
    assert main(["annotate", str(path), "-o", str(path)]) == 2
    assert "never overwrites" in capsys.readouterr().err
