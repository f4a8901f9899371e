"""`calibrate`: the microbenchmarks it runs and the profile terms it fits from their timings."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import helper

import onnxcost
from models import zoo
from onnxcost.cli.app import main
from onnxcost.latency.profiles import load_profile
from onnxcost.measure.calibrate import Measurement


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_calibration_models_use_an_ir_version_older_runtimes_accept() -> None:
    # the newest onnx writes IR 13 by default, which an older onnxruntime refuses; opset 17 needs only IR 8
    from onnxcost.measure.microbench import micro as _model

    model = _model([helper.make_node("Relu", ["x"], ["y"])], {"x": [2]}, "y")
    assert model.ir_version == 8 < onnx.IR_VERSION


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


def test_calibrate_fits_the_cost_of_a_copy_call() -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import fit

    # 56,448 calls in 225.792 µs after a 1 µs launch: 4 ns each
    expand = Measurement("expand", "copy", 0, 1_241_856, 225.792e-6 + 1e-6, copies=56_448)
    assert fit([*_measured(1e-6), expand])["copy_call_ns"] == pytest.approx(4.0)
    assert fit(_measured(1e-6))["copy_call_ns"] == 0.0
    assert fit([*_measured(1e-6), replace(expand, copies=0)])["copy_call_ns"] == 0.0


def test_calibrate_fits_a_serial_kernels_power() -> None:
    from onnxcost.measure.calibrate import fit

    # LRN on 200,704 elements (in and out, 4 bytes each) in 1,951 µs after a 1 µs launch: 9.72 ns an element,
    # what onnxruntime's serial LRN took here (PP-OCR's and GoogLeNet's LRN nodes, per-node profile)
    lrn = Measurement("lrn", "serial pow", 0, 8 * 200_704, 200_704 * 9.72e-9 + 1e-6)
    assert fit([*_measured(1e-6), lrn])["serial_pow_ns"] == pytest.approx(9.72)
    assert fit(_measured(1e-6))["serial_pow_ns"] == 0.0


def test_calibrate_fits_the_cold_weight_rate() -> None:
    from dataclasses import replace

    from onnxcost.measure.calibrate import fit

    # 9,437,184 weight bytes a node, 172 µs more each when they come from main memory: 54.9 GB/s
    warm = Measurement("shared", "warm weights", 10**8, 0, 480e-6, weight_bytes=9_437_184)
    cold = replace(warm, name="distinct", kind="cold weights", seconds=652e-6)
    assert fit([*_measured(1e-6), warm, cold])["weight_bandwidth"] == pytest.approx(9_437_184 / 172e-6)
    assert fit([*_measured(1e-6), warm, replace(cold, seconds=470e-6)])["weight_bandwidth"] == 0.0


def test_calibrate_fits_the_blocked_group_ratio() -> None:
    from onnxcost.measure.calibrate import fit

    # dense: 1e9 FLOP/s at K = 1024 (k_half 0); a 16-per-group conv (K = 144, M = 196) of 1e6 FLOPs in 2.5 ms
    # + 1 µs launch runs at 0.4e9 FLOP/s: 0.4 of dense
    blocked = Measurement("grouped 16/group", "blocked grouped", 10**6, 0, 2.5e-3 + 1e-6, 144, (), 196)
    assert fit([*_measured(1e-6), blocked])["block_group_ratio"] == pytest.approx(0.4, rel=1e-6)
    assert fit(_measured(1e-6))["block_group_ratio"] == 0.0


def test_calibrate_fits_the_one_block_ratio() -> None:
    from onnxcost.measure.calibrate import fit

    # dense: 1e9 FLOP/s at K = 1024 (k_half 0); a 16->16 conv (K = 144, M = 33,856) of 1e6 FLOPs in 1.25 ms
    # + 1 µs launch runs at 0.8e9 FLOP/s: 0.8 of dense
    one = Measurement("conv 16->16", "one block", 10**6, 0, 1.25e-3 + 1e-6, 144, (), 33_856)
    assert fit([*_measured(1e-6), one])["one_block_ratio"] == pytest.approx(0.8, rel=1e-6)
    assert fit(_measured(1e-6))["one_block_ratio"] == 0.0


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


def test_calibrate_fits_the_int8_peak_and_the_uint8_weight_ratio(tmp_path: Path) -> None:
    from onnxcost.measure.calibrate import fit, to_toml
    from onnxcost.measure.microbench import _integer

    # k_half = m_half = 0 (one long dense case). Two uint8 x int8 GEMMs: 1e6 FLOPs in 0.25 ms and 0.3125 ms
    # (+ 1 µs launch each): 4e9 and 3.2e9 FLOP/s; the peak is the faster, the efficiency their median share,
    # (1 + 0.8) / 2 = 0.9. A uint8-weight ConvInteger at 1.44e9 FLOP/s (1e6 in 0.694 ms) is 0.4 of 3.6e9.
    fast = Measurement("mmi", "int8", 10**6, 0, 0.25e-3 + 1e-6, 512, (), 512)
    slow = Measurement("mmi", "int8", 10**6, 0, 0.3125e-3 + 1e-6, 768, (), 64)
    conv = Measurement("convi", "int8 unsigned", 10**6, 0, 1e6 / 1.44e9 + 1e-6, 576, (), 3136)
    fitted = fit([*_measured(1e-6), fast, slow, conv])
    assert fitted["int8_peak"] == pytest.approx(4e9, rel=1e-6)
    assert fitted["int8_dense"] == pytest.approx(0.9, rel=1e-6)
    assert fitted["unsigned_int8_ratio"] == pytest.approx(0.4, rel=1e-6)
    assert fit(_measured(1e-6))["unsigned_int8_ratio"] == 0.0
    # the profile carries all three; without int8 cases the peak stays twice fp32's
    path = tmp_path / "local.toml"
    path.write_text(to_toml(fitted, 1))
    profile = load_profile(str(path))
    assert profile.peak_flops["int8"] == pytest.approx(4e9, rel=1e-5)
    assert profile.flops_per_s("int8", "dense") == pytest.approx(3.6e9, rel=1e-5)
    assert profile.unsigned_int8_ratio == pytest.approx(0.4, rel=1e-5)
    assert load_profile(str(path)).flops_per_s("fp32", "dense") == pytest.approx(1e9, rel=1e-5)
    plain = tmp_path / "plain.toml"
    plain.write_text(to_toml(fit(_measured(1e-6)), 1))
    assert load_profile(str(plain)).peak_flops["int8"] == pytest.approx(2e9, rel=1e-5)
    # a ConvInteger's time: its FLOPs at 3.6e9 FLOP/s, or at 0.4 of that with uint8 weights (its bytes at the
    # 1 GB/s stream take under 1 ms of the 64-160 ms), plus the launch
    for signed, rate in ((True, 3.6e9), (False, 1.44e9)):
        rep = onnxcost.analyze(_integer("ConvInteger", [1, 64, 56, 56], [64, 64, 3, 3], signed, pads=[1, 1, 1, 1]),
                               profile=str(path))
        (node,) = rep.nodes
        assert node.flops == 2 * 64 * 56 * 56 * 64 * 9
        assert node.latency_us == pytest.approx(node.flops / rate * 1e6 + 1.0, rel=1e-4)


def test_calibrate_fits_the_quantized_softmax_per_element() -> None:
    from onnxcost.measure.calibrate import fit

    # 960,000 elements in 1.344 ms + 1 µs launch: 1.4 ns an element
    softmax = Measurement("quantized softmax", "quantized softmax", 0, 0, 960_000 * 1.4e-9 + 1e-6, elements=960_000)
    assert fit([*_measured(1e-6), softmax])["quantized_softmax_ns"] == pytest.approx(1.4, rel=1e-6)
    assert fit(_measured(1e-6))["quantized_softmax_ns"] == 0.0
