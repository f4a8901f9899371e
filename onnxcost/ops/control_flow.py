"""Control flow: ops whose work is a subgraph. Their cost is the subgraph's, analysed by the costs stage
(`costs.control_flow_work`): If with a known condition, Loop with a known trip count, Scan over a sequence.
An If's output shapes are those of the branch its known condition takes, or of both branches when they
agree; other output shapes come from ONNX's own inference of the node with its subgraphs."""

from __future__ import annotations

from typing import Any

import onnx

from ..base import symbolic
from .core import DEFAULT, NodeView, OpDef, Spec, Traits, UnknownShape

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
    given: list[tuple[tuple[Any, ...], int]] = [(tuple(s), t) for s, t in ins[:n_state]]
    length = None
    for j, (shape, dtype) in enumerate(ins[n_state:]):
        axis = in_axes[j] if j < len(in_axes) else 0
        if not -len(shape) <= axis < len(shape):
            raise n.fail(f"scan input {j} of rank {len(shape)} has no axis {axis}")
        axis %= len(shape)
        if length is None:
            length = shape[axis]
        else:
            n.require_equal(shape[axis], length, "scan inputs have different lengths")
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


OPS: list[OpDef] = [
    OpDef("If", DEFAULT, FAMILY, shape=_if_shape, traits=CONTROL,
          note="the branch taken; both (the larger) when data decides"),
    OpDef("Loop", DEFAULT, FAMILY, traits=CONTROL, note="body × trip count when the count is known"),
    OpDef("Scan", DEFAULT, FAMILY, shape=_scan_shape, traits=CONTROL, note="body × sequence length"),
    OpDef("SequenceMap", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length (not yet costed)"),
]
