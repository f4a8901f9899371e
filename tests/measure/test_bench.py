"""`bench`: onnxruntime timings beside the estimate, inputs at the bound dims, kernel names joined to nodes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from models import zoo
from onnxcost.cli.app import main


def _runnable(tmp_path: Path) -> Path:
    path = tmp_path / "resnet18_32.onnx"
    onnx.save_model(zoo.resnet18("random", size=32), str(path))
    return path


def test_bench_small_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _runnable(tmp_path)
    code = main(["bench", str(path), "--runs", "3", "--warmup", "1", "--per-node", "--threads", "1",
                 "--profile", "raspberry-pi-4", "-f", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data["latency_ms"]) == {"min", "p50", "p90", "mean"}
    assert data["latency_ms"]["min"] <= data["latency_ms"]["p50"] <= data["latency_ms"]["p90"]
    assert data["runs"] == 3 and data["threads"] == 1 and data["provider"] == "CPUExecutionProvider"
    assert data["estimate_ms"] > 0
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["conv1"]["measured_us"] > 0 and nodes["conv1"]["estimated_us"] > 0
    assert nodes["relu1"].get("fused_into") == "conv1"  # onnxruntime fuses BN and ReLU into the conv
    assert all({"name", "op_type", "measured_us", "estimated_us"} <= set(n) for n in data["nodes"])
    assert main(["bench", str(path), "--runs", "2", "--warmup", "0"]) == 0
    assert "p50 ms" in capsys.readouterr().out


def test_bench_without_weights_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "graph_only.onnx"
    onnx.save_model(zoo.lenet_1989(), str(path))
    assert main(["bench", str(path), "--runs", "1"]) == 2
    err = capsys.readouterr().err
    assert "needs its weights" in err and err.count("\n") == 1


def test_bench_inputs_follow_bound_dims(tmp_path: Path) -> None:
    from onnxcost.measure.bench import bench

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
                          initializer=[numpy_helper.from_array(np.ones((8, 4), np.float32), "w")])
    path = tmp_path / "dyn.onnx"
    onnx.save_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    result = bench(path, dims={"batch": 16}, runs=2, warmup=0, threads=1)
    assert result.runs == 2 and result.latency_ms["mean"] > 0


def test_profile_join_handles_fused_kernel_names() -> None:
    """onnxruntime's kernel names: a node's own, '<output>_nchwc' after layout fusion, '<node>/…Fusion/'."""
    from onnxcost.measure.bench import join_profile

    rep = onnxcost.analyze(zoo.resnet18())
    events = [
        {"cat": "Node", "name": "relu1_out_nchwc_kernel_time", "dur": 300, "args": {"op_name": "Conv"}},
        {"cat": "Node", "name": "maxpool1_kernel_time", "dur": 40, "args": {"op_name": "MaxPool"}},
        {"cat": "Node", "name": "gemm1/QuickGeluFusion/_kernel_time", "dur": 20, "args": {"op_name": "QuickGelu"}},
        {"cat": "Node", "name": "ReorderOutput_token_7_kernel_time", "dur": 10, "args": {"op_name": "ReorderOutput"}},
        {"cat": "Session", "name": "model_run", "dur": 999, "args": {}},
    ]
    measured, fused, unmatched = join_profile(events, rep, runs=2)
    assert measured == {"conv1": 150.0, "maxpool1": 20.0, "gemm1": 10.0}
    assert fused == {"relu1": "conv1", "batchnormalization1": "conv1"}
    assert unmatched == {"ReorderOutput": 5.0}


def test_bench_reports_planned_and_measured_memory(tmp_path: Path) -> None:
    from onnxcost.measure.bench import bench

    path = tmp_path / "lenet.onnx"
    onnx.save_model(zoo.lenet_1989("random"), str(path))
    result = bench(path, runs=2, warmup=0, threads=1)
    assert result.planned_peak_bytes == onnxcost.analyze(path).totals.peak_memory_bytes
    assert result.run_rss_growth_bytes is not None and result.run_rss_growth_bytes >= 0
    assert result.session_rss_bytes is not None and result.session_rss_bytes > 0
    assert result.to_dict()["planned_peak_bytes"] == result.planned_peak_bytes


def test_bench_keeps_onnxruntime_log_lines_off_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # an unused initializer makes onnxruntime print a coloured "[W:onnxruntime:...] Removing initializer"
    # line at its default severity; bench must show only its own one-line messages
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
                          initializer=[numpy_helper.from_array(np.ones(4, np.float32), "unused_w")])
    path = tmp_path / "unused.onnx"
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, str(path))
    assert main(["bench", str(path), "--runs", "2", "--warmup", "0", "--per-node"]) == 0
    err = capfd.readouterr().err
    assert "onnxruntime:" not in err and "\x1b[" not in err
