"""The Python API deployment pipelines import: typed results, no printing, typed exceptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import onnxcost
from models import zoo
from tests.helpers import one_node, w


def test_typed_report_matches_dict(capsys: pytest.CaptureFixture[str]) -> None:
    rep = onnxcost.analyze(zoo.resnet18())
    assert capsys.readouterr() == ("", "")  # no printing
    d = rep.to_dict()
    assert d["totals"]["macs"] == rep.totals.macs
    assert d["nodes"][0]["output_shapes"] == rep.nodes[0].output_shapes
    assert json.loads(rep.to_json()) == d
    assert isinstance(rep.totals.macs, int) and isinstance(rep.totals.params, int)


def test_model_error_is_typed(tmp_path: Path) -> None:
    p = tmp_path / "x.onnx"
    p.write_text("hello")
    with pytest.raises(onnxcost.ModelError):
        onnxcost.analyze(p)
    with pytest.raises(onnxcost.OnnxcostError):
        onnxcost.analyze(tmp_path / "absent.onnx")


def test_shared_weight_counts_once() -> None:
    # Two MatMuls read the same 8x8 weight: 64 parameters in the totals, 64 in each node.
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="a"),
             helper.make_node("MatMul", ["h", "w"], ["y"], name="b")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("y")],
                          initializer=[numpy_helper.from_array(w(8, 8), "w")])
    rep = onnxcost.analyze(helper.make_model(g))
    assert [n.params for n in rep.nodes] == [64, 64]
    assert rep.totals.params == 64 and rep.totals.param_bytes == 256
    assert isinstance(rep.graph, object) and onnx is not None


def test_unnamed_nodes_get_stable_unique_names() -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Neg", ["b"], ["c"], name="Relu_0")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("c")])
    names = [n.name for n in onnxcost.analyze(helper.make_model(g)).nodes]
    assert names[:2] == ["Relu_0", "Relu_1"] and len(set(names)) == 3
    assert names == [n.name for n in onnxcost.analyze(helper.make_model(g)).nodes]


def test_unsorted_file_is_ordered_topologically() -> None:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Neg", ["a"], ["b"], name="second"), helper.make_node("Relu", ["x"], ["a"],
                                                                                     name="first")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("b")])
    assert onnxcost.analyze(helper.make_model(g)).schedule == ["first", "second"]


def test_peak_memory_by_hand() -> None:
    # x(4 floats) -> Relu a -> Relu b ; and x -> Neg c ; Add(b, c) -> y. File order: a, b, c, y.
    # bytes: every tensor 16. step a: x,a = 32; step b: x,a,b = 48; step c: x,b,c = 48; step y: b,c,y = 48
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ra"), helper.make_node("Relu", ["a"], ["b"], name="rb"),
             helper.make_node("Neg", ["x"], ["c"], name="nc"), helper.make_node("Add", ["b", "c"], ["y"], name="ad")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("y")])
    rep = onnxcost.analyze(helper.make_model(g))
    assert rep.totals.activation_bytes == 5 * 16
    assert rep.totals.peak_memory_bytes == 48


def test_folded_constant_chain_is_free_and_counted_once() -> None:
    # w (3x4) -> Transpose (all-constant, folded by runtimes) -> MatMul: params are the folded 4x3 tensor
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    nodes = [helper.make_node("Transpose", ["w"], ["wt"], name="t"),
             helper.make_node("MatMul", ["x", "wt"], ["y"], name="mm")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_empty_tensor_value_info("y")],
                          initializer=[numpy_helper.from_array(np.zeros((3, 4), np.float32), "w")])
    rep = onnxcost.analyze(helper.make_model(g))
    assert rep.nodes[0].folded and rep.nodes[0].macs == 0
    assert rep.totals.params == 12 and rep.totals.macs == 2 * 4 * 3


def test_onnx_fallback_for_ops_without_shape_rule() -> None:
    # GridSample has no shape function here; ONNX's own inference gives its shape, and its cost follows:
    # 1·2·3·4 = 24 outputs, each 4 FLOPs to unnormalise the grid point + 7 for the bilinear taps = 264
    rep = onnxcost.analyze(one_node("GridSample", {"x": [1, 2, 5, 5], "g": [1, 3, 4, 2]}))
    assert rep.nodes[0].output_shapes == [[1, 2, 3, 4]]
    assert rep.nodes[0].macs == 0 and rep.nodes[0].flops == 264 and rep.totals.unknown_cost_nodes == 0


def test_to_dataframe() -> None:
    rep = onnxcost.analyze("models/alexnet.onnx")
    frame = rep.to_dataframe()
    assert list(frame["name"]) == [n.name for n in rep.nodes]
    assert int(frame["macs"].sum()) == rep.totals.macs == 724_406_816


@pytest.mark.parametrize("bound", [True, False])
def test_an_analysis_pauses_the_cycle_collector_and_leaves_no_cycles(bound: bool) -> None:
    """analyze() pauses Python's cycle collector (its records would be walked by every collection) and gives it
    back as it found it; that is safe because a static analysis makes no reference cycles: everything it
    allocates goes by reference counting. A real export with Constant nodes, Shape arithmetic and a Loop."""
    import gc

    from tests.corpus import EXPORTS

    given = {"loop_over_rows": {"x": [5, 2, 32], "h": [2, 32]},
             "bert_legacy": {"input_ids": [2, 16], "attention_mask": [2, 16]}}
    for model, shapes in given.items():
        gc.collect()
        gc.disable()
        try:
            onnxcost.analyze(EXPORTS / f"{model}.onnx", input_shapes=shapes if bound else None)
            assert not gc.isenabled()  # left as it was: off
            left = gc.collect()
        finally:
            gc.enable()
        # a free dim brings sympy, whose caches hold a few cycles of their own; a bound model makes none
        assert left == 0 if bound else left < 2_000
    onnxcost.analyze(EXPORTS / "loop_over_rows.onnx")
    assert gc.isenabled()  # left as it was: on
