"""Einsum equations: output shape and the size of the iteration space (for MACs)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..base import symbolic
from ..base.errors import ModelError


@dataclass(frozen=True)
class EinsumPlan:
    """An einsum equation resolved against its operands' shapes: each index letter's size and what is summed."""

    output_shape: tuple[int, ...]
    index_sizes: dict[str, int]  # every index letter (ellipsis dims as '0', '1', …) with its size
    operands: int
    summed: frozenset[str]

    @property
    def iterations(self) -> int:
        """Points in the full index space: one multiply-accumulate each when operands are contracted."""
        return math.prod(self.index_sizes.values())


#: One operand or the output: letters with at most one ellipsis.
_TERM = re.compile(r"[A-Za-z]*(\.\.\.)?[A-Za-z]*")


def parse_einsum(equation: str, shapes: Sequence[tuple[int, ...]]) -> EinsumPlan:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    for term in [*terms, rhs] if arrow else terms:
        if not _TERM.fullmatch(term):
            raise ModelError(f"einsum '{equation}': term '{term}' is not letters with at most one '...'")
    out = rhs.replace("...", "")
    if arrow and (set(out) - set(lhs.replace("...", "").replace(",", "")) or len(set(out)) != len(out)):
        raise ModelError(f"einsum '{equation}': the output repeats an index or names one no operand has")
    if len(terms) != len(shapes):
        raise ModelError(f"einsum '{equation}' names {len(terms)} operands but has {len(shapes)}")
    sizes: dict[str, int] = {}
    ell_rank = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes, strict=True)
                    if "..." in t), default=0)
    ell_dims: list[int] = [1] * ell_rank
    counts: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=True):
        letters = _expand(term, len(shape))
        for letter, dim in zip(letters, shape, strict=True):
            if letter.isdigit():
                pos = int(letter) + ell_rank - (len(shape) - len(term.replace("...", "")))
                if dim != 1:
                    ell_dims[pos] = dim
                continue
            # dims equal, or equal wherever the model is valid (symbols): the first form stands for both
            if letter in sizes and 1 not in (dim, sizes[letter]) and symbolic.differ(dim, sizes[letter]):
                raise ModelError(f"einsum '{equation}': index '{letter}' is {sizes[letter]} and {dim}")
            sizes[letter] = dim if sizes.get(letter, 1) == 1 else sizes[letter]
            counts[letter] = counts.get(letter, 0) + 1
    if arrow:
        out_letters = [ch for ch in rhs.replace("...", "") if ch.isalpha()]
        ell_in_out = "..." in rhs or ("..." not in lhs)
    else:
        out_letters = sorted(ch for ch, n in counts.items() if n == 1)
        ell_in_out = True
    out_shape = (tuple(ell_dims) if ell_in_out and ell_rank else ()) + tuple(sizes[ch] for ch in out_letters)
    all_sizes = dict(sizes)
    for i, d in enumerate(ell_dims):
        all_sizes[str(i)] = d
    summed = frozenset(set(sizes) - set(out_letters))
    return EinsumPlan(out_shape, all_sizes, len(shapes), summed)


def _expand(term: str, rank: int) -> list[str]:
    """Letters of one operand, with '...' replaced by digit placeholders for its broadcast dims."""
    if "..." not in term:
        if len(term) != rank:
            raise ModelError(f"einsum term '{term}' has {len(term)} indices for a rank-{rank} operand")
        return list(term)
    head, tail = term.split("...")
    n = rank - len(head) - len(tail)
    if n < 0:
        raise ModelError(f"einsum term '{term}' has more indices than its rank-{rank} operand")
    return list(head) + [str(i) for i in range(n)] + list(tail)
