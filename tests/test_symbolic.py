"""Unbound dims stay symbols: totals are formulas, and any formula evaluated at a point equals the concrete
analysis at that point (hypothesis over models and points); checks that need values become conditions."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from benchmarks.gpt2_like import Dims
from benchmarks.gpt2_like import build as gpt2
from models import zoo
from onnxcost import symbolic
from tests.test_llm_int4 import F as FFN
from tests.test_llm_int4 import H, L, V, _llama


def _dynamic(model: onnx.ModelProto, names: list[str | None]) -> onnx.ModelProto:
    for d, name in zip(model.graph.input[0].type.tensor_type.shape.dim, names, strict=False):
        if name:
            d.Clear()
            d.dim_param = name
    return model


MODELS = {
    "resnet18": lambda: _dynamic(zoo.resnet18(), ["batch", None, "height", "width"]),
    "mobilenet": lambda: _dynamic(zoo.mobilenet_v1(), [None, None, "height", "width"]),
    "gpt2": lambda: gpt2(True, Dims(vocab=96, ctx=64, d=64, heads=4, layers=2)),
    "llama": _llama,
}
CACHE: dict[str, tuple[onnx.ModelProto, onnxcost.Report]] = {}


def _symbolic(name: str) -> tuple[onnx.ModelProto, onnxcost.Report]:
    if name not in CACHE:
        model = MODELS[name]()
        CACHE[name] = (model, onnxcost.analyze(model))
    return CACHE[name]


def _points(name: str) -> st.SearchStrategy[dict[str, int]]:
    if name in ("resnet18", "mobilenet"):
        return st.fixed_dictionaries({"batch": st.integers(1, 3), "height": st.integers(32, 120),
                                      "width": st.integers(32, 120)})
    if name == "gpt2":
        return st.fixed_dictionaries({"batch": st.integers(1, 4), "seq": st.integers(1, 64)})
    return st.integers(1, 8).flatmap(lambda s: st.integers(0, 12).map(
        lambda p: {"batch": 1, "seq": s, "past": p, "total": p + s}))


@pytest.mark.parametrize("name", list(MODELS))
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_formulas_equal_the_concrete_analysis(name: str, data: st.DataObject) -> None:
    model, rep = _symbolic(name)
    point = data.draw(_points(name))
    dims = {k: v for k, v in point.items() if k in rep.symbolic["symbols"]}  # type: ignore[index]
    concrete = onnxcost.analyze(model, dims=dims)
    assert concrete.symbolic is None and concrete.totals.unknown_cost_nodes == 0
    formulas = rep.symbolic["totals"]  # type: ignore[index]
    for key in ("macs", "flops", "activation_bytes"):
        expr = sympy.sympify(formulas[key])
        assert symbolic.evaluate(expr, dims) == getattr(concrete.totals, key), key
    assert formulas["params"] == concrete.totals.params


def test_llama_formula_is_the_closed_form() -> None:
    _, rep = _symbolic("llama")
    assert rep.totals.macs is None and rep.totals.unknown_cost_nodes == 0
    b, s, p, t = (sympy.Symbol(k) for k in ("batch", "seq", "past", "total"))
    macs = sympy.sympify(rep.symbolic["totals"]["macs"]).subs(t, p + s)  # type: ignore[index]
    closed = L * (4 * b * s * H * H + 3 * b * s * H * FFN + 2 * b * s * (p + s) * H) + b * s * H * V
    assert sympy.expand(macs - closed) == 0


def test_unbound_image_dims_are_no_false_error() -> None:
    # a 3x3 average pool on a dynamic image: valid only when the image is at least 3 wide, which is a
    # stated condition, not "window larger than input" at a made-up size of 1
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, "h", "w"])
    nodes = [helper.make_node("Conv", ["x", "k"], ["c"], name="conv", kernel_shape=[3, 3]),
             helper.make_node("AveragePool", ["c"], ["y"], name="pool", kernel_shape=[3, 3], strides=[2, 2])]
    g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=[numpy_helper.from_array(np.zeros((4, 8, 3, 3), np.float32), "k")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    rep = onnxcost.analyze(model)
    assert any("valid only when" in w and "h" in w for w in rep.warnings)
    macs = sympy.sympify(rep.symbolic["totals"]["macs"])  # type: ignore[index]
    assert symbolic.evaluate(macs, {"h": 32, "w": 32}) == onnxcost.analyze(model, dims={"h": 32, "w": 32}).totals.macs
    assert rep.outputs[0].shape == [1, 4, "floor(h/2 - 5/2) + 1", "floor(w/2 - 5/2) + 1"]


def test_unnamed_dims_get_input_axis_names_and_bind() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 8])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x],
                          [helper.make_empty_tensor_value_info("y")],
                          initializer=[numpy_helper.from_array(np.zeros((8, 4), np.float32), "w")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    rep = onnxcost.analyze(model)
    assert rep.symbolic["symbols"] == {"x_0": {"dim": None, "input": "x", "axis": 0}}  # type: ignore[index]
    assert rep.symbolic["totals"]["macs"] == "32*x_0"  # type: ignore[index]
    assert onnxcost.analyze(model, dims={"x_0": 5}).totals.macs == 160
    with pytest.raises(onnxcost.ConfigError, match="x_0"):
        onnxcost.analyze(model, dims={"batch": 5})


def test_sweep_points_equal_single_reports(tmp_path: object) -> None:
    from onnxcost.sweep import sweep

    model, _ = _symbolic("gpt2")
    points = sweep(model, {"seq": [8, 33, 64]}, dims={"batch": 2}, profile="xeon-8480")
    assert [p.dims for p in points] == [{"seq": s, "batch": 2} for s in (8, 33, 64)]
    for p in points:
        single = onnxcost.analyze(model, dims=p.dims, profile="xeon-8480", schedule_budget=1.0)
        for key in ("macs", "flops", "activation_bytes", "params", "peak_memory_bytes", "latency_ms"):
            assert p.totals[key] == getattr(single.totals, key), key
    with pytest.raises(onnxcost.ConfigError, match="batch"):
        sweep(model, {"seq": [8, 16]})  # batch neither swept nor bound
