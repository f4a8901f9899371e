"""Classical ML ops (domain ai.onnx.ml), as the sklearn, xgboost and lightgbm converters emit them. Shapes come
from each op's attributes (class labels, targets, coefficient counts), as onnxruntime computes them; ONNX's
own inference knows few of them. Linear models and SVMs have exact costs. A tree ensemble costs one
comparison per node on a sample's root-to-leaf path in each tree: the longest paths are counted, an upper
bound (the path each sample takes depends on its values)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..base import dtypes, symbolic
from ..base.proto import TensorProto
from .core import (
    ML,
    Cost,
    NodeView,
    OpDef,
    ShapeFn,
    Spec,
    Traits,
    UnknownShape,
    no_work,
    per_input_element,
    same_shape,
)

FAMILY = "ml"
MOVE = Traits()
DENSE = Traits(contraction=True)
STRING = int(TensorProto.STRING)

#: FLOPs per score of each post-transform (softmax: exp, sum, divide and the max subtraction).
_POST = {"NONE": 0, "SOFTMAX": 5, "LOGISTIC": 4, "SOFTMAX_ZERO": 5, "PROBIT": 10}


# --- shapes -----------------------------------------------------------------------------------------------


def _per_feature(values: int, features: Any) -> Any:
    """Rows of a flattened [rows, features] attribute (coefficients, support vectors); a formula when the
    feature count is an unbound dim."""
    return values // features if symbolic.is_symbolic(features) else values // max(int(features), 1)


def _rows(n: NodeView) -> int:
    """Samples: a 2-D X is [N, F]; a 1-D X is one sample."""
    x = n.input_shape(0)
    return x[0] if len(x) == 2 else 1


def _labels(n: NodeView) -> tuple[int, int]:
    """How many class labels the classifier names, and their type (int64 or string)."""
    ints = n.attr("classlabels_ints", None) or n.attr("classlabels_int64s", None)
    if ints:
        return len(ints), dtypes.INT64
    strings = n.attr("classlabels_strings", None)
    if strings:
        return len(strings), STRING
    raise n.fail("a classifier needs classlabels_ints or classlabels_strings")


def _classifier(scores: int, n: NodeView) -> list[Spec]:
    """Labels [N] and scores [N, scores] (float)."""
    rows = _rows(n)
    return [((rows,), _labels(n)[1]), ((rows, scores), dtypes.FLOAT)]


def _linear_classifier_shape(n: NodeView) -> list[Spec]:
    """One score per coefficient row; a binary model with one row scores both classes (onnxruntime)."""
    classes, _ = _labels(n)
    rows_of_coefs = _per_feature(len(n.attr("coefficients", [])), n.input_shape(0)[-1])
    return _classifier(classes if rows_of_coefs == 1 and classes == 2 else rows_of_coefs, n)


def _svm_classifier_shape(n: NodeView) -> list[Spec]:
    """With probabilities (prob_a) or a linear SVM, a score per class; an SVC without them votes per pair of
    classes, C·(C − 1)/2 scores (one for a binary model)."""
    classes, _ = _labels(n)
    svc = bool(n.attr("support_vectors", None)) and not n.attr("prob_a", None)
    return _classifier(classes * (classes - 1) // 2 if svc and classes > 2 else classes, n)


def _tree_classifier_shape(n: NodeView) -> list[Spec]:
    classes, _ = _labels(n)
    return _classifier(classes, n)


def _targets_shape(key: str) -> ShapeFn:
    def shape(n: NodeView) -> list[Spec]:
        return [((_rows(n), int(n.attr(key, 1))), dtypes.FLOAT)]

    return shape


def _float_same(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), dtypes.FLOAT)]


def _array_feature_extractor(n: NodeView) -> list[Spec]:
    """X [..., F] and indices [k] -> [..., k] (a 1-D X gives [1, k])."""
    x, idx = n.input_shape(0), n.input_shape(1)
    k = 1
    for d in idx:
        k *= d
    return [((1, k) if len(x) == 1 else tuple(x[:-1]) + (k,), n.dtype(0))]


def _category_mapper(n: NodeView) -> list[Spec]:
    return [(n.input_shape(0), dtypes.INT64 if n.dtype(0) == STRING else STRING)]


def _label_encoder(n: NodeView) -> list[Spec]:
    """The values' type: values_int64s, values_floats, values_strings (or values_tensor)."""
    for key, dtype in (("values_int64s", dtypes.INT64), ("values_floats", dtypes.FLOAT),
                       ("values_strings", STRING)):
        if n.attr(key, None):
            return [(n.input_shape(0), dtype)]
    tensor = n.attr("values_tensor", None)
    if isinstance(tensor, TensorProto):
        return [(n.input_shape(0), int(tensor.data_type))]
    raise UnknownShape("LabelEncoder without values")


