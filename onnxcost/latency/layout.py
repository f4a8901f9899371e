"""Blocked-layout reorders a CPU runtime inserts: onnxruntime's NCHWc transformer runs convolutions and pools
on channels blocked by the SIMD width (8 floats with AVX2, 16 with AVX-512) and copies a tensor between the
plain and the blocked layout wherever a blocked region meets an op that needs the plain one (a broadcast Mul
of a squeeze-excite block, a channel shuffle's Reshape, a Flatten). Each copy is a pass over memory that no
node of the graph accounts for: a fifth of MobileNetV3-Small's time on a 2-core x86 machine.

The rules follow what onnxruntime's transformer converts (its behaviour, re-derived: which convs, pools,
element-wise ops and concats stay blocked); `tests/test_layout.py` checks the predicted reorders against the
ones onnxruntime writes into its optimized model."""

from __future__ import annotations

from dataclasses import dataclass

from onnx import TensorProto

from ..shapes.graph import Graph, NodeInfo
from . import hints
from .hints import Nchwc

#: Ops the runtime first fuses into the convolution that feeds them (Conv+BN, Conv+activation; a residual Add
#: is handled as a blocked binary op).
FUSED_INTO_CONV = hints.CONV_FUSES - {"Add"}

#: Channel counts a blocked conv accepts when they do not fill whole blocks (padded with zeros): multiples of 4,
#: as onnxruntime 1.32 with 8-float blocks does (a 58-channel conv stays plain, 116 and 20 run blocked).
CHANNEL_ALIGN = 4


@dataclass(frozen=True)
class Reorder:
    tensor: str
    kind: str  # "input": plain -> blocked before a blocked node; "output": blocked -> plain for a plain reader;
    # "transpose": a channels-last Transpose the runtime runs as the reorder (costed as the Transpose node)
    nbytes: int  # the tensor's size: each reorder reads and writes it once
    reader: str  # the first node that needs the copy


def _constant(graph: Graph, name: str) -> bool:
    t = graph.tensors.get(name)
    return t is not None and t.is_constant


def _shape(graph: Graph, name: str) -> tuple[int, ...] | None:
    t = graph.tensors.get(name)
    return None if t is None or t.shape is None else tuple(t.shape)


def _nbytes(graph: Graph, name: str) -> int:
    t = graph.tensors.get(name)
    return (t.nbytes or 0) if t is not None else 0


def _float4d(graph: Graph, name: str) -> bool:
    t = graph.tensors.get(name)
    return t is not None and t.dtype == TensorProto.FLOAT and t.shape is not None and len(t.shape) == 4


