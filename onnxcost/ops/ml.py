"""Classical ML ops (domain ai.onnx.ml), as the sklearn, xgboost and lightgbm converters emit them. Shapes come
from ONNX's own inference; linear models and SVMs have exact costs, tree ensembles are known but uncosted
(the comparisons made depend on the path each sample takes)."""

from __future__ import annotations

from .core import ML, Cost, NodeView, OpDef, Traits, no_work, per_input_element

FAMILY = "ml"
MOVE = Traits("movement")
DENSE = Traits("dense", contraction=True)

#: FLOPs per score of each post-transform (softmax: exp, sum, divide and the max subtraction).
_POST = {"NONE": 0, "SOFTMAX": 5, "LOGISTIC": 4, "SOFTMAX_ZERO": 5, "PROBIT": 10}


def _rows_features(n: NodeView) -> tuple[int, int]:
    x = n.input_shape(0)
    return (x[0] if len(x) > 1 else 1), x[-1]


def _linear_classifier_cost(n: NodeView) -> Cost:
    """Scores = X·coefficientsᵀ + intercepts: N·classes·F MACs; then the post-transform per score."""
    rows, feats = _rows_features(n)
    classes = len(n.attr("coefficients", [])) // max(feats, 1)
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
    support = len(n.attr("support_vectors", [])) // max(feats, 1)
    coefs = len(n.attr("coefficients", []))
    macs = rows * (support * feats + coefs)
    return Cost(macs, 2 * macs + rows * support * (0 if n.attr("kernel_type", "LINEAR") == "LINEAR" else 3))


_MOVEMENT = ("ArrayFeatureExtractor", "CastMap", "CategoryMapper", "DictVectorizer", "FeatureVectorizer",
             "LabelEncoder", "OneHotEncoder", "ZipMap")
_TREES = ("TreeEnsemble", "TreeEnsembleClassifier", "TreeEnsembleRegressor")
OPS: list[OpDef] = [
    OpDef("LinearClassifier", ML, FAMILY, cost=_linear_classifier_cost, traits=DENSE),
    OpDef("LinearRegressor", ML, FAMILY, cost=_linear_regressor_cost, traits=DENSE),
    OpDef("SVMClassifier", ML, FAMILY, cost=_svm_cost, traits=DENSE),
    OpDef("SVMRegressor", ML, FAMILY, cost=_svm_cost, traits=DENSE),
    OpDef("Normalizer", ML, FAMILY, cost=per_input_element(3, "square and sum, divide: 3 per element")),
    OpDef("Scaler", ML, FAMILY, cost=per_input_element(2, "(x − offset)·scale: 2 per element")),
    OpDef("Binarizer", ML, FAMILY, cost=per_input_element(1, "one comparison per element")),
    OpDef("Imputer", ML, FAMILY, cost=per_input_element(1, "one comparison (and select) per element")),
    *(OpDef(op, ML, FAMILY, cost=no_work, traits=MOVE) for op in _MOVEMENT),
    *(OpDef(op, ML, FAMILY, traits=Traits("elementwise"),
            note="known but uncosted: comparisons follow each sample's path through the trees")
      for op in _TREES),
]
