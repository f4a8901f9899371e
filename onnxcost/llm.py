"""The LLM view of a report: the key/value cache a decoder carries between steps, its bytes per token, and
prefill (a prompt of N tokens, empty cache) against decode (one token over N cached ones).

Caches are found from the graph, not from names alone: the past inputs of attention ops (their traits say
which), and inputs named like past_key_values.* / past.* that exporters feed into a Concat."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from . import ops, symbolic
from .graph import Graph

_PAST_NAME = re.compile(r"(^|[./_])past", re.IGNORECASE)


@dataclass(frozen=True)
class LlmView:
    kv_cache_inputs: list[str]
    kv_cache_bytes_per_token: int | None  # per sequence, every layer, at the cache's dtype
    kv_cache_bytes: int | None  # at the bound past length and batch
    prefill_macs: str | None  # formulas in n: a prompt of n tokens over an empty cache, batch 1
    decode_macs: str | None  # one new token over n cached ones, batch 1


def cache_inputs(graph: Graph) -> list[str]:
    """Graph inputs that hold past keys or values."""
    found: list[str] = []
    for n in graph.nodes:
        for k in ops.traits(n.domain, n.op_type).kv_cache_inputs:
            if k < len(n.inputs) and n.inputs[k] in graph.inputs and n.inputs[k] not in found:
                found.append(n.inputs[k])
    found += [t for t in graph.inputs if _PAST_NAME.search(t) and t not in found and _rank(graph, t) >= 3]
    return found


def _rank(graph: Graph, name: str) -> int:
    t = graph.tensors.get(name)
    return len(t.shape) if t is not None and t.shape is not None else 0


def view(graph: Graph, macs: Any, symbols: dict[str, symbolic.SymbolInfo]) -> LlmView | None:
    """The cache and the prefill/decode costs, or None when the model carries no cache."""
    caches = cache_inputs(graph)
    if not caches:
        return None
    shapes = [graph.tensors[c].shape for c in caches]
    known = [s for s in shapes if s is not None]
    if len(known) != len(shapes):
        return LlmView(caches, None, None, None, None)
    # caches are [batch, heads, past, head_size] (BNSH, as GroupQueryAttention and past_key_values exports)
    sizes = [_bytes_per(graph, c, s) for c, s in zip(caches, known, strict=True)]
    per_token = None if any(b is None for b in sizes) else sum(b or 0 for b in sizes)
    total = [graph.tensors[c].nbytes for c in caches]
    concrete = None if any(b is None or symbolic.is_symbolic(b) for b in total) else sum(b or 0 for b in total)
    prefill = decode = None
    past = {str(s[-2]) for s in known if symbolic.is_symbolic(s[-2])}
    seq = _sequence_symbol(graph, caches)
    if symbolic.is_symbolic(macs) and len(past) == 1 and seq is not None:
        prefill, decode = _phases(macs, past.pop(), seq, symbols)
    return LlmView(caches, per_token, concrete, prefill, decode)


def _bytes_per(graph: Graph, name: str, shape: tuple[Any, ...]) -> int | None:
    """Bytes one position of the cache takes for one sequence: every dim but batch and past (None when one of
    them is unbound too)."""
    from . import dtypes

    inner = shape[1:-2] + shape[-1:]
    if symbolic.any_symbolic(inner):
        return None
    return dtypes.nbytes(graph.tensors[name].dtype, math.prod(int(d) for d in inner))


def _sequence_symbol(graph: Graph, caches: list[str]) -> str | None:
    """The new tokens' dim: axis 1 of the first other input (input_ids, inputs_embeds)."""
    for name in graph.inputs:
        t = graph.tensors.get(name)
        if name not in caches and t is not None and t.shape is not None and len(t.shape) >= 2 and (
                symbolic.is_symbolic(t.shape[1])):
            return str(t.shape[1])
    return None


def _phases(macs: Any, past: str, seq: str, symbols: dict[str, symbolic.SymbolInfo]) -> tuple[str, str]:
    """MACs with N prompt tokens and no past, and with one token over N past, at batch 1; any other length
    (an attention mask's total) is past + seq."""
    import sympy

    n = sympy.Symbol("n", integer=True, positive=True)
    named = {s.name: s for s in macs.free_symbols}
    base = {named[k]: 1 for k in named if k not in (past, seq)}
    others = [named[k] for k in named if k not in (past, seq) and symbols.get(k) and symbols[k].axis == 1]
    total = {o: None for o in others}  # the attention mask's length: past + seq

    def at(p: Any, s: Any) -> str:
        values = {**base, **{o: p + s for o in total}}
        if past in named:
            values[named[past]] = p
        if seq in named:
            values[named[seq]] = s
        return str(sympy.expand(macs.subs(values)))

    return at(0, n), at(n, 1)
