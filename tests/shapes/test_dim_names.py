"""Dim names: '?', 'unk__N', 'None', Paddle's 'p2o.DynamicDimension.0' and other non-identifiers are anonymous
(one symbol per input and axis, named <input>_<axis>), and every command binds a dim by that name or by the
file's own spelling."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

import onnxcost
from onnxcost.base import symbolic
from onnxcost.cli.app import main
from onnxcost.measure.sweep import sweep
from tests.corpus import cases


def _conv(dims: list[str | int]) -> onnx.ModelProto:
    """x [N, 3, H, W] -> 3x3 conv to 8 channels, pads 1: N·8·H·W·27 MACs."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("unknown", ["?", "unk__7", "None", "-1", "p2o.DynamicDimension.1"])
def test_unknown_names_are_one_symbol_per_axis(unknown: str) -> None:
    report = onnxcost.analyze(_conv(["batch", 3, unknown, unknown]))
    assert report.symbolic is not None
    assert sorted(report.symbolic["symbols"]) == ["batch", "x_2", "x_3"]  # H and W are not tied together
    # 8·27 = 216 MACs per output position
    assert symbolic.parse(report.symbolic["totals"]["macs"]) == symbolic.parse("216*batch*x_2*x_3")


def test_both_spellings_bind_in_report_sweep_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(_conv(["p2o.DynamicDimension.0", 3, "p2o.DynamicDimension.1", "p2o.DynamicDimension.2"]), path)
    by_symbol = onnxcost.analyze(path, dims={"x_0": 1, "x_2": 48, "x_3": 192})
    by_file = onnxcost.analyze(path, dims={"p2o.DynamicDimension.0": 1, "p2o.DynamicDimension.1": 48,
                                           "p2o.DynamicDimension.2": 192})
    assert by_symbol.totals.macs == by_file.totals.macs == 216 * 48 * 192
    (point,) = sweep(path, {"p2o.DynamicDimension.1": [48], "x_3": [192]}, dims={"x_0": 1}, memory=False)
    assert point.totals["macs"] == 216 * 48 * 192
    code = main(["report", str(path), "--dim", "p2o.DynamicDimension.1=48", "--dim", "x_3=192", "--dim", "x_0=1",
                 "--format", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["totals"]["macs"] == 216 * 48 * 192
    (tmp_path / "onnxcost.toml").write_text('[budgets."m.onnx"]\nmacs = "2M"\n'
                                            'dims = { "p2o.DynamicDimension.0" = 1, x_2 = 48, x_3 = 192 }\n')
    assert main(["check", "--config", str(tmp_path / "onnxcost.toml")]) == 0, capsys.readouterr()


def test_paddleocr_classifier_formula_at_48x192() -> None:
    """The real PaddleOCR v2 classifier (rapidocr-onnxruntime), whose H and W are both '?': its formula at
    48x192 equals the bound analysis, 16,315,376 MACs (it was 4.1 M when both '?' were one symbol)."""
    case = next(c for c in cases() if c.id == "rapidocr-onnxruntime/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    model = onnx.load(case.require())
    free = onnxcost.analyze(model)
    assert free.symbolic is not None and {"x_2", "x_3"} <= set(free.symbolic["symbols"])
    formula = symbolic.parse(free.symbolic["totals"]["macs"])
    bound = onnxcost.analyze(model, dims={"x_0": 1, "x_2": 48, "x_3": 192})
    assert symbolic.evaluate(formula, {"x_0": 1, "x_2": 48, "x_3": 192}) == bound.totals.macs == 16_315_376
