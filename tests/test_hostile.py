"""Hostile and broken input, cause by cause (issue: no crash, no hang, no huge allocation, no file read, no
impossible budget): each ends in a report or in one clear OnnxcostError line, exit 2 at the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from onnxcost.cli.app import main
from tests.helpers import one_node, w


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _external(t: onnx.TensorProto, location: str) -> None:
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.ClearField("int64_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        e = t.external_data.add()
        e.key, e.value = key, value


def test_no_file_but_the_model_is_ever_opened(tmp_path: Path) -> None:
    """Initializers and a Constant whose data claim to live in /etc/passwd, outside the folder, and in a real
    file beside the model: analyze opens the model and nothing else."""
    (tmp_path / "beside.bin").write_bytes(np.array([2, 4], np.int64).tobytes())
    shape = numpy_helper.from_array(np.array([2, 4], np.int64), "shape")
    _external(shape, "beside.bin")
    weight = numpy_helper.from_array(np.zeros((4, 4), np.float32), "w")
    _external(weight, "/etc/passwd")
    const = numpy_helper.from_array(np.array([1, 8], np.int64), "c")
    _external(const, "../../../etc/hostname")
    nodes = [helper.make_node("Constant", [], ["target"], value=const),
             helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("MatMul", ["r", "w"], ["m"]),
             helper.make_node("Reshape", ["m", "target"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[shape, weight])
    path = tmp_path / "model.onnx"
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    onnxcost.analyze(one_node("Relu", {"x": [2]}))  # imports done before we listen
    opened: list[str] = []
    listening = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if listening[0] and event == "open" and isinstance(args[0], (str, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(hook)
    try:
        rep = onnxcost.analyze(path)
    finally:
        listening[0] = False
    ours = [p for p in opened if not p.endswith((".py", ".pyc", ".so")) and "site-packages" not in p]
    assert ours == [str(path)]
    # the values in those files were never used: the reshapes' targets are unknown, not read
    assert any("outside the model's folder" in w for w in rep.warnings)
    assert rep.outputs[0].shape is None


@pytest.mark.parametrize("name", ["[/]", "[bold red]x", "line\nbreak", "\x1b[31mred\x1b[0m"])
def test_names_are_data_in_every_output(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = one_node("Conv", {"x": [1, 3, 8, 8], "w": w(4, 3, 3, 3)})
    model.graph.node[0].name = name
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path))
    for fmt in ("table", "markdown", "csv"):
        code, out, err = _run(["report", str(path), "-f", fmt], capsys)
        assert code == 0
        assert "\x1b" not in out + err  # no escape code reaches the terminal
        shown = name.replace("\n", "\\n").replace("\x1b", "\\x1b")
        assert shown in out  # markup is shown as text, control characters as escapes
    code, out, _ = _run(["report", str(path), "-f", "json"], capsys)
    assert json.loads(out)["nodes"][0]["name"] == name  # JSON keeps the name exactly
    # and an error naming it stays one line
    model.graph.node[0].attribute.append(helper.make_attribute("group", 2))
    onnx.save_model(model, str(path))
    code, out, err = _run(["report", str(path)], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "\x1b" not in err


def test_invalid_utf8_names(tmp_path: Path) -> None:
    model = one_node("Relu", {"x": [2]})
    model.graph.node[0].name = "ABCD"
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString().replace(b"ABCD", b"AB\xff\xfe"))
    rep = onnxcost.analyze(path)
    assert rep.nodes[0].name == "AB\ufffd\ufffd"
    json.loads(rep.to_json())


@pytest.mark.parametrize(("model", "needle"), [
    (lambda: one_node("Tile", {"x": [2, 3], "r": np.array([9, 9, 9, 9], np.int64)}), "repeats"),
    (lambda: one_node("Tile", {"x": [2, 3], "r": np.array([1 << 30, 1 << 30], np.int64)}), "absurd"),
    (lambda: one_node("Einsum", {"a": [2, 3]}, equation="......->"), "einsum"),
    (lambda: one_node("Reshape", {"x": [2, 3], "s": np.array([-1, -1], np.int64)}), "-1"),
    (lambda: one_node("Conv", {"x": [1, 3, 8, 8], "w": w(4, 3, 3, 3)}, group="two"), "attribute group"),
    (lambda: one_node("ConstantOfShape", {"s": np.array([2, 2], np.int64)}, value=1.5), "attribute value"),
    (lambda: one_node("Cast", {"x": [2]}, to=1 << 62), "element type"),
    (lambda: one_node("Size", {"x": [1 << 31, 1 << 31]}), "absurd"),
])
def test_broken_values_are_one_clear_error(model: object, needle: str) -> None:
    with pytest.raises(onnxcost.ModelError, match=needle):
        onnxcost.analyze(model())  # type: ignore[operator]


def test_undecodable_constants() -> None:
    for mutate in (lambda t: setattr(t, "raw_data", t.raw_data[:3]), lambda t: setattr(t, "data_type", 999),
                   lambda t: setattr(t, "data_type", 0)):
        value = numpy_helper.from_array(np.array([2, 3], np.int64))
        mutate(value)
        g = helper.make_graph([helper.make_node("Constant", [], ["s"], value=value),
                               helper.make_node("Reshape", ["x", "s"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        with pytest.raises(onnxcost.ModelError):
            onnxcost.analyze(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))


def test_negative_initializer_dims_never_give_negative_macs() -> None:
    # an RNN weight declared [1, 4, -40] used to give MACs of -720
    model = one_node("RNN", {"x": [5, 1, 3], "W": w(1, 4, 3), "R": w(1, 4, 4)}, hidden_size=4)
    model.graph.initializer[0].dims[2] = -40
    with pytest.raises(onnxcost.ModelError, match="negative dims"):
        onnxcost.analyze(model)


def test_sparse_initializer_and_size_of_unknown_shape() -> None:
    values = numpy_helper.from_array(np.ones(2, np.float32), "sw")
    indices = numpy_helper.from_array(np.array([0, 3], np.int64), "si")
    g = helper.make_graph([helper.make_node("Add", ["x", "sw"], ["y"]), helper.make_node("Size", ["u"], ["n"])],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2]),
                                helper.make_tensor_value_info("u", TensorProto.FLOAT, None)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("n", TensorProto.INT64, None)],
                          sparse_initializer=[helper.make_sparse_tensor(values, indices, [2, 2])])
    rep = onnxcost.analyze(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    assert rep.nodes[0].flops == 4 and rep.outputs[1].shape == []


def test_long_folded_chain_and_wide_graph_are_bounded() -> None:
    from tests.fuzzing import _chain, _wide

    rep = onnxcost.analyze(_chain(3000, folded=True))
    assert rep.totals.macs == 64 and rep.totals.params == 16
    rep = onnxcost.analyze(_wide(2000), schedule_budget=0.5)  # 2,000 parallel Relus: took 53 s with 1 s
    assert rep.totals.peak_memory_bytes is not None


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"dims": {"batch": None}}, "dims"), ({"dims": {"batch": -1}}, "non-negative"), ({"input_shapes": {"x": 5}}, "x"),
    ({"schedule_budget": "5"}, "schedule_budget"), ({"profile": 5}, "profile"), ({"batch": -1}, "batch"),
])
def test_api_arguments_of_the_wrong_type_are_config_errors(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(onnxcost.ConfigError, match=needle):
        onnxcost.analyze(one_node("Relu", {"x": [2]}), **kwargs)  # type: ignore[arg-type]


def test_arena_without_activations(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    const = helper.make_node("Constant", [], ["y"], value=numpy_helper.from_array(np.ones(3, np.float32)))
    g = helper.make_graph([const], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "c.onnx"
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert _run(["report", str(path), "--arena"], capsys)[0] == 0


@pytest.mark.parametrize("args", [
    [], ["report", "x" * 5000 + ".onnx"], ["report", "models/alexnet.onnx", "--input-shape", "input=1x3x¹x2"],
    ["report", "models/alexnet.onnx", "--dim", "batch=-1"],
])
def test_cli_misuse_is_one_line_and_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(args, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "error" in err and "internal" not in err


@pytest.mark.parametrize(("budget", "needle"), [
    ('macs = -5', "macs"), ('macs = nan', "macs"), ('macs = inf', "macs"), ('macs = 1e999', "macs"),
    ('macs = "1e999"', "macs"), ('max_increase = -5', "max_increase"), ('latency_ms = -1\nprofile = "t4"', "latency"),
    ('opset = { min = 20, max = 10 }', "opset"),
])
def test_impossible_budgets_are_exit_2_naming_the_key(budget: str, needle: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "onnxcost.toml"
    cfg.write_text(f'[budgets."m/*.onnx"]\n{budget}\n')
    code, _, err = _run(["check", "--config", str(cfg)], capsys)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text", ['[budgets]\n"m/*.onnx" = 5\n', '[budgets.""]\nmacs = 1\n',
                                  '[budgets."/abs/*.onnx"]\nmacs = 1\n'])
def test_bad_budget_tables_name_their_key(text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "onnxcost.toml"
    cfg.write_text(text)
    code, _, err = _run(["check", "--config", str(cfg)], capsys)
    assert code == 2 and "budgets." in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("report", [{"totals": []}, {"totals": {"macs": "x"}, "by_op_type": {}, "nodes": []},
                                    {"totals": {}, "by_op_type": {"Conv": 3}, "nodes": []},
                                    {"totals": {}, "by_op_type": {}, "nodes": [{"name": 1}]}])
def test_diff_against_a_malformed_stored_report(report: dict[str, object], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    stored = tmp_path / "old.json"
    stored.write_text(json.dumps({"schema": "onnxcost.report/1", **report}))
    code, _, err = _run(["diff", str(stored), "models/alexnet.onnx"], capsys)
    assert code == 2 and "malformed" in err and len(err.strip().splitlines()) == 1


def test_invalid_utf8_in_repeated_and_nested_strings(tmp_path: Path) -> None:
    """A tensor name (a repeated string of the node, the name of a graph input) and a dim name (nested three
    messages deep), all invalid UTF-8: each reads as the same U+FFFD text, so references still match."""
    x = helper.make_tensor_value_info("QQQQ", TensorProto.FLOAT, ["DDDD", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Relu", ["QQQQ"], ["y"], name="r")], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString().replace(b"QQQQ", b"Q\xff\xfeQ").replace(b"DDDD", b"D\xc3DD"))
    rep = onnxcost.analyze(path, dims={"D\ufffdDD": 3})
    assert rep.inputs[0].name == "Q\ufffd\ufffdQ" and rep.inputs[0].shape == [3, 4]
    assert rep.totals.unknown_cost_nodes == 0 and rep.nodes[0].output_shapes == [[3, 4]]