def _one_hot_encoder(n: NodeView) -> list[Spec]:
    cats = n.attr("cats_int64s", None) or n.attr("cats_strings", None) or []
    return [(tuple(n.input_shape(0)) + (len(cats),), dtypes.FLOAT)]


def _feature_vectorizer(n: NodeView) -> list[Spec]:
    return [((_rows(n), sum(int(d) for d in n.attr("inputdimensions", []))), dtypes.FLOAT)]


def _zipmap(n: NodeView) -> list[Spec]:
    """A sequence of maps (class label -> score), one per sample: (N,), as onnxcost holds a sequence, with no
    element type (a map's bytes are not a tensor's)."""
    return [((_rows(n),), 0)]


#: CastMap's cast_to -> the element type of its output
_CAST_TO = {"TO_FLOAT": dtypes.FLOAT, "TO_INT64": dtypes.INT64, "TO_STRING": STRING}


def _cast_map(n: NodeView) -> list[Spec]:
    """[1, max_map] with map_form SPARSE (keys index the row); DENSE: one value per key, a count that is data."""
    to = _CAST_TO.get(str(n.attr("cast_to", "TO_FLOAT")))
    if to is None:
        raise n.fail(f"cast_to={n.attr('cast_to')!r} (TO_FLOAT, TO_INT64 or TO_STRING)")
    if str(n.attr("map_form", "DENSE")) == "SPARSE":
        return [((1, int(n.attr("max_map", 1))), to)]
    return [(None, to)]


def _dict_vectorizer(n: NodeView) -> list[Spec]:
    """[1, vocabulary size] of the map's value type, as onnxruntime writes it."""
    vocab = n.attr("int64_vocabulary", None) or n.attr("string_vocabulary", None) or []
    return [((1, len(vocab)), n.dtype(0))]


# --- parameters held in attributes ------------------------------------------------------------------------

#: The attributes that hold learned float values, per op (node ids, modes and feature indices are structure).
_LEARNED = {
    "LinearClassifier": ("coefficients", "intercepts"), "LinearRegressor": ("coefficients", "intercepts"),
    "SVMClassifier": ("coefficients", "support_vectors", "rho", "prob_a", "prob_b", "kernel_params"),
    "SVMRegressor": ("coefficients", "support_vectors", "rho", "kernel_params"),
    "Scaler": ("offset", "scale"), "Normalizer": (), "Imputer": ("imputed_value_floats",),
    "TreeEnsembleClassifier": ("nodes_values", "class_weights", "base_values"),
    "TreeEnsembleRegressor": ("nodes_values", "target_weights", "base_values"),
    "TreeEnsemble": ("nodes_splits", "leaf_weights", "membership_values"),
}


def _learned(n: NodeView) -> int:
    """The learned values in the op's attributes: coefficients, intercepts, support vectors, thresholds, leaf
    weights (README: classical ML parameters)."""
    values = [n.attr(key, None) for key in _LEARNED.get(n.op_type, ())]
    return sum(math.prod(v.dims) if isinstance(v, TensorProto) else len(v or []) for v in values)


# --- costs ------------------------------------------------------------------------------------------------


def _rows_features(n: NodeView) -> tuple[int, int]:
    x = n.input_shape(0)
    return (x[0] if len(x) > 1 else 1), x[-1]


