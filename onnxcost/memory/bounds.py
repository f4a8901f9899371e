"""Memory stage: what any execution order must hold. Each node's ancestors and descendants, the bytes that
every order keeps live while a node runs (its floor) and their maximum (a lower bound on the peak), and the
orderings a bound implies for the minimum-peak search (schedule.py)."""

from __future__ import annotations

from .liveness import MemoryModel


def bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def closures(m: MemoryModel) -> tuple[list[int], list[int]]:
    """Each node's ancestors and descendants, as bitmasks over MemoryModel.nodes."""
    n = len(m.nodes)
    anc = [0] * n
    for i in range(n):
        a = m.deps[i]
        j = m.deps[i]
        while j:
            low = j & -j
            a |= anc[low.bit_length() - 1]
            j ^= low
        anc[i] = a
    desc = [0] * n
    for i in range(n - 1, -1, -1):
        j = m.deps[i]
        while j:
            low = j & -j
            p = low.bit_length() - 1
            desc[p] |= desc[i] | (1 << i)
            j ^= low
    return anc, desc


Closures = tuple[list[int], list[int]]


def lower_bound(m: MemoryModel, known: Closures | None = None) -> int:
    """Bytes every schedule needs at once somewhere: at some node, its inputs and outputs (less a buffer it may
    overwrite in place), the buffers that must stay alive across it in any order (made by an ancestor or given
    as a graph input, and read by a descendant or kept as a graph output), and graph inputs that are also
    outputs, live throughout."""
    pinned_inputs, floors = node_floors(m, known)
    return pinned_inputs + max(floors, default=0)


def node_floors(m: MemoryModel, known: Closures | None = None) -> tuple[int, list[int]]:
    """(bytes of graph inputs live throughout, per node the bytes any order holds while it runs besides them):
    its inputs and outputs, less a buffer it may overwrite, and the buffers that must stay alive across it."""
    pinned_inputs = sum(b.nbytes for b in m.buffers if b.producer is None and b.pinned)
    anc, desc = known or closures(m)
    across = [0] * len(m.nodes)
    for b in m.buffers:
        if b.producer is None and b.pinned:
            continue  # in pinned_inputs
        readers_before = 0  # nodes that run before some reader: an ancestor of one
        for c in bits(b.consumers):
            readers_before |= anc[c]
        later = (1 << len(m.nodes)) - 1 if b.pinned else readers_before
        alive = (later if b.producer is None else desc[b.producer] & later) & ~b.consumers
        for i in bits(alive):
            across[i] += b.nbytes

    def need(i: int) -> int:
        held = set(m.reads[i]) | set(m.allocs[i])
        total = sum(m.buffers[b].nbytes for b in held if not (m.buffers[b].producer is None and m.buffers[b].pinned))
        reuse = m.reuse[i]
        return total - (m.buffers[reuse].nbytes if reuse is not None else 0)

    return pinned_inputs, [need(i) + across[i] for i in range(len(m.nodes))]


def guards(m: MemoryModel, seg_mask: int, below: int, known: Closures,
            floors: tuple[int, list[int]]) -> dict[int, int]:
    """Per producer, the segment nodes that must run before it in any order peaking under `below`: a buffer b
    made by p stays alive across every node v that runs after p and before a reader of b, so if v needs
    `floors` bytes besides b and the two reach `below`, v must run before p. (v is no descendant of p: the
    floors count b for those already.) A producer before the segment keeps its entry: while one of its nodes
    is still to run, no order of the segment stays under `below`."""
    anc, desc = known
    pinned_inputs, need = floors
    everyone = (1 << len(m.nodes)) - 1
    most = max((need[v] for v in bits(seg_mask)), default=0)
    guards: dict[int, int] = {}
    for b in m.buffers:
        if b.producer is None or pinned_inputs + most + b.nbytes < below:
            continue
        readers_before = everyone if b.pinned else 0
        for c in bits(b.consumers if not b.pinned else 0):
            readers_before |= anc[c]
        candidates = readers_before & seg_mask & ~desc[b.producer] & ~b.consumers & ~(1 << b.producer)
        must = 0
        for v in bits(candidates):
            if pinned_inputs + need[v] + b.nbytes >= below:
                must |= 1 << v
        if must:
            guards[b.producer] = guards.get(b.producer, 0) | must
    return guards
