"""The command line: formats, options, and bad input as one line on stderr with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from models import zoo
from onnxcost.cli.app import main
from tests.helpers import one_node, w

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def alexnet(tmp_path: Path) -> Path:
    p = tmp_path / "alexnet.onnx"
    onnx.save_model(zoo.alexnet_seed003(), str(p))
    return p


def test_json_is_the_contract(alexnet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["report", str(alexnet), "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "onnxcost.report/1"
    assert set(data) >= {"schema", "model", "inputs", "outputs", "totals", "by_op_type", "nodes", "schedule",
                         "warnings", "schedule_method", "schedule_optimal"}
    assert set(data["model"]) == {"path", "ir_version", "opsets", "producer", "graph_name"}
    assert set(data["totals"]) >= {"nodes", "macs", "flops", "params", "param_bytes", "activation_bytes",
                                   "peak_memory_bytes", "unknown_cost_nodes"}
    node_keys = {"name", "op_type", "domain", "inputs", "outputs", "output_shapes", "output_dtypes", "macs",
                 "flops", "params", "param_bytes", "input_bytes", "output_bytes"}
    assert all(node_keys <= set(n) for n in data["nodes"])
    assert set(data["by_op_type"]["Conv"]) >= {"count", "macs", "flops", "params"}
    assert data["totals"]["macs"] == 724_406_816
    assert sorted(data["schedule"]) == sorted(n["name"] for n in data["nodes"])
    assert data["inputs"] == [{"name": "input", "dtype": "float", "shape": [1, 3, 224, 224]}]
    assert "weights" in err  # the absent weights file is a warning, not an error


def test_table_csv_markdown_and_output_file(alexnet: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["report", str(alexnet)], capsys)
    assert code == 0 and "conv2" in out and "724 MMAC" in out and "By op type" in out
    code, out, _ = run(["report", str(alexnet), "-f", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["macs"] for r in rows if r["op_type"] == "Conv"][0] == "105415200"
    code, out, _ = run(["report", str(alexnet), "-f", "markdown", "--top", "2"], capsys)
    # the two heaviest: conv2 (223,948,800 MACs) and conv3 (149,520,384)
    assert out.count("| `conv") == 2 and "| `conv2` |" in out and "| `conv3` |" in out
    target = tmp_path / "r.json"
    code, out, _ = run(["report", str(alexnet), "-f", "json", "-o", str(target)], capsys)
    assert code == 0 and out == "" and json.loads(target.read_text())["totals"]["params"] > 6e7


def test_top_orders_by_macs(alexnet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["report", str(alexnet), "-f", "csv", "--top", "3"], capsys)
    names = [r["name"] for r in csv.DictReader(io.StringIO(out))]
    assert names == ["conv2", "conv3", "conv4"]


def test_dims_and_input_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    model = helper.make_model(helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x],
        [helper.make_empty_tensor_value_info("y")],
        initializer=[onnx.numpy_helper.from_array(w(8, 4), "w")]))
    p = tmp_path / "m.onnx"
    onnx.save_model(model, str(p))
    code, out, err = run(["report", str(p), "-f", "json", "--dim", "batch=5"], capsys)
    assert code == 0 and json.loads(out)["totals"]["macs"] == 5 * 8 * 4 and "not bound" not in err
    code, out, _ = run(["report", str(p), "-f", "json", "--input-shape", "x=3x8"], capsys)
    assert json.loads(out)["totals"]["macs"] == 3 * 8 * 4
    code, out, err = run(["report", str(p), "-f", "json"], capsys)
    data = json.loads(out)  # unbound: a formula, never a guess at 1
    assert data["totals"]["macs"] is None and data["symbolic"]["totals"]["macs"] == "32*batch"
    assert "--dim batch=N" in err
    code, _, err = run(["report", str(p), "--dim", "bacth=5"], capsys)
    assert code == 2 and "bacth" in err and "batch" in err  # a typo names the dims the model has
    code, _, err = run(["report", str(p), "--input-shape", "x=3x8x1"], capsys)
    assert code == 2 and "rank 3" in err and "rank 2" in err
    code, _, err = run(["report", str(p), "--input-shape", "nope=1x2"], capsys)
    assert code == 2 and "not a graph input" in err


def _cycle() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second")]
    return helper.make_model(helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("b")]))


def _dangling() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")]
    return helper.make_model(helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("y")]))


def _bad_group() -> onnx.ModelProto:
    return one_node("Conv", {"x": [1, 6, 8, 8], "w": w(4, 2, 3, 3)}, group=4)  # 6 channels, group 4


def _absurd() -> onnx.ModelProto:
    return one_node("Relu", {"x": [1 << 30, 1 << 30]})


def _too_big_kernel() -> onnx.ModelProto:
    return one_node("Conv", {"x": [1, 3, 4, 4], "w": w(8, 3, 7, 7)})


def _bad_strides() -> onnx.ModelProto:
    return one_node("Conv", {"x": [1, 3, 8, 8], "w": w(4, 3, 3, 3)}, strides=[0, 1])


def _bad_kernel_shape() -> onnx.ModelProto:
    return one_node("Conv", {"x": [1, 3, 8, 8], "w": w(4, 3, 3, 3)}, kernel_shape=[5, 5])


def _bad_pads() -> onnx.ModelProto:
    return one_node("MaxPool", {"x": [1, 3, 8, 8]}, kernel_shape=[2, 2], pads=[1, 1])


BAD_MODELS = {"strides": (_bad_strides, "strides"), "kernel_shape": (_bad_kernel_shape, "kernel_shape"),
              "pads": (_bad_pads, "pads"), "cycle": (_cycle, "cycle"), "dangling": (_dangling, "dangling"),
              "bad_group": (_bad_group, "group=4"), "absurd": (_absurd, "absurd"),
              "kernel": (_too_big_kernel, "larger than")}


@pytest.mark.parametrize("kind", list(BAD_MODELS))
def test_broken_graphs_one_line_exit_2(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, needle = BAD_MODELS[kind]
    p = tmp_path / f"{kind}.onnx"
    onnx.save_model(make(), str(p))
    code, out, err = run(["report", str(p)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("onnxcost: error:") and needle in err
    assert "Traceback" not in err and out == ""


def _bad_files(tmp: Path, alexnet: Path) -> dict[str, Path]:
    files = {"empty": tmp / "empty.onnx", "text": tmp / "notes.onnx", "random": tmp / "random.onnx",
             "truncated": tmp / "truncated.onnx", "directory": tmp / "no_models", "missing": tmp / "missing.onnx"}
    files["directory"].mkdir()  # a folder is expanded to the models in it: here, none
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not a model\n" * 20)
    files["random"].write_bytes(np.random.default_rng(1).bytes(4096))
    files["truncated"].write_bytes(alexnet.read_bytes()[:700])
    return files


def test_bad_files_one_line_exit_2(alexnet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sub = tmp_path / "bad"
    sub.mkdir()
    for kind, path in _bad_files(sub, alexnet).items():
        code, out, err = run(["report", str(path)], capsys)
        assert code == 2, kind
        assert err.count("\n") == 1 and err.startswith("onnxcost: error:"), (kind, err)
        assert "Traceback" not in err


def test_unknown_op_is_a_warning_and_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "custom.onnx"
    onnx.save_model(one_node("MyOp", {"x": [4]}, domain="com.acme"), str(p))
    code, out, err = run(["report", str(p), "-f", "json"], capsys)
    assert code == 0
    assert json.loads(out)["totals"]["unknown_cost_nodes"] == 1
    assert "MyOp" in err and "warning" in err


def test_installed_command_runs_without_traceback(alexnet: Path, tmp_path: Path) -> None:
    """The real console entry point, in a subprocess, on good and bad input."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ok = subprocess.run([sys.executable, "-m", "onnxcost", "report", str(alexnet), "-f", "json"],
                        capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0 and json.loads(ok.stdout)["totals"]["macs"] == 724_406_816
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    res = subprocess.run([sys.executable, "-m", "onnxcost", "report", str(bad)], capture_output=True,
                         text=True, env=env, check=False)
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stderr.count("\n") == 1


