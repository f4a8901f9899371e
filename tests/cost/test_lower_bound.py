"""A total over nodes of unknown cost is a lower bound, and every output says so."""

from __future__ import annotations

from onnx import TensorProto, helper

import onnxcost
from onnxcost.report import html
from onnxcost.report import render as formats


def _matmuls_after_an_unknown_op() -> object:
    """x -> Unique-like op of no known cost (a custom domain) -> MatMul with a [8, 8] weight, three times."""
    nodes = [helper.make_node("Mystery", ["x"], ["u"], domain="custom.domain")]
    prev = "x"
    for k in range(3):
        nodes.append(helper.make_node("MatMul", [prev, f"w{k}"], [f"y{k}"]))
        prev = f"y{k}"
    inits = [helper.make_tensor(f"w{k}", TensorProto.FLOAT, [8, 8], [0.0] * 64) for k in range(3)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
                              [helper.make_tensor_value_info("y2", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("u", TensorProto.FLOAT, None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("custom.domain", 1)]
    return helper.make_model(graph, opset_imports=opsets)


def test_unknown_nodes_make_the_totals_a_lower_bound() -> None:
    report = onnxcost.analyze(_matmuls_after_an_unknown_op())  # type: ignore[arg-type]
    # the three MatMuls: 4 x 8 x 8 = 256 MACs each, 768 in all; the Mystery node is unknown
    assert report.totals.macs == 768
    assert report.totals.unknown_cost_nodes == 1
    assert report.to_dict()["totals"]["lower_bound"] is True
    rows = dict(formats._totals_rows(report))
    assert rows["MACs"].startswith("≥ ") and "(1 nodes unknown)" in rows["MACs"]
    assert "≥ 768 MAC (1 nodes unknown)" in html.page(report)


def test_known_totals_are_no_bound() -> None:
    model = _matmuls_after_an_unknown_op()
    model.graph.node[0].CopyFrom(helper.make_node("Relu", ["x"], ["u"]))  # type: ignore[attr-defined]
    report = onnxcost.analyze(model)  # type: ignore[arg-type]
    assert report.totals.lower_bound is False
    assert not dict(formats._totals_rows(report))["MACs"].startswith("≥")
