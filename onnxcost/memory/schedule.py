"""Memory stage, part 2: execution orders. `file` keeps the file's order, `topo` is a breadth-first
topological order, `optimal` minimises the peak of live bytes.

`optimal` is exact: the graph is cut at nodes comparable with every other node (all others are ancestors or
descendants, so every schedule runs the same set before them, and the live set after a set of nodes does
not depend on order), and each segment between cuts is solved on its own. Its best simple order (greedy,
file, topo) is proven optimal when it meets a lower bound (`bounds`: a node's floor, or the minimum cut of
what must be live while a node runs); else an order that meets the bound is looked for depth first (first
held to run each node where the bound is tight right after its cut's side, as the order best for it does); else
the exact dynamic programme over the sets of nodes run (SERENITY, MLSys 2020) searches strictly under the
best order known, pruned by the orderings that bound implies (`bounds.guards`; the searches are in
`search`). A segment too large for the time budget keeps the best order found, and the result says it is not
proven optimal."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from . import bounds, search
from .bounds import Closures, closures, lower_bound, node_floors
from .liveness import MemoryModel, simulate, step

METHODS = ("file", "topo", "optimal")


#: States per step of the narrow search that looks for a good order before the exact one.
BEAM_STATES = 32

#: Nodes, those with the most to hold on their own, whose minimum cut bounds the peak before any search.
CUT_NODES = 5
#: States the search for an order at the lower bound may visit before the exact search takes over.
REACH_STATES = 60_000
#: States for the same search held to the minimum cut where the bound is tight, tried first.
GUIDED_STATES = 20_000

#: The default seconds the optimal scheduler may spend: a default report stays interactive.
DEFAULT_BUDGET_S = 1.0


@dataclass(frozen=True)
class Schedule:
    """An execution order of the memory model's nodes, how it was found, and whether its peak is proven minimal."""

    order: list[int]  # indices into MemoryModel.nodes
    method: str
    optimal: bool  # proven to have the minimum peak
    stop: str | None = None  # why the proof stopped: "time" (the budget) or "states" (search.MAX_STATES in a segment)


def file_order(m: MemoryModel) -> list[int]:
    return list(range(len(m.nodes)))


def topo_order(m: MemoryModel) -> list[int]:
    """Kahn's algorithm with a FIFO queue (breadth first), ties in file order."""
    n = len(m.nodes)
    pending = [d.bit_count() for d in m.deps]
    users: list[list[int]] = [[] for _ in range(n)]
    for i, d in enumerate(m.deps):
        j = d
        while j:
            low = j & -j
            users[low.bit_length() - 1].append(i)
            j ^= low
    queue = deque(i for i in range(n) if pending[i] == 0)
    order = []
    while queue:
        i = queue.popleft()
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                queue.append(u)
    return order


def cut_points(m: MemoryModel, known: Closures | None = None) -> list[int]:
    """Nodes comparable with every other node, in file order (file order is topological)."""
    n = len(m.nodes)
    anc, desc = known or closures(m)
    return [i for i in range(n) if anc[i].bit_count() == i and desc[i].bit_count() == n - 1 - i]


def optimal_order(m: MemoryModel, budget_s: float = DEFAULT_BUDGET_S) -> tuple[list[int], str | None]:
    """Minimum-peak order, and None when every segment was solved exactly, else why one was not ("time":
    the `budget_s` seconds ran out; "states": a segment needed more than search.MAX_STATES states)."""
    deadline = time.perf_counter() + budget_s
    known = closures(m)
    cuts = set(cut_points(m, known))
    # No order peaks below `floor`: a segment whose best simple order stays at or under it cannot raise the
    # model's minimum peak, so it needs no search (its order is optimal for the model as a whole).
    floors = node_floors(m, known)
    floor = floors[0] + max(floors[1], default=0)
    segments: list[list[int]] = []
    current: list[int] = []
    for i in range(len(m.nodes)):
        if i in cuts:
            if current:
                segments.append(current)
            segments.append([i])
            current = []
        else:
            current.append(i)
    if current:
        segments.append(current)
    topo_pos = {g: k for k, g in enumerate(topo_order(m))}
    # The nodes before a segment and the bytes live when it starts do not depend on the order within earlier
    # segments (they are cut at nodes every order runs in the same place): each segment is solved on its own.
    starts: list[tuple[int, int]] = []
    prefix, mem = 0, m.initial_bytes
    for seg in segments:
        starts.append((prefix, mem))
        for g in seg:
            alloc, freed, _ = step(m, prefix, g)
            mem += m.alloc_bytes[g] - freed
            prefix |= 1 << g
    chosen: list[list[int]] = [list(seg) for seg in segments]
    uppers: dict[int, int] = {}
    for k, seg in enumerate(segments):
        if len(seg) > 1:
            prefix, mem = starts[k]
            greedy, greedy_peak = search.segment_greedy(m, prefix, seg, mem, deadline)
            by_topo = sorted(seg, key=topo_pos.__getitem__)
            candidates = [(greedy_peak, greedy), (search.segment_peak(m, prefix, seg, mem), seg),
                          (search.segment_peak(m, prefix, by_topo, mem), by_topo)]
            uppers[k], chosen[k] = min(candidates, key=lambda c: c[0])
    # The model's peak is the largest segment's: solve the segments from the highest peak down, and raise the
    # floor to each proven optimum, so that a segment that stays under it needs no search at all.
    stop = None
    cuts_left = sorted(range(len(m.nodes)), key=lambda v: -floors[1][v])[:CUT_NODES]
    cut_of: dict[int, tuple[int, int]] = {}  # node -> its minimum cut (bytes, the nodes before it)
    for k in sorted(uppers, key=lambda k: -uppers[k]):
        if uppers[k] <= floor:
            continue
        prefix, mem = starts[k]
        # What any order must hold at the node where the best one found peaks, and at the nodes with the most
        # to hold on their own: often the optimum itself. Then an order that reaches it is optimal.
        for v in cuts_left + [search.peak_step(m, prefix, chosen[k], mem)[1]]:
            if v not in cut_of:
                cut_of[v] = bounds.min_cut(m, v, known)
                floor = max(floor, cut_of[v][0])
        cuts_left = []
        if uppers[k] <= floor:
            continue
        seg_mask = sum(1 << g for g in segments[k])
        reach_guards = bounds.guards(m, seg_mask, floor + 1, known, floors)
        reached = None
        for guided in _cut_guided(m, {v: c for v, c in cut_of.items() if seg_mask >> v & 1}, floor, seg_mask,
                                  known):
            reached = search.segment_reach(m, prefix, segments[k], mem, floor, deadline,
                                           _merged(reach_guards, guided), known, GUIDED_STATES)
            if isinstance(reached, list):
                break
        if not isinstance(reached, list):
            reached = search.segment_reach(m, prefix, segments[k], mem, floor, deadline, reach_guards, known,
                                           REACH_STATES)
        if isinstance(reached, list):
            chosen[k] = reached
            continue
        # A narrow search first: an order under the simple ones lowers the bound the exact search works under,
        # which prunes it far more (bart: half the states).
        guards = bounds.guards(m, seg_mask, uppers[k], known, floors)
        beam = search.segment_dp(m, prefix, segments[k], mem, uppers[k], deadline, guards, BEAM_STATES, known)
        if isinstance(beam, list):
            chosen[k], uppers[k] = beam, search.segment_peak(m, prefix, beam, mem)
            guards = bounds.guards(m, seg_mask, uppers[k], known, floors)
        exact = search.segment_dp(m, prefix, segments[k], mem, uppers[k], deadline, guards, known=known) \
            if time.perf_counter() < deadline else "time"
        if isinstance(exact, str):
            stop = stop or exact
            continue
        if exact is not None:  # better than the simple orders; None: they were optimal already
            chosen[k] = exact
        floor = max(floor, search.segment_peak(m, prefix, chosen[k], mem))
    return [g for seg in chosen for g in seg], stop


