"""A bug hit by one model is that model's error row, named, in runs over many; the other models complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import onnx
import pytest

import onnxcost.pipeline
from models import zoo
from onnxcost import batch
from onnxcost.cli.app import main


def _buggy_for(name: str, real: Any) -> Any:
    def analyze(path: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(str(path)).name == name:
            raise TypeError("a stand-in for a bug in a rule")
        return real(path, *args, **kwargs)

    return analyze


@pytest.fixture()
def two_models(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "a.onnx", tmp_path / "b.onnx"]
    for p in paths:
        onnx.save_model(zoo.lenet_1989(), str(p))
    return paths


def test_report_over_many_names_the_model_and_the_bug(two_models: list[Path], monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(onnxcost.pipeline, "analyze", _buggy_for("a.onnx", onnxcost.pipeline.analyze))
    results = batch.analyze_many(two_models)
    assert results[0].report is None and "internal error: TypeError" in (results[0].error or "")
    assert results[1].report is not None and results[1].error is None
    code = main(["report", *map(str, two_models), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 2 and "a.onnx" in err and "internal error: TypeError" in err


def test_check_over_many_names_the_model_and_the_bug(two_models: list[Path], monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = two_models[0].parent
    (folder / "onnxcost.toml").write_text('[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    import onnxcost.gate.check as check

    monkeypatch.setattr(check, "analyze_for", _buggy_for("a.onnx", check.analyze_for))
    monkeypatch.chdir(folder)
    code = main(["check", "--format", "text"])
    out = capsys.readouterr().out
    assert code == 2
    assert "a.onnx" in out and "internal error: TypeError" in out
    assert "PASS  b.onnx" in out
