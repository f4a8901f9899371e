"""Property tests: random Conv/pooling configurations against onnxruntime's own output shapes and the MAC
formula, and the FLOPs >= 2 x MACs invariant."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import onnxcost


def _run_shape(model: onnx.ModelProto) -> tuple[int, ...]:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = sess.get_inputs()[0]
    out = sess.run(None, {x.name: np.zeros(x.shape, dtype=np.float32)})[0]
    return tuple(out.shape)


@st.composite
def conv_case(draw: st.DrawFn) -> dict:
    group = draw(st.sampled_from([1, 1, 2, 3, 4]))
    c_in = group * draw(st.integers(1, 3))
    c_out = group * draw(st.integers(1, 3))
    k = draw(st.integers(1, 4))
    stride, dil = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pads = [draw(st.integers(0, k - 1)) for _ in range(4)]
    eff = (k - 1) * dil + 1
    hw = draw(st.integers(max(1, eff - min(pads[0] + pads[2], pads[1] + pads[3])), 12))
    auto_pad = draw(st.sampled_from(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    if auto_pad == "VALID" and hw < eff:
        hw = eff
    return {"n": draw(st.integers(1, 2)), "c_in": c_in, "c_out": c_out, "k": k, "stride": stride, "dil": dil,
            "pads": pads, "hw": hw, "group": group, "auto_pad": auto_pad, "bias": draw(st.booleans())}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_case())
def test_conv_shapes_and_macs_match_onnxruntime(case: dict) -> None:
    c = case
    attrs = {"kernel_shape": [c["k"], c["k"]], "strides": [c["stride"]] * 2, "dilations": [c["dil"]] * 2,
             "group": c["group"], "auto_pad": c["auto_pad"]}
    if c["auto_pad"] == "NOTSET":
        attrs["pads"] = c["pads"]
    inits = [numpy_helper.from_array(np.zeros((c["c_out"], c["c_in"] // c["group"], c["k"], c["k"]), np.float32), "w")]
    ins = ["x", "w"]
    if c["bias"]:
        inits.append(numpy_helper.from_array(np.zeros(c["c_out"], np.float32), "b"))
        ins.append("b")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [c["n"], c["c_in"], c["hw"], c["hw"]])
    g = helper.make_graph([helper.make_node("Conv", ins, ["y"], **attrs)], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    try:
        expected = _run_shape(model)
    except Exception:  # noqa: BLE001 - a configuration onnxruntime rejects is out of scope here
        return
    node = onnxcost.analyze(model).nodes[0]
    assert tuple(node.output_shapes[0] or ()) == expected
    macs = math.prod(expected) * (c["c_in"] // c["group"]) * c["k"] * c["k"]
    assert node.macs == macs
    assert node.flops == 2 * macs + (math.prod(expected) if c["bias"] else 0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["MaxPool", "AveragePool"]), st.integers(1, 4), st.integers(1, 3), st.integers(0, 1),
       st.integers(4, 13), st.booleans())
def test_pool_shapes_match_onnxruntime(op: str, k: int, stride: int, pad: int, hw: int, ceil: bool) -> None:
    pad = min(pad, k - 1)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, hw, hw])
    node = helper.make_node(op, ["x"], ["y"], kernel_shape=[k, k], strides=[stride] * 2, pads=[pad] * 4,
                            ceil_mode=int(ceil))
    g = helper.make_graph([node], "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    rep = onnxcost.analyze(model)
    assert tuple(rep.nodes[0].output_shapes[0] or ()) == _run_shape(model)
    assert rep.nodes[0].flops == math.prod(rep.nodes[0].output_shapes[0] or ()) * k * k


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
def test_matmul_broadcast_macs(batch: list[int], m: int, k: int, n: int) -> None:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [*batch, m, k])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n])
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"])], "g", [a, b],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    node = onnxcost.analyze(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])).nodes[0]
    assert node.macs == math.prod(batch) * m * k * n
    assert node.flops is not None and node.macs is not None and node.flops >= 2 * node.macs
