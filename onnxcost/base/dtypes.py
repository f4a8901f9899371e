"""ONNX element types: their names, sizes in bits, and which of them hold model parameters."""

from __future__ import annotations

import sys
from functools import cache
from types import ModuleType

import numpy as np

from .errors import ModelError
from .proto import TensorProto

#: The element types numpy holds natively (onnx's own table for these, without importing onnx's helpers);
#: the others (bfloat16, float8, int4, ...) go through onnx and ml_dtypes.
_NUMPY: dict[int, np.dtype] = {
    TensorProto.FLOAT: np.dtype(np.float32), TensorProto.DOUBLE: np.dtype(np.float64),
    TensorProto.FLOAT16: np.dtype(np.float16), TensorProto.BOOL: np.dtype(np.bool_),
    TensorProto.INT8: np.dtype(np.int8), TensorProto.UINT8: np.dtype(np.uint8),
    TensorProto.INT16: np.dtype(np.int16), TensorProto.UINT16: np.dtype(np.uint16),
    TensorProto.INT32: np.dtype(np.int32), TensorProto.UINT32: np.dtype(np.uint32),
    TensorProto.INT64: np.dtype(np.int64), TensorProto.UINT64: np.dtype(np.uint64),
    TensorProto.COMPLEX64: np.dtype(np.complex64), TensorProto.COMPLEX128: np.dtype(np.complex128),
    TensorProto.STRING: np.dtype(object),
}
_FROM_NUMPY: dict[np.dtype, int] = {dtype: elem for elem, dtype in _NUMPY.items()}
#: Types whose values a typed field holds as they are (no narrowing): decoded here, the rest by onnx.
_FIELDS: dict[int, str] = {TensorProto.FLOAT: "float_data", TensorProto.DOUBLE: "double_data",
                           TensorProto.INT32: "int32_data", TensorProto.INT64: "int64_data"}


def _helper() -> ModuleType:
    """onnx's helper, imported only for the element types numpy lacks."""
    from onnx import helper

    return helper


def _numpy_helper() -> ModuleType:
    """onnx's numpy_helper, imported only for the tensors decoded or encoded here without it."""
    from onnx import numpy_helper

    return numpy_helper

_NARROW_BITS = {
    getattr(TensorProto, name): bits
    for name, bits in {
        "INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "INT2": 2, "UINT2": 2,
    }.items()
    if hasattr(TensorProto, name)
}
#: Integer types used for shapes, axes, indices and counts: constants of these types are not parameters.
INDEX_TYPES = frozenset({TensorProto.INT64, TensorProto.INT32, TensorProto.INT16, TensorProto.UINT64,
                         TensorProto.UINT32, TensorProto.UINT16, TensorProto.BOOL, TensorProto.STRING})
BOOL = TensorProto.BOOL
INT64 = TensorProto.INT64
INT32 = TensorProto.INT32
UINT32 = TensorProto.UINT32
UINT8 = TensorProto.UINT8
FLOAT = TensorProto.FLOAT


@cache
def bits(elem_type: int) -> int:
    """Storage bits of one element (0 when unknown or variable-sized, as for strings)."""
    if elem_type in _NARROW_BITS:
        return _NARROW_BITS[elem_type]
    if elem_type in (0, TensorProto.STRING):
        return 0
    if elem_type in _NUMPY:
        return _NUMPY[elem_type].itemsize * 8
    try:
        return int(np.dtype(_helper().tensor_dtype_to_np_dtype(elem_type)).itemsize) * 8
    except (KeyError, TypeError, ValueError):
        return 0


def nbytes(elem_type: int, elements: int) -> int:
    """Bytes to store `elements` values of `elem_type`, rounding packed sub-byte types up."""
    width = bits(elem_type)
    if width % 8 == 0:  # whole bytes: no rounding (and no floor for sympy to simplify on a formula)
        return elements * (width // 8)
    return (elements * width + 7) // 8


@cache
def name(elem_type: int) -> str:
    """Lower-case ONNX type name, e.g. 'float', 'int64'; 'unknown' for 0."""
    if elem_type == 0:
        return "unknown"
    try:
        return str(TensorProto.DataType.Name(elem_type)).lower()
    except ValueError:
        return f"type{elem_type}"


def to_numpy(elem_type: int) -> np.dtype:
    """The numpy dtype of an ONNX element type; ModelError for a type ONNX does not define (hostile files)."""
    if elem_type in _NUMPY:
        return _NUMPY[elem_type]
    try:
        return np.dtype(_helper().tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"element type {elem_type} is not an ONNX tensor type") from None


def from_numpy(dtype: np.dtype) -> int:
    if dtype == np.dtype(object) or dtype.kind in "US":
        return TensorProto.STRING
    if dtype in _FROM_NUMPY:
        return _FROM_NUMPY[dtype]
    return int(_helper().np_dtype_to_tensor_dtype(dtype))


def is_param_type(elem_type: int) -> bool:
    """Weights are float or narrow quantized integers; int32/int64/bool constants are shapes and indices."""
    return elem_type != 0 and elem_type not in INDEX_TYPES


def decode(t: TensorProto, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """An embedded tensor's data, checked against its declared shape (never external data: callers check)."""
    try:
        value = to_array(t)
    except (ValueError, TypeError, KeyError) as exc:  # numpy and onnx's decoder reject the bytes
        raise ModelError(f"{what}: its data cannot be decoded ({str(exc).splitlines()[0] if str(exc) else exc})") \
            from None
    if value.shape != tuple(shape):
        raise ModelError(f"{what}: its data holds {value.size} values for declared dims {list(shape)}")
    return value


def to_array(t: TensorProto) -> np.ndarray:
    """onnx's numpy_helper.to_array for the common element types, without importing onnx; onnx's for the rest."""
    elem = t.data_type
    if t.HasField("segment") or elem not in _NUMPY or sys.byteorder != "little":
        return np.asarray(_numpy_helper().to_array(t))
    if elem == TensorProto.STRING:
        return np.array([s.decode("utf-8") for s in t.string_data], dtype=object).reshape(t.dims)
    if t.HasField("raw_data"):
        return np.frombuffer(t.raw_data, dtype=_NUMPY[elem]).reshape(t.dims)
    if elem in _FIELDS:
        return np.asarray(getattr(t, _FIELDS[elem]), dtype=_NUMPY[elem]).reshape(t.dims)
    return np.asarray(_numpy_helper().to_array(t))


def from_array(value: np.ndarray, name: str) -> TensorProto:
    """A known value as an initializer, as onnx's numpy_helper.from_array stores it (by onnx for strings)."""
    array = np.asarray(value, order="C")
    if array.dtype.kind in "OUS":
        return _numpy_helper().from_array(array, name)
    return TensorProto(name=name, dims=array.shape, data_type=from_numpy(array.dtype),
                       raw_data=array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
