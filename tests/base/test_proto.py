"""What onnxcost reads without importing onnx's package (the message classes, element types, tensor data, attribute
values and op schemas) equals what onnx itself gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnxcost.base import dtypes, proto
from onnxcost.ops import schemas
from onnxcost.shapes import attributes
from tests import schemas as generator


def test_the_message_classes_are_onnx_s_own() -> None:
    assert proto.ModelProto is onnx.ModelProto and proto.TensorProto is onnx.TensorProto
    assert proto.AttributeProto is onnx.AttributeProto and proto.GraphProto is onnx.GraphProto


@pytest.mark.parametrize("elem", sorted(TensorProto.DataType.values()))
def test_element_types_match_onnx_helper(elem: int) -> None:
    if elem == 0:
        assert dtypes.name(elem) == "unknown"
        return
    assert dtypes.name(elem) == helper.tensor_dtype_to_string(elem).removeprefix("TensorProto.").lower()
    try:
        expected = np.dtype(helper.tensor_dtype_to_np_dtype(elem))
    except (KeyError, TypeError, ValueError):
        return
    assert dtypes.to_numpy(elem) == expected
    if elem not in dtypes._NARROW_BITS and elem != TensorProto.STRING:
        assert dtypes.bits(elem) == expected.itemsize * 8
    if expected.kind not in "OUSV":
        assert dtypes.from_numpy(expected) == helper.np_dtype_to_tensor_dtype(expected)


_VALUES = [np.arange(-3, 3).reshape(2, 3), np.array([[1.5, -2.25]]), np.array([True, False, True]), np.zeros((0, 4)),
           np.array(7)]


@pytest.mark.parametrize("elem", [e for e in TensorProto.DataType.values() if e in dtypes._NUMPY])
@pytest.mark.parametrize("raw", [True, False])
def test_tensor_data_matches_numpy_helper(elem: int, raw: bool) -> None:
    """Raw bytes and the typed fields, for every type numpy holds natively (the rest go through onnx)."""
    for v in _VALUES:
        if elem == TensorProto.STRING:
            value = np.array([str(x) for x in v.reshape(-1)], dtype=object).reshape(v.shape)
            t = numpy_helper.from_array(value, "t")
        else:
            value = v.astype(helper.tensor_dtype_to_np_dtype(elem))
            t = (numpy_helper.from_array(value, "t") if raw
                 else helper.make_tensor("t", elem, value.shape, value.reshape(-1).tolist()))
        got, want = dtypes.to_array(t), numpy_helper.to_array(t)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)


def test_attribute_values_match_onnx_helper() -> None:
    graph = helper.make_graph([], "g", [], [])
    node = helper.make_node("Op", [], [], f=1.5, i=3, s="text", t=numpy_helper.from_array(np.ones(2), "w"),
                            g=graph, floats=[1.0, 2.0], ints=[4, 5], strings=["a", "b"],
                            tensors=[numpy_helper.from_array(np.ones(1), "x")], graphs=[graph],
                            tp=helper.make_tensor_type_proto(1, [2]))
    empty = onnx.AttributeProto(name="u")
    for a in [*node.attribute, empty]:
        assert attributes.value(a) == helper.get_attribute_value(a), a.name


def test_the_schema_table_is_the_installed_onnx_s_up_to_its_opsets() -> None:
    """Every op version the table covers is onnx's, attribute for attribute. A newer onnx only adds versions above
    COVERED (which the lookup asks onnx for), so it passes too; `python -m tests.schemas --update` takes them in."""
    covered, history = generator.expected()
    for domain, top in schemas.COVERED.items():
        assert covered.get(domain, 0) >= top, domain
    frozen = {key: tuple(v for v in versions if v[0] <= schemas.COVERED[key[0]])
              for key, versions in history.items()}
    assert {key: v for key, v in frozen.items() if v} == schemas.SCHEMAS


def test_schema_lookup_matches_onnx_defs_at_every_opset() -> None:
    for (domain, op_type), _versions in schemas.SCHEMAS.items():
        for opset in range(1, schemas.COVERED[domain] + 2):
            try:
                s = onnx.defs.get_schema(op_type, opset, "" if domain == "ai.onnx" else domain)
            except onnx.defs.SchemaError:
                assert attributes._onnx_schema(domain, op_type, opset) is None, (op_type, opset)
                continue
            types = {name: int(a.type) for name, a in s.attributes.items()}  # type: ignore[call-overload]
            required = frozenset(name for name, a in s.attributes.items() if a.required)
            assert attributes._onnx_schema(domain, op_type, opset) == (types, required), (domain, op_type, opset)


@pytest.mark.parametrize("value", [np.arange(6, dtype=np.int64).reshape(2, 3), np.array([1.5, -2], np.float32),
                                   np.array([True, False]), np.zeros((0, 3), np.int32), np.array(3.0),
                                   np.array(["a", "bc"], dtype=object)])
def test_subgraph_initializers_are_what_numpy_helper_writes(value: np.ndarray) -> None:
    assert dtypes.from_array(value, "v") == numpy_helper.from_array(value, "v")


@pytest.mark.parametrize("shape", [[], [2, "n", 1], ["batch"]])
def test_subgraph_inputs_are_what_make_tensor_value_info_writes(shape: list[int | str]) -> None:
    from onnxcost.shapes import subgraph

    assert subgraph._value_info("x", TensorProto.FLOAT, shape) == helper.make_tensor_value_info("x", 1, shape)


def test_the_newest_ir_version_is_onnx_s() -> None:
    assert proto.IR_VERSION == onnx.IR_VERSION


def test_only_an_onnx_ml_build_has_its_messages_loaded_alone(tmp_path: Path) -> None:
    """A build without ONNX_ML takes its classes from onnx_pb2: loading onnx_ml_pb2 beside it would clash."""
    ml, plain = tmp_path / "ml.py", tmp_path / "plain.py"
    ml.write_text("from .onnx_ml_pb2 import *  # noqa\n")
    plain.write_text("from .onnx_pb2 import *  # noqa\n")
    assert proto._ml_build(ml) and not proto._ml_build(plain) and not proto._ml_build(tmp_path / "absent.py")
