"""The one builder of the read-only `NodeView` that op rules see, for the shapes and the cost stage alike: an
input is present when the node names it, and its shape, type and small value come from the graph's tensors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..ops import NodeView
from .tensors import TensorInfo


def node_view(name: str, op_type: str, domain: str, opset: int, attrs: dict[str, Any], inputs: Sequence[str],
              tensors: Mapping[str, TensorInfo], n_out: int, outputs: Sequence[str] = (),
              subgraph_of: Callable[..., Any] | None = None,
              subgraph_cost: Callable[[str], Any] | None = None,
              subgraph_value: Callable[[str, str], Any] | None = None,
              conditions: list[object] | None = None) -> NodeView:
    """The view of one node; `outputs` give it output shapes (the cost stage); control flow asks
    `subgraph_of` for a subgraph's output shapes (the shapes stage), `subgraph_cost` for its cost (the cost
    stage) and `subgraph_value` for a value inside it (both). `conditions`: the list the view collects its
    conditions in, when the caller's hooks add to it too."""
    ins = [tensors.get(n) if n else None for n in inputs]
    extra: dict[str, Any] = {}
    if subgraph_of is not None:
        extra["subgraph_of"] = subgraph_of
    if subgraph_cost is not None:
        extra["subgraph_cost"] = subgraph_cost
    if subgraph_value is not None:
        extra["subgraph_value"] = subgraph_value
    if conditions is not None:
        extra["conditions"] = conditions
    return NodeView(
        name=name, op_type=op_type, domain=domain, opset=opset, attrs=attrs,
        input_shapes=tuple([t.shape if t is not None else None for t in ins]),
        input_types=tuple([t.dtype if t is not None else 0 for t in ins]),
        present=tuple([bool(n) for n in inputs]), n_out=n_out,
        output_shapes=tuple([t.shape if (t := tensors.get(n) if n else None) is not None else None
                             for n in outputs]),
        value_of=lambda i: ins[i].value() if ins[i] is not None else None,  # type: ignore[union-attr]
        **extra,
    )
