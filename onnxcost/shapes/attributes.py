"""Node attributes read and checked against the op's schema before any rule sees them: a hostile file's
attribute of the wrong type (a string where an int belongs) is one clear error here, not a TypeError deep in
a rule. Schemas come from the table generated from onnx's for its domains (onnx's own above the opsets it
covers) and from the op definitions for onnxruntime's."""

from __future__ import annotations

from functools import cache
from typing import Any

from .. import ops
from ..base.errors import ModelError
from ..base.proto import AttributeProto, NodeProto
from ..ops.schemas import COVERED, SCHEMAS

_TYPE_NAMES = {v: k.lower() for k, v in AttributeProto.AttributeType.items()}
#: AttributeProto type -> the field that holds its value, and whether it is a repeated one.
_FIELDS = {AttributeProto.FLOAT: ("f", False), AttributeProto.INT: ("i", False), AttributeProto.STRING: ("s", False),
           AttributeProto.TENSOR: ("t", False), AttributeProto.SPARSE_TENSOR: ("sparse_tensor", False),
           AttributeProto.GRAPH: ("g", False), AttributeProto.TYPE_PROTO: ("tp", False),
           AttributeProto.FLOATS: ("floats", True), AttributeProto.INTS: ("ints", True),
           AttributeProto.STRINGS: ("strings", True), AttributeProto.TENSORS: ("tensors", True),
           AttributeProto.SPARSE_TENSORS: ("sparse_tensors", True), AttributeProto.GRAPHS: ("graphs", True),
           AttributeProto.TYPE_PROTOS: ("type_protos", True)}


@cache
def expected_types(domain: str, op_type: str, opset: int) -> tuple[dict[str, int], frozenset[str]] | None:
    """(attribute name -> AttributeProto type the op takes, the required ones); None when no schema is known."""
    if domain in ("ai.onnx", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training"):
        schema = _onnx_schema(domain, op_type, opset)
        if schema is not None:
            return schema
    definition = ops.lookup(domain, op_type, opset)
    if definition is None or definition.attr_types is None:
        return None
    return dict(definition.attr_types), frozenset()


def _onnx_schema(domain: str, op_type: str, opset: int) -> tuple[dict[str, int], frozenset[str]] | None:
    """The ONNX schema's attributes from the shipped table; from onnx.defs for an opset newer than it holds."""
    if opset > COVERED.get(domain, -1):
        import onnx.defs

        try:
            schema = onnx.defs.get_schema(op_type, opset, "" if domain == "ai.onnx" else domain)
        except onnx.defs.SchemaError:
            return None
        return ({name: int(a.type) for name, a in schema.attributes.items()},  # type: ignore[call-overload]
                frozenset(name for name, a in schema.attributes.items() if a.required))
    since = [signature for version, signature in SCHEMAS.get((domain, op_type), ()) if version <= opset]
    if not since:
        return None
    types: dict[str, int] = {}
    required: set[str] = set()
    for item in filter(None, since[-1].split(",")):
        name, _, kind = item.partition(":")
        types[name] = int(kind.rstrip("!"))
        if kind.endswith("!"):
            required.add(name)
    return types, frozenset(required)


def value(a: AttributeProto) -> Any:
    """The attribute's value as onnx.helper.get_attribute_value gives it (None when its type is UNDEFINED)."""
    if a.type == AttributeProto.UNDEFINED:
        return None
    if a.type not in _FIELDS:
        raise ValueError(f"unsupported attribute type {a.type}")
    field, repeated = _FIELDS[a.type]
    return list(getattr(a, field)) if repeated else getattr(a, field)


def parse(node: NodeProto, name: str, domain: str, opset: int) -> dict[str, Any]:
    """Attributes as plain Python values (strings decoded, tensors and graphs kept as protos), each of the type
    the op's schema declares."""
    expected, required = expected_types(domain, node.op_type, opset) or ({}, frozenset())
    given = list(node.attribute)  # each AttributeProto wrapped once
    missing = required - {a.name for a in given} if required else None
    if missing:
        raise ModelError(f"node '{name}' ({node.op_type}): required attribute(s) {', '.join(sorted(missing))} "
                         "missing")
    out: dict[str, Any] = {}
    for a in given:
        if a.ref_attr_name:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} refers to a function attribute "
                             f"'{a.ref_attr_name}' outside a function")
        want = expected.get(a.name)
        if want is not None and a.type != want:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} is of type "
                             f"{_TYPE_NAMES.get(a.type, a.type)}; the op takes {_TYPE_NAMES.get(want, want)}")
        try:
            v = value(a)
        except ValueError:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} has no valid type") from None
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode("utf-8", "replace") for x in v]
        out[a.name] = v
    return out
