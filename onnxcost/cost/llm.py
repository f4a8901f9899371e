"""The LLM view of a report: the key/value cache a decoder carries between steps, its bytes per token, and
prefill (a prompt of N tokens, empty cache) against decode (one token over N cached ones).

Caches are found from the graph, not from names alone (caches.py): the past inputs of attention ops (their
traits say which), and inputs named like past_key_values.* / past.* that exporters feed into a Concat."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..base import symbolic
from ..base.errors import ModelError
from ..load.model import LoadedModel
from ..shapes import graph as graph_mod
from ..shapes import inference as shapes
from ..shapes.graph import Graph
from ..shapes.tensors import ShapeResult
from . import nodes
from .caches import cache_inputs, input_rank


@dataclass(frozen=True)
class BoundPhases:
    """Prefill and decode at the bound dims: the prompt is `seq` tokens, the cache holds `past` of them."""

    batch: int
    seq: int
    past: int
    prefill_macs: int  # a prompt of `seq` tokens over an empty cache
    decode_macs: int  # one new token over `past` cached ones
    prefill_cache_bytes: int | None  # the cache the prompt writes: bytes per token x seq x batch
    decode_cache_bytes: int | None  # the cache one decode step reads: bytes per token x past x batch


@dataclass(frozen=True)
class LlmView:
    """A decoder's key/value cache and its prefill and decode costs (None fields where the graph does not say)."""

    kv_cache_inputs: list[str]
    kv_cache_bytes_per_token: int | None  # per sequence, every layer, at the cache's dtype
    kv_cache_bytes: int | None  # at the bound past length and batch
    prefill_macs: str | None  # formulas in n: a prompt of n tokens over an empty cache, batch 1
    decode_macs: str | None  # one new token over n cached ones, batch 1
    bound: BoundPhases | None = None  # with every dim bound: the two phases at the bound seq and past


@dataclass(frozen=True)
class PhaseDims:
    """Which input dims are the cache length, the new tokens and the batch (their names in the file, and
    their bound values)."""

    past: str
    seq: str
    totals: tuple[str, ...]  # other lengths along axis 1 (an attention mask's past + seq)
    batch: int
    seq_len: int
    past_len: int
    #: the other caches' length names where the file names each apart (dynamo: s2, s74, s18): the same length
    other_pasts: tuple[str, ...] = ()


def phase_dims(graph: Graph, model_graph: Any, caches: list[str]) -> PhaseDims | None:
    """The names the file gives the past, seq and total dims, with their values in the bound `graph`; None
    when one of them has no name (it was bound through a fixed shape, so it cannot be released)."""
    declared = {vi.name: [d.dim_param for d in vi.type.tensor_type.shape.dim] for vi in model_graph.input}
    others = [n for n in graph.inputs if n not in caches and input_rank(graph, n) >= 2]
    if not others or not caches or len(declared.get(caches[0], [])) < 3 or len(declared.get(others[0], [])) < 2:
        return None
    past, seq = declared[caches[0]][-2], declared[others[0]][1]
    totals = tuple(declared[n][1] for n in others[1:] if len(declared.get(n, [])) >= 2 and declared[n][1])
    cache_shape, seq_shape = graph.tensors[caches[0]].shape, graph.tensors[others[0]].shape
    if not past or not seq or cache_shape is None or seq_shape is None:
        return None
    other_pasts = tuple(dict.fromkeys(d[-2] for n in caches[1:] if len(d := declared.get(n, [])) >= 3 and d[-2]
                                      and d[-2] not in (past, seq)))
    return PhaseDims(past, seq, tuple(t for t in totals if t not in (past, seq)), int(seq_shape[0]),
                     int(seq_shape[1]), int(cache_shape[-2]), other_pasts)


