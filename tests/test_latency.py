"""Hardware profiles, the roofline arithmetic by hand, fusion, `bench` on a small model, `calibrate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from models import zoo
from onnxcost import ConfigError
from onnxcost.cli.app import main
from onnxcost.latency.profiles import available, load_profile
from onnxcost.measure.calibrate import Measurement
from tests.helpers import known, one_node, w

PROFILE = """name = "unit"
kind = "cpu"
launch_overhead_us = 1.0
run_overhead_us = 10.0
fusion = {fusion}
[peak_flops]
fp32 = 1e9
[memory]
bandwidth = 1e9
[efficiency]
dense = 0.5
elementwise = 0.25
"""


@pytest.fixture()
def unit_profile(tmp_path: Path) -> Path:
    p = tmp_path / "unit.toml"
    p.write_text(PROFILE.format(fusion="false"))
    return p


def test_shipped_profiles_load() -> None:
    names = set(available())
    assert {"cortex-m7", "raspberry-pi-4", "raspberry-pi-5", "jetson-orin", "apple-m2", "xeon-8480", "nvidia-t4",
            "nvidia-a100", "nvidia-h100"} <= names
    for name in names:
        p = load_profile(name)
        assert p.peak_flops["fp32"] > 0 and p.bandwidth > 0
        assert all(0 < v <= 1 for v in p.efficiency.values())


def test_roofline_by_hand(unit_profile: Path) -> None:
    # MatMul [64,64] x [64,64]: 2*64^3 = 524,288 FLOPs; bytes 3 * 64*64*4 = 49,152.
    # compute 524,288 / (1e9 * 0.5) = 1,048.576 µs > memory 49.152 µs: compute-bound, + 1 µs launch
    rep = onnxcost.analyze(one_node("MatMul", {"a": [64, 64], "w": w(64, 64)}), profile=str(unit_profile))
    n = rep.nodes[0]
    assert n.bound == "compute" and n.op_class == "dense"
    assert n.latency_us == pytest.approx(1_049.576)
    assert n.arithmetic_intensity == pytest.approx(524_288 / 49_152, abs=1e-3)
    # plus 10 µs once per inference
    assert rep.totals.latency_ms == pytest.approx((1_049.576 + 10) / 1000)
    # Relu on 1 Mi floats: compute 1,048,576 / (1e9 * 0.25) = 4,194.304 µs; memory 8 MiB / 1e9 = 8,388.608 µs
    rep = onnxcost.analyze(one_node("Relu", {"x": [1 << 20]}), profile=str(unit_profile))
    assert rep.nodes[0].bound == "memory"
    assert rep.nodes[0].latency_us == pytest.approx(8_389.608)


def test_fusion_and_views(tmp_path: Path) -> None:
    p = tmp_path / "fused.toml"
    p.write_text(PROFILE.format(fusion="true"))
    rep = onnxcost.analyze(zoo.resnet18(), profile=str(p))
    by_name = {n.name: n for n in rep.nodes}
    assert by_name["batchnormalization1"].bound == "fused" and by_name["batchnormalization1"].latency_us == 0
    assert by_name["relu1"].bound == "fused"
    assert by_name["flatten1"].op_class == "view" and by_name["flatten1"].latency_us == 1.0  # launch only
    plain = tmp_path / "plain.toml"
    plain.write_text(PROFILE.format(fusion="false"))
    unfused = onnxcost.analyze(zoo.resnet18(), profile=str(plain))
    assert unfused.totals.latency_ms > rep.totals.latency_ms  # type: ignore[operator]
    # x * sigmoid(x): one pass over memory when fused (read x, write y), three passes otherwise
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 20])
    silu = helper.make_model(helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["s"], name="sig"), helper.make_node("Mul", ["x", "s"], ["y"], name="mul")],
        "g", [x], [helper.make_empty_tensor_value_info("y")]))
    fused_silu = {n.name: n for n in onnxcost.analyze(silu, profile=str(p)).nodes}
    assert fused_silu["sig"].bound == "fused"
    # Mul carries both ops' FLOPs (4 + 1 per element) over 8 MiB moved: memory 8,388.608 µs vs
    # compute 5 * 1,048,576 / 0.25e9 = 20,971.52 µs -> compute-bound
    assert fused_silu["mul"].latency_us == pytest.approx(20_971.52 + 1)


def test_depthwise_is_its_own_class() -> None:
    rep = onnxcost.analyze(zoo.mobilenet_v1(), profile="raspberry-pi-4")
    classes = {n.name: n.op_class for n in rep.nodes if n.op_type == "Conv"}
    assert list(classes.values()).count("depthwise") == 13


@pytest.mark.parametrize("text,needle", [
    ("[memory]\nbandwidth = 1e9\n", "peak_flops"),
    ("[peak_flops]\nfp32 = 1e9\n", "[memory]"),
    ("[peak_flops]\nfp32 = 1e9\nbf8 = 3\n[memory]\nbandwidth = 1\n", "unknown key 'bf8'"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = -1\n", "bandwidth"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n[efficiency]\ndense = 1.5\n", "dense"),
    ("[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n[efficiency]\nmagic = 0.5\n", "unknown op class"),
    ("speed = 3\n", "unknown key 'speed'"),
    ("[peak_flops\n", "not valid TOML"),
])
def test_profile_errors(text: str, needle: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=needle.replace("[", r"\[")):
        load_profile(str(p))


def test_profile_errors_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.onnx"
    onnx.save_model(zoo.lenet_1989(), str(model))
    assert main(["report", str(model), "--profile", "no-such-device"]) == 2
    assert "unknown hardware profile" in capsys.readouterr().err
    assert main(["report", str(model), "--profile", str(tmp_path / "absent.toml")]) == 2
    assert main(["profiles"]) == 0
    assert "raspberry-pi-4" in capsys.readouterr().out
    png = tmp_path / "roof.png"
    assert main(["report", str(model), "--profile", "nvidia-t4", "--plot-roofline", str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


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


def test_calibrate_writes_a_loadable_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # no --output: the per-user profiles folder, where --profile local finds it from any directory
    monkeypatch.setenv("ONNXCOST_PROFILES", str(tmp_path / "user"))
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--seconds", "0.1", "--threads", "1"]) == 0
    out = tmp_path / "user" / "local.toml"
    assert out.is_file() and load_profile("local").name == load_profile(str(out)).name
    p = load_profile(str(out))
    assert p.peak_flops["fp32"] > 1e8 and p.bandwidth > 1e8 and p.launch_overhead_us > 0
    assert 0 < p.efficiency["depthwise"] <= 1 and 0 < p.efficiency["dense"] <= 1
    rep = onnxcost.analyze(zoo.resnet18(), profile=str(out))
    assert rep.totals.latency_ms is not None and rep.totals.latency_ms > 0


def test_calibrate_on_two_threads_times_kernels_on_one_too(tmp_path: Path) -> None:
    from onnxcost.measure.calibrate import PARALLEL_KINDS, calibrate, cases, nchwc_block

    text, results = calibrate(threads=2, per_case_s=0.05, rounds=1)
    # each result is per node of its own case's model (a chain of CHAIN convs, or one node)
    assert [(m.name, m.nodes) for m in results] == [(name, nodes) for name, _, _, nodes in cases(nchwc_block(2))]
    parallel = [m for m in results if m.kind in PARALLEL_KINDS]
    assert parallel and all(m.one_thread_s > 0 for m in parallel)
    assert all(m.spread == 1.0 for m in results)  # one round: nothing to compare
    assert all(m.one_thread_s == 0 for m in results if m.kind not in PARALLEL_KINDS)
    p = tmp_path / "local.toml"
    p.write_text(text)
    profile = load_profile(str(p))
    assert profile.threads == 2 and profile.parallel_flops_half >= 0


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


def test_grouped_conv_class_and_its_fallback(tmp_path: Path) -> None:
    # 64 channels in 8 groups of 8: "grouped"; 64 groups of 1: "depthwise"; 4 groups of 16: dense
    def conv(groups: int) -> onnx.ModelProto:
        return one_node("Conv", {"x": [1, 64, 14, 14], "w": w(64, 64 // groups, 3, 3)}, pads=[1, 1, 1, 1],
                        group=groups)

    classes = {g: onnxcost.analyze(conv(g), profile="xeon-8480").nodes[0].op_class for g in (8, 64, 4)}
    assert classes == {8: "grouped", 64: "depthwise", 4: "dense"}
    # a profile without a grouped efficiency costs it as depthwise: 64 x 14 x 14 x 8 x 9 MACs, 2 FLOPs each
    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\n[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e12\n"
                 "[efficiency]\ndepthwise = 0.5\n")
    flops = 2 * 64 * 14 * 14 * 8 * 9
    assert onnxcost.analyze(conv(8), profile=str(p)).nodes[0].latency_us == pytest.approx(flops / 0.5e9 * 1e6)
    p.write_text(p.read_text() + "grouped = 0.25\n")
    assert onnxcost.analyze(conv(8), profile=str(p)).nodes[0].latency_us == pytest.approx(flops / 0.25e9 * 1e6)


def test_fit_takes_layout_reorders_out_of_a_lone_conv() -> None:
    from onnxcost.measure.calibrate import fit

    def base(depthwise_reorders: tuple[int, ...]) -> list[Measurement]:
        # launch 1 µs; 8 MB streams at 1 GB/s (+1 µs); dense 1 GFLOP in 1 s (+1 µs): peak 1e9 FLOP/s
        return [
            Measurement("chain", "overhead", 0, 0, 1e-6), Measurement("run", "run", 0, 0, 1e-6),
            Measurement("stream", "bandwidth", 0, 8_000_000, 8e-3 + 1e-6),
            Measurement("cached", "cache", 0, 8_000_000, 8e-3 + 1e-6),
            Measurement("gemm", "dense", 10**9, 0, 1.0 + 1e-6, 1024),
            Measurement("tanh", "elementwise", 10**6, 0, 1e-2 + 1e-6),
            Measurement("einsum", "einsum", 10**6, 0, 1e-2 + 1e-6),
            Measurement("transpose", "movement", 0, 4_000_000, 8e-3 + 1e-6),
            Measurement("grouped", "grouped", 10**6, 0, 1e-2 + 1e-6),
            # 1e6 FLOPs in 4 ms + launch, plus two reorders of 1 MB: each 2 MB at 1 GB/s + a launch = 2,001 µs
            Measurement("dw", "depthwise", 10**6, 0, 4e-3 + 1e-6 + 2 * (2e-3 + 1e-6), 0, depthwise_reorders),
        ]

    with_reorders = fit(base((1_000_000, 1_000_000)))
    assert with_reorders["depthwise"] == pytest.approx(0.25e9 / 1e9, rel=1e-6)  # 1e6 FLOPs / 4 ms, of 1e9
    # the same time without the reorders known: the conv looks twice as slow
    assert fit(base(()))["depthwise"] == pytest.approx(1e6 / (8e-3 + 2e-6) / 1e9, rel=1e-6)


def test_few_output_rows_slow_a_dense_kernel(tmp_path: Path) -> None:
    p = tmp_path / "m.toml"
    p.write_text("launch_overhead_us = 0\ndense_m_half = 49\n[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e15\n")
    # 49 rows x 768 x 768: 2 x 49 x 768 x 768 FLOPs at 1e9/s, times (49 + 49) / 49 = 2
    flat = one_node("MatMul", {"a": [49, 768], "w": w(768, 768)})
    assert onnxcost.analyze(flat, profile=str(p)).nodes[0].latency_us == pytest.approx(
        2 * 49 * 768 * 768 / 1e9 * 1e6 * 2)
    # leading dims fold into the rows when the right side is one weight matrix: 4 x 49 = 196 rows, (196+49)/196
    folded = one_node("MatMul", {"a": [4, 49, 768], "w": w(768, 768)})
    assert onnxcost.analyze(folded, profile=str(p)).nodes[0].latency_us == pytest.approx(
        2 * 196 * 768 * 768 / 1e9 * 1e6 * 245 / 196)
    # a batched product of two activations keeps 49 rows per product (attention scores): factor 2 again
    batched = one_node("MatMul", {"a": [4, 49, 32], "b": [4, 32, 49]})
    assert onnxcost.analyze(batched, profile=str(p)).nodes[0].latency_us == pytest.approx(
        2 * 4 * 49 * 32 * 49 / 1e9 * 1e6 * 2)


def test_critical_path_of_parallel_branches() -> None:
    # two independent branches from one input meet in an Add: a sequential runtime pays every node, a parallel
    # one the longest chain only: input -> heavy branch (2 nodes) -> Add
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 32, 32])
    w = numpy_helper.from_array(np.zeros((64, 64, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="conv_a", pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["a", "w"], ["b"], name="conv_b", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Add", ["b", "r"], ["y"], name="add")]
    g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=[w])
    rep = onnxcost.analyze(helper.make_model(g), profile="xeon-8480")
    lat = {n.name: known(n.latency_us) for n in rep.nodes}
    run_us = 1000 * known(rep.totals.latency_ms) - sum(lat.values())  # the profile's per-run overhead
    expected = lat["conv_a"] + lat["conv_b"] + lat["add"] + run_us
    assert rep.totals.critical_path_ms == pytest.approx(expected / 1000, abs=1e-6)
    assert known(rep.totals.critical_path_ms) < known(rep.totals.latency_ms)


def test_calibration_models_use_an_ir_version_older_runtimes_accept() -> None:
    # the newest onnx writes IR 13 by default, which an older onnxruntime refuses; opset 17 needs only IR 8
    from onnxcost.measure.microbench import micro as _model

    model = _model([helper.make_node("Relu", ["x"], ["y"])], {"x": [2]}, "y")
    assert model.ir_version == 8 < onnx.IR_VERSION


def test_unknown_profile_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONNXCOST_PROFILES", str(tmp_path / "user"))
    with pytest.raises(ConfigError, match="looked in .*user"):
        load_profile("nonesuch")


def test_roofline_plot_data_has_knees_and_every_node_under_its_roof(tmp_path: Path) -> None:
    from onnxcost.report.plots import roofline_data, roofline_png

    profile = load_profile("xeon-8480")
    rep = onnxcost.analyze(zoo.mobilenet_v1(), profile=profile)
    data = roofline_data(rep, profile)
    assert {"dense", "depthwise"} <= set(data.points)
    for cls, points in data.points.items():
        peak = profile.flops_per_s("fp32", cls)
        for name, roof in data.roofs[cls].items():
            bw = profile.bandwidth if name == "DRAM" else profile.cache_bandwidth
            assert len(roof) == 3 and roof[1] == pytest.approx((peak / bw, peak))  # the knee
        fastest = max(profile.bandwidth, profile.cache_bandwidth)
        for x, y in points:  # a node never runs faster than the roof of its own class
            assert y <= min(peak, x * fastest) * (1 + 1e-9)
    roofline_png(rep, profile, tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000


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


def test_gpu_conv_paths_by_hand(tmp_path: Path) -> None:
    """TF32 tensor cores for float32 convs, NCHW<->NHWC transforms around tensor-core convs, and a dense kernel's
    own fixed cost, each against hand arithmetic."""
    p = tmp_path / "gpu.toml"
    p.write_text('kind = "gpu"\nlaunch_overhead_us = 2\ndense_launch_overhead_us = 10\ntf32_convs = true\n'
                 'nhwc_convs = ["tf32"]\n[peak_flops]\nfp32 = 1e12\ntf32 = 8e12\n[memory]\nbandwidth = 1e11\n'
                 '[efficiency]\ndense = 0.5\nelementwise = 1\n[efficiency.tf32]\ndense = 0.25\n')
    # Conv 64->64, 3x3, 56x56: 2 x 64 x 56 x 56 x 576 FLOPs = 231,211,008 on tf32 at 8e12 x 0.25 -> 115.6 µs;
    # it moves 2 x 64 x 56 x 56 x 4 activation bytes + 147,456 weight bytes = 1,753,088 B -> 17.5 µs at 1e11 B/s
    conv = one_node("Conv", {"x": [1, 64, 56, 56], "w": w(64, 64, 3, 3)}, pads=[1, 1, 1, 1])
    flops, activations = 2 * 64 * 56 * 56 * 576, 2 * 64 * 56 * 56 * 4
    transforms = 2 * activations / 1e11 * 1e6 + 2 * 2.0  # NCHW -> NHWC before, back after: 2 passes, 2 launches
    got = known(onnxcost.analyze(conv, profile=str(p)).nodes[0].latency_us)
    assert got == pytest.approx(flops / 2e12 * 1e6 + 10 + transforms, abs=1e-3)
    # a float32 MatMul stays on the CUDA cores (fp32 peak x dense 0.5), no transforms, the dense kernel's cost
    mm = one_node("MatMul", {"a": [256, 512], "w": w(512, 512)})
    mm_flops = 2 * 256 * 512 * 512
    assert known(onnxcost.analyze(mm, profile=str(p)).nodes[0].latency_us) == pytest.approx(
        mm_flops / 0.5e12 * 1e6 + 10, abs=1e-3)
    # an element-wise node pays the plain launch: Relu on 1 Mi floats, 8 MiB at 1e11 B/s
    relu = one_node("Relu", {"x": [1 << 20]})
    assert known(onnxcost.analyze(relu, profile=str(p)).nodes[0].latency_us) == pytest.approx(
        8 * 2**20 / 1e11 * 1e6 + 2, abs=1e-3)
    # without tf32_convs the conv is a float32 CUDA-core kernel, outside nhwc_convs: no transforms
    p.write_text(p.read_text().replace("tf32_convs = true", "tf32_convs = false"))
    assert known(onnxcost.analyze(conv, profile=str(p)).nodes[0].latency_us) == pytest.approx(
        flops / 0.5e12 * 1e6 + 10, abs=1e-3)
    profile = load_profile(str(p))
    assert profile.dense_overhead_us == 10 and profile.nhwc_convs == ("tf32",)


@pytest.mark.parametrize("text,needle", [
    ('nhwc_convs = ["fp64"]\n', "nhwc_convs"), ('nhwc_convs = "fp16"\n', "nhwc_convs"),
    ("tf32_convs = 1\n", "tf32_convs"), ("dense_launch_overhead_us = -1\n", "dense_launch_overhead_us"),
])
def test_gpu_profile_keys_are_checked(text: str, needle: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(text + "[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n")
    with pytest.raises(ConfigError, match=needle):
        load_profile(str(p))


def test_gpu_profile_keys_round_trip(tmp_path: Path) -> None:
    from dataclasses import replace

    from onnxcost.latency.profiles import to_toml

    base = load_profile("nvidia-h100")
    profile = replace(base, dense_launch_overhead_us=12.5, tf32_convs=True, nhwc_convs=("fp16", "tf32"))
    path = tmp_path / "p.toml"
    path.write_text(to_toml(profile))
    again = load_profile(str(path))
    assert (again.dense_overhead_us, again.tf32_convs, again.nhwc_convs) == (12.5, True, ("fp16", "tf32"))
    assert again.peak_flops == base.peak_flops


def _measured(launch: float) -> list[Measurement]:
    """One measurement of each kind fit() needs, on a device of 1e9 FLOP/s dense and 1 GB/s memory."""


    return [
        Measurement("chain", "overhead", 0, 0, launch), Measurement("run", "run", 0, 0, launch),
        Measurement("stream", "bandwidth", 0, 8_000_000, 8e-3 + launch),
        Measurement("cached", "cache", 0, 8_000_000, 8e-3 + launch),
        Measurement("gemm", "dense", 10**9, 0, 1.0 + launch, 1024),
        Measurement("tanh", "elementwise", 10**6, 0, 1e-2 + launch),
        Measurement("einsum", "einsum", 10**6, 0, 1e-2 + launch),
        Measurement("transpose", "movement", 0, 4_000_000, 8e-3 + launch),
        Measurement("grouped", "grouped", 10**6, 0, 1e-2 + launch),
        Measurement("dw", "depthwise", 10**6, 0, 4e-3 + launch),
    ]


def test_calibrate_fits_how_kernels_spread_over_threads() -> None:
    """Dense kernels timed on 1 and 4 threads on a device where a kernel of W FLOPs keeps
    1 + 3 W / (W + 1e7) threads busy and one thread computes 0.25e9 FLOP/s: calibrate recovers the half-work
    point, and every kernel's rate, its parallel slowdown taken out, is the same 1e9 FLOP/s peak."""
    from onnxcost.measure.calibrate import fit

    launch, threads, half, peak = 1e-6, 4, 1e7, 1e9
    other = [m for m in _measured(launch) if m.kind != "dense"]
    dense = []
    for w_flops in (10**6, 10**7, 10**8, 10**9):
        busy = 1 + (threads - 1) * w_flops / (w_flops + half)
        all_threads = w_flops / peak * threads / busy + launch
        dense.append(Measurement(f"gemm {w_flops}", "dense", w_flops, 0, all_threads, 1024, (), 0, 1,
                                 w_flops / (peak / threads) + launch))
    p = fit(other + dense, threads)
    assert p["parallel_half"] == pytest.approx(half, rel=1e-3)
    assert p["peak"] == pytest.approx(peak, rel=1e-3) and p["dense"] == pytest.approx(1.0, rel=1e-3)
    # the profile carries it, and the estimate slows a 1e6-FLOP kernel by 4 / (1 + 3/11) = 3.14x
    from dataclasses import replace

    profile = replace(load_profile("xeon-8480"), threads=threads, parallel_flops_half=half)
    assert profile.parallel_slowdown(1e6) == pytest.approx(4 / (1 + 3 * 1e6 / 1.1e7))
    assert profile.parallel_slowdown(1e12) == pytest.approx(1.0, abs=1e-4)
    # without one-thread timings, nothing changes
    assert fit(other + [replace(m, one_thread_s=0.0) for m in dense], threads)["parallel_half"] == 0.0


def test_a_small_kernel_runs_on_fewer_threads(tmp_path: Path) -> None:
    p = tmp_path / "cpu.toml"
    p.write_text("launch_overhead_us = 0\nthreads = 4\nparallel_flops_half = 1e7\n[peak_flops]\nfp32 = 1e9\n"
                 "[memory]\nbandwidth = 1e15\n")
    # MatMul 16x64x64: 131,072 FLOPs keep 1 + 3 x 131,072 / (131,072 + 1e7) = 1.039 of 4 threads busy
    mm = one_node("MatMul", {"a": [16, 64], "w": w(64, 64)})
    flops = 2 * 16 * 64 * 64
    busy = 1 + 3 * flops / (flops + 1e7)
    got = known(onnxcost.analyze(mm, profile=str(p)).nodes[0].latency_us)
    assert got == pytest.approx(flops / 1e9 * 1e6 * 4 / busy, abs=1e-3)
    # element-wise work is not rescaled: Relu on 1,024 floats, 1,024 FLOPs at 1e9/s
    relu = one_node("Relu", {"x": [1024]})
    assert known(onnxcost.analyze(relu, profile=str(p)).nodes[0].latency_us) == pytest.approx(1.024, abs=1e-3)
    p.write_text(p.read_text().replace("threads = 4", "threads = 0"))
    with pytest.raises(ConfigError, match="threads"):
        load_profile(str(p))


