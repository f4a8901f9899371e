"""Tiny one-node and few-node models for rule tests, built with onnx.helper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import onnxcost
from onnxcost.report.schema import NodeReport

T = TypeVar("T")


def known(value: T | None) -> T:
    """The value, asserting it is not null: a test that needs a number fails on a null, not on arithmetic."""
    assert value is not None
    return value


def one_node(op: str, inputs: dict[str, Sequence[int] | np.ndarray], outputs: Sequence[str] = ("y",),
             opset: int = 17, domain: str = "", **attrs: Any) -> onnx.ModelProto:
    """A model of one node: list shapes become float graph inputs, arrays become initializers."""
    graph_inputs, inits, names = [], [], []
    for name, spec in inputs.items():
        names.append(name)
        if name == "":
            continue
        if isinstance(spec, np.ndarray):
            inits.append(numpy_helper.from_array(spec, name))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(spec)))
    node = helper.make_node(op, names, list(outputs), name="n", domain=domain, **attrs)
    graph = helper.make_graph([node], "g", graph_inputs,
                              [helper.make_empty_tensor_value_info(o) for o in outputs], initializer=inits)
    opsets = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def node_of(model: onnx.ModelProto, **kw: object) -> NodeReport:
    rep = onnxcost.analyze(model, **kw)  # type: ignore[arg-type]
    return rep.nodes[0]


def w(*shape: int) -> np.ndarray:
    return np.zeros(shape, dtype=np.float32)


#: A hand-written profile whose numbers make roofline estimates easy to check by hand.
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
