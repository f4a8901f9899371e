"""Sequences, optionals and strings: bookkeeping with no floating-point work (0 FLOPs); their sizes come
from ONNX's own inference, when it knows them."""

from __future__ import annotations

from .core import DEFAULT, Cost, NodeView, OpDef, Traits, no_work, same_shape

FAMILY = "sequences"
META = Traits()
MOVE = Traits()

_SEQUENCE_OPS = ("SequenceAt", "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert",
                 "SequenceLength", "ConcatFromSequence", "SplitToSequence", "Optional", "OptionalGetElement",
                 "OptionalHasElement")
_STRING_OPS = ("StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch")


def _tfidf_cost(n: NodeView) -> Cost:
    """N-gram counting is integer work; the TF-IDF weighting is one multiply per output element."""
    return Cost(0, n.out_elems() if n.attr("mode", "TF") != "TF" else 0)


OPS: list[OpDef] = [
    *(OpDef(op, DEFAULT, FAMILY, cost=no_work, traits=META) for op in _SEQUENCE_OPS),
    *(OpDef(op, DEFAULT, FAMILY, cost=no_work, traits=MOVE, shape=same_shape if op == "RegexFullMatch" else None)
      for op in _STRING_OPS),
    OpDef("TfIdfVectorizer", DEFAULT, FAMILY, cost=_tfidf_cost, traits=MOVE, note="shape from ONNX inference"),
]
