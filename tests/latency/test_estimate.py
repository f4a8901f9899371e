"""The roofline estimate per node, by hand: fusion, views, op classes, grouped and blocked convs, bias passes,
copy loops, weight reads, GPU conv paths and the critical path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from models import zoo
from onnxcost import ConfigError
from onnxcost.latency.profiles import load_profile
from tests.helpers import PROFILE, known, one_node, w


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


def test_kernels_worked_out_once_hold_only_for_their_fusion_and_block() -> None:
    """`estimate` reuses a graph's fused kernels across profiles of the same fusion switch and NCHWc block (what
    fit does), with the same result as working them out afresh; made for another block or switch, they are
    worked out again, never applied to a runtime that groups differently."""
    from dataclasses import replace

    from onnxcost.cost.nodes import graph_costs
    from onnxcost.latency.estimate import Kernels, estimate, group_kernels, total_latency_us
    from onnxcost.latency.profiles import Profile

    graph = onnxcost.analyze(zoo.resnet18(size=64)).graph
    assert graph is not None
    costs, _, _ = graph_costs(graph)
    base = replace(load_profile("xeon-8480"), nchwc_block=16)
    grouped = group_kernels(graph, costs, base)
    assert grouped.reorders and grouped.fused  # blocked convs need reorders; BatchNorm and Relu fold in
    faster = replace(base, launch_overhead_us=9.0, efficiency={**base.efficiency, "dense": 0.2})

    def total(profile: Profile, given: Kernels | None) -> float | None:
        assert graph is not None
        return total_latency_us(graph, estimate(graph, costs, profile, grouped=given), profile, given)

    assert total(faster, grouped) == total(faster, None)
    for other in (replace(faster, nchwc_block=0), replace(faster, fusion=False)):
        assert total(other, grouped) == total(other, None) != total(faster, None)


def test_depthwise_is_its_own_class() -> None:
    rep = onnxcost.analyze(zoo.mobilenet_v1(), profile="raspberry-pi-4")
    classes = {n.name: n.op_class for n in rep.nodes if n.op_type == "Conv"}
    assert list(classes.values()).count("depthwise") == 13


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


def test_lrn_pays_a_serial_power_per_element(tmp_path: Path) -> None:
    """onnxruntime's LRN (Caffe2's kernel) computes powf per element on one thread: 7.8 of GoogLeNet's 15 ms
    here, where its FLOPs at the element-wise rate said 0.24 ms."""
    from onnxcost.measure.microbench import micro

    model = micro([helper.make_node("LRN", ["a"], ["y"], size=5, alpha=1e-4, beta=0.75)], {"a": [1, 64, 56, 56]},
                  "y")
    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 1\nserial_pow_ns = 10\n[peak_flops]\nfp32 = 1e12\n[memory]\n"
                 "bandwidth = 1e11\n[efficiency]\nelementwise = 1.0\n")
    assert onnxcost.analyze(model, profile=str(p)).nodes[0].latency_us == pytest.approx(64 * 56 * 56 * 10e-3 + 1)
    p.write_text(p.read_text().replace("serial_pow_ns = 10\n", ""))  # not measured: FLOPs and bytes only
    bytes_us = 2 * 64 * 56 * 56 * 4 / 1e11 * 1e6
    assert onnxcost.analyze(model, profile=str(p)).nodes[0].latency_us == pytest.approx(bytes_us + 1, rel=1e-3)


@pytest.mark.parametrize(("channels", "slowdown"), [(8, 2 / 0.8), (16, 1 / 0.8), (24, 32 / 24), (32, 1.0)])
def test_a_blocked_conv_with_few_output_channels_runs_slower(tmp_path: Path, channels: int,
                                                             slowdown: float) -> None:
    """Output channels padded to whole blocks of 16 (8 channels: twice the work), and one block of outputs at
    one_block_ratio of dense: measured here 2.2-2.6x at 8 channels, 1.3-1.4x at 16, 0.93-0.96x from 32 on."""
    from onnxcost.measure.microbench import _conv

    p = tmp_path / "p.toml"
    p.write_text("launch_overhead_us = 0\nnchwc_block = 16\none_block_ratio = 0.8\n[peak_flops]\nfp32 = 1e9\n"
                 "[memory]\nbandwidth = 1e15\n[efficiency]\ndense = 1.0\n")
    rep = onnxcost.analyze(_conv(16, channels, 28, 3, 1), profile=str(p))
    conv = next(n for n in rep.nodes if n.op_type == "Conv")
    assert conv.latency_us == pytest.approx((conv.flops or 0) / 1e9 * 1e6 * slowdown, rel=1e-3)


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