def test_wide_groups_interpolate_between_grouped_and_dense(tmp_path: Path) -> None:
    """A conv of 16 channels per group (RegNetX) is costed between the measured grouped class (8 per group) and
    dense: efficiency dense x c / (c + c_half), c_half = 8 x (dense / grouped - 1) = 8 x (1.0 / 0.2 - 1) = 32."""
    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\n[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e15\n"
                 "[efficiency]\ndense = 1.0\ngrouped = 0.2\n")

    def conv(groups: int) -> onnx.ModelProto:
        return one_node("Conv", {"x": [1, 64, 14, 14], "w": w(64, 64 // groups, 3, 3)}, pads=[1, 1, 1, 1],
                        group=groups)

    def latency(groups: int) -> float:
        return known(onnxcost.analyze(conv(groups), profile=str(p)).nodes[0].latency_us)

    def flops(groups: int) -> int:
        return 2 * 64 * 14 * 14 * (64 // groups) * 9

    assert latency(4) == pytest.approx(flops(4) / 1e9 * 1e6 * (16 + 32) / 16, abs=1e-3)  # 3x a dense kernel
    assert latency(8) == pytest.approx(flops(8) / 0.2e9 * 1e6, abs=1e-3)  # 8 per group: the grouped class itself
    assert latency(1) == pytest.approx(flops(1) / 1e9 * 1e6, abs=1e-3)  # ungrouped: dense
    # the interpolation meets the grouped class at 8 channels per group: (8 + 32) / 8 = 1 / 0.2
    from onnxcost.latency.estimate import narrow_group_slowdown

    assert narrow_group_slowdown(8, load_profile(str(p))) == pytest.approx(5.0)
    # a profile without a grouped efficiency leaves wide groups as dense kernels
    p.write_text(p.read_text().replace("grouped = 0.2\n", ""))
    assert latency(4) == pytest.approx(flops(4) / 1e9 * 1e6, abs=1e-3)


def test_a_gemm_bias_costs_a_pass_over_the_output(tmp_path: Path) -> None:
    """onnxruntime's Gemm copies its bias into every output row before accumulating onto it (and MatMul + Add of
    a constant runs as that Gemm): one pass over the output at bias_bandwidth. A residual Add is no bias."""
    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\n[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e15\n"
                 "bias_bandwidth = 1e9\n")
    m, k, n = 64, 32, 128
    gemm_us = 2 * m * k * n / 1e9 * 1e6  # 524.288 µs at 1e9 FLOP/s, memory free
    bias_us = 4 * m * n / 1e9 * 1e6  # 32,768 output bytes at 1e9 B/s: 32.768 µs
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k])
    r = helper.make_tensor_value_info("r", TensorProto.FLOAT, [m, n])
    inits = [numpy_helper.from_array(w(k, n), "w"), numpy_helper.from_array(w(n), "b")]

    def total_us(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto]) -> float:
        g = helper.make_graph(nodes, "g", inputs, [helper.make_empty_tensor_value_info("y")], initializer=inits)
        rep = onnxcost.analyze(helper.make_model(g), profile=str(p))
        return sum(known(x.latency_us) for x in rep.nodes)

    mm = helper.make_node("MatMul", ["a", "w"], ["p"])
    assert total_us([mm, helper.make_node("Add", ["p", "b"], ["y"])], [a]) == pytest.approx(gemm_us + bias_us)
    # an Add of another activation (a residual) is no bias: its own element-wise kernel (m x n FLOPs at 1e9/s)
    assert total_us([mm, helper.make_node("Add", ["p", "r"], ["y"])], [a, r]) == pytest.approx(gemm_us + m * n / 1e3)

    # Gemm counts the bias's m x n additions in its FLOPs (8.192 µs more at 1e9/s)
    add_us = m * n / 1e3
    assert total_us([helper.make_node("Gemm", ["a", "w", "b"], ["y"])], [a]) == pytest.approx(
        gemm_us + add_us + bias_us)
    assert total_us([helper.make_node("Gemm", ["a", "w"], ["y"])], [a]) == pytest.approx(gemm_us)
    assert total_us([helper.make_node("Gemm", ["a", "w", "b"], ["y"], beta=0.0)], [a]) < gemm_us + add_us + 1e-6
    # a profile without bias_bandwidth (a GPU adds the bias in the kernel's epilogue): free
    p.write_text(p.read_text().replace("bias_bandwidth = 1e9\n", ""))
    assert total_us([helper.make_node("Gemm", ["a", "w", "b"], ["y"])], [a]) == pytest.approx(gemm_us + add_us)


