"""One set of options across the commands, read from the typer app itself: a model command binds dims,
input shapes and values the same way; a command that writes text takes --format (with md for markdown) and
--output; a format a command cannot write is an error, never a silent table."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import onnx
import pytest
from typer.main import get_command

from models import zoo
from onnxcost.cli.app import app, main

MODEL_COMMANDS = ("report", "sweep", "annotate", "bench", "diff")
TEXT_COMMANDS = ("report", "sweep", "check", "bench", "ops", "diff")


def _options(name: str) -> dict[str, Any]:
    command = get_command(app).commands[name]  # type: ignore[attr-defined]
    return {opt: p for p in command.params for opt in getattr(p, "opts", [])}


def _choices(option: Any) -> list[str]:
    annotation = option.type_descriptor.annotation
    return [m.value for m in annotation] if isinstance(annotation, type) and issubclass(annotation, Enum) else []


@pytest.mark.parametrize("name", MODEL_COMMANDS)
def test_model_commands_bind_inputs_alike(name: str) -> None:
    options = _options(name)
    wanted = {"--dim", "--input-shape"} | ({"--input-value"} if name != "diff" else set())
    assert wanted <= set(options), sorted(wanted - set(options))
    for opt in wanted - ({"--dim"} if name == "sweep" else set()):  # sweep's --dim also takes V1,V2,…
        assert options[opt].help == _options("report")[opt].help  # one definition of each option


@pytest.mark.parametrize("name", TEXT_COMMANDS)
def test_text_commands_take_format_with_md_and_output(name: str) -> None:
    options = _options(name)
    assert {"--format", "-f", "--output", "-o"} <= set(options)
    choices = _choices(options["--format"])
    assert "json" in choices
    if "markdown" in choices:
        assert "md" in choices


def test_md_alias_and_refused_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(model))
    assert main(["report", str(model), "-f", "md", "-o", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text().startswith("#")
    assert main(["ops", "-f", "md", "-o", str(tmp_path / "ops.md")]) == 0
    assert "| op_type |" in (tmp_path / "ops.md").read_text()
    capsys.readouterr()
    assert main(["ops", "-f", "html"]) == 2
    assert "cannot write --format html" in capsys.readouterr().err


def test_api_errors_name_parameters_and_the_cli_its_flags(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import onnxcost

    proto = zoo.lenet_1989()
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    path = tmp_path / "m.onnx"
    onnx.save_model(proto, str(path))
    with pytest.raises(onnxcost.ConfigError, match=r"dims\['heigth'\]: the model has no dim"):
        onnxcost.analyze(path, dims={"heigth": 320})
    report = onnxcost.analyze(path)
    assert any("dims={'batch': N}" in w for w in report.warnings) and not any("--" in w for w in report.warnings)
    assert main(["report", str(path), "--dim", "heigth=320"]) == 2
    assert "--dim heigth: the model has no dim" in capsys.readouterr().err
    assert main(["report", str(path), "--format", "json"]) == 0
    assert "bind them with --dim batch=N" in capsys.readouterr().err


def test_a_report_over_many_models_keeps_warnings_and_formulas(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    proto = zoo.lenet_1989()
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.save_model(proto, str(tmp_path / "a.onnx"))
    onnx.save_model(zoo.lenet_1989(), str(tmp_path / "b.onnx"))  # graph-only: its weights file is absent
    assert main(["report", str(tmp_path), "--format", "csv", "--schedule", "file"]) == 0
    out, err = capsys.readouterr()
    assert "a.onnx: dim(s) batch left unbound" in err and "b.onnx: external data file" in err
    row = next(line for line in out.splitlines() if line.startswith(str(tmp_path / "a.onnx")))
    assert "batch" in row  # the MACs cell holds the formula, not a blank


def test_training_binds_a_free_batch_and_names_other_free_dims() -> None:
    """The README's training example on a model whose batch is free: the training batch binds it, and the
    estimate equals the fixed-batch model's (6,111,360 training MACs for LeNet at batch 32); a dim still free
    is named, not 'some shapes are unknown'."""
    import onnxcost

    free = zoo.lenet_1989()
    free.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    fixed = onnxcost.analyze(zoo.lenet_1989(), training="adam", batch=32)
    bound = onnxcost.analyze(free, training="adam", batch=32)
    assert fixed.training is not None and bound.training is not None
    assert bound.training.training_macs == fixed.training.training_macs == 3 * 32 * (fixed.totals.macs or 0)
    free.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "height"
    with pytest.raises(onnxcost.ConfigError, match="height left free"):
        onnxcost.analyze(free, training="adam", batch=32)
