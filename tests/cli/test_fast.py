"""The fast `report` path (no typer) is the typer command by another road: the same flags with the same
defaults, the same output byte for byte, and typer's own handling of anything it does not take."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from onnxcost.cli import app as cli_app
from onnxcost.cli import fast
from onnxcost.cli.app import _typer_app, app, main

ROOT = Path(__file__).resolve().parents[2]
RESNET = str(ROOT / "models" / "resnet18.onnx")
LENET = str(ROOT / "models" / "lenet_1989.onnx")


def _report_params() -> dict[str, Any]:
    command = get_command(app).commands["report"]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params}


def test_every_fast_flag_is_the_typer_option_with_its_default() -> None:
    params = _report_params()
    for flag, name in {**fast.VALUE_FLAGS, **fast.SWITCHES}.items():
        assert flag in params[name].opts, (flag, name)
        assert params[name].multiple == (name in fast.REPEATABLE), name
        assert params[name].is_flag == (name in fast.SWITCHES.values()), name
    for name, default in fast.DEFAULTS.items():
        typer_default = params[name].default
        assert (typer_default.value if isinstance(typer_default, Enum) else typer_default) == default, name
    # every typer option the fast path leaves out makes it decline (below), so none is silently dropped
    covered = set(fast.VALUE_FLAGS.values()) | set(fast.SWITCHES.values()) | {"models"}
    assert set(params) - covered == {"plot", "training", "batch", "plot_roofline", "jobs", "trace", "fusions"}


CASES = [
    ["report", RESNET],
    ["report", RESNET, "--top", "5", "--schedule", "file"],
    ["report", RESNET, "-f", "json", "--inplace", "--arena"],
    ["report", RESNET, "--format=csv", "--top=3"],
    ["report", LENET, "--format", "md", "--profile", "xeon-8480", "--schedule-budget", "0.5"],
    ["report", LENET, "--input-shape", "INPUT", "--strict", "-f", "markdown"],
    ["report", LENET, "--input-value", "unused=3"],  # an error: the same line, the same exit code
    ["report", LENET, "--dim", "batch"],
    ["report", str(ROOT / "no such.onnx")],
]


def _lenet_input() -> str:
    """lenet's input as NAME=AxBxC, its own shape: binding it must change nothing but must be parsed."""
    import onnx

    x = onnx.load(LENET, load_external_data=False).graph.input[0]
    return f"{x.name}={'x'.join(str(d.dim_value) for d in x.type.tensor_type.shape.dim)}"


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(Path(x).name for x in a[1:]))
def test_fast_output_is_typer_output(argv: list[str], capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [_lenet_input() if a == "INPUT" else a for a in argv]
    assert fast.parse(argv[1:]) is not None, "this case must take the fast path"
    rc = main(argv)
    ours = capsys.readouterr()
    monkeypatch.setattr(cli_app, "fast_report", lambda args: False)
    assert main(argv) == rc
    theirs = capsys.readouterr()
    assert ours.out == theirs.out and ours.err == theirs.err


def test_fast_output_file_is_typer_output(tmp_path: Path) -> None:
    assert main(["report", RESNET, "-o", str(tmp_path / "fast.json"), "-f", "json"]) == 0
    _typer_app()(args=["report", RESNET, "-o", str(tmp_path / "typer.json"), "-f", "json"], standalone_mode=False)
    assert (tmp_path / "fast.json").read_text() == (tmp_path / "typer.json").read_text()


@pytest.mark.parametrize("args", [
    [RESNET, "--help"], [RESNET, "--plot", "x.png"], [RESNET, LENET], [RESNET, "-fjson"], [RESNET, "-f=json"],
    [RESNET, "--top", "0"], [RESNET, "--top", "x"], [RESNET, "--format", "xml"], [RESNET, "--dim"],
    [RESNET, "--dim", "--strict"], [RESNET, "--schedule", "fastest"], [RESNET, "--schedule-budget", "-1"],
    [RESNET, "--schedule-budget", "nan"], [RESNET, "--fusions", "onnxruntime"], [RESNET, "--"], [],
    [str(ROOT / "models")],
])
def test_the_fast_path_declines_what_typer_should_judge(args: list[str]) -> None:
    assert fast.parse(args) is None


def test_a_declined_bad_value_gets_typers_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", RESNET, "--top", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("onnxcost: error:") and "--top" in err and len(err.splitlines()) == 1
