"""Load stage: read an ONNX file's graph (never its external weights), validate its structure, order it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from ..base.errors import ModelError
from ..base.proto import AttributeProto, FunctionProto, GraphProto, ModelProto, NodeProto, TensorProto

#: Tensors up to this many elements may hold shapes, axes or indices: their values are kept and read.
SMALL_TENSOR_ELEMENTS = 1 << 16
#: Files at least this large are parsed without the data of their big initializers (see wire.py).
LEAN_PARSE_BYTES = 32 << 20


@dataclass
class LoadedModel:
    """A parsed model whose graph is known to be well-formed, with its nodes in a topological order."""

    model: ModelProto
    path: str | None
    opsets: dict[str, int]
    order: list[int]  # indices into model.graph.node, dependencies first, ties in file order
    reads: list[list[str]] = field(default_factory=list)  # per node: node_inputs(node), computed once
    warnings: list[str] = field(default_factory=list)

    @property
    def graph(self) -> GraphProto:
        return self.model.graph


#: Far above any opset ONNX will define (28 in 2026); a larger version is a broken or hostile file.
MAX_OPSET = 10_000


def load(model: str | os.PathLike[str] | ModelProto) -> LoadedModel:
    """Parse `model` (a path or a ModelProto) without reading external data, then validate and order it."""
    if isinstance(model, ModelProto):
        proto, path = model, None
    else:
        path = str(model)
        proto = _parse(Path(path))
    _decode_strings(proto)
    warnings = _check_external_data(proto, None if path is None else Path(path).parent)
    if not proto.HasField("graph"):
        raise ModelError(f"{path or 'model'}: not an ONNX model: it has no graph")
    if len(proto.functions):
        proto = _inline(proto, path or "model")
    opsets = {(o.domain or "ai.onnx"): int(o.version) for o in proto.opset_import}
    for domain, version in opsets.items():
        if not 0 <= version <= MAX_OPSET:
            raise ModelError(f"{path or 'model'}: opset import {domain} {version} is not an opset version")
    # Models from before opset_import existed (IR < 3) imply opset 1.
    if "ai.onnx" not in opsets:
        opsets["ai.onnx"] = 1 if proto.ir_version < 3 else _latest_opset()
    reads = [node_inputs(n) for n in proto.graph.node]
    order = topological_order(proto.graph, path or "model", reads)
    return LoadedModel(proto, path, opsets, order, reads, warnings)


#: Metadata the inlined nodes carry: their call path, and the functions they were called through.
PATH_KEY, FUNCTIONS_KEY = "onnxcost.path", "onnxcost.functions"


def _inline(proto: ModelProto, where: str) -> ModelProto:
    """Model-local functions (onnxscript, the dynamo exporter) replaced by their bodies with onnx's own
    inliner, so each op inside is costed as any other (external data stays unread: only references move).
    Each inlined node is named by its call path (`encoder.attention/MatMul`) and remembers the functions it
    was called through (`FUNCTIONS_KEY`), for per-function subtotals."""
    import onnx.inliner

    proto = _call_sites(proto)
    try:
        inlined = onnx.inliner.inline_local_functions(proto)
    except (RuntimeError, ValueError) as exc:  # onnx's C++ inliner reports a malformed function this way
        raise ModelError(f"{_short(where)}: its model-local functions cannot be inlined: {exc}") from None
    for node in inlined.graph.node:
        meta = {p.key: p.value for p in node.metadata_props}
        if PATH_KEY in meta:
            node.name = meta[PATH_KEY]
    return inlined


def _call_sites(proto: ModelProto) -> ModelProto:
    """A copy whose every call site calls a function of its own, whose nodes carry their call path: the
    inliner keeps node metadata, so after inlining each node knows where it came from."""
    functions = {(f.domain, f.name): f for f in proto.functions}
    copies: list[FunctionProto] = []

    def specialise(key: tuple[str, str], path: str, stack: tuple[str, ...]) -> str:
        if len(stack) > len(functions):  # a function that calls itself: the inliner will refuse it
            return key[1]
        f = FunctionProto()
        f.CopyFrom(functions[key])
        f.name = f"{key[1]}__onnxcost_{len(copies)}"
        copies.append(f)
        for k, node in enumerate(f.node):
            local = node.name or f"{node.op_type}_{k}"
            if (node.domain, node.op_type) in functions:
                node.op_type = specialise((node.domain, node.op_type), f"{path}.{local}", (*stack, node.op_type))
                continue
            for key_, value in ((PATH_KEY, f"{path}/{local}"), (FUNCTIONS_KEY, ",".join(stack))):
                entry = node.metadata_props.add()
                entry.key, entry.value = key_, value
        return f.name

    out = ModelProto()
    out.CopyFrom(proto)
    for k, node in enumerate(out.graph.node):
        key = (node.domain, node.op_type)
        if key in functions:
            node.op_type = specialise(key, node.name or f"{node.op_type}_{k}", (node.op_type,))
    del out.functions[:]
    out.functions.extend([*copies, *proto.functions])  # the originals too: a recursive call still finds one
    return out


def _parse(path: Path) -> ModelProto:
    where = _short(str(path))
    try:
        if not path.exists():
            raise ModelError(f"{where}: no such file")
        if path.is_dir():
            raise ModelError(f"{where}: is a directory, not an ONNX file")
    except OSError as exc:  # a name too long, a path through a file, no permission to look
        raise ModelError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        size = path.stat().st_size
        if size == 0:
            raise ModelError(f"{where}: empty file, not an ONNX model")
        if size >= LEAN_PARSE_BYTES:
            from .wire import parse_without_weights

            proto = parse_without_weights(path, SMALL_TENSOR_ELEMENTS)
        else:
            proto = _read(path)
    except ModelError:
        raise
    except (DecodeError, RuntimeError, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise ModelError(f"{where}: not an ONNX model: protobuf parsing failed ({_one_line(exc)})") from None
    except OSError as exc:
        raise ModelError(f"{where}: cannot read: {exc.strerror or exc}") from None
    # Arbitrary bytes sometimes parse as an (empty) protobuf message: demand the parts every model has.
    if proto.ir_version <= 0 or not proto.HasField("graph") or (
        not proto.graph.node and not proto.graph.output
    ):
        raise ModelError(f"{where}: not an ONNX model: no IR version or no graph after parsing {size} bytes")
    return proto


#: File name endings onnx reads as text (textproto, JSON, its textual syntax) rather than as protobuf bytes.
_TEXT_FORMATS = frozenset({".prototxt", ".txtpb", ".pbtxt", ".textproto", ".onnxjson", ".json", ".onnxtxt",
                           ".onnxtext"})


def _read(path: Path) -> ModelProto:
    """The model in a file under LEAN_PARSE_BYTES, as onnx.load_model reads it (external data left unread);
    protobuf bytes without importing onnx, a text format through onnx."""
    if path.suffix in _TEXT_FORMATS:  # as onnx matches them
        import onnx

        return onnx.load_model(str(path), load_external_data=False)
    data = path.read_bytes()
    proto = ModelProto()
    decoded = proto.ParseFromString(data)
    if decoded is not None and decoded != len(data):
        raise DecodeError(f"Protobuf decoding consumed too few bytes: {decoded} out of {len(data)}")
    return proto


def _latest_opset() -> int:
    """The newest default-domain opset onnx defines (the schema table is the installed onnx's): what a model
    without that import means."""
    from ..ops.schemas import COVERED

    return COVERED["ai.onnx"]


_STRING, _MESSAGE = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE


def _decode_strings(message: Message) -> None:
    """Make every string field a str: protobuf hands back bytes for a string that is not valid UTF-8, and
    names are data. Invalid bytes become U+FFFD, the same way everywhere, so references still match.
    (Written for speed: it visits every message of the model, 27,000 on swin_s.)"""
    for desc, value in message.ListFields():
        kind = desc.type
        if kind == _STRING:
            if desc.is_repeated:
                if bytes in map(type, value):
                    fixed = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
                    del value[:]
                    value.extend(fixed)
            elif type(value) is bytes:
                setattr(message, desc.name, value.decode("utf-8", "replace"))
        elif kind == _MESSAGE:
            if desc.is_repeated:
                for item in value:
                    _decode_strings(item)
            else:
                _decode_strings(value)


def _short(text: str, limit: int = 200) -> str:
    """A path or name cut to `limit` characters for a message."""
    return text if len(text) <= limit else f"{text[:limit // 2]}…{text[-limit // 2:]}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _check_external_data(proto: ModelProto, base: Path | None) -> list[str]:
    """Warn (never fail) when external weight files are absent: costs need only the dims in the graph. A
    location outside the model's folder (absolute, or climbing with ..) is never looked at, let alone read."""
    missing: dict[str, int] = {}
    outside: dict[str, int] = {}
    for init in proto.graph.initializer:
        if init.data_location != TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in init.external_data if e.key == "location"), "")
        if not inside_folder(location):
            outside[location] = outside.get(location, 0) + 1
        elif base is None or not (base / location).is_file():
            missing[location] = missing.get(location, 0) + 1
    return [
        f"external data file '{loc}' not found next to the model ({n} tensors); "
        "costs need only shapes, so analysis continues"
        for loc, n in missing.items()
    ] + [
        f"external data location '{loc}' ({n} tensors) points outside the model's folder; it is never read, "
        "and costs need only shapes"
        for loc, n in outside.items()
    ]


