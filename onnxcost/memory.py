"""Memory stage: liveness of activations under a schedule, and the peak of live bytes."""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph


@dataclass(frozen=True)
class Interval:
    """A non-constant tensor's lifetime in schedule steps, inclusive at both ends."""

    tensor: str
    start: int
    end: int
    nbytes: int
    elements: int


@dataclass(frozen=True)
class Peak:
    bytes: int
    elements: int
    step: int  # schedule position at which the peak is reached
    live: tuple[str, ...]  # tensors live at that step, largest first


def activations(graph: Graph) -> list[str] | None:
    """Every non-constant tensor (graph inputs and non-folded node outputs); None if a size is unknown."""
    names = [n for n in graph.inputs]
    names += [o for node in graph.nodes if not node.folded for o in node.outputs if o]
    for n in names:
        t = graph.tensors.get(n)
        if t is None or t.nbytes is None:
            return None
    return names


def intervals(graph: Graph, schedule: list[str]) -> list[Interval] | None:
    """Lifetimes under `schedule`: inputs from the start, outputs from their producer, each until its last
    consumer has run; graph outputs until the end. None when some activation's size is unknown."""
    names = activations(graph)
    if names is None:
        return None
    step = {name: i for i, name in enumerate(schedule)}
    last = len(schedule) - 1
    outputs = set(graph.outputs)
    result = []
    for n in names:
        t = graph.tensors[n]
        start = 0 if t.kind == "input" else step[graph.producers[n]]
        uses = [step[c] for c in graph.consumers.get(n, ()) if c in step]
        end = max(uses, default=start)
        if n in outputs:
            end = max(last, start)
        result.append(Interval(n, start, end, int(t.nbytes or 0), int(t.elements or 0)))
    return result


def peak(lifetimes: list[Interval], steps: int) -> Peak:
    """The largest sum of live bytes over the schedule's steps (sweep over interval ends)."""
    delta = [0] * (steps + 2)
    delta_el = [0] * (steps + 2)
    for iv in lifetimes:
        delta[iv.start] += iv.nbytes
        delta[iv.end + 1] -= iv.nbytes
        delta_el[iv.start] += iv.elements
        delta_el[iv.end + 1] -= iv.elements
    best, best_step, cur, cur_el, best_el = 0, 0, 0, 0, 0
    for i in range(max(steps, 1)):
        cur += delta[i]
        cur_el += delta_el[i]
        if cur > best:
            best, best_step, best_el = cur, i, cur_el
    live = sorted((iv for iv in lifetimes if iv.start <= best_step <= iv.end), key=lambda iv: -iv.nbytes)
    return Peak(best, best_el, best_step, tuple(iv.tensor for iv in live))
