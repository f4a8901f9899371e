"""Memory stage, part 1: the liveness model of activations and its simulation under a schedule.

Activations live in buffers. Without in-place reuse every non-constant tensor is its own buffer: a graph
input is live from the start until its last consumer has run, a node output from its producer until its
last consumer has run, graph outputs until the end; constants are excluded (they are `param_bytes`).
With `inplace`, view ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout) alias their input's
buffer, and an element-wise unary op overwrites its input when it is that buffer's last reader, as
frameworks do (seed 003's AlexNet: peak #activations = input + conv1 output).

The live set after running a *set* of nodes does not depend on their order; the scheduler relies on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import ops
from ..shapes.graph import Graph, NodeInfo


@dataclass
class Buffer:
    """One allocation: a tensor, plus (in-place model) the views aliasing it."""

    tensors: list[str]
    nbytes: int
    elements: int
    producer: int | None  # index into MemoryModel.nodes; None for a graph input
    consumers: int = 0  # bitmask over MemoryModel.nodes of every reader of any of its tensors
    pinned: bool = False  # holds a graph output: live until the end


@dataclass
class MemoryModel:
    """Buffers and, per schedulable node, what it allocates, reads and may overwrite in place."""

    graph: Graph
    inplace: bool
    nodes: list[NodeInfo] = field(default_factory=list)  # schedulable: non-folded, in graph order
    buffers: list[Buffer] = field(default_factory=list)
    deps: list[int] = field(default_factory=list)  # bitmask of predecessor nodes
    allocs: list[list[int]] = field(default_factory=list)  # buffers each node creates
    reads: list[list[int]] = field(default_factory=list)  # buffers each node reads (distinct)
    reuse: list[int | None] = field(default_factory=list)  # buffer a unary node may overwrite
    alloc_bytes: list[int] = field(default_factory=list)  # bytes of the buffers each node creates
    buffer_of: dict[str, int] = field(default_factory=dict)

    @property
    def initial_bytes(self) -> int:
        """Bytes live before any node runs: graph inputs that are read or are graph outputs."""
        return sum(b.nbytes for b in self.buffers if b.producer is None and (b.consumers or b.pinned))


def build_model(graph: Graph, inplace: bool = False) -> MemoryModel | None:
    """The buffer model of `graph`; None when some activation's size is unknown."""
    m = MemoryModel(graph, inplace)
    m.nodes = [n for n in graph.nodes if not n.folded]
    index = {n.name: i for i, n in enumerate(m.nodes)}
    outputs = set(graph.outputs)

    def new_buffer(tensor: str, producer: int | None) -> bool:
        t = graph.tensors.get(tensor)
        if t is None or t.nbytes is None or t.elements is None:
            return False
        m.buffer_of[tensor] = len(m.buffers)
        m.buffers.append(Buffer([tensor], t.nbytes, t.elements, producer))
        return True

    for name in graph.inputs:
        if not new_buffer(name, None):
            return None
    for i, node in enumerate(m.nodes):
        reads = sorted({m.buffer_of[t] for t in node.inputs if t in m.buffer_of})
        m.reads.append(reads)
        deps = 0
        for t in node.inputs:
            producer = graph.producers.get(t)
            if producer is not None and producer in index:
                deps |= 1 << index[producer]
        m.deps.append(deps)
        allocs: list[int] = []
        data = node.inputs[0] if node.inputs else ""
        traits = ops.traits(node.domain, node.op_type, graph.opsets.get(node.domain))
        for k, out in enumerate(node.outputs):
            if not out:
                continue
            if inplace and k == 0 and traits.view and data in m.buffer_of:
                b = m.buffer_of[data]
                m.buffer_of[out] = b
                m.buffers[b].tensors.append(out)
                continue
            if not new_buffer(out, i):
                return None
            allocs.append(m.buffer_of[out])
        m.allocs.append(allocs)
        candidate = None
        if inplace and traits.inplace and data in m.buffer_of and allocs:
            b = m.buffer_of[data]
            if m.buffers[b].producer is not None and m.buffers[b].nbytes == m.buffers[allocs[0]].nbytes:
                candidate = b
        m.reuse.append(candidate)
    for i, reads in enumerate(m.reads):
        for k in reads:
            m.buffers[k].consumers |= 1 << i
    for buf in m.buffers:
        buf.pinned = any(t in outputs for t in buf.tensors)
    m.alloc_bytes = [sum(m.buffers[b].nbytes for b in allocs) for allocs in m.allocs]
    return m


def step(m: MemoryModel, done: int, i: int) -> tuple[int, int, bool]:
    """Run node i after the set `done`: (bytes allocated during the step, bytes freed after it, reused?)."""
    after = done | (1 << i)
    reused = False
    alloc = m.alloc_bytes[i]
    r = m.reuse[i]
    if r is not None and not m.buffers[r].pinned and not m.buffers[r].consumers & ~after:
        reused = True
        alloc -= m.buffers[r].nbytes
    freed = 0
    for b in m.reads[i]:
        buf = m.buffers[b]
        if not buf.pinned and not buf.consumers & ~after:
            freed += buf.nbytes
    for b in m.allocs[i]:
        buf = m.buffers[b]
        if not buf.pinned and not buf.consumers:
            freed += buf.nbytes  # an output nobody reads dies right after its step
    return alloc, freed, reused


