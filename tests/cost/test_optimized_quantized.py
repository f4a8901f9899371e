"""The invariant: a model that onnxruntime optimised or quantised reports the MACs of the float model it came
from (within 0.5%; these are exact), with no node of unknown cost. The variants are made here with
onnxruntime's own tools: the extended-level graph optimizer (FusedConv, FusedGemm, FusedMatMul, FastGelu),
its transformer optimizer (SkipLayerNormalization), dynamic quantisation (DynamicQuantizeLinear, ConvInteger,
MatMulInteger, DynamicQuantizeLSTM), and static quantisation in QDQ and QOperator form (QLinearConv,
QLinearAdd, QLinearGlobalAveragePool, QGemm)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from benchmarks.gpt2_like import Dims
from benchmarks.gpt2_like import build as build_gpt2
from models.zoo import mobilenet_v1, resnet18
from tests.helpers import known

GPT_DIMS = {"batch": 2, "seq": 8}


def _random_weights(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """Small random float weights, positive BatchNorm variances, a causal mask: values quantisers can calibrate."""
    rng = np.random.default_rng(seed)
    variances = {n.input[4] for n in model.graph.node if n.op_type == "BatchNormalization"}
    for i, t in enumerate(model.graph.initializer):
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32 and a.size > 1:
            a = np.abs(a) + 0.5 if t.name in variances else (rng.standard_normal(a.shape) * 0.05).astype(np.float32)
        elif a.dtype == np.bool_:
            a = np.tril(np.ones(a.shape, bool))
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(a.astype(numpy_helper.to_array(t).dtype), t.name))
    return model


def _lstm() -> onnx.ModelProto:
    """A one-layer LSTM (16 -> 32) over 7 steps of batch 2, then a 32 -> 5 MatMul."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [7, 2, 16])
    inits = [numpy_helper.from_array(np.zeros(s, np.float32), n) for n, s in
             (("W", (1, 128, 16)), ("R", (1, 128, 32)), ("B", (1, 256)), ("Wo", (32, 5)))]
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis"))
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y", "h", "c"], hidden_size=32, name="lstm"),
             helper.make_node("Squeeze", ["y", "axis"], ["ys"], name="squeeze"),
             helper.make_node("MatMul", ["ys", "Wo"], ["out"], name="fc")]
    g = helper.make_graph(nodes, "lstm", [x], [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                          initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _random_weights(model)


FLOAT_MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "resnet18": lambda: _random_weights(resnet18("random", size=64)),
    "mobilenet_v1": lambda: _random_weights(mobilenet_v1("random", size=64)),
    "gpt2_tiny": lambda: _random_weights(build_gpt2(True, Dims(vocab=96, ctx=32, d=64, heads=4, layers=2))),
    "lstm": _lstm,
}
DIMS = {"gpt2_tiny": GPT_DIMS}


class _Reader:
    """Two random calibration batches for quantize_static."""

    def __init__(self, model: onnx.ModelProto) -> None:
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        name = model.graph.input[0].name
        self.batches = iter([{name: np.random.default_rng(k).standard_normal(shape).astype(np.float32)}
                             for k in range(2)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.batches, None)


def _variant(kind: str, src: Path, dst: Path, model: onnx.ModelProto) -> None:
    from onnxruntime import quantization as q

    if kind == "optimized":
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        so.optimized_model_filepath = str(dst)
        ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    elif kind == "transformer":
        from onnxruntime.transformers.optimizer import optimize_model

        optimize_model(str(src), model_type="gpt2", num_heads=4, hidden_size=64, opt_level=0).save_model_to_file(
            str(dst))
    elif kind == "dynamic":
        q.quantize_dynamic(str(src), str(dst))
    else:
        fmt = q.QuantFormat.QDQ if kind == "qdq" else q.QuantFormat.QOperator
        q.quantize_static(str(src), str(dst), _Reader(model), quant_format=fmt)


CASES = [(m, k) for m in ("resnet18", "mobilenet_v1") for k in ("optimized", "dynamic", "qdq", "qoperator")]
CASES += [("gpt2_tiny", k) for k in ("optimized", "transformer", "dynamic")] + [("lstm", "dynamic")]


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("variants")
    logging.getLogger().setLevel(logging.ERROR)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, kind in CASES:
            model = FLOAT_MODELS[name]()
            src = tmp / f"{name}.onnx"
            if not src.exists():
                onnx.save_model(model, str(src))
            dst = tmp / f"{name}_{kind}.onnx"
            _variant(kind, src, dst, model)
            out[(name, kind)] = (src, dst)
    return out


# Ops each variant must contain, so that the test is known to exercise what it claims.
EXPECTED_OPS = {
    ("resnet18", "optimized"): {"FusedConv"},
    ("resnet18", "dynamic"): {"DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"},
    ("resnet18", "qdq"): {"QuantizeLinear", "DequantizeLinear"},
    ("resnet18", "qoperator"): {"QLinearConv", "QLinearAdd", "QLinearGlobalAveragePool", "QGemm"},
    ("gpt2_tiny", "optimized"): {"FusedMatMul", "FastGelu"},
    ("gpt2_tiny", "transformer"): {"SkipLayerNormalization"},
    ("gpt2_tiny", "dynamic"): {"MatMulInteger", "DynamicQuantizeLinear"},
    ("lstm", "dynamic"): {"DynamicQuantizeLSTM"},
}


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_variant_reports_its_float_originals_macs(name: str, kind: str,
                                                  variants: dict[tuple[str, str], tuple[Path, Path]]) -> None:
    src, dst = variants[(name, kind)]
    dims = DIMS.get(name)
    original = onnxcost.analyze(src, dims=dims)
    variant = onnxcost.analyze(dst, dims=dims)
    assert original.totals.unknown_cost_nodes == 0
    assert variant.totals.unknown_cost_nodes == 0, variant.warnings
    original_macs = known(original.totals.macs)
    assert abs(known(variant.totals.macs) - original_macs) <= 0.005 * original_macs
    assert EXPECTED_OPS.get((name, kind), set()) <= {n.op_type for n in variant.nodes}
    assert variant.totals.peak_memory_bytes is not None