def _cut_guided(m: MemoryModel, cut_of: dict[int, tuple[int, int]], floor: int, seg_mask: int,
                known: Closures) -> list[dict[int, int]]:
    """Orderings to try first when looking for an order at `floor`, each a guess that keeps the search narrow:
    the nodes whose minimum cut is `floor` (and the others whose cuts nest with it, the fullest first) run
    right after their cut's source side, as in the order best for them. Empty when no cut is tight."""
    tight = [v for v, (held, _) in cut_of.items() if held == floor]
    if not tight:
        return []
    v = tight[-1]
    chain = [(v, cut_of[v][1])]
    for u in sorted(cut_of, key=lambda u: -cut_of[u][0]):
        side = cut_of[u][1]
        if u != v and all(_nested(u, side, w, other) for w, other in chain):
            chain.append((u, side))
    alone = _cut_guards(m, v, cut_of[v][1], seg_mask, known)
    together = alone
    for w, side in chain[1:]:
        together = _merged(together, _cut_guards(m, w, side, seg_mask, known))
    return [together, alone] if len(chain) > 1 else [alone]


def _nested(u: int, side_u: int, w: int, side_w: int) -> bool:
    """Whether u running right after `side_u` and w right after `side_w` can both hold: one side holds the
    other, and the node of the smaller side runs inside the larger one."""
    if side_u & ~side_w == 0:
        return side_w >> u & 1 == 1 and side_u >> w & 1 == 0
    if side_w & ~side_u == 0:
        return side_u >> w & 1 == 1 and side_w >> u & 1 == 0
    return False


def _cut_guards(m: MemoryModel, v: int, before: int, seg_mask: int, known: Closures) -> dict[int, int]:
    """Orderings that make v run right after exactly `before` (downward closed, v's ancestors included): v after
    each node of it, and every other node of the segment that is no descendant of v after v."""
    anc, desc = known
    out = {v: before & seg_mask & ~anc[v]}
    for w in bounds.bits(seg_mask & ~before & ~desc[v] & ~(1 << v)):
        out[w] = 1 << v
    return out


def _merged(a: dict[int, int], b: dict[int, int]) -> dict[int, int]:
    return {k: a.get(k, 0) | b.get(k, 0) for k in a.keys() | b.keys()}


def schedule(m: MemoryModel, method: str = "optimal", budget_s: float = DEFAULT_BUDGET_S) -> Schedule:
    if method == "file":
        return Schedule(file_order(m), "file", False)
    if method == "topo":
        return Schedule(topo_order(m), "topo", False)
    if method != "optimal":
        raise ValueError(f"unknown schedule method {method!r}; choose one of {', '.join(METHODS)}")
    order, stop = optimal_order(m, budget_s)
    # Never worse than the plain orders, whatever happened within the budget.
    peak = simulate(m, order).peak_bytes
    for other in (file_order(m), topo_order(m)):
        other_peak = simulate(m, other).peak_bytes
        if other_peak < peak:
            order, peak, stop = other, other_peak, stop or "time"
    # A peak equal to what some single node needs on its own cannot be beaten by any order.
    proven = stop is None or peak <= lower_bound(m)
    return Schedule(order, "optimal", proven, None if proven else stop)
