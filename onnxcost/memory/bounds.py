"""Memory stage: what any execution order must hold. Each node's ancestors and descendants, the bytes that
every order keeps live while a node runs (its floor) and their maximum (a lower bound on the peak), and the
orderings a bound implies for the minimum-peak search (schedule.py)."""

from __future__ import annotations

from .liveness import Buffer, MemoryModel


def bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _before_a_reader(b: Buffer, anc: list[int], everyone: int) -> int:
    """The nodes that run before some reader of `b` in every order (an ancestor of one), so that `b` is still
    alive when they run once it is made; every node for a graph output, alive to the end."""
    if b.pinned:
        return everyone
    before = 0
    for c in bits(b.consumers):
        before |= anc[c]
    return before


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
    everyone = (1 << len(m.nodes)) - 1
    across = [0] * len(m.nodes)
    for b in m.buffers:
        if b.producer is None and b.pinned:
            continue  # in pinned_inputs
        later = _before_a_reader(b, anc, everyone)
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
        candidates = _before_a_reader(b, anc, everyone) & seg_mask & ~desc[b.producer] & ~b.consumers
        candidates &= ~(1 << b.producer)
        must = 0
        for v in bits(candidates):
            if pinned_inputs + need[v] + b.nbytes >= below:
                must |= 1 << v
        if must:
            guards[b.producer] = guards.get(b.producer, 0) | must
    return guards


def cut_floor(m: MemoryModel, v: int, known: Closures) -> int:
    """Bytes live while node v runs, in the order best for v: its outputs, and the fewest bytes that carry what
    the nodes run before it made to those after it. The nodes run before v are a downward-closed set holding
    v's ancestors and none of its descendants; the live buffers are those made inside it and read outside (or
    kept as graph outputs), so the least of them is a minimum cut (a buffer read by several nodes counts once),
    found by max-flow. Never below `node_floors`: the buffers those count are in every such cut."""
    return min_cut(m, v, known)[0]


def min_cut(m: MemoryModel, v: int, known: Closures) -> tuple[int, int]:
    """(`cut_floor` of v, the nodes that run before v in an order holding only that much while v runs): the
    source side of the minimum cut, the fewest nodes that do.

    v's ancestors are always on the source side and v with its descendants on the sink side, so the network
    is built over the other nodes alone, with those two sets as its source and sink: a buffer from the source
    side to the sink side is in every cut, and a buffer with no reader among the others ties to neither. On a
    chain of blocks only the branches beside v are left, and max-flow runs over a few nodes, not the model."""
    anc, desc = known
    before_v, after_v = anc[v], desc[v] | 1 << v
    middle = ((1 << len(m.nodes)) - 1) & ~before_v & ~after_v
    ids = {u: k for k, u in enumerate(bits(middle))}
    source, sink = len(ids), len(ids) + 1
    infinite = sum(b.nbytes for b in m.buffers) + 1
    flow = _Flow(len(ids) + 2)
    for u, k in ids.items():
        for p in bits(m.deps[u] & middle):
            flow.edge(k, ids[p], infinite)  # u before v's step means its inputs' producers are too
    always = 0  # bytes in every cut: buffers made before v (or given) and held past it
    for b in m.buffers:
        # a graph input is made before anything runs
        made = source if b.producer is None or before_v >> b.producer & 1 else ids.get(b.producer)
        if made is None:
            continue  # made at v or after: not live while the nodes before v run
        readers = b.consumers & middle
        if b.pinned or b.consumers & after_v:  # held to the end, or read at v or after: cut where it is made
            if made == source:
                always += b.nbytes
            else:
                flow.edge(made, sink, b.nbytes)
        elif readers:  # held until its last reader among the others runs
            held = len(flow.out)
            flow.out.append([])
            flow.edge(made, held, b.nbytes)
            for c in bits(readers):
                flow.edge(held, ids[c], infinite)
    reuse = m.reuse[v]
    overwritten = m.buffers[reuse].nbytes if reuse is not None else 0  # as node_floors: at most this much less
    cut = flow.max_flow(source, sink)
    nodes = {k: u for u, k in ids.items()}
    before = before_v | sum(1 << nodes[k] for k in flow.reachable(source) if k in nodes)
    return always + cut + m.alloc_bytes[v] - overwritten, before


class _Flow:
    """Dinic's max-flow over integer capacities, for the few hundred vertices of one cut."""

    def __init__(self, vertices: int) -> None:
        self.to: list[int] = []
        self.cap: list[int] = []
        self.out: list[list[int]] = [[] for _ in range(vertices)]

    def edge(self, a: int, b: int, capacity: int) -> None:
        self.out[a].append(len(self.to))
        self.to.append(b)
        self.cap.append(capacity)
        self.out[b].append(len(self.to))
        self.to.append(a)
        self.cap.append(0)

    def max_flow(self, s: int, t: int) -> int:
        total = 0
        while True:
            level = [-1] * len(self.out)
            level[s] = 0
            queue = [s]
            for a in queue:
                for e in self.out[a]:
                    if self.cap[e] and level[self.to[e]] < 0:
                        level[self.to[e]] = level[a] + 1
                        queue.append(self.to[e])
            if level[t] < 0:
                return total
            nxt = [0] * len(self.out)
            while True:
                pushed = self._push(s, t, level, nxt)
                if not pushed:
                    break
                total += pushed

    def reachable(self, s: int) -> list[int]:
        """The vertices the residual graph reaches from s: after max_flow, the source side of a minimum cut."""
        seen = [False] * len(self.out)
        seen[s] = True
        queue = [s]
        for a in queue:
            for e in self.out[a]:
                if self.cap[e] and not seen[self.to[e]]:
                    seen[self.to[e]] = True
                    queue.append(self.to[e])
        return queue

    def _push(self, s: int, t: int, level: list[int], nxt: list[int]) -> int:
        """One augmenting path along the level graph (iterative DFS), its bottleneck pushed."""
        path: list[int] = []
        a = s
        while a != t:
            edges = self.out[a]
            while nxt[a] < len(edges):
                e = edges[nxt[a]]
                if self.cap[e] and level[self.to[e]] == level[a] + 1:
                    break
                nxt[a] += 1
            else:
                if not path:
                    return 0
                level[a] = -1  # a dead end: never again in this phase
                e = path.pop()
                a = self.to[e ^ 1]
                nxt[a] += 1
                continue
            path.append(e)
            a = self.to[e]
        pushed = min(self.cap[e] for e in path)
        for e in path:
            self.cap[e] -= pushed
            self.cap[e ^ 1] += pushed
        return pushed