StepTables = tuple[dict[int, tuple[tuple[int, int], ...]], dict[int, int], dict[int, tuple[int, int] | None]]


def step_tables(m: MemoryModel, nodes: list[int]) -> StepTables:
    """What `step` reads, per node, for a search that calls it millions of times: the buffers it may free as
    (readers, bytes), the bytes of its outputs nobody reads, and the buffer it may overwrite in place as
    (readers, bytes). Node i after `done` frees a buffer when its readers & ~(done | 1 << i) is empty."""
    frees: dict[int, tuple[tuple[int, int], ...]] = {}
    dead: dict[int, int] = {}
    overwrite: dict[int, tuple[int, int] | None] = {}
    bufs = m.buffers
    for i in nodes:
        frees[i] = tuple((bufs[b].consumers, bufs[b].nbytes) for b in m.reads[i] if not bufs[b].pinned)
        dead[i] = sum(bufs[b].nbytes for b in m.allocs[i] if not bufs[b].pinned and not bufs[b].consumers)
        r = m.reuse[i]
        overwrite[i] = None if r is None or bufs[r].pinned else (bufs[r].consumers, bufs[r].nbytes)
    return frees, dead, overwrite


@dataclass(frozen=True)
class Timeline:
    """Memory while running one schedule of MemoryModel.nodes."""

    order: tuple[int, ...]
    step_bytes: tuple[int, ...]  # live bytes during each step
    step_elements: tuple[int, ...]
    peak_bytes: int
    peak_elements: int
    peak_step: int
    peak_live: tuple[str, ...]  # base tensor of each buffer live at the peak, largest first
    lifetimes: tuple[tuple[int, int, int, int], ...]  # physical buffers: (start, end, nbytes, elements)
    buffer_names: tuple[str, ...]  # the first tensor held by each physical buffer, as in lifetimes

    @property
    def total_bytes(self) -> int:
        return sum(lt[2] for lt in self.lifetimes)

    @property
    def total_elements(self) -> int:
        return sum(lt[3] for lt in self.lifetimes)


def simulate(m: MemoryModel, order: list[int]) -> Timeline:
    """Live bytes and elements at every step of `order`, the peak and what is live there. Incremental: only
    the buffers node i reads or writes can start or end at its step, so a step costs its own degree."""
    n = len(m.buffers)
    start = [0 if b.producer is None else -1 for b in m.buffers]
    end = [-1] * n
    phys = list(range(n))  # in-place reuse: an output continues its input's physical buffer
    live = {b for b, buf in enumerate(m.buffers) if buf.producer is None and (buf.consumers or buf.pinned)}
    ever = set(live)
    live_bytes = sum(m.buffers[b].nbytes for b in live)
    live_elements = sum(m.buffers[b].elements for b in live)
    done = 0
    steps_b: list[int] = []
    steps_e: list[int] = []
    best: tuple[int, int, int, int | None] = (-1, 0, 0, None)  # bytes, elements, step, buffer written over
    for s, i in enumerate(order):
        _, _, reused = step(m, done, i)
        for b in m.allocs[i]:
            start[b] = s
            if b not in live:
                live.add(b)
                ever.add(b)
                live_bytes += m.buffers[b].nbytes
                live_elements += m.buffers[b].elements
        nbytes, elements = live_bytes, live_elements
        r = m.reuse[i]
        over = None
        if reused and r is not None:
            phys[m.allocs[i][0]] = phys[r]
            if r in live:  # the output is written over it
                over = r
                nbytes -= m.buffers[r].nbytes
                elements -= m.buffers[r].elements
        steps_b.append(nbytes)
        steps_e.append(elements)
        if nbytes > best[0]:
            best = (nbytes, elements, s, over)
        done |= 1 << i
        for b in {*m.reads[i], *m.allocs[i]}:
            buf = m.buffers[b]
            if b in live and not buf.pinned and not buf.consumers & ~done:
                live.discard(b)
                live_bytes -= buf.nbytes
                live_elements -= buf.elements
                end[b] = s
    peak_step = best[2]
    occupied = [b for b in ever if start[b] <= peak_step and (end[b] >= peak_step or end[b] == -1) and b != best[3]]
    occupied.sort(key=lambda k: -m.buffers[k].nbytes)
    last = len(order) - 1
    for b in live:
        end[b] = max(last, start[b])
    merged: dict[int, list[int]] = {}
    for b, buf in enumerate(m.buffers):
        if end[b] < 0 and not (buf.producer is None and (buf.consumers or buf.pinned)):
            continue
        p = phys[b]
        while phys[p] != p:
            p = phys[p]
        s0, e0 = max(start[b], 0), max(end[b], start[b], 0)
        if p in merged:
            cur = merged[p]
            cur[0], cur[1] = min(cur[0], s0), max(cur[1], e0)
            cur[2], cur[3] = max(cur[2], buf.nbytes), max(cur[3], buf.elements)
        else:
            merged[p] = [s0, e0, buf.nbytes, buf.elements]
    peak_live = tuple(m.buffers[b].tensors[0] for b in occupied)
    return Timeline(tuple(order), tuple(steps_b), tuple(steps_e), max(best[0], 0), best[1], max(best[2], 0),
                    peak_live, tuple((v[0], v[1], v[2], v[3]) for v in merged.values()),
                    tuple(m.buffers[p].tensors[0] for p in merged))
