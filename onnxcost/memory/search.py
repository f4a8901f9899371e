"""Memory stage: searches over the orders of one segment of the graph (the nodes between two cuts, see
schedule.py), each given the nodes run before it (`prefix`) and the bytes live then (`base`): a greedy order,
a depth-first search for an order under a proven lower bound, and the exact dynamic programme over the sets of
nodes run, or its narrow (beam) form."""

from __future__ import annotations

import time

from . import bounds
from .bounds import Closures, closures
from .liveness import MemoryModel, step, step_tables

#: States one segment may visit before the budget check gives up on proving it.
MAX_STATES = 400_000


def segment_greedy(m: MemoryModel, prefix: int, seg: list[int], base: int,
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
            return order + rest, max(peak, segment_peak(m, done, rest, mem))
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


def segment_peak(m: MemoryModel, prefix: int, order: list[int], base: int) -> int:
    return peak_step(m, prefix, order, base)[0]


def peak_step(m: MemoryModel, prefix: int, order: list[int], base: int) -> tuple[int, int]:
    """(peak bytes of `order` run after `prefix`, the node it peaks at; -1 for an empty order)."""
    done, mem, peak, at = prefix, base, -1, -1
    for i in order:
        alloc, freed, _ = step(m, done, i)
        if mem + alloc > peak:
            peak, at = mem + alloc, i
        mem += m.alloc_bytes[i] - freed
        done |= 1 << i
    return max(peak, 0), at


SearchTables = tuple[dict[int, int], dict[int, list[int]], int, dict[int, tuple[tuple[int, int], ...]],
                     dict[int, int], dict[int, tuple[int, int] | None]]


def _gave_up(visited: int, deadline: float, max_states: int) -> str | None:
    """Why a search stops before its end: "time" past the deadline, "states" past its cap; None to go on."""
    if time.perf_counter() > deadline:
        return "time"
    return "states" if visited > max_states else None


def search_tables(m: MemoryModel, prefix: int, seg: list[int], guards: dict[int, int],
                  known: Closures | None) -> SearchTables | None:
    """What a search over `seg` reads at every step: each node's dependencies (the guards' orderings added),
    its users, the nodes ready after `prefix`, and `step_tables` with the frees every state makes folded into
    `dead`. None when a guard of a producer before the segment already rules every order out."""
    if any(must & ~prefix for p, must in guards.items() if prefix >> p & 1):
        return None
    seg_mask = sum(1 << g for g in seg)
    deps = {u: m.deps[u] | guards.get(u, 0) for u in seg}
    users: dict[int, list[int]] = {g: [] for g in seg}
    ready = 0
    for u in seg:
        preds = deps[u] & seg_mask
        if not preds:
            ready |= 1 << u
        for p in bounds.bits(preds):
            users[p].append(u)
    frees, dead, overwrite = step_tables(m, seg)  # step(), unrolled in the searches for speed
    anc = (known or closures(m))[0]
    for g in seg:  # a buffer whose readers all run before g (or are g) is freed by g in every state
        before = anc[g] | 1 << g
        dead[g] += sum(nbytes for readers, nbytes in frees[g] if not readers & ~before)
        frees[g] = tuple(f for f in frees[g] if f[0] & ~before)
    return deps, users, ready, frees, dead, overwrite


def segment_reach(m: MemoryModel, prefix: int, seg: list[int], base: int, limit: int, deadline: float,
                  guards: dict[int, int], known: Closures, max_states: int) -> list[int] | str | None:
    """An order of `seg` whose every step stays at or under `limit` (a proven lower bound: such an order is
    optimal), depth first, the step that leaves the fewest live bytes first; None when there is none, "time"
    or "states" when it gave up. Whether a set of nodes run can still be completed under `limit` depends on
    the set alone (the live bytes after it do), so a set that failed is never tried again; a free move (see
    `segment_dp`) is taken alone."""
    tables = search_tables(m, prefix, seg, guards, known)
    if tables is None:
        return None
    deps, users, ready, frees, dead, overwrite = tables
    full = prefix | sum(1 << g for g in seg)
    alloc_bytes = m.alloc_bytes

    def moves(s: int, mem: int, ready: int) -> list[tuple[int, int, int, int]]:
        found = []
        for g in bounds.bits(ready):
            after = s | 1 << g
            alloc, freed = alloc_bytes[g], dead[g] + sum(n for readers, n in frees[g] if not readers & ~after)
            over = overwrite[g]
            if over is not None and not over[0] & ~after:
                alloc -= over[1]
            if mem + alloc > limit:
                continue
            if alloc_bytes[g] <= freed:
                return [(g, alloc, freed, 0)]  # a free move
            found.append((g, alloc, freed, mem + alloc_bytes[g] - freed))
        return sorted(found, key=lambda mv: (mv[3], mv[1]), reverse=True)  # popped from the end: fewest first

    failed: set[int] = set()
    order: list[int] = []
    stack = [(prefix, base, ready, moves(prefix, base, ready))]
    visited = 0
    while stack:
        s, mem, ready_s, todo = stack[-1]
        if not todo:
            failed.add(s)
            stack.pop()
            if order:
                order.pop()
            continue
        g, _, freed, _ = todo.pop()
        t = s | 1 << g
        if t in failed:
            continue
        ready_t = ready_s & ~(1 << g)
        for u in users[g]:
            if not deps[u] & ~t:
                ready_t |= 1 << u
        order.append(g)
        if t == full:
            return order
        mem_t = mem + alloc_bytes[g] - freed
        stack.append((t, mem_t, ready_t, moves(t, mem_t, ready_t)))
        visited += 1
        if visited % 64 == 0 and (why := _gave_up(visited, deadline, max_states)):
            return why
    return None


def segment_dp(m: MemoryModel, prefix: int, seg: list[int], base: int, below: int, deadline: float,
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
    tables = search_tables(m, prefix, seg, guards or {}, known)
    if tables is None:
        return None  # a buffer made before the segment outlives a node it cannot share memory with
    deps, users, ready, frees, dead, overwrite = tables
    seg_mask = sum(1 << g for g in seg)
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
            if visited % 64 == 0 and (why := _gave_up(visited, deadline, MAX_STATES)):
                return why
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
