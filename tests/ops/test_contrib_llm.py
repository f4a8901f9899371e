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
