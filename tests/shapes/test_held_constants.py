"""A Constant node's tensor is kept as an initializer's is, decoded only when a rule reads its value: a model of
thousands of Constants (TorchScript exports) does not decode the ones nothing reads, and every one that is read
gives the same value as before."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import ModelProto, TensorProto, helper, numpy_helper

import onnxcost
from onnxcost.base import dtypes


def _model() -> ModelProto:
    scale = numpy_helper.from_array(np.full((2, 3), 0.5, np.float32))
    target = numpy_helper.from_array(np.array([3, 2], np.int64))
    nodes = [helper.make_node("Constant", [], ["scale"], value=scale),  # read by Mul: no value needed
             helper.make_node("Constant", [], ["target"], value=target),  # Reshape's shape: read
             helper.make_node("Mul", ["x", "scale"], ["y"]),
             helper.make_node("Reshape", ["y", "target"], ["z"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_only_the_constant_a_rule_reads_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    real = dtypes.decode

    def counting(t: TensorProto, what: str, shape: tuple[int, ...]) -> np.ndarray:
        decoded.append(what)
        return real(t, what, shape)

    monkeypatch.setattr(dtypes, "decode", counting)
    rep = onnxcost.analyze(_model())
    assert decoded == ["constant 'target'"]
    assert rep.nodes[-1].output_shapes == [[3, 2]]  # the value read gave Reshape its shape
    assert [n.folded for n in rep.nodes] == [True, True, False, False]
    assert rep.totals.params == 6  # the held 2x3 weight still counts, without being decoded
