"""Control flow: ops whose work is a subgraph. The shape rules analyse the subgraphs (the branch a known
condition takes, or both; a Loop or Scan body); the cost rules count what those analyses cost: the branch
taken (the larger, as a bound, when data decides; piecewise when dims decide), a Loop's body times a known
trip count, a Scan's body times the sequence length."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from ..base import dtypes, symbolic
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
    if not all(isinstance(b, onnx.GraphProto) for b in branches):
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
    if n.opset < 9 or not isinstance(body, onnx.GraphProto):
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


def cond_always_true(body: onnx.GraphProto) -> bool:
    """The body's condition output is a constant True (how exporters write a plain for-loop)."""
    if not body.output:
        return False
    name = body.output[0].name
    for n in body.node:
        if name in n.output:
            if n.op_type == "Identity" and n.input:
                name = n.input[0]
                continue
            if n.op_type == "Constant" and n.attribute and n.attribute[0].type == onnx.AttributeProto.TENSOR:
                t = n.attribute[0].t
                if t.data_location == onnx.TensorProto.EXTERNAL:
                    return False
                try:
                    return bool(numpy_helper.to_array(t).reshape(-1)[0])
                except (IndexError, ValueError, TypeError):
                    return False
    return any(name == b.name for b in body.input[1:2])  # cond passed through unchanged


def max_trips(n: NodeView) -> int | None:
    """A Loop's constant trip count M, its most iterations whatever its condition does; None without one. A
    trip count that is no count is the model's error."""
    trips = scalar(n.value(0))
    if trips is None:
        return None
    if isinstance(trips, bool) or not isinstance(trips, int) or trips < 0:
        raise n.fail(f"trip count {trips!r} is not a non-negative integer")
    return trips


def trip_count(n: NodeView, body: onnx.GraphProto) -> int | None:
    """A Loop's iterations when they are known: a constant trip count, and a condition that is True going in
    and stays True (no data-dependent exit)."""
    trips = max_trips(n)
    if trips is None or (n.has_input(1) and scalar(n.value(1)) is not True) or not cond_always_true(body):
        return None
    return trips


def loop_body(n: NodeView) -> onnx.GraphProto:
    body = n.attrs.get("body")
    if not isinstance(body, onnx.GraphProto):
        raise n.fail("attribute body is missing or not a graph")
    if len(body.input) < 2 or not body.output:
        raise n.fail("its body needs an iteration count and a condition input and a condition output")
    return body


def loop_given(n: NodeView) -> list[tuple[Any, int]]:
    """The (shape, dtype) of a Loop body's inputs: the iteration number, the condition, the carried state."""
    return [((), dtypes.INT64), ((), dtypes.BOOL)] + [(n.input_shape(i), n.dtype(i)) for i in range(2, len(n.present))]


def _loop_shape(n: NodeView) -> list[Spec]:
    """The carried state when the body keeps its shape (a fixed point), and each scan output stacked over the
    iterations when their number is known."""
    body = loop_body(n)
    given = loop_given(n)
    outs = n.subgraph_of(body, given)
    n_carried = len(given) - 2
    if outs is None or len(outs) != 1 + n.n_out or n.n_out < n_carried:
        raise UnknownShape(f"the body of Loop '{n.name}'")
    specs: list[Spec] = []
    for (shape, dtype), (out, out_dtype) in zip(given[2:], outs[1:1 + n_carried], strict=True):
        if out is None or out_dtype != dtype or len(out) != len(shape) or any(
                symbolic.equal(a, b) is not True for a, b in zip(shape, out, strict=True)):
            raise UnknownShape(f"the state Loop '{n.name}' carries, which changes shape between iterations")
        specs.append((shape, dtype))
    scans = outs[1 + n_carried:]
    trips = trip_count(n, body) if scans else None
    # a scan output's length is the number of iterations: unknown when an exit or the count is run-time data
    specs += [(None if trips is None or shape is None else (trips, *shape), dtype) for shape, dtype in scans]
    return specs


def _times(count: Any, work: Cost) -> Cost:
    return Cost(count * work.macs, count * work.flops, work.upper_bound, None, work.inner)


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


def _loop_cost(n: NodeView) -> Cost:
    """The body times the trip count, when that is known and nothing in the body exits early; with a
    condition that may end it sooner, the body times the trip count M as an upper bound, and the bound said."""
    body = loop_body(n)
    trips, most = trip_count(n, body), max_trips(n)
    work = n.subgraph_cost("body") if most is not None else None
    if work is None or most is None:
        raise UnknownShape("the number of iterations or the cost of the body")
    if trips is not None:
        return _times(trips, work)
    bound = _times(most, work)
    return Cost(bound.macs, bound.flops, True, None, bound.inner,
                f"its condition may end the loop before its trip count: the cost of all M = {most} iterations "
                "is counted, an upper bound")


def _scan_cost(n: NodeView) -> Cost:
    """The body times the sequence length."""
    n_scan = int(n.attr("num_scan_inputs", 0))
    work = n.subgraph_cost("body")
    if work is None or n.opset < 9:
        raise UnknownShape("the cost of the body")
    return _times(_scan_length(n, n_scan, len(n.present) - n_scan), work)


OPS: list[OpDef] = [
    OpDef("If", DEFAULT, FAMILY, shape=_if_shape, cost=_if_cost, traits=CONTROL,
          note="the branch taken; both (the larger) when data decides"),
    OpDef("Loop", DEFAULT, FAMILY, shape=_loop_shape, cost=_loop_cost, traits=CONTROL,
          note="body × trip count when the count is known"),
    OpDef("Scan", DEFAULT, FAMILY, shape=_scan_shape, cost=_scan_cost, traits=CONTROL, note="body × sequence length"),
    OpDef("SequenceMap", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length (not yet costed)"),
]
