"""Op coverage: every ONNX backend node test case shipped in the onnx wheel goes through analyze()."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import onnxcost
from onnxcost import ops
from tests.helpers import known

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from onnx.backend.test.case.node import collect_testcases

    CASES = collect_testcases(None)


def test_there_are_many_cases() -> None:
    assert len(CASES) > 1000


def _input_shapes(case: object) -> dict[str, list[int]]:
    """The case's input data shapes, which bind the dims its model leaves dynamic."""
    if not case.data_sets:  # type: ignore[attr-defined]
        return {}
    inputs, _ = case.data_sets[0]  # type: ignore[attr-defined]
    graph_inputs = [i.name for i in case.model.graph.input  # type: ignore[attr-defined]
                    if i.name not in {t.name for t in case.model.graph.initializer}]  # type: ignore[attr-defined]
    return {name: list(x.shape) for name, x in zip(graph_inputs, inputs, strict=False)
            if isinstance(x, np.ndarray)}


@pytest.mark.slow
def test_every_case_analyses_and_known_output_shapes_are_right() -> None:
    failures, wrong, analysed = [], [], 0
    for case in CASES:
        try:
            rep = onnxcost.analyze(known(case.model), input_shapes=_input_shapes(case))
        except Exception as exc:  # noqa: BLE001 - collect them all, report at once
            failures.append(f"{case.name}: {type(exc).__name__}: {exc}")
            continue
        analysed += 1
        if not case.data_sets:
            continue
        _, expected = case.data_sets[0]
        for spec, exp in zip(rep.outputs, expected, strict=False):
            if isinstance(exp, np.ndarray) and spec.shape is not None and list(exp.shape) != spec.shape:
                wrong.append(f"{case.name}: {spec.name} ours {spec.shape} expected {list(exp.shape)}")
    assert failures == []
    assert wrong == []
    assert analysed == len(CASES)


def test_every_op_the_cases_use_has_a_definition() -> None:
    missing = set()
    for case in CASES:
        opsets = {(o.domain or "ai.onnx"): o.version for o in known(case.model).opset_import}
        for n in known(case.model).graph.node:
            domain = n.domain or "ai.onnx"
            if ops.lookup(domain, n.op_type, opsets.get(domain)) is None:
                missing.add(f"{domain}.{n.op_type}")
    assert missing == set()


@pytest.mark.parametrize("op", ["Conv", "MatMul", "Gemm", "LSTM", "Einsum", "MaxPool", "Softmax"])
def test_common_ops_have_known_costs_in_their_cases(op: str) -> None:
    cases = [c for c in CASES if known(c.model).graph.node and known(c.model).graph.node[0].op_type == op]
    assert cases
    for case in cases:
        rep = onnxcost.analyze(known(case.model))
        assert rep.totals.unknown_cost_nodes == 0, case.name


def test_every_case_estimates_on_a_blocked_layout_profile() -> None:
    """The estimate stage, layout reorders included, never raises on any case (errors are OnnxcostError)."""
    from dataclasses import replace

    from onnxcost.latency.profiles import load_profile

    profile = replace(load_profile("xeon-8480"), nchwc_block=8)
    crashed = []
    for case in CASES:
        try:
            rep = onnxcost.analyze(known(case.model), schedule="file", profile=profile,
                                   input_shapes=_input_shapes(case))
        except onnxcost.OnnxcostError:
            continue
        except Exception as exc:  # noqa: BLE001 - collect them all, report at once
            crashed.append(f"{case.name}: {type(exc).__name__}: {exc}")
            continue
        assert rep.totals.layout_reorders is not None or rep.symbolic is not None, case.name
    assert crashed == []