def inside_folder(location: str) -> bool:
    """A relative path that stays in the model's folder (ONNX's own rule for external data)."""
    pure = PurePosixPath(location.replace("\\", "/"))
    return bool(location) and not pure.is_absolute() and ".." not in pure.parts and ":" not in location


def subgraph_outer_inputs(node: NodeProto) -> set[str]:
    """Names a node's subgraphs (If/Loop/Scan bodies) read from the enclosing scope."""
    used: set[str] = set()
    for attr in node.attribute:
        graphs = list(attr.graphs) + ([attr.g] if attr.HasField("g") else [])
        for g in graphs:
            defined = {i.name for i in g.input} | {i.name for i in g.initializer}
            defined |= {i.values.name for i in g.sparse_initializer}
            for inner in g.node:
                for name in list(inner.input) + sorted(subgraph_outer_inputs(inner)):
                    if name and name not in defined:
                        used.add(name)
                defined.update(inner.output)
    return used


_GRAPH_ATTRS = (AttributeProto.GRAPH, AttributeProto.GRAPHS)


def node_inputs(node: NodeProto) -> list[str]:
    """Every tensor a node depends on: its inputs, then outer-scope names its subgraphs read."""
    names = [n for n in node.input if n]
    attributes = node.attribute
    if attributes and any(a.type in _GRAPH_ATTRS for a in attributes):
        names += sorted(subgraph_outer_inputs(node) - set(names))
    return names


