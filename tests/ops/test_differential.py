"""A sample of the differential test against onnxruntime (tests/differential.py): per op family, drawn
attributes and shapes, onnxcost's output shapes equal onnxruntime's. benchmarks/bench_differential.py runs
thousands of cases and records the count per op."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.differential import GENERATORS, check


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_output_shapes_match_onnxruntime(family: str) -> None:
    generator = GENERATORS[family]

    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(st.composite(generator)())
        assert check(case) is None

    run()


def test_slice_with_a_negative_step_starts_inside_the_axis() -> None:
    """Found by the differential test: a negative step clamps its start into [0, dim - 1], so starts=-7 on a
    length-4 axis begins at index 0 and ends=-5 (index -1) stops before it: one element, as onnxruntime."""
    import numpy as np
    from onnx import helper

    import onnxcost
    from tests.differential import Case, model_of

    consts = {"starts": np.array([-7]), "ends": np.array([-5]), "axes": np.array([0]), "steps": np.array([-1])}
    case = Case(helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"]), {"x": [4]},
                {k: v.astype(np.int64) for k, v in consts.items()})
    assert onnxcost.analyze(model_of(case)).nodes[0].output_shapes == [[1]]
    assert check(case) is None


def test_fused_matmul_moves_the_first_dim_behind_the_batch_with_trans_batch() -> None:
    """Found by the differential test: transBatchA/B were ignored. A [m=3, 2, 3, k=4] with transBatchA reads as
    [2, 3, 3, 4]; B [k=4, 2, 3, n=5] with transBatchB as [2, 3, 4, 5]: the product is [2, 3, 3, 5], and its MACs
    2*3 * 3*5 * 4, as onnxruntime computes."""
    from onnx import helper

    import onnxcost
    from tests.differential import MS, Case, model_of

    node = helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, transBatchA=1, transBatchB=1)
    case = Case(node, {"a": [3, 2, 3, 4], "b": [4, 2, 3, 5]})
    report = onnxcost.analyze(model_of(case)).nodes[0]
    assert report.output_shapes == [[2, 3, 3, 5]] and report.macs == 2 * 3 * 3 * 5 * 4
    assert check(case) is None