def test_memory_and_training_tables(alexnet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["report", str(alexnet), "--inplace", "--training", "momentum", "--batch", "8",
                        "--top", "1"], capsys)
    assert code == 0
    assert "Inference vs training" in out and "8 (momentum)" in out
    assert "440,928 elements" in out  # seed 003's peak #activations, in place
    code, out, _ = run(["report", str(alexnet), "-f", "markdown", "--training", "sgd", "--top", "1"], capsys)
    assert "| | inference | training |" in out and "| peak memory |" in out
    code, _, err = run(["report", str(alexnet), "--batch", "0", "--training", "sgd"], capsys)
    assert code == 2 and "Traceback" not in err


def test_unwritable_output_is_one_line(alexnet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("table", "json"):
        code, _, err = run(["report", str(alexnet), "-f", fmt, "-o", "/nonexistent/dir/out"], capsys)
        assert code == 2 and err.strip().splitlines()[-1].startswith("onnxcost: error: cannot write")


def test_many_models_in_one_report_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from models import zoo

    (tmp_path / "zoo" / "deep").mkdir(parents=True)
    onnx.save_model(zoo.lenet_1989(), str(tmp_path / "zoo" / "lenet.onnx"))
    onnx.save_model(zoo.alexnet_seed003(), str(tmp_path / "zoo" / "deep" / "alexnet.onnx"))
    single = tmp_path / "mlp.onnx"
    onnx.save_model(zoo.mlp([8, 4]), str(single))
    code, out, _ = run(["report", str(single), str(tmp_path / "zoo"), "-f", "json", "--jobs", "2"], capsys)
    reports = json.loads(out)
    assert code == 0 and [r["model"]["path"] for r in reports] == [
        str(single), str(tmp_path / "zoo" / "deep" / "alexnet.onnx"), str(tmp_path / "zoo" / "lenet.onnx")]
    assert reports[1]["totals"]["macs"] == 724_406_816  # the same figure as a report of that model alone
    (tmp_path / "zoo" / "broken.onnx").write_bytes(b"not onnx")
    code, out, err = run(["report", f"{tmp_path}/zoo/**/*.onnx"], capsys)
    # a table for each model that analyses, and the summary of all three
    assert code == 2 and "broken.onnx" in err and "3 models" in out and out.count("Nodes —") == 2


def test_small_things(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import onnxcost

    assert run(["--version"], capsys)[1].strip() == f"onnxcost {onnxcost.__version__}"
    code, _, err = run(["report", "models/alexnet.onnx", "--batch", "8"], capsys)
    assert code == 2 and "--training" in err  # never silently ignored
    assert "analyze" in dir(onnxcost)
    code, out, _ = run(["report", "models/alexnet.onnx", "--top", "1"], capsys)
    assert "724 MMAC (724,406,816)" in out
    cfg = tmp_path / "onnxcost.toml"
    cfg.write_text('[budgets."*.onnx"]\nmacs = "1 GMAC"\n')
    import shutil

    shutil.copy("models/alexnet.onnx", tmp_path / "alexnet.onnx")
    code, out, _ = run(["check", "--config", str(cfg), "-f", "json"], capsys)
    line = json.loads(out)["models"][0]["lines"][0]
    assert line["value"] == 724_406_816 and isinstance(line["value"], int) and isinstance(line["limit"], int)


def test_json_is_compact_into_a_pipe_and_indented_in_a_file(alexnet: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A pipe feeds a program (compact, json's C encoder); a file is for a person too (indented). Same data."""
    assert main(["report", str(alexnet), "-f", "json"]) == 0
    piped = capsys.readouterr().out
    assert main(["report", str(alexnet), "-f", "json", "-o", str(tmp_path / "r.json")]) == 0
    written = (tmp_path / "r.json").read_text()
    assert piped.count("\n") == 1 and written.count("\n") > 100
    assert json.loads(piped) == json.loads(written)
