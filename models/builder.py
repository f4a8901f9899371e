"""A small NCHW network builder over onnx.helper: tracks the current tensor and shape, names every node.

Weights are either real arrays (`weights="random"`, runnable by onnxruntime) or graph-only references to an
absent external file (`weights="external"`): a 60 M-parameter network then costs a few KB on disk."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Net:
    def __init__(self, name: str, input_shape: tuple[int, ...], weights: str = "external",
                 opset: int = 17, seed: int = 0) -> None:
        self.name = name
        self.weights = weights
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)
        self.offset = 0
        self.cur = "input"
        self.shape = tuple(input_shape)
        self.input = helper.make_tensor_value_info("input", TensorProto.FLOAT, list(input_shape))
        self.count: dict[str, int] = {}

    # -- plumbing ------------------------------------------------------------------------------------------
    def _name(self, op: str) -> str:
        k = self.count.get(op, 0) + 1
        self.count[op] = k
        return f"{op.lower()}{k}"

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        if self.weights == "random":
            arr = (self.rng.standard_normal(shape) * 0.05).astype(np.float32)
            self.inits.append(numpy_helper.from_array(arr, name))
        else:
            t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
            length = 4 * math.prod(shape)
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", f"{self.name}.weights"), ("offset", str(self.offset)),
                         ("length", str(length))):
                e = t.external_data.add()
                e.key, e.value = k, v
            self.offset += length
            self.inits.append(t)
        return name

    def ints(self, name: str, values: list[int]) -> str:
        self.inits.append(numpy_helper.from_array(np.array(values, dtype=np.int64), name))
        return name

    def node(self, op: str, inputs: list[str], shape: tuple[int, ...], **attrs: Any) -> str:
        name = self._name(op)
        out = f"{name}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        self.cur, self.shape = out, shape
        return out

    # -- layers --------------------------------------------------------------------------------------------
    def conv(self, c_out: int, k: int, stride: int = 1, pad: int | tuple[int, int] = 0, group: int = 1,
             bias: bool = True) -> str:
        n, c_in, h, w = self.shape
        pb, pe = (pad, pad) if isinstance(pad, int) else pad
        name = f"conv{self.count.get('Conv', 0) + 1}"
        inputs = [self.cur, self.weight(f"{name}.weight", (c_out, c_in // group, k, k))]
        if bias:
            inputs.append(self.weight(f"{name}.bias", (c_out,)))
        ho, wo = (h + pb + pe - k) // stride + 1, (w + pb + pe - k) // stride + 1
        return self.node("Conv", inputs, (n, c_out, ho, wo), kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pb, pb, pe, pe], group=group)

    def relu(self) -> str:
        return self.node("Relu", [self.cur], self.shape)

    def bn(self) -> str:
        c = self.shape[1]
        name = f"bn{self.count.get('BatchNormalization', 0) + 1}"
        ins = [self.cur] + [self.weight(f"{name}.{p}", (c,)) for p in ("scale", "bias", "mean", "var")]
        return self.node("BatchNormalization", ins, self.shape)

    def maxpool(self, k: int, stride: int, pad: int = 0) -> str:
        n, c, h, w = self.shape
        ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        return self.node("MaxPool", [self.cur], (n, c, ho, wo), kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4)

    def avgpool(self, k: int, stride: int) -> str:
        n, c, h, w = self.shape
        return self.node("AveragePool", [self.cur], (n, c, (h - k) // stride + 1, (w - k) // stride + 1),
                         kernel_shape=[k, k], strides=[stride, stride])

    def global_avgpool(self) -> str:
        n, c = self.shape[:2]
        return self.node("GlobalAveragePool", [self.cur], (n, c, 1, 1))

    def flatten(self) -> str:
        return self.node("Flatten", [self.cur], (self.shape[0], math.prod(self.shape[1:])), axis=1)

    def fc(self, c_out: int, bias: bool = True) -> str:
        n, c_in = self.shape
        name = f"fc{self.count.get('Gemm', 0) + 1}"
        ins = [self.cur, self.weight(f"{name}.weight", (c_out, c_in))]
        if bias:
            ins.append(self.weight(f"{name}.bias", (c_out,)))
        return self.node("Gemm", ins, (n, c_out), transB=1)

    def add(self, other: str) -> str:
        return self.node("Add", [self.cur, other], self.shape)

    def model(self) -> onnx.ModelProto:
        out = helper.make_tensor_value_info(self.cur, TensorProto.FLOAT, list(self.shape))
        graph = helper.make_graph(self.nodes, self.name, [self.input], [out], initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                              producer_name="onnxcost-models")
        m.ir_version = 8
        return m
