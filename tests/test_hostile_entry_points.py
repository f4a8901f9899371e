"""Hostile input at every entry point (check, diff, baseline, annotate, fit, report globs, profiles, output
formats): each cause ends in one error line and exit 2, or in output that still parses, and no file outside
the case's folder is read or copied."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from models import zoo
from onnxcost.cli.app import main
from onnxcost.gate import check as check_mod
from onnxcost.gate.budgets import load_config
from tests.helpers import one_node


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str) -> None:
    assert code == 2, err
    lines = [x for x in err.splitlines() if not x.startswith("onnxcost: warning")]
    assert len(lines) == 1 and lines[0].startswith("onnxcost: error") and "Traceback" not in err, err


@pytest.fixture()
def lenet(tmp_path: Path) -> Path:
    path = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(path))
    return path


# --- files outside the folder ------------------------------------------------------------------------------


def test_annotate_does_not_copy_a_symlink_out_of_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "w.bin").symlink_to(outside / "secret.txt")
    weight = numpy_helper.from_array(np.zeros((4, 4), np.float32), "w")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "w.bin"), ("offset", "0"), ("length", "64")):
        e = weight.external_data.add()
        e.key, e.value = key, value
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [weight])
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "m.onnx"))
    code, _, err = _run(["annotate", str(folder / "m.onnx"), "-o", str(tmp_path / "out" / "m.onnx")], capsys)
    _one_line_error(code, err)
    assert "outside" in err
    assert not (tmp_path / "out" / "w.bin").exists()


def test_a_budget_pattern_may_not_leave_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for pattern in ("../*/**/*.onnx", "sub/../../x.onnx", "a/**b/*.onnx"):
        (tmp_path / "onnxcost.toml").write_text(f'[budgets."{pattern}"]\nmacs = "1 GMAC"\n')
        code, _, err = _run(["check", "--config", str(tmp_path / "onnxcost.toml")], capsys)
        _one_line_error(code, err)


def test_a_symlinked_model_out_of_the_folder_is_an_error_row(tmp_path: Path, lenet: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.onnx").symlink_to(lenet)
    (repo / "onnxcost.toml").write_text('[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    code, out, _ = _run(["check", "--config", str(repo / "onnxcost.toml")], capsys)
    assert code == 2 and "resolves outside" in out


def test_a_recursive_glob_does_not_follow_a_symlink_loop(tmp_path: Path, lenet: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d"
    d.mkdir()
    os.symlink("..", d / "up")
    onnx.save_model(zoo.lenet_1989(), str(d / "a.onnx"))
    code, out, err = _run(["report", str(d) + "/**/*.onnx", "--format", "json", "--schedule", "file"], capsys)
    assert code == 0, err
    assert json.loads(out)["model"]["path"].endswith("a.onnx")  # one model: d/up/d/a.onnx is not walked


# --- output formats ----------------------------------------------------------------------------------------


def _check_result(name: str, message: str = "x") -> check_mod.CheckResult:
    line = check_mod.CheckLine("forbidden ops", None, None, None, False, message)
    return check_mod.CheckResult([check_mod.ModelCheck(name, False, [line], None, 0.1, "onnxcost.toml", 3)])


@pytest.mark.parametrize("name", ["x\n::warning::y.onnx", "a,b.onnx", "a:b\r.onnx", "ctl\x01\x1b[31m.onnx"])
def test_github_commands_stay_one_per_line(name: str) -> None:
    from onnxcost.gate.formats import check_github

    text = check_github(_check_result(name, "op `X|Y`\n::error::z"))
    lines = text.splitlines()
    assert all(line.startswith("::error file=") for line in lines), lines
    for line in lines:
        props = line.split("::")[1]
        assert props.count(",") == props.count("=") - 1  # the file property did not end early
        assert all(c.isprintable() for c in line)


def test_junit_with_control_characters_parses(tmp_path: Path) -> None:
    from onnxcost.gate.formats import check_junit

    ET.fromstring(check_junit(_check_result("bad\x01name\x1f.onnx", "op \x02 forbidden")).split("?>", 1)[1])


def test_markdown_escapes_op_names_and_paths() -> None:
    from onnxcost.gate.formats import check_markdown

    text = check_markdown(_check_result("a|`b`.onnx", "forbidden op 'A|B`C'\nnext"))
    row = next(line for line in text.splitlines() if line.startswith("| forbidden ops"))
    assert row.count("|") - row.count("\\|") == 6  # six cell borders, whatever the names hold
    assert "`b`" not in text


# --- loaders -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"\xff\xfe[budgets]", b"[budgets.\"*.onnx\"]\nx = " + b"[" * 5000 + b"]" * 5000])
def test_hostile_budget_files(tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "onnxcost.toml").write_bytes(content)
    code, _, err = _run(["check", "--config", str(tmp_path / "onnxcost.toml")], capsys)
    _one_line_error(code, err)


@pytest.mark.parametrize("totals", ['"lots"', "[1, 2]", "-5", '{"macs": -5}', '{"macs": "1"}'])
def test_hostile_stored_baselines(tmp_path: Path, lenet: Path, totals: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "onnxcost.toml").write_text('max_increase = "5%"\n[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    (tmp_path / ".onnxcost").mkdir()
    (tmp_path / ".onnxcost" / "m.onnx.json").write_text(f'{{"schema": "onnxcost.report/1", "totals": {totals}}}')
    config = load_config(tmp_path / "onnxcost.toml")
    assert config.baseline_path(lenet).name == "m.onnx.json"
    code, _, err = _run(["check", "--config", str(tmp_path / "onnxcost.toml")], capsys)
    _one_line_error(code, err)


def test_hostile_profiles_and_reports(tmp_path: Path, lenet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.toml").write_bytes(b"name = \"\xff\"")
    code, _, err = _run(["report", str(lenet), "--profile", str(tmp_path / "p.toml")], capsys)
    _one_line_error(code, err)
    (tmp_path / "r.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = _run(["diff", str(tmp_path / "r.json"), str(lenet)], capsys)
    _one_line_error(code, err)


@pytest.mark.parametrize("csv_text", [
    "model,latency_ms,dims\nm.onnx,1.0,batch=²\n",     # a digit isdigit() takes and int() does not
    "model,latency_ms\n,1.0\n",                         # a row without its model
    "model,latency_ms\nm.onnx\n",                       # a row short of cells
    "model,latency_ms\n" + "m" * 200_000 + ",1.0\n",    # a field over the limit
])
def test_hostile_fit_csvs(tmp_path: Path, lenet: Path, csv_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.csv").write_text(csv_text)
    code, _, err = _run(["fit", str(tmp_path / "t.csv"), "--base", "xeon-8480", "-o", str(tmp_path / "p.toml")],
                        capsys)
    _one_line_error(code, err)


def test_a_huge_fit_csv_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate((64 << 20) + 1)  # sparse: what /dev/zero would feed
    code, _, err = _run(["fit", str(big), "--base", "xeon-8480", "-o", str(tmp_path / "p.toml")], capsys)
    _one_line_error(code, err)


# --- models ------------------------------------------------------------------------------------------------


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save_model(model, str(path))
    return path


def test_hostile_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resize = one_node("Resize", {"x": [1, 3, 8, 8], "roi": np.zeros(0, np.float32),
                                 "scales": np.array([2.0, 2.0], np.float32)})
    huge_opset = one_node("Relu", {"x": [2, 2]})
    huge_opset.opset_import[0].version = 1 << 40
    topk = one_node("TopK", {"x": [4, 6], "k": np.array([1_000_000, -1], np.int64)}, outputs=("v", "i"))
    for k, model in enumerate((resize, huge_opset, topk)):
        code, _, err = _run(["report", str(_save(model, tmp_path / f"m{k}.onnx"))], capsys)
        assert code in (0, 2) and "internal error" not in err and "Traceback" not in err, err
        if code == 2:
            _one_line_error(code, err)


def test_annotate_into_a_path_under_a_file(tmp_path: Path, lenet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["annotate", str(lenet), "-o", str(lenet / "x.onnx")], capsys)
    _one_line_error(code, err)


def test_a_bad_option_value_is_one_line(lenet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["report", str(lenet), "--top", "0"], capsys)
    _one_line_error(code, err)


def test_a_dim_bound_to_zero_that_the_model_divides_by(capsys: pytest.CaptureFixture[str]) -> None:
    """gru_bidir reshapes by -1 over its batch: --dim batch=0 with steps unbound is 0/0 there."""
    code, _, err = _run(["report", str(Path(__file__).parent / "data" / "gru_bidir.onnx"), "--dim", "batch=0"], capsys)
    _one_line_error(code, err)
    assert "division by zero" in err


def test_a_loop_with_a_string_trip_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = helper.make_graph(
        [helper.make_node("Identity", ["c_in"], ["c_out"]), helper.make_node("Relu", ["x"], ["y"])], "b",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c_in", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    trip = helper.make_tensor("trip", TensorProto.STRING, [1], [b"abc"])  # type: ignore[list-item]
    g = helper.make_graph([helper.make_node("Loop", ["trip", ""], ["ys"], body=body)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("ys", TensorProto.FLOAT, None)], [trip])
    path = _save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "loop.onnx")
    code, _, err = _run(["report", str(path)], capsys)
    _one_line_error(code, err)
    assert "trip count" in err
