"""Read a large ONNX file without its weights: walk the protobuf wire format and drop the data of big
initializers before parsing, so a 600 MB model costs the parse of its graph, not of its weights."""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

from ..base.proto import ModelProto

# Field numbers from onnx.proto3: ModelProto.graph, GraphProto.initializer, TensorProto.dims and its
# data fields (float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data).
_MODEL_GRAPH = 7
_GRAPH_INITIALIZER = 5
_TENSOR_DIMS = 1
_TENSOR_DATA = frozenset({4, 5, 6, 7, 9, 10, 11})
_WIRE_VARINT, _WIRE_I64, _WIRE_LEN, _WIRE_I32 = 0, 1, 2, 5


def _varint(buf: memoryview | bytes | mmap.mmap, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: memoryview | mmap.mmap, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """Yield (field number, wire type, field start, value start, field end) over buf[start:end]."""
    pos = start
    while pos < end:
        key, vpos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _WIRE_VARINT:
            _, nxt = _varint(buf, vpos)
        elif wire == _WIRE_I64:
            nxt = vpos + 8
        elif wire == _WIRE_I32:
            nxt = vpos + 4
        elif wire == _WIRE_LEN:
            length, vpos = _varint(buf, vpos)
            nxt = vpos + length
        else:
            raise ValueError(f"unsupported wire type {wire} at byte {pos}")
        if nxt > end:
            raise ValueError(f"field {field} at byte {pos} runs past the end of its message (truncated file?)")
        yield field, wire, pos, vpos, nxt
        pos = nxt


def _encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(field: int, payload: bytes) -> bytes:
    return _encode_varint(field << 3 | _WIRE_LEN) + _encode_varint(len(payload)) + payload


def _tensor_without_data(buf: mmap.mmap, start: int, end: int, keep_elements: int) -> bytes:
    """A TensorProto's bytes without its data fields when it holds more than keep_elements values."""
    elements, has_dims = 1, False
    for field, wire, _, vpos, nxt in _fields(buf, start, end):
        if field == _TENSOR_DIMS:
            has_dims = True
            if wire == _WIRE_LEN:  # packed dims
                p = vpos
                while p < nxt:
                    d, p = _varint(buf, p)
                    elements *= d
            else:
                d, _ = _varint(buf, vpos)
                elements *= d
    if not has_dims or elements <= keep_elements:
        return bytes(buf[start:end])
    parts = [bytes(buf[fs:nxt]) for field, _, fs, _, nxt in _fields(buf, start, end) if field not in _TENSOR_DATA]
    return b"".join(parts)


def parse_without_weights(path: Path, keep_elements: int) -> ModelProto:
    """ModelProto of `path` whose initializers larger than keep_elements have dims and type but no data."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        size = len(buf)
        model_parts: list[bytes] = []
        for field, wire, fs, vpos, nxt in _fields(buf, 0, size):
            if field != _MODEL_GRAPH or wire != _WIRE_LEN:
                model_parts.append(bytes(buf[fs:nxt]))
                continue
            graph_parts: list[bytes] = []
            for gfield, gwire, gfs, gvpos, gnxt in _fields(buf, vpos, nxt):
                if gfield == _GRAPH_INITIALIZER and gwire == _WIRE_LEN:
                    graph_parts.append(_len_field(gfield, _tensor_without_data(buf, gvpos, gnxt, keep_elements)))
                else:
                    graph_parts.append(bytes(buf[gfs:gnxt]))
            model_parts.append(_len_field(field, b"".join(graph_parts)))
    proto = ModelProto()
    proto.ParseFromString(b"".join(model_parts))
    return proto
