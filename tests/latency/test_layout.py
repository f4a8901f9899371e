"""Blocked-layout reorders (layout.py): by hand on small graphs, their cost in the estimate, and the count
onnxruntime itself inserts into its optimized model on real exports."""

from __future__ import annotations

import collections
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from onnxcost import ConfigError
from onnxcost.latency.layout import nchwc_reorders
from onnxcost.latency.profiles import load_profile
from onnxcost.measure.calibrate import nchwc_block
from tests.helpers import known
from tests.ort_harness import with_weights


def _model(nodes: list[onnx.NodeProto], inits: dict[str, np.ndarray], shape: list[int]) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "layout", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _w(*shape: int) -> np.ndarray:
    return np.full(shape, 0.01, np.float32)


def squeeze_excite() -> onnx.ModelProto:
    """conv -> [GAP -> conv -> sigmoid] -> broadcast Mul -> conv -> Softmax: the Mul cannot run blocked."""
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["h"]),
        helper.make_node("GlobalAveragePool", ["h"], ["p"]),
        helper.make_node("Conv", ["p", "w2"], ["q"]),
        helper.make_node("Sigmoid", ["q"], ["s"]),
        helper.make_node("Mul", ["h", "s"], ["m"]),
        helper.make_node("Conv", ["m", "w3"], ["y"]),
        helper.make_node("Softmax", ["y"], ["z"], axis=1),
    ]
    return _model(nodes, {"w1": _w(32, 16, 1, 1), "w2": _w(32, 32, 1, 1), "w3": _w(16, 32, 1, 1)}, [1, 16, 14, 14])


def _kinds(model: onnx.ModelProto, block: int) -> collections.Counter[str]:
    g = onnxcost.analyze(model, schedule="file").graph
    assert g is not None
    return collections.Counter(r.kind for r in nchwc_reorders(g, block))


def test_squeeze_excite_reorders_by_hand() -> None:
    # x is read plain by the first conv (one reorder in); h (blocked) is read by the broadcast Mul and s (the
    # sigmoid fused into its conv, blocked) too: two reorders out; the last conv reads the Mul's plain output:
    # one reorder in; its output goes to Softmax: one reorder out.
    got = _kinds(squeeze_excite(), 8)
    assert got == {"input": 2, "output": 3}
    assert _kinds(squeeze_excite(), 0) == {}  # a runtime without blocked layouts inserts none


def test_channels_that_do_not_align_stay_plain() -> None:
    # 18 input channels are neither below a block of 8 nor a multiple of 4: the conv runs plain, nothing moves.
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"]), helper.make_node("Softmax", ["y"], ["z"], axis=1)]
    assert _kinds(_model(nodes, {"w": _w(16, 18, 1, 1)}, [1, 18, 8, 8]), 8) == {}
    # 20 = 4 x 5 runs blocked (padded to 24): one reorder in, one out
    assert _kinds(_model(nodes, {"w": _w(16, 20, 1, 1)}, [1, 20, 8, 8]), 8) == {"input": 1, "output": 1}


def test_reorder_cost_in_the_estimate(tmp_path: Path) -> None:
    p = tmp_path / "blocked.toml"
    p.write_text('name = "blocked"\nlaunch_overhead_us = 1.0\nnchwc_block = 8\n[peak_flops]\nfp32 = 1e12\n'
                 "[memory]\nbandwidth = 1e9\n")
    plain = onnxcost.analyze(squeeze_excite(), schedule="file", profile=replace(load_profile(str(p)), nchwc_block=0))
    blocked = onnxcost.analyze(squeeze_excite(), schedule="file", profile=str(p))
    t = blocked.totals
    # reorders in: x (16x14x14) and m (32x14x14); out: h (32x14x14), s (32), y (16x14x14); 4 bytes each
    assert t.layout_reorders == 5
    assert t.layout_reorder_bytes == 4 * (16 * 196 + 32 * 196 + 32 * 196 + 32 + 16 * 196)
    # each reads and writes its bytes at 1 GB/s, plus a 1 µs launch
    expected_us = 2 * t.layout_reorder_bytes / 1e9 * 1e6 + 5 * 1.0
    assert t.layout_reorder_ms == pytest.approx(expected_us / 1000, rel=1e-6)
    assert t.latency_ms == pytest.approx(known(plain.totals.latency_ms) + expected_us / 1000, rel=1e-6)
    assert plain.totals.layout_reorders is None


@pytest.mark.parametrize("value", [3, -8, True, "8"])
def test_profile_rejects_a_bad_block(tmp_path: Path, value: object) -> None:
    p = tmp_path / "bad.toml"
    text = f"nchwc_block = {str(value).lower() if isinstance(value, bool) else repr(value)}\n".replace("'", '"')
    p.write_text(text + "[peak_flops]\nfp32 = 1e9\n[memory]\nbandwidth = 1e9\n")
    with pytest.raises(ConfigError, match="nchwc_block"):
        load_profile(str(p))


def _ort_reorders(path: Path, tmp: Path) -> collections.Counter[str]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.optimized_model_filepath = str(tmp / "optimized.onnx")
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    m = onnx.load(so.optimized_model_filepath, load_external_data=False)
    return collections.Counter(n.op_type for n in m.graph.node if n.op_type.startswith("Reorder"))


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "shufflenet_v2_x0_5", "efficientnet_b1", "regnet_x_400mf",
                                  "mnasnet0_5", "squeezenet1_0"])
def test_predicted_reorders_equal_onnxruntimes(name: str, shared_models: Path, truth: dict, tmp_path: Path) -> None:
    """The reorders onnxruntime writes into its optimized model, on this machine's block size, are the ones
    predicted (a channels-last Transpose it runs as a ReorderOutput counts as one)."""
    block = nchwc_block()
    path = with_weights(shared_models / f"{name}.onnx", truth[name]["weights_bytes"], tmp_path)
    ort_counts = _ort_reorders(path, tmp_path)
    g = onnxcost.analyze(path, schedule="file").graph
    assert g is not None
    mine = collections.Counter(r.kind for r in nchwc_reorders(g, block))
    if block == 0:
        assert not ort_counts
        return
    assert ort_counts["ReorderInput"] == mine["input"]
    assert ort_counts["ReorderOutput"] == mine["output"] + mine["transpose"]


def test_a_calibration_conv_chain_reorders_only_at_its_ends() -> None:
    from onnxcost.measure.microbench import CHAIN
    from onnxcost.measure.microbench import conv_chain as _conv_chain

    # the premise of timing cheap convs as chains: CHAIN convs, one reorder in, one out, whatever CHAIN is
    assert _kinds(_conv_chain(16, 8, 3, 16, CHAIN), 8) == {"input": 1, "output": 1}
    assert _kinds(_conv_chain(32, 8, 1, 1, CHAIN), 8) == {"input": 1, "output": 1}
