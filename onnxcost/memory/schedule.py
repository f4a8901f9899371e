"""Memory stage, part 2: execution orders. `file` keeps the file's order, `topo` is a breadth-first
topological order, `optimal` minimises the peak of live bytes.

`optimal` is exact: the graph is cut at nodes comparable with every other node (all others are ancestors or
descendants, so every schedule runs the same set before them, and the live set after a set of nodes does
not depend on order); each segment between cuts is solved by dynamic programming over the sets of nodes
already run (SERENITY, MLSys 2020), searched strictly under the best simple order or a narrow (beam) search's
order, whichever is lower, with the orderings that bound implies (`bounds.guards`) pruning it (see `_segment_dp`). A
segment too large for the time budget keeps the best of greedy, file and topo orders, and the result says it
is not proven optimal."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from . import bounds
from .bounds import Closures, closures, lower_bound, node_floors
from .liveness import MemoryModel, simulate, step, step_tables

METHODS = ("file", "topo", "optimal")
#: States one segment may visit before the budget check gives up on proving it.
MAX_STATES = 400_000


#: States per step of the narrow search that looks for a good order before the exact one.
BEAM_STATES = 32

#: The default seconds the optimal scheduler may spend: a default report stays interactive.
DEFAULT_BUDGET_S = 1.0


@dataclass(frozen=True)
class Schedule:
    order: list[int]  # indices into MemoryModel.nodes
    method: str
    optimal: bool  # proven to have the minimum peak
    stop: str | None = None  # why the proof stopped: "time" (the budget) or "states" (MAX_STATES in a segment)


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


def _segment_greedy(m: MemoryModel, prefix: int, seg: list[int], base: int,
                    deadline: float) -> tuple[list[int], int]:
    """Repeatedly run the ready node with the lowest step peak, then lowest memory after it. Each choice scans
    the ready set, so a wide graph is quadratic: past the deadline the rest runs in file order."""
    in_seg = set(seg)
    pending: dict[int, int] = {}
    users: dict[int, list[int]] = {i: [] for i in seg}
    for i in seg:
        preds = [p for p in bounds.bits(m.deps[i]) if p in in_seg]
        pending[i] = len(preds)
        for p in preds:
            users[p].append(i)
    ready = {i for i in seg if pending[i] == 0}
    done, mem, peak = prefix, base, 0
    order: list[int] = []
    while ready:
        if time.perf_counter() > deadline:
            rest = [i for i in seg if not done >> i & 1]
            return order + rest, max(peak, _segment_peak(m, done, rest, mem))
        best = None
        for i in sorted(ready):
            alloc, freed, _ = step(m, done, i)
            key = (mem + alloc, mem + m.alloc_bytes[i] - freed, i)
            if best is None or key < best[0]:
                best = (key, i, alloc, freed)
        assert best is not None
        _, i, alloc, freed = best
        peak = max(peak, mem + alloc)
        mem += m.alloc_bytes[i] - freed
        done |= 1 << i
        ready.discard(i)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                ready.add(u)
    return order, peak


def _segment_peak(m: MemoryModel, prefix: int, order: list[int], base: int) -> int:
    return _peak_step(m, prefix, order, base)[0]


def _peak_step(m: MemoryModel, prefix: int, order: list[int], base: int) -> tuple[int, int]:
    """(peak bytes of `order` run after `prefix`, the node it peaks at; -1 for an empty order)."""
    done, mem, peak, at = prefix, base, 0, -1
    for i in order:
        alloc, freed, _ = step(m, done, i)
        if mem + alloc > peak or at < 0:
            peak, at = max(peak, mem + alloc), i
        mem += m.alloc_bytes[i] - freed
        done |= 1 << i
    return peak, at


def _segment_dp(m: MemoryModel, prefix: int, seg: list[int], base: int, below: int, deadline: float,
                guards: dict[int, int] | None = None, beam: int | None = None,
                known: Closures | None = None) -> list[int] | str | None:
    """Exact minimum-peak order of `seg` given `prefix` already run, among orders peaking under `below`; None
    when there is none (an order peaking at `below` is then optimal), else why not: "time" or "states".

    Dynamic programming over the sets of nodes run (each state keeps its least peak; the live bytes after a
    set do not depend on the order). Searching strictly under the best known order prunes every state that
    reaches its peak: the usual outcome on a wide graph is a proof that the simple order was best.
    A free move is taken alone: a ready node whose step stays within the state's peak and that frees at least
    what it allocates. Moving it to the front of any completion lowers or keeps the live bytes at every later
    step (its inputs die no later, other nodes only become last readers sooner), so some optimal completion
    starts with it."""
    seg_mask = 0
    for g in seg:
        seg_mask |= 1 << g
    guards = guards or {}
    if any(must & ~prefix for p, must in guards.items() if prefix >> p & 1):
        return None  # a buffer made before the segment outlives a node it cannot share memory with
    deps = {u: m.deps[u] | guards.get(u, 0) for u in seg}
    users: dict[int, list[int]] = {g: [] for g in seg}
    ready = 0
    for u in seg:
        preds = deps[u] & seg_mask
        if not preds:
            ready |= 1 << u
        for p in bounds.bits(preds):
            users[p].append(u)
    frees, dead, overwrite = step_tables(m, seg)  # step(), unrolled below for speed
    anc = (known or closures(m))[0]
    for g in seg:  # a buffer whose readers all run before g (or are g) is freed by g in every state
        before = anc[g] | 1 << g
        dead[g] += sum(nbytes for readers, nbytes in frees[g] if not readers & ~before)
        frees[g] = tuple(f for f in frees[g] if f[0] & ~before)
    alloc_bytes = m.alloc_bytes
    # state: the set run (global bits, prefix included) -> (least peak, live bytes, ready nodes)
    level: dict[int, tuple[int, int, int]] = {prefix: (0, base, ready)}
    parent: dict[int, tuple[int, int]] = {}
    visited = 0
    for _ in range(len(seg)):
        nxt: dict[int, tuple[int, int, int]] = {}
        for s, (peak, mem, ready) in level.items():
            moves = []
            bits = ready
            while bits:
                low = bits & -bits
                bits ^= low
                g = low.bit_length() - 1
                after = s | low
                alloc, freed = alloc_bytes[g], dead[g]
                for readers, nbytes in frees[g]:
                    if not readers & ~after:
                        freed += nbytes
                over = overwrite[g]
                if over is not None and not over[0] & ~after:
                    alloc -= over[1]
                if mem + alloc <= peak and alloc_bytes[g] <= freed:
                    moves = [(g, alloc, freed)]  # a free move (see above)
                    break
                moves.append((g, alloc, freed))
            for g, alloc, freed in moves:
                new_peak = max(peak, mem + alloc)
                if new_peak >= below:
                    continue
                t = s | 1 << g
                old = nxt.get(t)
                if old is None:
                    ready_t = ready & ~(1 << g)
                    for u in users[g]:
                        if not deps[u] & ~t:
                            ready_t |= 1 << u
                    nxt[t] = (new_peak, mem + alloc_bytes[g] - freed, ready_t)
                    parent[t] = (s, g)
                elif new_peak < old[0]:
                    nxt[t] = (new_peak, old[1], old[2])
                    parent[t] = (s, g)
            visited += 1
            if visited % 64 == 0:
                if time.perf_counter() > deadline:
                    return "time"
                if visited > MAX_STATES:
                    return "states"
        if beam is not None and len(nxt) > beam:  # a heuristic, not a proof: the `beam` lowest states go on
            nxt = dict(sorted(nxt.items(), key=lambda kv: (kv[1][0], kv[1][1]))[:beam])
        level = nxt
        if not level:
            return None  # no order stays under `below`
    s = prefix | seg_mask
    if s not in level:
        return None
    order: list[int] = []
    while s != prefix:
        s, g = parent[s]
        order.append(g)
    order.reverse()
    return order


def optimal_order(m: MemoryModel, budget_s: float = DEFAULT_BUDGET_S) -> tuple[list[int], str | None]:
    """Minimum-peak order, and None when every segment was solved exactly, else why one was not ("time":
    the `budget_s` seconds ran out; "states": a segment needed more than MAX_STATES states)."""
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
            greedy, greedy_peak = _segment_greedy(m, prefix, seg, mem, deadline)
            by_topo = sorted(seg, key=topo_pos.__getitem__)
            candidates = [(greedy_peak, greedy), (_segment_peak(m, prefix, seg, mem), seg),
                          (_segment_peak(m, prefix, by_topo, mem), by_topo)]
            uppers[k], chosen[k] = min(candidates, key=lambda c: c[0])
    # The model's peak is the largest segment's: solve the segments from the highest peak down, and raise the
    # floor to each proven optimum, so that a segment that stays under it needs no search at all.
    stop = None
    for k in sorted(uppers, key=lambda k: -uppers[k]):
        if uppers[k] <= floor:
            continue
        prefix, mem = starts[k]
        # What any order must hold at the node where the best one found peaks: often that very peak, a proof.
        floor = max(floor, bounds.cut_floor(m, _peak_step(m, prefix, chosen[k], mem)[1], known))
        if uppers[k] <= floor:
            continue
        seg_mask = sum(1 << g for g in segments[k])
        # A narrow search first: an order under the simple ones lowers the bound the exact search works under,
        # which prunes it far more (bart: half the states).
        guards = bounds.guards(m, seg_mask, uppers[k], known, floors)
        beam = _segment_dp(m, prefix, segments[k], mem, uppers[k], deadline, guards, BEAM_STATES, known)
        if isinstance(beam, list):
            chosen[k], uppers[k] = beam, _segment_peak(m, prefix, beam, mem)
            guards = bounds.guards(m, seg_mask, uppers[k], known, floors)
        exact = _segment_dp(m, prefix, segments[k], mem, uppers[k], deadline, guards, known=known) \
            if time.perf_counter() < deadline else "time"
        if isinstance(exact, str):
            stop = stop or exact
            continue
        if exact is not None:  # better than the simple orders; None: they were optimal already
            chosen[k] = exact
        floor = max(floor, _segment_peak(m, prefix, chosen[k], mem))
    return [g for seg in chosen for g in seg], stop


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