def test_calibrate_fits_the_bias_pass_from_a_gemm_with_and_without_bias(tmp_path: Path) -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import fit, to_toml
    from onnxcost.measure.microbench import BIAS_CASE

    other = _measured(1e-6)
    rows, cols = BIAS_CASE
    plain = Measurement("gemm plain", "gemm", 0, 0, 1e-4, 16, (), rows, 1, 0.0, cols)
    # the bias adds 4 x rows x cols output bytes at 12 GB/s
    biased = replace(plain, name="gemm biased", kind="bias", seconds=1e-4 + 4 * rows * cols / 12e9)
    fitted = fit([*other, plain, biased])
    assert fitted["bias_bandwidth"] == pytest.approx(12e9, rel=1e-6)
    fitted["nchwc_block"] = 0
    path = tmp_path / "local.toml"
    path.write_text(to_toml(fitted, 1))
    assert load_profile(str(path)).bias_bandwidth == pytest.approx(12e9, rel=1e-5)
    # no slower with the bias (an epilogue add): free, and the key is left out
    assert fit([*other, plain, replace(biased, seconds=1e-4)])["bias_bandwidth"] == 0.0
    assert fit(other)["bias_bandwidth"] == 0.0


@pytest.mark.parametrize(("shape", "to", "calls"), [
    # one element a copy, then 5 doubling copies fill each row of 32: 9,408 + 9,408 x 5
    ([9408, 1], [9408, 32], 56_448),
    # a row of 32 copied once, then 9,408 = 2^13 + 2^10 + 2^7 + 2^6 rows: 13 doublings and 3 remainders
    ([1, 32], [9408, 32], 17),
    # two blocks of 3, each copied into its slot, then 2 doublings per block fill the 4 of the middle dim
    ([2, 1, 3], [2, 4, 3], 6),
    ([4, 5], [4, 5], 1),  # nothing broadcast: one copy of everything
    ([3, 1], [1, 0], 0),  # an empty output copies nothing
])
def test_expand_copy_calls_follow_onnxruntimes_copy_loop(shape: list[int], to: list[int], calls: int) -> None:
    from onnxcost.latency.estimate import copy_calls
    from onnxcost.measure.microbench import expand_model as _expand

    rep = onnxcost.analyze(_expand(shape, to))
    graph = known(rep.graph)
    assert copy_calls(graph.nodes[0], graph) == calls