def _linear_classifier_cost(n: NodeView) -> Cost:
    """Scores = X·coefficientsᵀ + intercepts: N·classes·F MACs; then the post-transform per score."""
    rows, feats = _rows_features(n)
    classes = _per_feature(len(n.attr("coefficients", [])), feats)
    macs = rows * classes * feats
    return Cost(macs, 2 * macs + rows * classes * (1 + _POST.get(str(n.attr("post_transform", "NONE")), 0)))


def _linear_regressor_cost(n: NodeView) -> Cost:
    rows, feats = _rows_features(n)
    targets = int(n.attr("targets", 1))
    macs = rows * targets * feats
    return Cost(macs, 2 * macs + rows * targets)


def _svm_cost(n: NodeView) -> Cost:
    """A kernel between each sample and each support vector (F MACs each; RBF and POLY a few FLOPs more),
    then the weighted sum of the kernel values by the dual coefficients."""
    rows, feats = _rows_features(n)
    support = _per_feature(len(n.attr("support_vectors", [])), feats)
    coefs = len(n.attr("coefficients", []))
    macs = rows * (support * feats + coefs)
    return Cost(macs, 2 * macs + rows * support * (0 if n.attr("kernel_type", "LINEAR") == "LINEAR" else 3))


def longest_paths(tree_ids: Sequence[int], node_ids: Sequence[int], modes: Sequence[object],
                  true_ids: Sequence[int], false_ids: Sequence[int]) -> list[int]:
    """Per tree, the comparisons on its longest root-to-leaf path (a leaf compares nothing). The root is the
    node no other node points to; a cycle or a dangling child ends the walk (the count stays finite)."""
    trees: dict[int, dict[int, tuple[bool, int, int]]] = {}
    for t, i, mode, yes, no in zip(tree_ids, node_ids, modes, true_ids, false_ids, strict=False):
        leaf = (mode.decode() if isinstance(mode, bytes) else str(mode)) == "LEAF"
        trees.setdefault(int(t), {})[int(i)] = (leaf, int(yes), int(no))
    out = []
    for nodes in trees.values():
        children = {c for leaf, yes, no in nodes.values() if not leaf for c in (yes, no)}
        roots = [i for i in nodes if i not in children] or [min(nodes)]
        depth: dict[int, int] = {}
        stack = [(roots[0], 0)]
        best, seen = 0, 0
        while stack and seen <= len(nodes) * 2:
            node, d = stack.pop()
            seen += 1
            leaf, yes, no = nodes.get(node, (True, 0, 0))
            if leaf:
                best = max(best, d)
                continue
            if depth.get(node, -1) >= d:
                continue
            depth[node] = d
            stack += [(yes, d + 1), (no, d + 1)]
        out.append(best)
    return out


def _tree5_lists(n: NodeView) -> tuple[list[int], ...] | None:
    """TreeEnsemble (ai.onnx.ml 5) in the node-list form of the older ensembles: its interior nodes from each
    of tree_roots, with children that are leaves (trueleafs/falseleafs) renumbered past the nodes."""
    keys = ("tree_roots", "nodes_truenodeids", "nodes_falsenodeids", "nodes_trueleafs", "nodes_falseleafs")
    roots, yes, no, yes_leaf, no_leaf = (list(n.attr(k, None) or []) for k in keys)
    if not roots or not (len(yes) == len(no) == len(yes_leaf) == len(no_leaf)):
        return None
    count = len(yes)
    lists: tuple[list[int], ...] = ([], [], [], [], [])
    for tree, root in enumerate(roots):
        stack, seen = [int(root)], set[int]()
        while stack and len(seen) <= count:
            i = stack.pop()
            if i in seen or not 0 <= i < count:
                continue
            seen.add(i)
            children = [(int(c), bool(leaf)) for c, leaf in ((yes[i], yes_leaf[i]), (no[i], no_leaf[i]))]
            ids = [count + c if leaf else c for c, leaf in children]
            for row, value in zip(lists, (tree, i, 0, *ids), strict=True):
                row.append(value)
            for (c, leaf), cid in zip(children, ids, strict=True):
                if leaf:
                    for row, value in zip(lists, (tree, cid, 1, 0, 0), strict=True):
                        row.append(value)
                else:
                    stack.append(c)
    return lists


