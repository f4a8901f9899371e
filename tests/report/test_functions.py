"""Model-local functions (an onnxscript export): inlined nodes are named by their call path, and the report
gives each function's subtotal over its call sites, nested calls included."""

from __future__ import annotations

from pathlib import Path

import onnxcost

MODEL = Path(__file__).resolve().parents[2] / "corpus" / "exports" / "onnxscript_functions.onnx"
SHAPES = {"x": [4, 32], "w1": [32, 64], "b1": [64], "w2": [64, 8], "b2": [8]}


def test_inlined_nodes_keep_their_call_path() -> None:
    report = onnxcost.analyze(MODEL, input_shapes=SHAPES)
    names = [n.name for n in report.nodes]
    # two calls of `dense` (n0, n1), each calling `gelu_tanh` from its node n2
    assert {name.split("/")[0] for name in names} == {"n0", "n0.n2", "n1", "n1.n2"}
    matmuls = [n for n in report.nodes if n.op_type == "MatMul"]
    assert [n.name.split("/")[0] for n in matmuls] == ["n0", "n1"]


def test_function_subtotals_include_nested_calls() -> None:
    report = onnxcost.analyze(MODEL, input_shapes=SHAPES)
    dense, gelu = report.by_function["dense"], report.by_function["gelu_tanh"]
    assert dense.calls == 2 and gelu.calls == 2
    # dense is x @ w1 ([4,32] x [32,64]) then h @ w2 ([4,64] x [64,8]): every MAC of the model
    assert dense.macs == 4 * 32 * 64 + 4 * 64 * 8 == report.totals.macs
    # gelu_tanh's FLOPs are the sum of its own nodes, and part of dense's (it is called from dense)
    gelu_nodes = [n for n in report.nodes if ".n2/" in n.name]
    assert gelu.nodes == len(gelu_nodes) and gelu.flops == sum(n.flops or 0 for n in gelu_nodes)
    assert dense.flops == report.totals.flops and dense.nodes == len(report.nodes)
    assert set(report.to_dict()["by_function"]) == {"dense", "gelu_tanh"}


def test_a_model_without_functions_has_no_function_section() -> None:
    from models import zoo

    report = onnxcost.analyze(zoo.lenet_1989())
    assert report.by_function == {} and "by_function" not in report.to_dict()
