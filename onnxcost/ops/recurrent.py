"""Recurrent layers: the gate matmuls over the whole sequence, both directions."""

from __future__ import annotations

from .core import DEFAULT, FLOAT, FLOATS, INT, MS, STRING, STRINGS, Cost, NodeView, OpDef, Spec, Traits

FAMILY = "recurrent"
RECURRENT = Traits(contraction=True, recurrent=True)

#: gates per op, and FLOPs per hidden unit per step outside the matmuls
#: (bias adds, gate activations, and the state update), by the ONNX equations of each op.
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
POINTWISE = {
    "LSTM": 4 * 2 + 3 * 4 + 2 * 5 + 4,  # 2 bias adds per gate, 3 sigmoids, 2 tanh, 3 muls + 1 add
    "GRU": 3 * 2 + 2 * 4 + 5 + 5,  # 2 bias adds per gate, 2 sigmoids, 1 tanh, r·h, (1-z)·h~ + z·h
    "RNN": 2 + 5,  # 2 bias adds, tanh
}


def recurrent_shape(n: NodeView) -> list[Spec]:
    x = n.input_shape(0)
    hidden = int(n.attr("hidden_size") or n.input_shape(2)[-1])
    dirs = 2 if n.attr("direction", "forward") == "bidirectional" else 1
    if len(x) != 3:
        raise n.fail(f"input of rank {len(x)} (needs [seq, batch, input])")
    if n.attr("layout", 0):
        batch, seq = x[0], x[1]
        y, state = (batch, seq, dirs, hidden), (batch, dirs, hidden)
    else:
        seq, batch = x[0], x[1]
        y, state = (seq, dirs, batch, hidden), (dirs, batch, hidden)
    return [(y, n.dtype(0)), (state, n.dtype(0)), (state, n.dtype(0))]


def recurrent_cost(n: NodeView, gates: int | None = None, pointwise: int | None = None) -> Cost:
    """seq·dirs·batch·gates·H·(I+H) MACs: per step each gate multiplies x (I) and h (H) into H units."""
    gates = GATES[n.op_type] if gates is None else gates
    x = n.input_shape(0)
    w = n.input_shape(1)  # [dirs, gates·H, I]
    hidden = int(n.attr("hidden_size") or w[1] // gates)
    seq, batch = (x[1], x[0]) if n.attr("layout", 0) else (x[0], x[1])
    dirs, inp = w[0], w[2]
    steps = seq * dirs * batch
    macs = steps * gates * hidden * (inp + hidden)
    return Cost(macs, 2 * macs + steps * hidden * (POINTWISE[n.op_type] if pointwise is None else pointwise))


def _attn_lstm_cost(n: NodeView) -> Cost:
    """An LSTM whose input is x joined with the last attention (W [dirs, 4H, I + aw]), plus per step a Bahdanau
    attention over the memory M [B, T_m, D_m]: the query projection (H·A), scores (T_m·A MACs with an add and a
    tanh each), a softmax over T_m, the context (T_m·D_m) and the attention layer ((D_m + H)·aw); the memory's
    projection (B·T_m·D_m·A) once per direction."""
    lstm = recurrent_cost(n, gates=4, pointwise=POINTWISE["LSTM"])
    x, memory = n.input_shape(0), n.input_shape(11)
    hidden, attn = n.input_shape(2)[-1], n.input_shape(8)[-1]
    dirs = n.input_shape(1)[0]
    steps = x[0] * dirs * x[1]
    slots, depth = memory[1], memory[2]
    layer = n.input_shape(13)[-1] if n.has_input(13) else 0
    per_step = hidden * attn + slots * attn + slots * depth + (depth + hidden) * layer
    macs = steps * per_step + dirs * memory[0] * slots * depth * attn
    return Cost(lstm.macs + macs, lstm.flops + 2 * macs + steps * slots * (6 * attn + 5))


OPS: list[OpDef] = [
    *(OpDef(op, DEFAULT, FAMILY, shape=recurrent_shape, cost=recurrent_cost, traits=RECURRENT) for op in GATES),
    OpDef("AttnLSTM", MS, FAMILY, shape=recurrent_shape, cost=_attn_lstm_cost, traits=RECURRENT,
          attr_types={"direction": STRING, "hidden_size": INT, "input_forget": INT, "clip": FLOAT,
                      "activation_alpha": FLOATS, "activation_beta": FLOATS, "activations": STRINGS}),
]