def _tree_paths(n: NodeView) -> list[int]:
    """Comparisons on each tree's longest root-to-leaf path, from either ensemble form."""
    if n.op_type == "TreeEnsemble":
        v5 = _tree5_lists(n)
        if v5 is None:
            raise UnknownShape("a tree ensemble without its node lists")
        tree_ids, node_ids, leaf, yes, no = v5
        return longest_paths(tree_ids, node_ids, ["LEAF" if x else "BRANCH" for x in leaf], yes, no)
    keys = ("nodes_treeids", "nodes_nodeids", "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids")
    lists = [n.attr(k, None) for k in keys]
    if any(v is None for v in lists):
        raise UnknownShape("a tree ensemble without its node lists")
    return longest_paths(*lists)


def _tree_cost(n: NodeView) -> Cost:
    """One comparison per node on each tree's longest root-to-leaf path per sample, plus one add per tree and
    target for the leaf weights: an upper bound (a sample's path may be shorter)."""
    paths = _tree_paths(n)
    rows = _rows(n)
    outputs = n.output_shape(1 if n.n_out > 1 else 0)[-1]
    return Cost(0, rows * (sum(paths) + len(paths) * outputs), upper_bound=True)


_MOVEMENT = {"ArrayFeatureExtractor": _array_feature_extractor, "CategoryMapper": _category_mapper,
             "LabelEncoder": _label_encoder, "OneHotEncoder": _one_hot_encoder,
             "FeatureVectorizer": _feature_vectorizer, "ZipMap": _zipmap, "CastMap": _cast_map,
             "DictVectorizer": _dict_vectorizer}
TREE = Traits()
TREE_NOTE = "comparisons on each tree's longest path: an upper bound"
OPS: list[OpDef] = [
    OpDef("LinearClassifier", ML, FAMILY, shape=_linear_classifier_shape, cost=_linear_classifier_cost,
          traits=DENSE, attribute_params=_learned),
    OpDef("LinearRegressor", ML, FAMILY, shape=_targets_shape("targets"), cost=_linear_regressor_cost,
          traits=DENSE, attribute_params=_learned),
    OpDef("SVMClassifier", ML, FAMILY, shape=_svm_classifier_shape, cost=_svm_cost, traits=DENSE,
          attribute_params=_learned),
    OpDef("SVMRegressor", ML, FAMILY, shape=_targets_shape("n_targets"), cost=_svm_cost, traits=DENSE,
          attribute_params=_learned),
    OpDef("Normalizer", ML, FAMILY, shape=_float_same,
          cost=per_input_element(3, "square and sum, divide: 3 per element")),
    OpDef("Scaler", ML, FAMILY, shape=_float_same, cost=per_input_element(2, "(x − offset)·scale: 2 per element"),
          attribute_params=_learned),
    OpDef("Binarizer", ML, FAMILY, shape=same_shape, cost=per_input_element(1, "one comparison per element")),
    OpDef("Imputer", ML, FAMILY, shape=same_shape, attribute_params=_learned,
          cost=per_input_element(1, "one comparison (and select) per element")),
    *(OpDef(op, ML, FAMILY, shape=shape, cost=no_work, traits=MOVE) for op, shape in _MOVEMENT.items()),
    OpDef("TreeEnsembleClassifier", ML, FAMILY, shape=_tree_classifier_shape, cost=_tree_cost, traits=TREE,
          note=TREE_NOTE, attribute_params=_learned),
    OpDef("TreeEnsembleRegressor", ML, FAMILY, shape=_targets_shape("n_targets"), cost=_tree_cost, traits=TREE,
          note=TREE_NOTE, attribute_params=_learned),
    OpDef("TreeEnsemble", ML, FAMILY, shape=_targets_shape("n_targets"), cost=_tree_cost, traits=TREE,
          note=TREE_NOTE, attribute_params=_learned),
]
