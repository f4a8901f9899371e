"""The seed lectures' reference networks. Each function returns an onnx.ModelProto; numbers they must
reproduce are in tests/test_reference_models.py beside the seed they come from."""

from __future__ import annotations

import onnx
from onnx import helper

from .builder import Net


def alexnet_seed003(weights: str = "external", batch: int = 1) -> onnx.ModelProto:
    """AlexNet as tabulated in seed 003: 224 input, 96-256-384-384-256 channels, grouped conv2/4/5, no bias."""
    n = Net("alexnet_seed003", (batch, 3, 224, 224), weights)
    n.conv(96, 11, stride=4, pad=2, bias=False), n.relu(), n.maxpool(3, 2)
    n.conv(256, 5, pad=2, group=2, bias=False), n.relu(), n.maxpool(3, 2)
    n.conv(384, 3, pad=1, bias=False), n.relu()
    n.conv(384, 3, pad=1, group=2, bias=False), n.relu()
    n.conv(256, 3, pad=1, group=2, bias=False), n.relu(), n.maxpool(3, 2)
    n.flatten()
    n.fc(4096, bias=False), n.relu()
    n.fc(4096, bias=False), n.relu()
    n.fc(1000, bias=False)
    return n.model()


def alexnet_seed002(weights: str = "external", bias: bool = False) -> onnx.ModelProto:
    """AlexNet as tabulated in seed 002 (CS231n style): 227 input, 64-192-384-256-256 channels."""
    n = Net("alexnet_seed002", (1, 3, 227, 227), weights)
    n.conv(64, 11, stride=4, pad=2, bias=bias), n.relu(), n.maxpool(3, 2)
    n.conv(192, 5, pad=2, bias=bias), n.relu(), n.maxpool(3, 2)
    n.conv(384, 3, pad=1, bias=bias), n.relu()
    n.conv(256, 3, pad=1, bias=bias), n.relu()
    n.conv(256, 3, pad=1, bias=bias), n.relu(), n.maxpool(3, 2)
    n.flatten()
    n.fc(4096, bias=bias), n.relu()
    n.fc(4096, bias=bias), n.relu()
    n.fc(1000, bias=bias)
    return n.model()


def vgg16(weights: str = "external", size: int = 224) -> onnx.ModelProto:
    """VGG-16 (configuration D) with biases: 13 3×3 convs, 3 FC layers."""
    n = Net("vgg16", (1, 3, size, size), weights)
    for block in ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)):
        for c in block:
            n.conv(c, 3, pad=1), n.relu()
        n.maxpool(2, 2)
    n.flatten()
    n.fc(4096), n.relu(), n.fc(4096), n.relu(), n.fc(1000)
    return n.model()


def mobilenet_v1(weights: str = "external", size: int = 224, width: float = 1.0) -> onnx.ModelProto:
    """MobileNet V1 (seed 004, Table 1): a full 3×3 conv then 13 depthwise-separable blocks, BN after each conv."""
    n = Net("mobilenet_v1", (1, 3, size, size), weights)

    def ch(c: int) -> int:
        return int(c * width)

    n.conv(ch(32), 3, stride=2, pad=1, bias=False), n.bn(), n.relu()
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for c_out, stride in plan:
        c_in = n.shape[1]
        n.conv(c_in, 3, stride=stride, pad=1, group=c_in, bias=False), n.bn(), n.relu()
        n.conv(ch(c_out), 1, bias=False), n.bn(), n.relu()
    n.global_avgpool(), n.flatten(), n.fc(1000)
    return n.model()


def resnet18(weights: str = "external", size: int = 224) -> onnx.ModelProto:
    """ResNet-18: basic blocks (two 3×3 convs with BN) and 1×1 projection shortcuts."""
    n = Net("resnet18", (1, 3, size, size), weights)
    n.conv(64, 7, stride=2, pad=3, bias=False), n.bn(), n.relu(), n.maxpool(3, 2, pad=1)
    for c_out, stride in ((64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)):
        block_in, in_shape = n.cur, n.shape
        n.conv(c_out, 3, stride=stride, pad=1, bias=False), n.bn(), n.relu()
        n.conv(c_out, 3, pad=1, bias=False), n.bn()
        main, main_shape = n.cur, n.shape
        if stride != 1 or in_shape[1] != c_out:
            n.cur, n.shape = block_in, in_shape
            n.conv(c_out, 1, stride=stride, bias=False), n.bn()
            shortcut = n.cur
        else:
            shortcut = block_in
        n.cur, n.shape = main, main_shape
        n.add(shortcut), n.relu()
    n.global_avgpool(), n.flatten(), n.fc(1000)
    return n.model()


def lenet_1989(weights: str = "external") -> onnx.ModelProto:
    """Seed 000's LeCun et al. network on 16×16 inputs: untied biases (one per output position), the second
    layer reading 8 of the 12 maps, then FC 30 and FC 10: 1,068 + 2,592 + 5,790 + 310 = 9,760 weights."""
    n = Net("lenet_1989", (1, 1, 16, 16), weights)
    n.conv(12, 5, stride=2, pad=(1, 2), bias=False)
    n.add(n.weight("h1.bias", (1,) + n.shape[1:]))
    n.relu()
    # Each H2 map sees 8 of the 12 H1 maps: the same weight count as a conv over 8 channels.
    n.node("Slice", [n.cur, n.ints("s.starts", [0]), n.ints("s.ends", [8]), n.ints("s.axes", [1])],
           (1, 8) + n.shape[2:])
    n.conv(12, 5, stride=2, pad=(1, 2), bias=False)
    n.add(n.weight("h2.bias", (1,) + n.shape[1:]))
    n.relu(), n.flatten(), n.fc(30), n.relu(), n.fc(10)
    return n.model()


def mlp(layers: list[int], weights: str = "external", batch: int = 1) -> onnx.ModelProto:
    """Fully connected network (seeds 000 and 001): Gemm layers with bias and ReLU between them."""
    n = Net("mlp", (batch, layers[0]), weights)
    for i, width in enumerate(layers[1:]):
        n.fc(width)
        if i < len(layers) - 2:
            n.relu()
    return n.model()


def inception_cell(weights: str = "random", size: int = 28) -> onnx.ModelProto:
    """A GoogLeNet inception (3a) block: four branches joined by Concat, a graph whose order changes the peak."""
    n = Net("inception_3a", (1, 192, size, size), weights)
    x, shape = n.cur, n.shape
    outs = []
    for branch in ([(64, 1)], [(96, 1), (128, 3)], [(16, 1), (32, 5)]):
        n.cur, n.shape = x, shape
        for c, k in branch:
            n.conv(c, k, pad=k // 2), n.relu()
        outs.append(n.cur)
    n.cur, n.shape = x, shape
    n.maxpool(3, 1, pad=1), n.conv(32, 1), n.relu()
    outs.append(n.cur)
    total = 64 + 128 + 32 + 32
    n.nodes.append(helper.make_node("Concat", outs, ["concat_out"], name="concat", axis=1))
    n.cur, n.shape = "concat_out", (1, total, size, size)
    return n.model()


ZOO = {
    "alexnet": alexnet_seed003,
    "alexnet_seed002": alexnet_seed002,
    "vgg16": vgg16,
    "mobilenet_v1": mobilenet_v1,
    "resnet18": resnet18,
    "lenet_1989": lenet_1989,
    "inception_3a": lambda: inception_cell("external"),
}