def bound_phases(free_macs: Any, dims: PhaseDims, per_token: int | None) -> BoundPhases | None:
    """Prefill and decode at the bound lengths, from the MACs formula of the model with past, seq and the
    totals released (any total is past + seq)."""
    if not symbolic.is_symbolic(free_macs):
        return None

    def at(past: int, seq: int) -> int:
        lengths = {dims.past: past, dims.seq: seq, **{t: past + seq for t in dims.totals}}
        return symbolic.evaluate(free_macs, lengths)

    if {s.name for s in free_macs.free_symbols} - {dims.past, dims.seq, *dims.totals}:
        return None  # another dim is free too: no single number per phase
    return BoundPhases(dims.batch, dims.seq_len, dims.past_len, at(0, dims.seq_len), at(dims.past_len, 1),
                       *_cache_bytes(dims, per_token))


def _cache_bytes(dims: PhaseDims, per_token: int | None) -> tuple[int | None, int | None]:
    """The cache the prompt writes and the cache one decode step reads, in bytes (None without a per-token size)."""
    if per_token is None:
        return None, None
    return per_token * dims.batch * dims.seq_len, per_token * dims.batch * dims.past_len


def view(graph: Graph, macs: Any, symbols: dict[str, symbolic.SymbolInfo],
         caches: list[str] | None = None) -> LlmView | None:
    """The cache (`caches`, when already found) and the prefill/decode costs, or None when the model carries
    no cache."""
    caches = cache_inputs(graph) if caches is None else caches
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
    from ..base import dtypes

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


def with_bound_phases(loaded: LoadedModel, g: Graph, macs: Any, shaped: ShapeResult, dims: Mapping[str, int],
                      input_values: Mapping[str, Sequence[float]] | None,
                      caches: list[str] | None = None) -> LlmView | None:
    """The LLM view; with every dim bound, prefill and decode at the bound seq and past too: from two more
    passes at those lengths (`concrete_phases`), else from one pass with past, seq and the mask's total left
    free, whose formula is evaluated there."""
    found = view(g, macs, shaped.symbols, caches)
    if found is None or shaped.symbols:
        return found
    names = phase_dims(g, loaded.graph, found.kv_cache_inputs)
    if names is None:
        return found
    released = {names.past, names.seq, *names.totals}
    bound = {d.dim_param: int(g.tensors[vi.name].shape[k])  # type: ignore[index]
             for vi in loaded.graph.input if vi.name in g.tensors and g.tensors[vi.name].shape is not None
             for k, d in enumerate(vi.type.tensor_type.shape.dim) if d.dim_param and d.dim_param not in released}
    kept = {**bound, **{k: v for k, v in dims.items() if k not in released}}
    phases = concrete_phases(loaded, kept, names, found.kv_cache_bytes_per_token, input_values)
    if phases is None:
        free = shapes.infer(loaded, kept, {}, input_values)
        free_costs, _, _ = nodes.graph_costs(graph_mod.build(loaded, free))
        if any(not c.known for c in free_costs):
            return found
        phases = bound_phases(sum(c.macs or 0 for c in free_costs), names, found.kv_cache_bytes_per_token)
    return replace(found, bound=phases)


def concrete_phases(loaded: LoadedModel, kept: Mapping[str, int], names: PhaseDims, per_token: int | None,
                    input_values: Mapping[str, Sequence[float]] | None) -> BoundPhases | None:
    """Prefill (the prompt over an empty cache) and decode (one token over the bound cache) from a concrete
    pass at each: no symbols, so no sympy. None when a pass fails or leaves a cost unknown (an empty cache
    can make a reshape ambiguous); the symbolic pass then decides."""
    def macs_at(past: int, seq: int) -> int | None:
        lengths = {names.past: past, **dict.fromkeys(names.other_pasts, past), names.seq: seq,
                   **{t: past + seq for t in names.totals}}
        try:
            shaped = shapes.infer(loaded, {**kept, **lengths}, {}, input_values)
            costs, _, _ = nodes.graph_costs(graph_mod.build(loaded, shaped))
        except ModelError:
            return None
        if shaped.symbols or any(not c.known or symbolic.is_symbolic(c.macs) for c in costs):
            return None
        return sum(c.macs or 0 for c in costs)

    prefill = macs_at(0, names.seq_len)
    decode = None if prefill is None else macs_at(names.past_len, 1)
    if prefill is None or decode is None:
        return None
    return BoundPhases(names.batch, names.seq_len, names.past_len, prefill, decode, *_cache_bytes(names, per_token))
