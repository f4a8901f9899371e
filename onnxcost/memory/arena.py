"""Memory stage, part 3: an arena plan, one offset per activation buffer in a single allocation.

Greedy by size, as TensorFlow Lite's planner does: place the largest buffers first, each in the tightest gap
that overlaps no already placed buffer whose lifetime intersects its own. Three more placement orders (by
size x lifetime, by longest lifetime, by start) are tried as well and the smallest arena is kept."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .liveness import Timeline

#: Graphs with at most this many buffers also try RANDOM_RESTARTS perturbed placement orders.
RANDOM_RESTART_LIMIT = 5000
RANDOM_RESTARTS = 48


@dataclass(frozen=True)
class Placement:
    start: int  # first schedule step it is live
    end: int  # last schedule step it is live
    nbytes: int
    offset: int


@dataclass(frozen=True)
class ArenaPlan:
    placements: tuple[Placement, ...]
    arena_bytes: int
    peak_bytes: int

    @property
    def fragmentation(self) -> float:
        """arena / peak: 1.0 means no byte is wasted to fragmentation."""
        return self.arena_bytes / self.peak_bytes if self.peak_bytes else 1.0


@dataclass(frozen=True)
class ArenaLayout:
    """What a report says of the arena: its bytes, how much larger it is than the peak, and each buffer's offset."""

    arena_bytes: int
    fragmentation: float  # arena_bytes / peak bytes
    offsets: dict[str, int]  # base tensor of each buffer -> byte offset


def layout(timeline: Timeline) -> ArenaLayout:
    """The arena of a schedule's timeline, its buffers named by their base tensors."""
    placed = plan([(s, e, b) for s, e, b, _ in timeline.lifetimes], timeline.peak_bytes)
    return ArenaLayout(placed.arena_bytes, round(placed.fragmentation, 4),
                       {name: p.offset for name, p in zip(timeline.buffer_names, placed.placements, strict=True)})


def plan(lifetimes: list[tuple[int, int, int]], peak_bytes: int, alignment: int = 64) -> ArenaPlan:
    """Offsets for buffers given as (start, end, nbytes); offsets are multiples of `alignment`."""
    keys = [
        lambda k: (-lifetimes[k][2], lifetimes[k][0], k),
        lambda k: (-lifetimes[k][2] * (lifetimes[k][1] - lifetimes[k][0] + 1), k),
        lambda k: (lifetimes[k][0] - lifetimes[k][1], -lifetimes[k][2], k),
        lambda k: (lifetimes[k][0], -lifetimes[k][2], k),
    ]
    orders = [sorted(range(len(lifetimes)), key=key) for key in keys]
    if 2 <= len(lifetimes) <= RANDOM_RESTART_LIMIT:  # small graphs: a few seeded shuffles of the size order too
        rng = random.Random(0)
        for _ in range(RANDOM_RESTARTS):
            order = list(orders[0])
            for _swap in range(max(1, len(order) // 4)):
                a, b = rng.randrange(len(order)), rng.randrange(len(order))
                order[a], order[b] = order[b], order[a]
            orders.append(order)
    best: ArenaPlan | None = None
    for order in orders:
        candidate = _place(lifetimes, order, peak_bytes, alignment)
        if best is None or candidate.arena_bytes < best.arena_bytes:
            best = candidate
        if best.arena_bytes <= _align(peak_bytes, alignment):
            break  # cannot do better than the peak
    assert best is not None
    return best


def _place(lifetimes: list[tuple[int, int, int]], order: list[int], peak_bytes: int, alignment: int) -> ArenaPlan:
    placed: list[Placement] = []
    offsets: dict[int, int] = {}
    for k in order:
        start, end, size = lifetimes[k]
        overlapping = sorted((p for p in placed if p.start <= end and start <= p.end), key=lambda p: p.offset)
        best_offset, best_gap = None, None
        cursor = 0
        for p in overlapping:
            gap = p.offset - cursor
            if gap >= size and (best_gap is None or gap < best_gap):
                best_offset, best_gap = cursor, gap
            cursor = max(cursor, _align(p.offset + p.nbytes, alignment))
        offset = best_offset if best_offset is not None else cursor
        placement = Placement(start, end, size, offset)
        placed.append(placement)
        offsets[k] = offset
    arena = max((p.offset + p.nbytes for p in placed), default=0)
    ordered = tuple(Placement(*lifetimes[k], offsets[k]) for k in range(len(lifetimes)))
    return ArenaPlan(ordered, arena, peak_bytes)


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment
