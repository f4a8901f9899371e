"""The coverage table of `onnxcost ops`: what onnxcost knows about each op definition. Apart from the
registry so that an analysis never builds it."""

from __future__ import annotations

from dataclasses import dataclass

from . import all_defs


@dataclass(frozen=True)
class CoverageRow:
    """One line of `onnxcost ops`: what onnxcost knows about one op definition."""

    op_type: str
    domain: str
    opsets: str  # "13+" or "1-12"
    family: str
    shape: str  # "rule" (ours), "onnx" (ONNX's own inference)
    value: bool  # small values are computed (shape arithmetic)
    cost: str  # "exact", "bound" (may be an upper bound) or "unknown" (with the reason in note)
    note: str


def coverage(domain: str | None = None) -> list[CoverageRow]:
    """The coverage table: every definition, optionally of one domain."""
    rows = []
    for d in all_defs():
        if domain is not None and d.domain != domain:
            continue
        span = f"{d.since}+" if d.until is None else f"{d.since}-{d.until - 1}"
        cost = "subgraph" if d.traits.control else "exact" if d.cost is not None else "unknown"
        rows.append(CoverageRow(d.op_type, d.domain, span, d.family, "rule" if d.shape is not None else "onnx",
                                d.value is not None, cost, d.note))
    return rows
