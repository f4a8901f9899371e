"""Large-model paths: the weight-free wire parser, and a GPT-2-shaped graph with dynamic batch/seq."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

import onnxcost
from benchmarks.gpt2_like import build
from models import zoo
from onnxcost.load.wire import parse_without_weights


def test_wire_parser_drops_only_big_tensor_data(tmp_path: Path) -> None:
    model = zoo.resnet18("random", size=32)
    model.graph.initializer.append(numpy_helper.from_array(np.array([1, 2, 3], np.int64), "small_ints"))
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path))
    lean = parse_without_weights(path, keep_elements=100)
    assert [n.SerializeToString() for n in lean.graph.node] == [n.SerializeToString() for n in model.graph.node]
    by_name = {t.name: t for t in lean.graph.initializer}
    for t in model.graph.initializer:
        got = by_name[t.name]
        assert list(got.dims) == list(t.dims) and got.data_type == t.data_type
        if np.prod(t.dims) > 100:
            assert got.raw_data == b"" and not got.float_data
        else:
            assert got.SerializeToString() == t.SerializeToString()
    assert list(numpy_helper.to_array(by_name["small_ints"])) == [1, 2, 3]
    assert onnxcost.analyze(lean).totals.macs == onnxcost.analyze(model).totals.macs


def test_wire_parser_rejects_truncation(tmp_path: Path) -> None:
    path = tmp_path / "t.onnx"
    path.write_bytes(zoo.resnet18("random", size=32).SerializeToString()[:5000])
    try:
        parse_without_weights(path, 100)
    except ValueError as exc:
        assert "past the end" in str(exc)
    else:
        raise AssertionError("a truncated file parsed")


def test_gpt2_like_dynamic_dims() -> None:
    model = build(zeros=False)
    rep = onnxcost.analyze(model, dims={"batch": 2, "seq": 128})
    # 124 M (GPT-2 small) + an untied 768x50257 LM head; scalar literals (0.5, 0.044715, ...) are not params
    assert rep.totals.params == 163_037_184
    # per token per layer: 768*2304 + 768*768 + 2*768*3072 = 7,077,888 MACs; attention scores and values
    # 2*12*seq*seq*64 per layer; LM head 768*50257 per token
    seq, batch = 128, 2
    per_seq = 12 * (seq * 7_077_888 + 2 * 12 * seq * seq * 64) + seq * 768 * 50_257
    assert rep.totals.macs == batch * per_seq
    assert rep.outputs[0].shape == [2, 128, 50_257]
    assert rep.totals.unknown_cost_nodes == 0 and not [w for w in rep.warnings if "not bound" in w]
