"""Ops that are another op under a second name (com.microsoft's Pad, the experimental DynamicSlice,
onnxruntime's NCHWc pools): the namesake's rules, seen at the opset whose semantics the twin keeps."""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Any

from .core import DEFAULT, OpDef


def twin(source: ModuleType, op: str, *, domain: str, family: str, at_opset: int,
         attrs: dict[str, int] | None = None, name: str | None = None, n_outputs: int | None = None) -> OpDef:
    """`name` (default: `op`) in `domain` and `family`, with the rules of the default-domain `op` in module
    `source` that cover `at_opset`; `n_outputs` drops the namesake's optional outputs that the twin lacks."""
    base = next(d for d in source.OPS if d.op_type == op and d.domain == DEFAULT and d.covers(at_opset))

    def at(rule: Any) -> Any:
        return None if rule is None else lambda n: rule(replace(n, opset=at_opset))

    def shape(n: Any) -> Any:
        return base.shape(replace(n, opset=at_opset))[:n_outputs]

    return replace(base, op_type=name or op, domain=domain, family=family,
                   since=1, until=None, attr_types=attrs or {},
                   shape=shape if base.shape is not None and n_outputs else at(base.shape),
                   value=at(base.value), cost=at(base.cost))
