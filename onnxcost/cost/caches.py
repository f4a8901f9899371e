"""Which graph inputs carry a decoder's key/value cache: the past inputs of attention ops (their traits say
which), and inputs named like past_key_values.* / past.* of rank 3 or more. Apart from the LLM view (llm.py)
so that a model without a cache never imports it."""

from __future__ import annotations

import re

from .. import ops
from ..shapes.graph import Graph

_PAST_NAME = re.compile(r"(^|[./_])past", re.IGNORECASE)


def cache_inputs(graph: Graph) -> list[str]:
    """Graph inputs that hold past keys or values, attention ops' first."""
    found: list[str] = []
    for n in graph.nodes:
        for k in ops.traits(n.domain, n.op_type, graph.opsets.get(n.domain)).kv_cache_inputs:
            if k < len(n.inputs) and n.inputs[k] in graph.inputs and n.inputs[k] not in found:
                found.append(n.inputs[k])
    found += [t for t in graph.inputs if _PAST_NAME.search(t) and t not in found and input_rank(graph, t) >= 3]
    return found


def input_rank(graph: Graph, name: str) -> int:
    """The rank of a tensor (0 when its shape is unknown)."""
    t = graph.tensors.get(name)
    return len(t.shape) if t is not None and t.shape is not None else 0
