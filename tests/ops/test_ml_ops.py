"""ai.onnx.ml: shapes from attributes against onnxruntime, and a tree ensemble's comparisons by hand."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

import onnxcost
from onnxcost.ops.ml import longest_paths


def _forest() -> object:
    """Two regression trees over 3 features. Tree 0: root splits to a leaf (1) and a node (2) that splits to
    leaves 3 and 4: longest path 2 comparisons. Tree 1: one split, two leaves: 1 comparison."""
    tree = [0, 0, 0, 0, 0, 1, 1, 1]
    ids = [0, 1, 2, 3, 4, 0, 1, 2]
    modes = ["BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"]
    node = helper.make_node(
        "TreeEnsembleRegressor", ["X"], ["Y"], domain="ai.onnx.ml", n_targets=1,
        nodes_treeids=tree, nodes_nodeids=ids, nodes_modes=modes, nodes_featureids=[0, 0, 1, 0, 0, 2, 0, 0],
        nodes_values=[0.5, 0.0, 0.2, 0.0, 0.0, 0.1, 0.0, 0.0], nodes_truenodeids=[1, 0, 3, 0, 0, 1, 0, 0],
        nodes_falsenodeids=[2, 0, 4, 0, 0, 2, 0, 0], target_treeids=[0, 0, 0, 1, 1], target_nodeids=[1, 3, 4, 1, 2],
        target_ids=[0, 0, 0, 0, 0], target_weights=[1.0, 2.0, 3.0, 4.0, 5.0])
    graph = helper.make_graph([node], "forest", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [5, 3])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])


def test_longest_paths_by_hand() -> None:
    assert longest_paths([0, 0, 0, 0, 0], [0, 1, 2, 3, 4], ["BRANCH_LEQ", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF"],
                         [1, 0, 3, 0, 0], [2, 0, 4, 0, 0]) == [2]
    # a cycle (node 1 points back at the root) ends the walk instead of hanging
    assert longest_paths([0, 0], [0, 1], ["BRANCH_LEQ", "BRANCH_LEQ"], [1, 0], [1, 0]) == [0]


def test_tree_ensemble_cost_and_shape() -> None:
    model = _forest()
    report = onnxcost.analyze(model)  # type: ignore[arg-type]
    node = report.nodes[0]
    # 5 samples x (2 + 1 comparisons on the longest paths + 1 leaf add per tree x 1 target, 2 trees) = 25
    assert (node.macs, node.flops, node.upper_bound) == (0, 25, True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])  # type: ignore
    (y,) = sess.run(None, {"X": np.zeros((5, 3), np.float32)})
    assert node.output_shapes == [list(y.shape)] == [[5, 1]]


def test_learned_values_in_attributes_are_params() -> None:
    """The forest above holds 8 thresholds (nodes_values) and 5 leaf weights: 13 params, 52 bytes."""
    report = onnxcost.analyze(_forest())  # type: ignore[arg-type]
    assert (report.nodes[0].params, report.totals.params, report.totals.param_bytes) == (13, 13, 52)
