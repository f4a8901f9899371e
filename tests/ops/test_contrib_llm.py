"""com.microsoft's newer LLM blocks (onnxruntime 1.32): MACs and parameters by hand; their shapes are checked
against onnxruntime by the differential test (tests/differential.py)."""

from __future__ import annotations

import numpy as np

from tests.helpers import node_of, one_node

MS = "com.microsoft"


def test_moe_macs_are_each_tokens_k_experts() -> None:
    # 3 tokens, k=2 of 4 experts, hidden 8, intermediate 6: each token runs 2 experts of fc1 (6x8) and fc2
    # (8x6): 3 x 2 x (48 + 48) = 576 MACs; the float expert weights are 2 x 4 x 48 = 384 params
    experts, hidden, inter = 4, 8, 6
    model = one_node("MoE", {"x": [3, hidden], "r": [3, experts], "w1": np.ones((experts, inter, hidden), np.float32),
                             "": [], "w2": np.ones((experts, hidden, inter), np.float32)},
                     domain=MS, k=2, activation_type="relu")
    node = node_of(model)
    assert node.macs == 576
    assert node.params == 384


def test_qmoe_counts_the_weights_its_packed_bytes_stand_for() -> None:
    # the same experts at 4 bits: fc1 packed as uint8 [4, 6, 4] (two weights a byte) stands for 6 x 8 per
    # expert, so MACs are the float model's 576 and params its 384; scales are not parameters
    experts, hidden, inter = 4, 8, 6
    model = one_node("QMoE", {"x": [3, hidden], "r": [3, experts],
                              "w1": np.zeros((experts, inter, hidden // 2), np.uint8),
                              "s1": np.ones((experts, inter), np.float32), "": [],
                              "w2": np.zeros((experts, hidden, inter // 2), np.uint8),
                              "s2": np.ones((experts, hidden), np.float32)},
                     domain=MS, k=2, activation_type="relu", expert_weight_bits=4)
    node = node_of(model)
    assert node.macs == 576
    assert node.params == 384


def test_gated_delta_net_state_updates() -> None:
    # [B 2, S 5] tokens, 4 value heads of a [dk 4, dv 3] state, gated delta rule: per token and head, the
    # readout, k.S and the rank-1 update: 3 x 4 x 3 = 36 MACs; 2 x 5 x 4 x 36 = 1,440
    model = one_node("GatedDeltaNet", {"q": [2, 5, 2, 4], "k": [2, 5, 2, 4], "v": [2, 5, 4, 3], "": [],
                                       "d": [2, 5, 4], "b": [2, 5, 4]}, outputs=("y", "state"), domain=MS)
    node = node_of(model)
    assert node.macs == 1440
    assert node.output_shapes[:2] == [[2, 5, 4, 3], [2, 4, 3, 4]]


def test_attn_lstm_macs_by_hand() -> None:
    # seq 2, batch 1, input 3, hidden 2, memory of 4 slots x depth 5, attention 6, attention layer 7:
    # gates 2 steps x 4 x 2 x (3 + 7 + 2) = 192; per step the query projection 2x6, scores 4x6, context 4x5 and
    # layer (5 + 2)x7 = 105, twice = 210; the memory projection once: 4 x 5 x 6 = 120; 522 in all
    weights = {"w": (1, 8, 10), "r": (1, 8, 2), "qw": (1, 2, 6), "mw": (1, 5, 6), "v": (1, 6), "aw": (1, 7, 7)}
    arrays = {k: np.ones(v, np.float32) for k, v in weights.items()}
    model = one_node("AttnLSTM", {"x": [2, 1, 3], "w": arrays["w"], "r": arrays["r"], "": [], "qw": arrays["qw"],
                                  "mw": arrays["mw"], "v": arrays["v"], "m": [1, 4, 5], "aw": arrays["aw"]},
                     outputs=("y", "yh", "yc"), domain=MS, hidden_size=2)
    model.graph.node[0].input[:] = ["x", "w", "r", "", "", "", "", "", "qw", "mw", "v", "m", "", "aw"]
    node = node_of(model)
    assert node.macs == 522
    assert node.output_shapes == [[2, 1, 1, 2], [1, 1, 2], [1, 1, 2]]


def test_matmul_bnb4_counts_the_weights_it_packs() -> None:
    # A [2, 3, 32] x a 4-bit B of N=6, K=32 packed two to a byte (96 bytes): 6 rows x 32 x 6 = 1,152 MACs,
    # 192 params (absmax scales are not params)
    model = one_node("MatMulBnb4", {"a": [2, 3, 32], "b": np.zeros(96, np.uint8), "m": np.ones(12, np.float32)},
                     domain=MS, K=32, N=6, block_size=16, quant_type=1)
    node = node_of(model)
    assert node.macs == 1152
    assert node.params == 192
    assert node.output_shapes == [[2, 3, 6]]
