"""Node attributes read and checked against the op's schema before any rule sees them: a hostile file's
attribute of the wrong type (a string where an int belongs) is one clear error here, not a TypeError deep in
a rule. Schemas come from onnx for its domains and from the op definitions for onnxruntime's."""

from __future__ import annotations

from functools import cache
from typing import Any

import onnx
from onnx import AttributeProto, helper

from .. import ops
from ..base.errors import ModelError

_TYPE_NAMES = {v: k.lower() for k, v in AttributeProto.AttributeType.items()}


@cache
def expected_types(domain: str, op_type: str, opset: int) -> tuple[dict[str, int], frozenset[str]] | None:
    """(attribute name -> AttributeProto type the op takes, the required ones); None when no schema is known."""
    schema = None
    if domain in ("ai.onnx", "ai.onnx.ml", "ai.onnx.preview", "ai.onnx.preview.training"):
        try:
            schema = onnx.defs.get_schema(op_type, opset, "" if domain == "ai.onnx" else domain)
        except onnx.defs.SchemaError:
            schema = None
    if schema is not None:
        types = {name: int(a.type) for name, a in schema.attributes.items()}  # type: ignore[call-overload]
        return types, frozenset(name for name, a in schema.attributes.items() if a.required)
    definition = ops.lookup(domain, op_type, opset)
    if definition is None or definition.attr_types is None:
        return None
    return dict(definition.attr_types), frozenset()


def parse(node: onnx.NodeProto, name: str, domain: str, opset: int) -> dict[str, Any]:
    """Attributes as plain Python values (strings decoded, tensors and graphs kept as protos), each of the type
    the op's schema declares."""
    expected, required = expected_types(domain, node.op_type, opset) or ({}, frozenset())
    missing = required - {a.name for a in node.attribute}
    if missing:
        raise ModelError(f"node '{name}' ({node.op_type}): required attribute(s) {', '.join(sorted(missing))} "
                         "missing")
    out: dict[str, Any] = {}
    for a in node.attribute:
        if a.ref_attr_name:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} refers to a function attribute "
                             f"'{a.ref_attr_name}' outside a function")
        want = expected.get(a.name)
        if want is not None and a.type != want:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} is of type "
                             f"{_TYPE_NAMES.get(a.type, a.type)}; the op takes {_TYPE_NAMES.get(want, want)}")
        try:
            v = helper.get_attribute_value(a)
        except ValueError:
            raise ModelError(f"node '{name}' ({node.op_type}): attribute {a.name} has no valid type") from None
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode("utf-8", "replace") for x in v]
        out[a.name] = v
    return out
