"""What the latency stage hands on: per-node estimates and the model's totals. Kept apart from the stage so
that a report without a profile never imports the estimator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .estimate import NodeEstimate


@dataclass(frozen=True)
class LatencyTotals:
    """The whole model's estimate on one profile: node estimates, the critical path and layout reorders."""

    profile: str
    latency_ms: float | None  # node estimates and layout reorders (None if any is unknown)
    critical_path_ms: float | None  # the longest dependent chain (parallel branches overlap)
    layout_reorders: int | None = None  # with a runtime that blocks conv layouts: the copies it inserts
    layout_reorder_bytes: int | None = None
    layout_reorder_ms: float | None = None


@dataclass(frozen=True)
class Latency:
    """Per-node estimates (None without a profile) and the totals, with a warning when none could be made."""

    nodes: list[NodeEstimate | None]
    totals: LatencyTotals | None
    warnings: list[str]


def no_latency(n_nodes: int) -> Latency:
    """The stage's result without a profile: no estimate, no warning."""
    return Latency([None] * n_nodes, None, [])