def test_a_copy_loop_is_bound_by_its_calls(tmp_path: Path) -> None:
    from onnxcost.measure.microbench import expand_model as _expand

    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 1\ncopy_call_ns = 4\n[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e11\n"
                 "[efficiency]\nmovement = 1.0\n")
    # 56,448 calls x 4 ns = 225.792 µs, against 37,632 + 1,204,224 bytes at 1e11 B/s = 12.4 µs; + 1 µs launch
    rep = onnxcost.analyze(_expand([9408, 1], [9408, 32]), profile=str(p))
    assert rep.nodes[0].latency_us == pytest.approx(226.792)
    # a broadcast of whole rows (17 calls) stays bound by its bytes (with the 16-byte shape input)
    rows = onnxcost.analyze(_expand([1, 32], [9408, 32]), profile=str(p))
    assert rows.nodes[0].latency_us == pytest.approx((128 + 16 + 9408 * 32 * 4) / 1e11 * 1e6 + 1, abs=1e-3)
    p.write_text(p.read_text().replace("copy_call_ns = 4\n", ""))  # not measured: bytes only
    assert onnxcost.analyze(_expand([9408, 1], [9408, 32]), profile=str(p)).nodes[0].latency_us == pytest.approx(
        (9408 * 4 + 16 + 9408 * 32 * 4) / 1e11 * 1e6 + 1, abs=1e-3)


