"""Control flow: ops whose work is a subgraph. Their cost is the subgraph's, analysed by the costs stage
(`costs.control_flow_work`): If with a known condition, Loop with a known trip count, Scan over a sequence.
Output shapes come from ONNX's own inference of the node with its subgraphs."""

from __future__ import annotations

from .core import DEFAULT, OpDef, Traits

FAMILY = "control_flow"
CONTROL = Traits("control")

OPS: list[OpDef] = [
    OpDef("If", DEFAULT, FAMILY, traits=CONTROL, note="the branch taken; both (the larger) when data decides"),
    OpDef("Loop", DEFAULT, FAMILY, traits=CONTROL, note="body × trip count when the count is known"),
    OpDef("Scan", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length"),
    OpDef("SequenceMap", DEFAULT, FAMILY, traits=CONTROL, note="body × sequence length (not yet costed)"),
]
