"""Fusions read from the graph onnxruntime optimizes (latency/runtime.py) rather than assumed from patterns:
onnxruntime fuses a conv's activation into it, but runs a hard-swish's Clip, Div and Mul as kernels of their
own, which the pattern rules chain together."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from onnxcost.base.errors import ConfigError

F = TensorProto.FLOAT


def _conv_hardswish(path: Path) -> Path:
    """Conv -> Relu -> hard-swish written out (x * clip(x + 3, 0, 6) / 6), as Paddle exports it."""
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Add", ["r", "three"], ["a"], name="add3"),
             helper.make_node("Clip", ["a", "zero", "six"], ["k"], name="clip"),
             helper.make_node("Div", ["k", "six"], ["d"], name="div"),
             helper.make_node("Mul", ["r", "d"], ["y"], name="mul")]
    inits = [numpy_helper.from_array(np.random.default_rng(0).standard_normal((16, 8, 3, 3)).astype(np.float32),
                                     "w"),
             numpy_helper.from_array(np.zeros(16, np.float32), "b"),
             numpy_helper.from_array(np.array(3.0, np.float32), "three"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
             numpy_helper.from_array(np.array(6.0, np.float32), "six")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [1, 8, 32, 32])],
                              [helper.make_tensor_value_info("y", F, [1, 16, 32, 32])], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path / "m.onnx")
    return path / "m.onnx"


def _vanished_by_onnxruntime(model: Path) -> set[str]:
    """Independently of onnxcost: the node outputs onnxruntime's optimized graph no longer holds."""
    optimized = model.with_suffix(".opt.onnx")
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    kept = {t for n in onnx.load(optimized).graph.node for t in (*n.input, *n.output)}
    return {t for n in onnx.load(model).graph.node for t in n.output if t not in kept}


def test_nodes_run_fused_exactly_where_onnxruntime_fuses_them(tmp_path: Path) -> None:
    model = _conv_hardswish(tmp_path)
    gone = _vanished_by_onnxruntime(model)
    assert "c" in gone and not gone & {"r", "a", "k", "d"}  # onnxruntime: Conv+Relu one kernel, the rest apart
    report = onnxcost.analyze(model, profile="xeon-8480", fusions="onnxruntime")
    fused = {n.name for n in report.nodes if n.bound == "fused"}
    assert fused == {"relu"}  # the conv's activation runs inside the conv's kernel; nothing else does
    guessed = onnxcost.analyze(model, profile="xeon-8480")
    assert {n.name for n in guessed.nodes if n.bound == "fused"} >= {"add3", "clip", "div"}  # the rules chain them
    assert report.totals.latency_ms is not None and guessed.totals.latency_ms is not None
    assert report.totals.latency_ms > guessed.totals.latency_ms


def test_the_optimized_graph_is_read_once_per_model(tmp_path: Path) -> None:
    model = _conv_hardswish(tmp_path)
    onnxcost.analyze(model, profile="xeon-8480", fusions="onnxruntime")
    cached = list(Path(os.environ["ONNXCOST_CACHE"]).glob("*.json"))
    assert cached and all(str(tmp_path) not in str(c) for c in cached)
    first = onnxcost.analyze(model, profile="xeon-8480", fusions="onnxruntime")
    assert len(list(Path(os.environ["ONNXCOST_CACHE"]).glob("*.json"))) == len(cached)
    assert first.totals.latency_ms is not None


def test_a_graph_only_export_falls_back_to_the_pattern_rules(tmp_path: Path) -> None:
    """Weights in an external file that is not there: onnxruntime cannot open it, and says why."""
    model = onnx.load(_conv_hardswish(tmp_path))
    onnx.save(model, tmp_path / "graph.onnx", save_as_external_data=True, location="graph.weights",
              size_threshold=0)
    (tmp_path / "graph.weights").unlink()
    report = onnxcost.analyze(tmp_path / "graph.onnx", profile="xeon-8480", fusions="onnxruntime")
    assert any(w.startswith("onnxruntime could not open the model") for w in report.warnings)
    assert report.totals.latency_ms == onnxcost.analyze(tmp_path / "graph.onnx", profile="xeon-8480").totals.latency_ms


def test_fusions_is_checked() -> None:
    with pytest.raises(ConfigError, match="fusions"):
        onnxcost.analyze(onnx.ModelProto(), fusions="guess")


