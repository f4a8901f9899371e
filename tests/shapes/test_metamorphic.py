"""Symbolic dims against concrete ones: every input dim a fresh symbol, each node's formula evaluated at the
original dims must equal the concrete analysis (tests/metamorphic.py), over all 1,884 ONNX backend node
cases and the exporter-made corpus.

The symbolic analysis may raise nothing but a ModelError, and only where the concrete one does: that holds
for every case. Where a formula is still unknown or differs, the case is in
tests/data/metamorphic_known_gaps.txt; the test fails on any case outside that list (a regression) and on
any listed case that now agrees (so the list only shrinks). `python -m benchmarks.bench_metamorphic` prints
the counts.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import pytest

from tests.corpus import EXPORTS, cases
from tests.helpers import known
from tests.metamorphic import check

_LIST = Path(__file__).parents[1] / "data" / "metamorphic_known_gaps.txt"
KNOWN_GAPS = {line.strip() for line in _LIST.read_text().splitlines() if line.strip() and not line.startswith("#")}


def node_cases() -> list[tuple[str, onnx.ModelProto, dict[str, list[int]]]]:
    from tests.ops.test_backend_node_cases import CASES, _input_shapes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(c.name, known(c.model), _input_shapes(c)) for c in CASES]


@pytest.mark.slow
def test_every_backend_node_case_agrees_or_is_a_known_gap() -> None:
    cases_ = node_cases()
    disagree = {name for name, model, shapes in cases_ if check(model, shapes)}
    assert len(cases_) >= 1884
    assert sorted(disagree - KNOWN_GAPS) == []  # new disagreements
    assert sorted(KNOWN_GAPS & {n for n, _, _ in cases_} - disagree) == []  # fixed: take them off the list


#: Exports whose symbolised form (each input axis its own symbol) has no formula, with why; strict, so a case that
#: starts agreeing fails until it is taken off.
EXPORT_GAPS = {
    # x's rows and h's batch become independent symbols: after one step the carried state is their broadcast, and
    # with a trip count the cost stage would count the first step at the later steps' shape, so the Loop stays
    # unknown (never wrong). With the file's own dim names (one `batch`) the corpus's no-option test passes; the
    # decoders, whose trip count is run-time data, take their state's shape from the first step.
    "exports/loop_over_rows.onnx": "independent batch symbols and a known trip count: no fixed point from the inputs",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=EXPORT_GAPS[c.id])) if c.id in EXPORT_GAPS else c
    for c in cases() if c.path.parent == EXPORTS], ids=lambda c: c.id)
def test_exports_agree(case: object) -> None:
    model = onnx.load(case.require())  # type: ignore[attr-defined]
    assert check(model, case.bound_shapes(model)) == []  # type: ignore[attr-defined]