def test_calibrate_fits_the_cost_of_a_copy_call() -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import fit

    # 56,448 calls in 225.792 µs after a 1 µs launch: 4 ns each
    expand = Measurement("expand", "copy", 0, 1_241_856, 225.792e-6 + 1e-6, copies=56_448)
    assert fit([*_measured(1e-6), expand])["copy_call_ns"] == pytest.approx(4.0)
    assert fit(_measured(1e-6))["copy_call_ns"] == 0.0
    assert fit([*_measured(1e-6), replace(expand, copies=0)])["copy_call_ns"] == 0.0


def test_a_conv_pays_for_reading_its_weights(tmp_path: Path) -> None:
    """A CPU conv in a model fetches its filter blocks from beyond its core's cache (the other layers' weights
    passed through since its last run) and waits for them: their bytes at weight_bandwidth add to its math."""
    from onnxcost.measure.microbench import conv_chain as _conv_chain

    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\n[peak_flops]\nfp32 = 1e12\n[memory]\nbandwidth = 1e15\n"
                 "weight_bandwidth = 1e9\n")
    # 256 -> 256 3x3 at 14x14: 2 x 256 x 256 x 9 x 196 = 231,211,008 FLOPs at 1e12/s = 231.211 µs;
    # weights 256 x 256 x 9 x 4 = 2,359,296 bytes, at 1e9 B/s 2,359.296 µs
    flops_us, weight_us = 231.211008, 2_359.296

    def conv_us(n: int) -> list[float]:
        rep = onnxcost.analyze(_conv_chain(256, 14, 3, 1, n, distinct=True), profile=str(p))
        return [known(x.latency_us) for x in rep.nodes]

    assert conv_us(2) == pytest.approx([flops_us + weight_us] * 2, abs=1e-3)
    # a MatMul streams its packed weights alongside the math (MLAS): no such term
    mm = onnxcost.analyze(one_node("MatMul", {"a": [196, 2304], "w": w(2304, 256)}), profile=str(p))
    assert mm.nodes[0].latency_us == pytest.approx(flops_us, abs=1e-3)
    p.write_text(p.read_text().replace("weight_bandwidth = 1e9\n", ""))
    assert conv_us(2) == pytest.approx([flops_us] * 2, abs=1e-3)  # a profile that does not say: overlapped