def _conv_blocks(node: NodeInfo, graph: Graph, block: int) -> tuple[bool, bool]:
    """(runs blocked, reads its input blocked). A stem conv with fewer input channels than a block reads the
    plain input directly; output channels are padded up to whole blocks; input channels must align."""
    if len(node.inputs) < 2 or not _float4d(graph, node.inputs[0]):
        return False, False
    w = graph.tensors.get(node.inputs[1])
    if w is None or not w.is_constant or w.shape is None or len(w.shape) != 4 or w.dtype != TensorProto.FLOAT:
        return False, False
    if len(node.inputs) > 2 and node.inputs[2] and not _constant(graph, node.inputs[2]):
        return False, False
    c_out, c_in = w.shape[0], w.shape[1]
    group = int(node.attrs.get("group", 1))
    if group > 1:
        if c_in == 1 and c_out == group:  # depthwise
            return c_out % CHANNEL_ALIGN == 0, c_out % CHANNEL_ALIGN == 0
        if c_out % block or c_in % block or c_out % group or (c_out // group) % block:
            return False, False
        return True, True
    if c_in < block:
        return True, False
    return c_in % CHANNEL_ALIGN == 0, c_in % CHANNEL_ALIGN == 0


def _channels_last_transpose(name: str, graph: Graph) -> bool:
    """A channels-last -> channels-first Transpose read only by a blocked conv becomes its input reorder (already
    costed as the Transpose)."""
    producer = graph.producers.get(name)
    if producer is None or len(graph.consumers.get(name, [])) != 1:
        return False
    node = graph.node(producer)
    return node.op_type == "Transpose" and list(node.attrs.get("perm", [])) == [0, 3, 1, 2]


def nchwc_reorders(graph: Graph, block: int) -> list[Reorder]:
    """The reorders a runtime with NCHWc kernels of `block` channels inserts (none when block < 2)."""
    if block < 2:
        return []
    blocked: dict[str, int] = {}  # tensor held blocked -> its logical channel count
    plain_uses: dict[str, str] = {}  # blocked tensor -> first node that reads it plain
    needs_input: dict[str, str] = {}  # plain tensor -> first blocked node reading it
    conv_heads: set[str] = set()  # blocked convs: ops in FUSED_INTO_CONV right after them fold in
    transposes: list[Reorder] = []

    for n in graph.nodes:
        if n.folded:
            continue
        data = [t for t in n.inputs if t and not _constant(graph, t)]
        out = n.outputs[0] if n.outputs else ""
        converted: set[str] = set()  # inputs this node reads blocked
        role = hints.of(n, graph).nchwc
        if role is Nchwc.CONV:
            runs, reads_blocked = _conv_blocks(n, graph, block)
            if runs:
                x = n.inputs[0]
                if reads_blocked and x in blocked:
                    converted.add(x)
                elif reads_blocked and _channels_last_transpose(x, graph):
                    transposes.append(Reorder(x, "transpose", _nbytes(graph, x), n.name))
                elif reads_blocked:
                    needs_input.setdefault(x, n.name)
                blocked[out] = int(graph.tensors[n.inputs[1]].shape[0])  # type: ignore[index]
                conv_heads.add(out)
        elif role is Nchwc.POOL and len(n.outputs) == 1 and _float4d(graph, n.inputs[0]):
            c = _shape(graph, n.inputs[0])[1]  # type: ignore[index]  # 4-D, checked above
            if c % block == 0:
                x = n.inputs[0]
                if x in blocked:
                    converted.add(x)
                else:
                    needs_input.setdefault(x, n.name)
                blocked[out] = c
        elif data and all(t in blocked for t in data):
            # the rest convert only when every input that is not a constant is already blocked
            op = n.op_type
            x = data[0]
            every_input = len(data) == len([t for t in n.inputs if t])
            if op in FUSED_INTO_CONV and x in conv_heads and len(graph.consumers.get(x, [])) == 1:
                converted.add(x)
                blocked[out] = blocked[x]
                conv_heads.add(out)  # BN then Relu after a conv still fold into it
            elif role is Nchwc.ACTIVATION or (role is Nchwc.BATCHNORM and len(n.outputs) == 1 and all(
                    _constant(graph, t) for t in n.inputs[1:] if t)):
                converted.add(x)
                blocked[out] = blocked[x]
            elif role is Nchwc.BINARY and every_input:
                shapes = [_shape(graph, t) for t in data]
                if all(s is not None and s == shapes[0] for s in shapes) and len({blocked[t] for t in data}) == 1:
                    converted.update(data)
                    blocked[out] = blocked[x]
            elif role is Nchwc.CONCAT and every_input and int(n.attrs.get("axis", 0)) in (1, -3) and all(
                    blocked[t] % block == 0 for t in data):
                converted.update(data)
                blocked[out] = sum(blocked[t] for t in data)
            elif role is Nchwc.GLOBAL_POOL and blocked[x] % block == 0:
                converted.add(x)
                blocked[out] = blocked[x]
            elif role is Nchwc.TRANSPOSE and list(n.attrs.get("perm", [])) == [0, 2, 3, 1]:
                converted.add(x)  # becomes the reorder itself (to channels-last)
                transposes.append(Reorder(x, "transpose", _nbytes(graph, x), n.name))
        for t in n.inputs:
            if t in blocked and t not in converted:
                plain_uses.setdefault(t, n.name)
    for t in graph.outputs:
        if t in blocked:
            plain_uses.setdefault(t, "(graph output)")
    out_list = [Reorder(t, "input", _nbytes(graph, t), reader) for t, reader in needs_input.items()]
    out_list += [Reorder(t, "output", _nbytes(graph, t), reader) for t, reader in plain_uses.items()]
    return out_list + transposes
