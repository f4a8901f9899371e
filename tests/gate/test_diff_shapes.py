"""diff compares each side at its own shapes: a stored report never rebinds a dim the new model fixes."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from models import zoo
from onnxcost.cli.app import main


def test_a_resolution_change_shows_in_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """MobileNet-V1 from 224x224 to 256x256: every conv's output area grows by (256/224)^2 = 64/49 (maps of
    128..8 instead of 112..7), the classifier's 1,024,000 MACs do not: (568,740,352 - 1,024,000) x 64/49 +
    1,024,000 = 742,531,072, +30.56%, the figure check reports against the baseline."""
    model = tmp_path / "mobilenet_v1.onnx"
    onnx.save_model(zoo.mobilenet_v1(weights="random", size=224), str(model))
    (tmp_path / "onnxcost.toml").write_text('max_increase = "5%"\n[budgets."*.onnx"]\nmacs = "2 GMAC"\n')
    assert main(["baseline", "--config", str(tmp_path / "onnxcost.toml")]) == 0
    onnx.save_model(zoo.mobilenet_v1(weights="random", size=256), str(model))
    capsys.readouterr()
    stored = tmp_path / ".onnxcost" / "mobilenet_v1.onnx.json"
    config = str(tmp_path / "onnxcost.toml")
    assert main(["diff", str(stored), str(model), "--format", "json", "--config", config]) == 0
    d = json.loads(capsys.readouterr().out)
    macs = next(c for c in d["totals"] if c["key"] == "macs")
    assert (macs["old"], macs["new"]) == (568_740_352, 742_531_072)
    assert macs["percent"] == pytest.approx(30.557, abs=0.001)
    assert any("different input shapes" in n for n in d["notes"])
    code = main(["check", "--config", str(tmp_path / "onnxcost.toml")])
    out = capsys.readouterr().out
    assert code == 1 and "+30.56%" in out


def test_a_dynamic_dim_takes_the_stored_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model with a free batch, diffed against a report made at batch 4, is bound at batch 4 (and no note)."""
    model = tmp_path / "m.onnx"
    proto = zoo.lenet_1989()
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save_model(proto, str(model))
    assert main(["report", str(model), "--dim", "batch=4", "--format", "json", "-o", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "r.json"), str(model), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    macs = next(c for c in d["totals"] if c["key"] == "macs")
    assert macs["old"] == macs["new"] is not None and d["notes"] == []


def test_check_explains_an_unknown_total_and_takes_cli_shapes(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    proto = zoo.lenet_1989()
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save_model(proto, str(model))
    config = tmp_path / "onnxcost.toml"
    config.write_text('[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "dim(s) batch are unbound" in out and "dims = { batch = 1 }" in out and "(line 1)" in out
    name = proto.graph.input[0].name
    shape = "x".join(str(d.dim_value or 1) for d in proto.graph.input[0].type.tensor_type.shape.dim)
    config.write_text(f'[budgets."*.onnx"]\nmacs = "1 GMAC"\ninput_shapes = {{ "{name}" = "{shape}" }}\n')
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr()
