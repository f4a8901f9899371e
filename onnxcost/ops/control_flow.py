"""Control flow: ops whose work is a subgraph. The shape rules analyse the subgraphs (the branch a known
condition takes, or both; a Loop or Scan body); the cost rules count what those analyses cost: the branch
taken (the larger, as a bound, when data decides; piecewise when dims decide), a Loop's body times a known
trip count, a Scan's body times the sequence length."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

import numpy as np

from ..base import dtypes, symbolic
from ..base.proto import GraphProto, NodeProto
from .core import DEFAULT, Cost, NodeView, OpDef, Spec, Traits, UnknownShape

FAMILY = "control_flow"
CONTROL = Traits(control=True)



def _if_shape(n: NodeView) -> list[Spec]:
    """The taken branch's outputs when the condition is known; else both branches', where they agree, or
    piecewise in the dims the condition compares."""
    cond = n.value(0)
    keys = ["then_branch", "else_branch"]
    if cond is not None and cond.size == 1 and not symbolic.any_symbolic(cond):
        keys = [keys[0] if bool(cond.reshape(-1)[0]) else keys[1]]
    branches = [n.attrs.get(k) for k in keys]
    if not all(isinstance(b, GraphProto) for b in branches):
        raise n.fail("attribute then_branch or else_branch is missing or not a graph")
    outs = [n.subgraph_of(b) for b in branches]
    if any(o is None or len(o) != n.n_out for o in outs):
        raise UnknownShape(f"the branches of If '{n.name}'")
    first = outs[0]
    assert first is not None
    if len(outs) == 1:
        if any(s is None for s, _ in first):
            raise UnknownShape(f"an output of If '{n.name}'")
        return list(first)
    other = outs[1]
    assert other is not None
    # A condition on dims (a sympy relation) picks each differing dim piecewise; any other picks nothing.
    relation = cond.reshape(-1)[0] if cond is not None and cond.size == 1 else None
    specs: list[Spec] = []
    for (s1, t1), (s2, t2) in zip(first, other, strict=True):
        if s1 is None or s2 is None or t1 != t2 or len(s1) != len(s2):
            raise UnknownShape(f"the branches of If '{n.name}' differ")
        if any(symbolic.equal(a, b) is not True for a, b in zip(s1, s2, strict=True)):
            if relation is None:
                raise UnknownShape(f"the branches of If '{n.name}' differ")
            s1 = tuple(symbolic.piecewise(relation, a, b) for a, b in zip(s1, s2, strict=True))
        specs.append((s1, t1))
    return specs


def _scan_length(n: NodeView, n_scan: int, n_state: int) -> Any:
    """The length of a Scan's sequence: every scan input's extent along its scan axis (they must agree)."""
    in_axes = list(n.attr("scan_input_axes", [0] * n_scan))
    length = None
    for j in range(n_scan):
        shape = n.input_shape(n_state + j)
        axis = in_axes[j] if j < len(in_axes) else 0
        if not -len(shape) <= axis < len(shape):
            raise n.fail(f"scan input {j} of rank {len(shape)} has no axis {axis}")
        if length is None:
            length = shape[axis]
        else:
            n.require_equal(shape[axis], length, "scan inputs have different lengths")
    return length


def _scan_shape(n: NodeView) -> list[Spec]:
    """Scan (opset 9+): the final state variables, and each scan output stacked over the L iterations (L the
    scan inputs' length along their scan axis) at its scan_output_axes."""
    body = n.attrs.get("body")
    if n.opset < 9 or not isinstance(body, GraphProto):
        raise UnknownShape("Scan before opset 9 (batched, with sequence_lens)")
    n_scan = int(n.attr("num_scan_inputs", 0))
    ins = [(n.input_shape(i), n.dtype(i)) for i in range(len(n.present))]
    n_state = len(ins) - n_scan
    if n_scan < 1 or n_state < 0 or len(body.input) != len(ins):
        raise n.fail(f"num_scan_inputs={n_scan} does not fit its {len(ins)} inputs")
    in_axes = list(n.attr("scan_input_axes", [0] * n_scan))
    length = _scan_length(n, n_scan, n_state)
    given: list[tuple[tuple[Any, ...], int]] = [(tuple(s), t) for s, t in ins[:n_state]]
    for j, (shape, dtype) in enumerate(ins[n_state:]):
        axis = (in_axes[j] if j < len(in_axes) else 0) % len(shape)
        given.append((tuple(shape[:axis]) + tuple(shape[axis + 1:]), dtype))
    outs = n.subgraph_of(body, given)
    if outs is None or len(outs) != n.n_out or any(s is None for s, _ in outs):
        raise UnknownShape(f"the body of Scan '{n.name}'")
    out_axes = list(n.attr("scan_output_axes", [0] * (n.n_out - n_state)))
    specs: list[Spec] = list(outs[:n_state])
    for j, (per_step, dtype) in enumerate(outs[n_state:]):
        assert per_step is not None and length is not None
        axis = out_axes[j] if j < len(out_axes) else 0
        axis = axis + len(per_step) + 1 if axis < 0 else axis
        if not 0 <= axis <= len(per_step):
            raise n.fail(f"scan output {j} of rank {len(per_step)} has no axis {out_axes[j]}")
        specs.append((tuple(per_step[:axis]) + (length,) + tuple(per_step[axis:]), dtype))
    return specs


def scalar(v: np.ndarray | None) -> Any:
    """An input's one value: a number, a string, a sympy relation of dims (an open condition), or None."""
    if v is None or v.size != 1:
        return None
    x = v.reshape(-1)[0]
    return x.item() if isinstance(x, np.generic) else x  # a numpy scalar, or an object: a string, a relation


def _producers(body: GraphProto) -> dict[str, NodeProto]:
    """Each tensor a body's nodes make, and the node that makes it."""
    return {o: x for x in body.node for o in x.output}


def cond_always_true(n: NodeView, body: GraphProto) -> bool:
    """The body's condition output is True on every iteration, as analysed (a Constant, or an outer constant
    through an Identity, as exporters write a plain for-loop), or is the condition input passed through."""
    if not body.output:
        return False
    cond = scalar(n.subgraph_value("body", body.output[0].name))
    if cond is not None and not symbolic.is_symbolic(cond):
        return bool(cond)
    name, producers = body.output[0].name, _producers(body)
    for _ in range(len(body.node)):  # at most one step per node, even in a (broken) cyclic body
        if name not in producers or producers[name].op_type != "Identity" or not producers[name].input:
            break
        name = producers[name].input[0]
    return any(name == b.name for b in body.input[1:2])


#: Exporters write a while-loop (or a for-loop with a break) as a Loop with M = INT64_MAX or INT32_MAX: no count.
_NO_COUNT = 2**31 - 1


def _given_trips(n: NodeView) -> Any:
    """A Loop's trip count M, its most iterations whatever its condition does: a number, or a formula of dims
    (`range(x.size(0))`); None without one, or with an exporter's stand-in for none (INT64_MAX). A trip count
    that is no count is the model's error."""
    trips = scalar(n.value(0))
    if trips is None:
        return None
    if symbolic.is_symbolic(trips):
        return trips if trips.is_integer is not False and trips.is_negative is not True else None
    if isinstance(trips, bool) or not isinstance(trips, int) or trips < 0:
        raise n.fail(f"trip count {trips!r} is not a non-negative integer")
    return None if trips >= _NO_COUNT else trips


def _counter_limit(n: NodeView, body: GraphProto) -> Any:
    """The most iterations a body's condition allows when one of its conjuncts is `counter + 1 < L`, with the
    counter the iteration number or a carried state that starts at a known value and hands `counter + 1` on
    (how TorchScript writes `for k in range(L)` with a `break`): L - start. None when no such conjunct exists
    or L is not known."""
    producers = _producers(body)
    names = [b.name for b in body.input]
    state_out = {names[2 + j]: body.output[1 + j].name for j in range(min(len(names) - 2, len(body.output) - 1))}
    pending, seen, limits = [body.output[0].name], 0, []
    while pending and seen < len(body.node):  # walk the And tree, one step per node at most
        seen += 1
        node = producers.get(pending.pop())
        if node is None or len(node.input) != 2:
            continue
        if node.op_type == "And":
            pending += list(node.input)
            continue
        x, bound = {"Less": node.input, "Greater": node.input[::-1]}.get(node.op_type, (None, None))
        add = producers.get(x or "")
        if add is None or add.op_type != "Add":
            continue
        one = [k for k, i in enumerate(add.input) if scalar(n.subgraph_value("body", i)) == 1]
        counter = add.input[1 - one[0]] if one else None
        if counter == names[0]:
            start: Any = 0
        elif counter in state_out and state_out[counter] == x:
            start = scalar(n.value(names.index(counter)))  # the Loop's input k feeds body input k
        else:
            continue
        limit = scalar(n.subgraph_value("body", bound))
        if isinstance(start, int) and limit is not None and not isinstance(limit, (bool, str, float)):
            limits.append(symbolic.smax(limit - start, 0) if symbolic.is_symbolic(limit) else max(limit - start, 0))
    return functools.reduce(_least, limits) if limits else None


def _least(a: Any, b: Any) -> Any:
    return symbolic.smin(a, b) if symbolic.is_symbolic(a) or symbolic.is_symbolic(b) else min(a, b)


def max_trips(n: NodeView) -> Any:
    """A Loop's most iterations, whatever its condition does: its trip count M, or fewer where the condition
    ends the loop on a counter (`_counter_limit`); None when neither is known."""
    given, limit = _given_trips(n), _counter_limit(n, loop_body(n))
    if limit is None or given is None:
        return given if limit is None else limit
    return _least(given, limit)


def trip_count(n: NodeView, body: GraphProto) -> Any:
    """A Loop's iterations when they are known: a constant trip count, and a condition that is True going in
    and stays True (no data-dependent exit)."""
    trips = max_trips(n)
    if trips is None or (n.has_input(1) and scalar(n.value(1)) is not True) or not cond_always_true(n, body):
        return None
    return trips


def loop_body(n: NodeView) -> GraphProto:
    body = n.attrs.get("body")
    if not isinstance(body, GraphProto):
        raise n.fail("attribute body is missing or not a graph")
    if len(body.input) < 2 or not body.output:
        raise n.fail("its body needs an iteration count and a condition input and a condition output")
    return body


def loop_given(n: NodeView) -> list[tuple[Any, int]]:
    """The (shape, dtype) of a Loop body's inputs: the iteration number, the condition, the carried state."""
    return [((), dtypes.INT64), ((), dtypes.BOOL)] + [(n.input_shape(i), n.dtype(i)) for i in range(2, len(n.present))]


def iteration(n: NodeView) -> Any:
    """The symbol of a Loop's iteration number (0 on the first), in which a body whose carried state grows has
    its shapes and costs."""
    return symbolic.counter(f"{n.name}:iteration")


def _growth(n: NodeView, body: GraphProto, given: list[tuple[Any, int]],
            outs: list[tuple[Any, int]]) -> list[tuple[Any, int]] | None:
    """The carried state's shapes at iteration i, when each dim that changes grows by the same positive
    amount every iteration (a sequence extended by a row each step): found by running the body once on a
    free dim s in its place and requiring s + k out, with k free of s. None when the state is no such
    progression (its shapes depend on the run), or when it keeps its shape (no growth)."""
    state = [((0, *out[1:]) if shape == (0,) and out is not None and len(out) > 1 and symbolic.equal(
        out[0], 1) is True else shape, dtype) for (shape, dtype), (out, _) in zip(given[2:], outs[1:], strict=False)]
    # (an empty sequence, whose elements get their shape from the first one appended)
    changed: dict[tuple[int, int], Any] = {}
    tag = re.sub(r"\W", "_", n.name)  # a dim name must be an identifier to pass into the body as itself
    for j, ((shape, dtype), (out, out_dtype)) in enumerate(zip(state, outs[1:1 + len(state)], strict=True)):
        if out is None or out_dtype != dtype or len(out) != len(shape):
            return None
        changed.update({(j, a): symbolic.symbol(f"{symbolic.PLACEHOLDER}{tag}_state{j}_{a}")
                        for a, (d, o) in enumerate(zip(shape, out, strict=True)) if symbolic.equal(d, o) is not True})
    if not changed:
        return None
    free = [(tuple(changed.get((j, a), d) for a, d in enumerate(shape)), dtype)
            for j, (shape, dtype) in enumerate(state)]
    probe = n.subgraph_of(body, given[:2] + free)
    if probe is None:
        return None
    steps: dict[tuple[int, int], Any] = {}
    for (j, a), s in changed.items():
        out = probe[1 + j][0]
        if out is None or len(out) <= a:
            return None
        step = symbolic.normal((out[a] - s).expand()) if symbolic.is_symbolic(out[a]) else out[a] - s
        if symbolic.is_symbolic(step) and (step.free_symbols & set(changed.values())):
            return None
        if symbolic.truth(step > 0) is not True:
            return None
        steps[(j, a)] = step
    i = iteration(n)
    return [(tuple(d + steps[(j, a)] * i if (j, a) in steps else d for a, d in enumerate(shape)), dtype)
            for j, (shape, dtype) in enumerate(state)]


def _grows(shape: tuple[Any, ...], i: Any) -> bool:
    """A shape in the iteration number: it differs from one iteration to the next."""
    return any(i in getattr(d, "free_symbols", ()) for d in shape)


def _loop_shape(n: NodeView) -> list[Spec]:
    """The carried state when the body keeps its shape (a fixed point) or grows by a fixed step per iteration
    (its size after the trip count), and each scan output stacked over the iterations when their number is
    known. When the trip count is run-time data, a state may also take its shape in the first iteration and
    follow these rules from there (a broadcast of inputs whose dims are named apart, a state the body reshapes):
    valid when the loop runs at least once, and said so."""
    body = loop_body(n)
    given = loop_given(n)
    outs = n.subgraph_of(body, given)
    n_carried = len(given) - 2
    if outs is None or len(outs) != 1 + n.n_out or n.n_out < n_carried:
        raise UnknownShape(f"the body of Loop '{n.name}'")
    trips = trip_count(n, body)
    try:
        return _loop_specs(n, body, given, outs, trips)
    except UnknownShape:
        first = outs[1:1 + n_carried]
        if max_trips(n) is not None or any(out is None or out_dtype != dtype for (out, out_dtype), (_, dtype)
                                           in zip(first, given[2:], strict=True)):
            raise
    # The trip count is run-time data, so a growing state's size and every scan output are unknown anyway:
    # from the second iteration on, the loop is one whose state starts as the first iteration left it.
    later = given[:2] + list(first)
    again = n.subgraph_of(body, later)
    if again is None or len(again) != 1 + n.n_out:
        raise UnknownShape(f"the body of Loop '{n.name}'")
    specs = _loop_specs(n, body, later, again, None)
    if any(shape is not None for shape, _ in specs):
        n.conditions.append(f"Loop '{n.name}' runs at least once")
    return specs


def _loop_specs(n: NodeView, body: GraphProto, given: list[tuple[Any, int]], outs: list[tuple[Any, int]],
                trips: Any) -> list[Spec]:
    """The Loop's outputs when its state, starting at `given`, keeps its shape or grows by a fixed step."""
    n_carried = len(given) - 2
    grown = _growth(n, body, given, outs)
    if grown is not None:  # the body analysed again at iteration i: its costs are in i, summed by the cost rule
        at_i = n.subgraph_of(body, given[:2] + grown)
        if at_i is None:
            raise UnknownShape(f"the body of Loop '{n.name}'")
        outs = at_i
    i = iteration(n) if grown is not None else None  # a state of fixed shape needs no iteration symbol (sympy)
    specs: list[Spec] = []
    for (shape, dtype), (out, out_dtype) in zip(grown or given[2:], outs[1:1 + n_carried], strict=True):
        # the state the body must hand on
        after = shape if i is None else tuple(symbolic.substitute(d, {i: i + 1}) for d in shape)
        if out is None or out_dtype != dtype or len(out) != len(shape) or any(
                symbolic.equal(a, b) is not True for a, b in zip(after, out, strict=True)):
            raise UnknownShape(f"the state Loop '{n.name}' carries, which changes shape between iterations")
        growing = i is not None and _grows(shape, i)
        if growing and trips is None:
            specs.append((None, dtype))  # its size is the number of iterations, which is run-time data
        else:
            specs.append((tuple(symbolic.substitute(d, {i: trips}) for d in shape) if growing else shape, dtype))
    scans = outs[1 + n_carried:]
    # a scan output's length is the number of iterations: unknown when an exit or the count is run-time data,
    # and a slice that grows with the iterations stacks into no tensor (ragged)
    # (with no iteration at all onnxruntime gives each an empty 1-D tensor: no slice was ever made)
    for shape, dtype in scans:
        if trips is None or shape is None or (i is not None and _grows(shape, i)):
            specs.append((None, dtype))
        else:
            specs.append(((0,) if trips == 0 else (trips, *shape), dtype))
    return specs


def _if_cost(n: NodeView) -> Cost:
    """The branch the condition takes; with a condition on dims, each total piecewise; with a condition that
    is run-time data, the larger branch, as an upper bound (the Max of the two where dims decide which)."""
    cond = scalar(n.value(0))
    if cond is not None and not symbolic.is_symbolic(cond):
        taken = "then" if cond else "else"
        work = n.subgraph_cost(f"{taken}_branch")
        if work is None:
            raise UnknownShape(f"the cost of the {taken} branch")
        return Cost(work.macs, work.flops, work.upper_bound, taken, work.inner)
    then, other = n.subgraph_cost("then_branch"), n.subgraph_cost("else_branch")
    if then is None or other is None:
        raise UnknownShape("the cost of a branch")
    if symbolic.is_symbolic(cond):  # a relation of unbound dims (batch == 1)
        return Cost(symbolic.piecewise(cond, then.macs, other.macs), symbolic.piecewise(cond, then.flops, other.flops),
                    then.upper_bound or other.upper_bound, "piecewise", then.inner + other.inner)
    larger = then if symbolic.truth(then.flops >= other.flops) is not False else other
    return Cost(symbolic.smax(then.macs, other.macs), symbolic.smax(then.flops, other.flops), True, "max",
                larger.inner, "its condition is run-time data; the larger branch is counted, so the totals are an "
                "upper bound")


def _summed(n: NodeView, count: Any, work: Cost) -> Cost | None:
    """The body's cost over `count` iterations: times the count, or, where the carried state grows, the sum of
    each iteration's cost (a formula in the iteration number); None when that sum has no exact form."""
    per_run = [work.macs, work.flops, *(v for x in work.inner for v in (x.macs, x.flops))]
    i = iteration(n) if any(symbolic.is_symbolic(v) for v in per_run) else None  # else: count x one run, no sympy
    macs, flops = symbolic.sum_over(work.macs, i, count), symbolic.sum_over(work.flops, i, count)
    if macs is None or flops is None:
        return None
    inner = []
    for x in work.inner:
        m, f = symbolic.sum_over(x.macs, i, count), symbolic.sum_over(x.flops, i, count)
        if m is None or f is None:
            return None
        inner.append(replace(x, macs=m, flops=f))
    return Cost(macs, flops, work.upper_bound, None, tuple(inner))


def _loop_cost(n: NodeView) -> Cost:
    """The body over the trip count, when that is known and nothing in the body exits early; with a
    condition that may end it sooner, all M iterations as an upper bound, and the bound said. Unknown when the
    shape rule found no fixed point or growth for the carried state (the body's cost would be one run's)."""
    body = loop_body(n)
    trips, most = trip_count(n, body), max_trips(n)
    n_state = len(n.present) - 2
    work = n.subgraph_cost("body") if most is not None else None
    if n_state > 0 and all(s is None for s in n.output_shapes[:n_state]):
        raise UnknownShape("the carried state's shape, which changes between iterations")
    total = _summed(n, trips if trips is not None else most, work) if work is not None and most is not None else None
    if total is None:
        raise UnknownShape("the number of iterations or the cost of the body")
    if trips is not None:
        return total
    most_text = f"M = {most}" if most == _given_trips(n) else f"{most}, where a counter in its condition ends it,"
    return Cost(total.macs, total.flops, True, None, total.inner,
                f"its condition may end the loop before its trip count: the cost of all {most_text} iterations "
                "is counted, an upper bound")


def _scan_cost(n: NodeView) -> Cost:
    """The body times the sequence length."""
    n_scan = int(n.attr("num_scan_inputs", 0))
    work = n.subgraph_cost("body")
    if work is None or n.opset < 9:
        raise UnknownShape("the cost of the body")
    length = _scan_length(n, n_scan, len(n.present) - n_scan)
    return Cost(length * work.macs, length * work.flops, work.upper_bound, None, work.inner)


OPS: list[OpDef] = [
    OpDef("If", DEFAULT, FAMILY, shape=_if_shape, cost=_if_cost, traits=CONTROL,
          note="the branch taken; both (the larger) when data decides"),
    OpDef("Loop", DEFAULT, FAMILY, shape=_loop_shape, cost=_loop_cost, traits=CONTROL,
          note="body × trip count when the count is known"),
    OpDef("Scan", DEFAULT, FAMILY, shape=_scan_shape, cost=_scan_cost, traits=CONTROL, note="body × sequence length"),
    OpDef("SequenceMap", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length (not yet costed)"),
]
