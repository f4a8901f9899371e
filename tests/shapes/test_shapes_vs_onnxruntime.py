"""Every output shape we infer equals what onnxruntime produces, tensor by tensor."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest

import onnxcost
from models import zoo
from tests.ort_harness import mismatches, ort_shapes, with_weights

pytest.importorskip("onnxruntime")  # a dev dependency: installed by .ci/run, so this never skips in CI

LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
LIGHT_MODELS = sorted(p.name for p in LIGHT.glob("light_*.onnx"))


def test_light_models_are_there() -> None:
    assert len(LIGHT_MODELS) >= 8


@pytest.mark.parametrize("name", LIGHT_MODELS)
def test_light_models(name: str) -> None:
    model = onnx.load(str(LIGHT / name))
    rep = onnxcost.analyze(model)
    actual = ort_shapes(model, None, rep)
    assert len(actual) > 10
    assert mismatches(rep, actual) == []


@pytest.mark.parametrize("make", [zoo.lenet_1989, lambda: zoo.resnet18("random", size=64),
                                  lambda: zoo.mobilenet_v1("random", size=64), zoo.inception_cell])
def test_reference_models(make: Callable[[], onnx.ModelProto]) -> None:
    model = make() if make is not zoo.lenet_1989 else zoo.lenet_1989("random")
    rep = onnxcost.analyze(model)
    assert mismatches(rep, ort_shapes(model, None, rep)) == []


@pytest.mark.parametrize("name,dims", [
    ("shufflenet_v2_x0_5", {}), ("swin_s", {}), ("vit_b_32", {}), ("maxvit_t", {}),
    ("efficientnet_b1", {}), ("gru_bidir", {"batch": 3, "steps": 7}),
])
def test_shared_exports(name: str, dims: dict, shared_models: Path, truth: dict, tmp_path: Path) -> None:
    path = with_weights(shared_models / f"{name}.onnx", truth[name]["weights_bytes"], tmp_path)
    rep = onnxcost.analyze(path, dims=dims)
    actual = ort_shapes(onnx.load(str(path), load_external_data=False), tmp_path, rep)
    assert len(actual) >= 5  # shape arithmetic is folded, so few tensors remain in the GRU model
    assert mismatches(rep, actual) == []
