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
from onnxcost.base import symbolic
from tests.cost.test_llm_int4 import F as FFN
from tests.cost.test_llm_int4 import H, L, V, _llama


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
    from onnxcost.measure.sweep import sweep

    model, _ = _symbolic("gpt2")
    points = sweep(model, {"seq": [8, 33, 64]}, dims={"batch": 2}, profile="xeon-8480")
    assert [p.dims for p in points] == [{"seq": s, "batch": 2} for s in (8, 33, 64)]
    for p in points:
        single = onnxcost.analyze(model, dims=p.dims, profile="xeon-8480", schedule_budget=1.0)
        for key in ("macs", "flops", "activation_bytes", "params", "peak_memory_bytes", "latency_ms"):
            assert p.totals[key] == getattr(single.totals, key), key
    with pytest.raises(onnxcost.ConfigError, match="batch"):
        sweep(model, {"seq": [8, 16]})  # batch neither swept nor bound


def _yolo_like() -> onnx.ModelProto:
    """A YOLOv8-style graph on a dynamic image: strided convs with SiLU, a C2f-like Split/Concat, SPPF max
    pools, a 2x nearest Resize and a detection head flattened with Reshape(-1) and concatenated over scales."""
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def conv(x: str, c_in: int, c_out: int, k: int, s: int, name: str) -> str:
        inits.append(numpy_helper.from_array(np.zeros((c_out, c_in, k, k), np.float32), f"{name}.w"))
        nodes.append(helper.make_node("Conv", [x, f"{name}.w"], [f"{name}.c"], name=name, kernel_shape=[k, k],
                                      strides=[s, s], pads=[k // 2] * 4))
        nodes.append(helper.make_node("Sigmoid", [f"{name}.c"], [f"{name}.s"], name=f"{name}.sig"))
        nodes.append(helper.make_node("Mul", [f"{name}.c", f"{name}.s"], [name], name=f"{name}.silu"))
        return name

    def const(name: str, values: list[float] | list[int], dtype: type = np.int64) -> str:
        inits.append(numpy_helper.from_array(np.array(values, dtype), name))
        return name

    p1 = conv(conv("images", 3, 16, 3, 2, "stem"), 16, 32, 3, 2, "p1")
    nodes.append(helper.make_node("Split", [p1, const("halves", [16, 16])], ["a", "b"], name="split", axis=1))
    conv("b", 16, 16, 3, 1, "c2f.m")
    nodes.append(helper.make_node("Concat", ["a", "c2f.m"], ["cat"], name="cat", axis=1))
    c2f = conv("cat", 32, 32, 1, 1, "c2f")
    p2 = conv(c2f, 32, 64, 3, 2, "p2")
    pools = [p2]
    for k in range(3):
        nodes.append(helper.make_node("MaxPool", [pools[-1]], [f"pool{k}"], name=f"pool{k}", kernel_shape=[5, 5],
                                      strides=[1, 1], pads=[2, 2, 2, 2]))
        pools.append(f"pool{k}")
    nodes.append(helper.make_node("Concat", pools, ["sppf"], name="sppf", axis=1))
    nodes.append(helper.make_node("Resize", ["sppf", "", const("scales", [1.0, 1.0, 2.0, 2.0], np.float32)], ["up"],
                                  name="up", mode="nearest"))
    nodes.append(helper.make_node("Concat", ["up", c2f], ["neck"], name="neck", axis=1))
    heads = []
    for name, x, c in (("h1", "neck", 288), ("h2", "sppf", 256)):
        conv(x, c, 65, 1, 1, name)
        nodes.append(helper.make_node("Reshape", [name, const(f"{name}.shape", [1, 65, -1])], [f"{name}.flat"],
                                      name=f"{name}.flat"))
        heads.append(f"{name}.flat")
    nodes.append(helper.make_node("Concat", heads, ["out"], name="out", axis=2))
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "height", "width"])
    g = helper.make_graph(nodes, "yolo_like", [x], [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                          initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _ocr_like() -> onnx.ModelProto:
    """A PaddleOCR-rec-style graph: a 48-high text line of dynamic width, convs, AveragePool with ceil_mode,
    then the width as the sequence through Shape -> Gather -> Concat -> Reshape, Transpose and a MatMul."""
    nodes, inits = [], [numpy_helper.from_array(np.zeros((32, 3, 3, 3), np.float32), "w1"),
                        numpy_helper.from_array(np.zeros((64, 32, 3, 3), np.float32), "w2"),
                        numpy_helper.from_array(np.zeros((64 * 6, 97), np.float32), "fc"),
                        numpy_helper.from_array(np.array([0, 3], np.int64), "idx"),
                        numpy_helper.from_array(np.array([384], np.int64), "feat")]
    nodes += [helper.make_node("Conv", ["x", "w1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
              helper.make_node("HardSwish", ["c1"], ["a1"]),
              helper.make_node("AveragePool", ["a1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
              helper.make_node("Conv", ["p1", "w2"], ["c2"], strides=[2, 1], pads=[1, 1, 1, 1]),
              helper.make_node("Transpose", ["c2"], ["t"], perm=[0, 3, 1, 2]),
              helper.make_node("Shape", ["t"], ["s"]),
              helper.make_node("Gather", ["s", "idx"], ["bw"], axis=0),
              helper.make_node("Concat", ["bw", "feat"], ["target"], axis=0),
              helper.make_node("Reshape", ["t", "target"], ["seq_in"]),
              helper.make_node("MatMul", ["seq_in", "fc"], ["logits"])]
    # Gather idx [0, 3] picks batch and width: the target shape is [batch, width', 384]
    nodes[6] = helper.make_node("Gather", ["s", "idx"], ["bw"], axis=0)
    inits[3] = numpy_helper.from_array(np.array([0, 1], np.int64), "idx")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 48, "width"])
    g = helper.make_graph(nodes, "ocr_like", [x], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)],
                          initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(("make", "point"), [(_yolo_like, {"height": 320, "width": 320}),
                                             (_ocr_like, {"batch": 1, "width": 320})])
def test_detector_and_ocr_exports_analyse_with_no_options(make: object, point: dict[str, int]) -> None:
    model = make()  # type: ignore[operator]
    rep = onnxcost.analyze(model)  # no --dim: formulas, exit 0, no unknown node
    assert rep.totals.unknown_cost_nodes == 0 and rep.symbolic is not None
    bound = onnxcost.analyze(model, dims=point)
    assert bound.totals.unknown_cost_nodes == 0
    macs = symbolic.parse(rep.symbolic["totals"]["macs"])
    assert symbolic.evaluate(macs, point) == bound.totals.macs


def test_a_dim_for_other_models_is_a_warning_when_nothing_is_left_unbound() -> None:
    # a budget's dims cover a glob of models: one with every dim fixed just says the name matched nothing
    rep = onnxcost.analyze(zoo.lenet_1989(), dims={"batch": 1})
    assert any("dims['batch'] matches no dim" in w for w in rep.warnings)


def test_readable_formulas_put_the_highest_degree_first() -> None:
    # prefill of a decoder: 262,144·n² + 6,607,077,376·n; a conv net: the h·w terms before the linear ones
    assert symbolic.readable("6607077376*n + 262144*n**2") == "262 K·n**2 + 6.61 G·n"
    assert symbolic.readable("5*batch + 9*batch*height*width + 3") == "9·batch·height·width + 5·batch + 3"
