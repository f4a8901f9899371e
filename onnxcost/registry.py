"""The cost registry: one small pure function per op type, registered by (domain, op_type).

A rule sees a read-only `NodeView` and returns MACs and FLOPs. Parameters and bytes are the same for every
op (they follow from which inputs are constant and from tensor sizes) and are computed in `costs.py`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .shape_rules import Shape


class UnknownShape(LookupError):
    """A rule needed a shape that shape inference could not determine: the node's cost is unknown."""


@dataclass(frozen=True)
class Work:
    """What a rule computes: multiply-accumulates of contractions, and all floating-point operations."""

    macs: int
    flops: int


@dataclass(frozen=True)
class NodeView:
    """Read-only view of one node for cost rules."""

    name: str
    op_type: str
    domain: str
    attrs: dict[str, Any]
    input_shapes: tuple[Shape | None, ...]  # None for an omitted input or an unknown shape
    output_shapes: tuple[Shape | None, ...]
    present: tuple[bool, ...]

    def has_input(self, i: int) -> bool:
        return i < len(self.present) and self.present[i]

    def input_shape(self, i: int) -> Shape:
        s = self.input_shapes[i] if self.has_input(i) else None
        if s is None:
            raise UnknownShape(f"input {i} of '{self.name}'")
        return s

    def output_shape(self, i: int = 0) -> Shape:
        s = self.output_shapes[i] if i < len(self.output_shapes) else None
        if s is None:
            raise UnknownShape(f"output {i} of '{self.name}'")
        return s

    def in_elems(self, i: int = 0) -> int:
        return math.prod(self.input_shape(i))

    def out_elems(self, i: int = 0) -> int:
        return math.prod(self.output_shape(i))

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


Rule = Callable[[NodeView], Work]
RULES: dict[tuple[str, str], Rule] = {}


def register(op_type: str, fn: Rule, domain: str = "ai.onnx") -> None:
    RULES[(domain, op_type)] = fn


def rule(*op_types: str, domain: str = "ai.onnx") -> Callable[[Rule], Rule]:
    """Decorator: register `fn` as the cost rule of each op type in `domain`."""

    def deco(fn: Rule) -> Rule:
        for op in op_types:
            register(op, fn, domain)
        return fn

    return deco


def lookup(domain: str, op_type: str) -> Rule | None:
    from . import rules  # noqa: F401  (importing the package registers every rule)

    return RULES.get((domain, op_type))
