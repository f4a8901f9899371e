"""Control flow: ops whose work is a subgraph. Their cost is the subgraph's, analysed by the costs stage
(`costs.control_flow_work`): If with a known condition, Loop with a known trip count, Scan over a sequence.
An If's output shapes are those of the branch its known condition takes, or of both branches when they
agree; other output shapes come from ONNX's own inference of the node with its subgraphs."""

from __future__ import annotations

import onnx

from .. import symbolic
from .core import DEFAULT, NodeView, OpDef, Spec, Traits, UnknownShape

FAMILY = "control_flow"
CONTROL = Traits("control")



def _if_shape(n: NodeView) -> list[Spec]:
    """The taken branch's outputs when the condition is known; else both branches', where they agree."""
    cond = n.value(0)
    keys = ["then_branch", "else_branch"]
    if cond is not None and cond.size == 1 and not symbolic.any_symbolic(cond):
        keys = [keys[0] if bool(cond.reshape(-1)[0]) else keys[1]]
    branches = [n.attrs.get(k) for k in keys]
    if not all(isinstance(b, onnx.GraphProto) for b in branches):
        raise n.fail("attribute then_branch or else_branch is missing or not a graph")
    outs = [n.subgraph_of(b) for b in branches]  # type: ignore[arg-type]
    if any(o is None or len(o) != n.n_out for o in outs):
        raise UnknownShape(f"the branches of If '{n.name}'")
    first = outs[0]
    assert first is not None
    for other in outs[1:]:
        assert other is not None
        for (s1, t1), (s2, t2) in zip(first, other, strict=True):
            if s1 is None or s2 is None or t1 != t2 or len(s1) != len(s2) or any(
                    symbolic.equal(a, b) is not True for a, b in zip(s1, s2, strict=True)):
                raise UnknownShape(f"the branches of If '{n.name}' differ")
    if any(s is None for s, _ in first):
        raise UnknownShape(f"an output of If '{n.name}'")
    return list(first)


OPS: list[OpDef] = [
    OpDef("If", DEFAULT, FAMILY, shape=_if_shape, traits=CONTROL,
          note="the branch taken; both (the larger) when data decides"),
    OpDef("Loop", DEFAULT, FAMILY, traits=CONTROL, note="body × trip count when the count is known"),
    OpDef("Scan", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length"),
    OpDef("SequenceMap", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length (not yet costed)"),
]
