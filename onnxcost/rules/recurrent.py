"""Recurrent layers: the gate matmuls over the whole sequence, both directions."""

from __future__ import annotations

from ..registry import NodeView, Work, rule

#: gates per op, and FLOPs per hidden unit per step outside the matmuls
#: (bias adds, gate activations, and the state update), by the ONNX equations of each op.
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_POINTWISE = {
    "LSTM": 4 * 2 + 3 * 4 + 2 * 5 + 4,  # 2 bias adds per gate, 3 sigmoids, 2 tanh, 3 muls + 1 add
    "GRU": 3 * 2 + 2 * 4 + 5 + 5,  # 2 bias adds per gate, 2 sigmoids, 1 tanh, r·h, (1-z)·h~ + z·h
    "RNN": 2 + 5,  # 2 bias adds, tanh
}


@rule("LSTM", "GRU", "RNN")
def recurrent(node: NodeView) -> Work:
    """seq·dirs·batch·gates·H·(I+H) MACs: per step each gate multiplies x (I) and h (H) into H units."""
    x = node.input_shape(0)
    w = node.input_shape(1)  # [dirs, gates·H, I]
    hidden = int(node.attr("hidden_size") or w[1] // _GATES[node.op_type])
    seq, batch = (x[1], x[0]) if node.attr("layout", 0) else (x[0], x[1])
    dirs, inp = w[0], w[2]
    steps = seq * dirs * batch
    macs = steps * _GATES[node.op_type] * hidden * (inp + hidden)
    return Work(macs, 2 * macs + steps * hidden * _POINTWISE[node.op_type])