def topological_order(graph: GraphProto, where: str, reads: list[list[str]] | None = None) -> list[int]:
    """Dependencies first, ties broken by file position (networkx's lexicographical topological sort); raises
    ModelError on dangling inputs, and on a cycle, naming the nodes around it."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    available |= {i.values.name for i in graph.sparse_initializer}
    nodes = list(graph.node)  # each NodeProto wrapped once, not at every pass
    outputs = [list(node.output) for node in nodes]
    producer: dict[str, int] = {}
    for idx, outs in enumerate(outputs):
        for out in outs:
            if not out:
                continue
            if out in producer or out in available:
                raise ModelError(
                    f"{where}: tensor '{out}' is produced twice (node {_label(nodes[idx], idx)}); "
                    "ONNX graphs must be in SSA form"
                )
            producer[out] = idx
    users: list[set[int]] = [set() for _ in range(len(nodes))]
    ordered = True  # every node reads only what nodes before it make: the file order is the answer
    for idx, node in enumerate(nodes):
        for name in reads[idx] if reads is not None else node_inputs(node):
            if name in available:
                continue
            made_by = producer.get(name)
            if made_by is None:
                raise ModelError(
                    f"{where}: node {_label(node, idx)} reads tensor '{name}' that no node, "
                    "graph input or initializer provides (dangling input)"
                )
            users[made_by].add(idx)
            ordered = ordered and made_by < idx
    for out in graph.output:
        if out.name not in producer and out.name not in available:
            raise ModelError(f"{where}: graph output '{out.name}' is never produced")
    order = list(range(len(nodes))) if ordered else _kahn(users)
    if order is not None:
        return order
    import networkx as nx  # only to name the cycle in the error

    dag: nx.DiGraph = nx.DiGraph((u, v) for u, vs in enumerate(users) for v in vs)
    cycle = [u for u, _ in nx.find_cycle(dag)]
    path = " -> ".join(_label(nodes[i], i) for i in cycle[:6])
    path += (" -> … -> " if len(cycle) > 6 else " -> ") + _label(nodes[cycle[0]], cycle[0])
    raise ModelError(f"{where}: the graph has a cycle of {len(cycle)} node(s): {path}; ONNX graphs must be acyclic")


def _kahn(users: list[set[int]]) -> list[int] | None:
    """The topological order that runs the lowest-numbered ready node first (file order when the file is
    ordered); None when the graph has a cycle."""
    import heapq

    pending = [0] * len(users)
    for vs in users:
        for v in vs:
            pending[v] += 1
    ready = [i for i, p in enumerate(pending) if p == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        u = heapq.heappop(ready)
        order.append(u)
        for v in users[u]:
            pending[v] -= 1
            if pending[v] == 0:
                heapq.heappush(ready, v)
    return order if len(order) == len(users) else None


def _label(node: NodeProto, idx: int) -> str:
    return f"'{node.name or f'{node.op_type}_{idx}'}' ({node.op_type})"
