"""onnxruntime's CPU kernels, op by op: what the latency estimate assumes about how each op runs. These
describe one runtime, not ONNX semantics (those are `ops.Traits`), so they live with the latency stage:
its op class (the roofline's efficiency class), the ops its kernel fuses when they follow it, whether it
joins a fused element-wise chain, its role in the channel-blocked NCHWc layout, a bias pass, and which
input is the weight. Keyed by (domain, op) and resolved through the registry's opset, as `ops.lookup`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from enum import Enum

from .. import ops
from ..shapes.graph import Graph, NodeInfo

DEFAULT, MS, ML = ops.DEFAULT, "com.microsoft", "ai.onnx.ml"
PREVIEW, TRAINING = "ai.onnx.preview", "ai.onnx.preview.training"

#: The roofline's classes of op, each with its own efficiency in a profile.
OP_CLASSES = ("dense", "einsum", "elementwise", "movement", "view", "metadata", "control")


class Nchwc(str, Enum):
    """An op's role in onnxruntime's channel-blocked (NCHWc) layout: conv and pool start a blocked region;
    the others may continue one (layout.py)."""

    NONE = ""
    CONV = "conv"
    POOL = "pool"
    ACTIVATION = "activation"
    GLOBAL_POOL = "global_pool"
    BINARY = "binary"
    CONCAT = "concat"
    BATCHNORM = "batchnorm"
    TRANSPOSE = "transpose"


@dataclass(frozen=True)
class RuntimeHints:
    """op_class: the estimate's class (a grouped conv is refined to grouped/depthwise from its weight).
    fuses: ops the runtime folds into this op's kernel when they follow it.
    chainable: runs inside a fused chain of element-wise ops (one pass over memory for the chain).
    nchwc: its role in the blocked layout. bias_pass: a bias it adds (Gemm's C, or an Add folded into a MatMul)
    is first copied into every output row and the product accumulates onto it: one more pass over the output.
    weight_input: the index of the weight input (convolutions: for the group refinement; integer kernels: for
    the weights' signedness).
    serial_pow: the runtime's CPU kernel computes a scalar power per element on one thread (onnxruntime's LRN,
    Caffe2's code): Profile.serial_pow_ns each, whatever its FLOPs say."""

    op_class: str = "elementwise"
    fuses: frozenset[str] = frozenset()
    chainable: bool = False
    nchwc: Nchwc = Nchwc.NONE
    bias_pass: bool = False
    weight_input: int | None = None
    serial_pow: bool = False


#: Ops a runtime folds into a conv or GEMM that feeds them (Conv+BatchNorm, FusedConv with an activation and a
#: residual Add, Gemm+activation); MatMul takes a bias and a scalar scale (FusedMatMul's alpha).
CONV_FUSES = frozenset({"BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish",
                        "Tanh", "Add"})
GEMM_FUSES = frozenset({"Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "Add"})
MATMUL_FUSES = frozenset({"Add", "Mul", "Div"})

# --- op class, by op (every op not listed is element-wise) ------------------------------------------------

_DENSE = {
    (DEFAULT, "AffineGrid"), (DEFAULT, "Attention"), (DEFAULT, "CausalConvWithState"), (DEFAULT, "Conv"),
    (DEFAULT, "ConvInteger"), (DEFAULT, "ConvTranspose"), (DEFAULT, "DeformConv"), (DEFAULT, "GRU"),
    (DEFAULT, "Gemm"), (DEFAULT, "LSTM"), (DEFAULT, "LinearAttention"), (DEFAULT, "MatMul"),
    (DEFAULT, "MatMulInteger"), (DEFAULT, "QLinearConv"), (DEFAULT, "QLinearMatMul"), (DEFAULT, "RNN"),
    (ML, "LinearClassifier"), (ML, "LinearRegressor"), (ML, "SVMClassifier"), (ML, "SVMRegressor"),
    (PREVIEW, "FlexAttention"), (MS, "Attention"), (MS, "DecoderMaskedMultiHeadAttention"),
    (MS, "DynamicQuantizeLSTM"), (MS, "DynamicQuantizeMatMul"), (MS, "FusedConv"), (MS, "FusedGemm"),
    (MS, "FusedMatMul"), (MS, "GroupQueryAttention"), (MS, "MatMulIntegerToFloat"), (MS, "MatMulNBits"),
    (MS, "MultiHeadAttention"), (MS, "NhwcConv"), (MS, "NhwcFusedConv"), (MS, "PackedAttention"), (MS, "QAttention"),
    (MS, "QGemm"), (MS, "QLinearConv"), (MS, "TransposeMatMul"),
}

_MOVEMENT = {
    (DEFAULT, "BitCast"), (DEFAULT, "Cast"), (DEFAULT, "CastLike"), (DEFAULT, "CenterCropPad"), (DEFAULT, "Col2Im"),
    (DEFAULT, "Compress"), (DEFAULT, "Concat"), (DEFAULT, "Constant"), (DEFAULT, "ConstantOfShape"),
    (DEFAULT, "DepthToSpace"), (DEFAULT, "Expand"), (DEFAULT, "EyeLike"), (DEFAULT, "Gather"),
    (DEFAULT, "GatherElements"), (DEFAULT, "GatherND"), (DEFAULT, "ImageDecoder"), (DEFAULT, "MaxUnpool"),
    (DEFAULT, "NonMaxSuppression"), (DEFAULT, "NonZero"), (DEFAULT, "OneHot"), (DEFAULT, "Pad"), (DEFAULT, "Range"),
    (DEFAULT, "RegexFullMatch"), (DEFAULT, "Resize"), (DEFAULT, "ReverseSequence"), (DEFAULT, "Scatter"),
    (DEFAULT, "ScatterElements"), (DEFAULT, "ScatterND"), (DEFAULT, "Slice"), (DEFAULT, "SpaceToDepth"),
    (DEFAULT, "Split"), (DEFAULT, "StringConcat"), (DEFAULT, "StringNormalizer"), (DEFAULT, "StringSplit"),
    (DEFAULT, "TensorScatter"), (DEFAULT, "TfIdfVectorizer"), (DEFAULT, "Tile"), (DEFAULT, "Transpose"),
    (DEFAULT, "Trilu"), (DEFAULT, "Unique"), (DEFAULT, "Upsample"), (DEFAULT, "Where"), (ML, "ArrayFeatureExtractor"),
    (ML, "CastMap"), (ML, "CategoryMapper"), (ML, "DictVectorizer"), (ML, "FeatureVectorizer"), (ML, "LabelEncoder"),
    (ML, "OneHotEncoder"), (ML, "ZipMap"), (MS, "GatherBlockQuantized"), (MS, "QLinearConcat"),
}

_METADATA = {
    (DEFAULT, "ConcatFromSequence"), (DEFAULT, "Optional"), (DEFAULT, "OptionalGetElement"),
    (DEFAULT, "OptionalHasElement"), (DEFAULT, "SequenceAt"), (DEFAULT, "SequenceConstruct"),
    (DEFAULT, "SequenceEmpty"), (DEFAULT, "SequenceErase"), (DEFAULT, "SequenceInsert"), (DEFAULT, "SequenceLength"),
    (DEFAULT, "Shape"), (DEFAULT, "Size"), (DEFAULT, "SplitToSequence"),
}

_VIEW = {
    (DEFAULT, "Dropout"), (DEFAULT, "Flatten"), (DEFAULT, "Identity"), (DEFAULT, "Reshape"), (DEFAULT, "Squeeze"),
    (DEFAULT, "Unsqueeze"),
}

_EINSUM = {
    (DEFAULT, "Einsum"),
}

_CONTROL = {
    (DEFAULT, "If"), (DEFAULT, "Loop"), (DEFAULT, "Scan"), (DEFAULT, "SequenceMap"),
}

_KERNELS: dict[tuple[str, str], RuntimeHints] = {
    (DEFAULT, "Abs"): RuntimeHints(chainable=True),
    (DEFAULT, "Add"): RuntimeHints(chainable=True, nchwc=Nchwc.BINARY),
    (DEFAULT, "AveragePool"): RuntimeHints(nchwc=Nchwc.POOL),
    (DEFAULT, "BatchNormalization"): RuntimeHints(nchwc=Nchwc.BATCHNORM),
    (DEFAULT, "CausalConvWithState"): RuntimeHints(weight_input=1),
    (DEFAULT, "Celu"): RuntimeHints(chainable=True),
    (DEFAULT, "Clip"): RuntimeHints(chainable=True),
    (DEFAULT, "Concat"): RuntimeHints(nchwc=Nchwc.CONCAT),
    (DEFAULT, "Conv"): RuntimeHints(fuses=CONV_FUSES, nchwc=Nchwc.CONV, weight_input=1),
    (DEFAULT, "ConvInteger"): RuntimeHints(weight_input=1),
    (DEFAULT, "ConvTranspose"): RuntimeHints(weight_input=1),
    (DEFAULT, "DeformConv"): RuntimeHints(weight_input=1),
    (DEFAULT, "Div"): RuntimeHints(chainable=True),
    (DEFAULT, "Elu"): RuntimeHints(chainable=True),
    (DEFAULT, "Erf"): RuntimeHints(chainable=True),
    (DEFAULT, "Exp"): RuntimeHints(chainable=True),
    (DEFAULT, "Gelu"): RuntimeHints(chainable=True),
    (DEFAULT, "Gemm"): RuntimeHints(fuses=GEMM_FUSES, bias_pass=True),
    (DEFAULT, "GlobalAveragePool"): RuntimeHints(nchwc=Nchwc.GLOBAL_POOL),
    (DEFAULT, "GlobalMaxPool"): RuntimeHints(nchwc=Nchwc.GLOBAL_POOL),
    (DEFAULT, "HardSigmoid"): RuntimeHints(chainable=True),
    (DEFAULT, "HardSwish"): RuntimeHints(chainable=True),
    (DEFAULT, "LeakyRelu"): RuntimeHints(chainable=True),
    (DEFAULT, "LRN"): RuntimeHints(serial_pow=True),
    (DEFAULT, "MatMul"): RuntimeHints(fuses=MATMUL_FUSES, bias_pass=True),
    (DEFAULT, "MatMulInteger"): RuntimeHints(weight_input=1),
    (DEFAULT, "MaxPool"): RuntimeHints(nchwc=Nchwc.POOL),
    (DEFAULT, "Mish"): RuntimeHints(chainable=True),
    (DEFAULT, "Mul"): RuntimeHints(chainable=True, nchwc=Nchwc.BINARY),
    (DEFAULT, "Neg"): RuntimeHints(chainable=True),
    (DEFAULT, "Pow"): RuntimeHints(chainable=True),
    (DEFAULT, "QLinearConv"): RuntimeHints(weight_input=3),
    (DEFAULT, "QLinearMatMul"): RuntimeHints(weight_input=3),
    (DEFAULT, "Reciprocal"): RuntimeHints(chainable=True),
    (DEFAULT, "Relu"): RuntimeHints(chainable=True, nchwc=Nchwc.ACTIVATION),
    (DEFAULT, "Selu"): RuntimeHints(chainable=True),
    (DEFAULT, "Sigmoid"): RuntimeHints(chainable=True, nchwc=Nchwc.ACTIVATION),
    (DEFAULT, "Softplus"): RuntimeHints(chainable=True),
    (DEFAULT, "Sqrt"): RuntimeHints(chainable=True),
    (DEFAULT, "Sub"): RuntimeHints(chainable=True),
    (DEFAULT, "Sum"): RuntimeHints(nchwc=Nchwc.BINARY),
    (DEFAULT, "Tanh"): RuntimeHints(chainable=True, nchwc=Nchwc.ACTIVATION),
    (DEFAULT, "Transpose"): RuntimeHints(nchwc=Nchwc.TRANSPOSE),
    (DEFAULT, "Where"): RuntimeHints(chainable=True),
    (MS, "DynamicQuantizeMatMul"): RuntimeHints(weight_input=1),
    (MS, "FusedConv"): RuntimeHints(fuses=CONV_FUSES, nchwc=Nchwc.CONV, weight_input=1),
    (MS, "FusedGemm"): RuntimeHints(fuses=GEMM_FUSES, bias_pass=True),
    (MS, "Gelu"): RuntimeHints(chainable=True),
    (MS, "MatMulIntegerToFloat"): RuntimeHints(weight_input=1),
    (MS, "NhwcConv"): RuntimeHints(weight_input=1),
    (MS, "NhwcFusedConv"): RuntimeHints(weight_input=1),
    (MS, "QLinearConv"): RuntimeHints(weight_input=3),
}


_CLASS_OF = {key: name for name, keys in (("dense", _DENSE), ("movement", _MOVEMENT), ("metadata", _METADATA),
                                          ("view", _VIEW), ("einsum", _EINSUM), ("control", _CONTROL))
             for key in keys}
#: Hints that differ in one opset of an op from its others: (domain, op, since) -> hints (none so far).
_BY_OPSET: dict[tuple[str, str, int], RuntimeHints] = {}


def of(node: NodeInfo, graph: Graph) -> RuntimeHints:
    """The hints of a node of `graph`, at the opset the graph imports for its domain."""
    return hints(node.domain, node.op_type, graph.opsets.get(node.domain))


@functools.lru_cache(maxsize=4096)
def hints(domain: str, op_type: str, opset: int | None = None) -> RuntimeHints:
    """The hints of the op's definition at `opset` (its newest without one); element-wise for unknown ops. Cached:
    a pure function of its arguments, asked once per node on every estimate (a fit makes thousands)."""
    definition = ops.lookup(domain, op_type, opset)
    if definition is not None:
        found = _BY_OPSET.get((definition.domain, op_type, definition.since))
        if found is not None:
            return found
        domain = definition.domain
    key = (domain, op_type)
    base = _KERNELS.get(key, RuntimeHints())
    op_class = _CLASS_OF.get(key, base.op_class)
    return base if op_class == base.op_class else replace(base, op_class=op_class)