def test_calibrate_fits_the_cold_weight_rate() -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import fit

    # 9,437,184 weight bytes a node, 172 µs more each when they come from main memory: 54.9 GB/s
    warm = Measurement("shared", "warm weights", 10**8, 0, 480e-6, weight_bytes=9_437_184)
    cold = replace(warm, name="distinct", kind="cold weights", seconds=652e-6)
    assert fit([*_measured(1e-6), warm, cold])["weight_bandwidth"] == pytest.approx(9_437_184 / 172e-6)
    assert fit([*_measured(1e-6), warm, replace(cold, seconds=470e-6)])["weight_bandwidth"] == 0.0


def test_groups_of_whole_channel_blocks_run_the_blocked_kernel(tmp_path: Path) -> None:
    """With 16-channel blocks, a conv of 16 channels per group runs at block_group_ratio of the dense rate and one
    of 32 at 1 - (1 - ratio) / 2^2; 24 per group is not whole blocks and keeps the grouped-dense interpolation."""
    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\nnchwc_block = 16\nblock_group_ratio = 0.64\n[peak_flops]\nfp32 = 1e9\n"
                 "[memory]\nbandwidth = 1e15\n[efficiency]\ndense = 1.0\ngrouped = 0.25\n")

    def latency_over_dense(channels: int, per_group: int) -> float:
        model = one_node("Conv", {"x": [1, channels, 14, 14], "w": w(channels, per_group, 3, 3)}, pads=[1, 1, 1, 1],
                         group=channels // per_group)
        flops = 2 * channels * 14 * 14 * per_group * 9
        return known(onnxcost.analyze(model, profile=str(p)).nodes[0].latency_us) / (flops / 1e9 * 1e6)

    assert latency_over_dense(64, 16) == pytest.approx(1 / 0.64, rel=1e-4)
    assert latency_over_dense(64, 32) == pytest.approx(1 / (1 - 0.36 / 4), rel=1e-4)
    # 24 per group: c_half = 8 x (1.0 / 0.25 - 1) = 24, so (24 + 24) / 24 = 2
    assert latency_over_dense(96, 24) == pytest.approx(2.0, rel=1e-4)
    p.write_text(p.read_text().replace("block_group_ratio = 0.64", "block_group_ratio = 1.5"))
    with pytest.raises(ConfigError, match="block_group_ratio"):
        load_profile(str(p))


def test_calibrate_fits_the_blocked_group_ratio() -> None:
    from onnxcost.measure.calibrate import fit

    # dense: 1e9 FLOP/s at K = 1024 (k_half 0); a 16-per-group conv (K = 144, M = 196) of 1e6 FLOPs in 2.5 ms
    # + 1 µs launch runs at 0.4e9 FLOP/s: 0.4 of dense
    blocked = Measurement("grouped 16/group", "blocked grouped", 10**6, 0, 2.5e-3 + 1e-6, 144, (), 196)
    assert fit([*_measured(1e-6), blocked])["block_group_ratio"] == pytest.approx(0.4, rel=1e-6)
    assert fit(_measured(1e-6))["block_group_ratio"] == 0.0


def test_calibrate_says_when_the_machine_changed_speed() -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import UNSTEADY_SPREAD, unsteady

    steady = [replace(m, spread=1.05) for m in _measured(1e-6)]
    assert unsteady(steady) == 0.0
    # one noisy case is not a slow spell; most cases 1.5x slower in some round is
    assert unsteady([replace(steady[0], spread=3.0), *steady[1:]]) == 0.0
    slow = [replace(m, spread=1.5) for m in steady]
    assert unsteady(slow) == pytest.approx(1.5)
    # the threshold sits between the two: 1.05 steady, 1.5 the VM's slow state against its calm one
    assert unsteady([replace(m, spread=UNSTEADY_SPREAD) for m in steady]) == 0.0
