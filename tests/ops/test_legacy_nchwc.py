"""onnxruntime's NCHWc ops as its optimizer writes them into a saved model at level ALL, and the pre-opset-10
experimental ops it still runs: shapes against onnxruntime itself, MACs against the float original."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import onnxcost
from onnxcost.ops.nchwc import block_size
from tests.helpers import known
from tests.ort_harness import mismatches, ort_shapes, with_weights


@pytest.mark.parametrize("name", ["mnasnet0_5", "mobilenet_v3_small"])
def test_a_model_onnxruntime_rewrote_to_nchwc(name: str, shared_models: Path, truth: dict, tmp_path: Path) -> None:
    path = with_weights(shared_models / f"{name}.onnx", truth[name]["weights_bytes"], tmp_path)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "nchwc.onnx")
    options.log_severity_level = 3
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    saved = onnx.load(str(tmp_path / "nchwc.onnx"), load_external_data=False)
    assert {n.domain for n in saved.graph.node} >= {"com.microsoft.nchwc"}
    original, rewritten = onnxcost.analyze(path), onnxcost.analyze(tmp_path / "nchwc.onnx")
    assert [n.name for n in rewritten.nodes if n.macs is None or n.flops is None] == []
    # every tensor onnxruntime computes, blocked channels included, has the shape onnxcost gives it
    assert mismatches(rewritten, ort_shapes(saved, tmp_path, rewritten)) == []
    # the same convolutions on channels padded to whole blocks: never fewer MACs, and at most the padding
    # ratio more (every channel count at most rounds up from 1 to one block)
    assert original.totals.macs is not None and rewritten.totals.macs is not None
    assert original.totals.macs <= rewritten.totals.macs < original.totals.macs * block_size()
    assert rewritten.totals.params >= original.totals.params


def test_crop_by_hand() -> None:
    # border [left 1, top 2, right 0, bottom 1] of a [1, 3, 10, 8] image: [1, 3, 10 - 2 - 1, 8 - 1 - 0];
    # with scale [4, 5], a 4 x 5 window from the top-left border
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10, 8])
    cases: list[tuple[dict[str, Any], tuple[int, ...]]] = [
        ({"border": [1, 2, 0, 1]}, (1, 3, 7, 7)), ({"border": [1, 2, 0, 1], "scale": [4, 5]}, (1, 3, 4, 5))]
    for attrs, want in cases:
        g = helper.make_graph([helper.make_node("Crop", ["x"], ["y"], **attrs)], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)])
        out = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
            None, {"x": np.zeros((1, 3, 10, 8), np.float32)})[0]
        assert tuple(known(onnxcost.analyze(model).nodes[0].output_shapes[0])) == want == out.shape