def _qdq_matmul(path: Path) -> Path:
    """x -> QuantizeLinear -> DequantizeLinear -> MatMul by a DequantizeLinear'd int8 weight: the QDQ form
    quantization tools write, which onnxruntime folds into one integer kernel."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_x"),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], name="dq_w"),
             helper.make_node("MatMul", ["xd", "wd"], ["y"], name="matmul")]
    inits = [numpy_helper.from_array(np.array(0.1, np.float32), "s"),
             numpy_helper.from_array(np.array(0, np.int8), "z"),
             numpy_helper.from_array(np.ones((256, 256), np.int8), "wq"),
             numpy_helper.from_array(np.array(0.1, np.float32), "ws"),
             numpy_helper.from_array(np.array(0, np.int8), "wz")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [64, 256])],
                              [helper.make_tensor_value_info("y", F, [64, 256])], initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path / "qdq.onnx")
    return path / "qdq.onnx"


def test_a_qdq_group_onnxruntime_folds_runs_on_the_integer_path(tmp_path: Path) -> None:
    model = _qdq_matmul(tmp_path)
    assert "xd" in _vanished_by_onnxruntime(model)  # folded into one integer kernel with the MatMul
    profile = tmp_path / "p.toml"
    profile.write_text("launch_overhead_us = 0\n[peak_flops]\nfp32 = 1e9\nint8 = 4e9\n[memory]\nbandwidth = 1e15\n"
                       "[efficiency]\ndense = 1.0\nelementwise = 1.0\n")
    observed = onnxcost.analyze(model, profile=str(profile), fusions="onnxruntime")
    guessed = onnxcost.analyze(model, profile=str(profile))
    flops = 2 * 64 * 256 * 256
    by_name = {n.name: n for n in observed.nodes}
    assert by_name["matmul"].latency_us is not None
    assert by_name["matmul"].latency_us < flops / 1e9 * 1e6 / 2  # at the int8 peak, not the float32 one
    assert {n.name: n for n in guessed.nodes}["matmul"].latency_us == pytest.approx(flops / 1e9 * 1e6, rel=0.05)


def test_a_qdq_softmax_costs_what_onnxruntimes_quantized_softmax_takes(tmp_path: Path) -> None:
    """DequantizeLinear -> Softmax -> QuantizeLinear: onnxruntime runs the three as one QLinearSoftmax (about 5x a
    float Softmax's time here); read from its graph, the kernel costs quantized_softmax_ns an element."""
    from dataclasses import replace

    from onnxcost.latency.profiles import load_profile
    from onnxcost.measure.microbench import quantized_softmax

    model = quantized_softmax([1, 6, 40, 40])
    onnx.save(model, tmp_path / "qs.onnx")
    optimized = tmp_path / "opt.onnx"
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(str(tmp_path / "qs.onnx"), options, providers=["CPUExecutionProvider"])
    assert [n.op_type for n in onnx.load(optimized).graph.node] == ["QLinearSoftmax"]  # independently of onnxcost
    base = load_profile("xeon-8480")
    profile = replace(base, quantized_softmax_ns=2.0)
    report = onnxcost.analyze(tmp_path / "qs.onnx", profile=profile, fusions="onnxruntime")
    by_op = {n.op_type: n for n in report.nodes}
    assert by_op["QuantizeLinear"].latency_us == pytest.approx(6 * 40 * 40 * 2.0 / 1e3 + base.launch_overhead_us)
    assert by_op["Softmax"].bound == "fused" and by_op["DequantizeLinear"].bound == "fused"
    # without the term (a profile that never timed it), or by the pattern rules, the FLOPs' time as before
    plain = onnxcost.analyze(tmp_path / "qs.onnx", profile=base, fusions="onnxruntime")
    plain_us = {n.op_type: n for n in plain.nodes}["QuantizeLinear"].latency_us
    assert plain_us is not None and plain_us < 6 * 40 * 40 * 2.0 / 1e3
    guessed = onnxcost.analyze(tmp_path / "qs.onnx", profile=profile)
    assert guessed.totals.latency_ms == pytest.approx(onnxcost.analyze(tmp_path / "qs.onnx", profile=base)
                                                      .totals.latency_ms)
