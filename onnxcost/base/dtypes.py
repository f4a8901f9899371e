"""ONNX element types: their names, sizes in bits, and which of them hold model parameters."""

from __future__ import annotations

from functools import cache

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from .errors import ModelError

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
    try:
        return int(np.dtype(helper.tensor_dtype_to_np_dtype(elem_type)).itemsize) * 8
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
        return str(helper.tensor_dtype_to_string(elem_type)).removeprefix("TensorProto.").lower()
    except (KeyError, ValueError):
        return f"type{elem_type}"


def to_numpy(elem_type: int) -> np.dtype:
    """The numpy dtype of an ONNX element type; ModelError for a type ONNX does not define (hostile files)."""
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"element type {elem_type} is not an ONNX tensor type") from None


def from_numpy(dtype: np.dtype) -> int:
    if dtype == np.dtype(object) or dtype.kind in "US":
        return TensorProto.STRING
    return int(helper.np_dtype_to_tensor_dtype(dtype))


def is_param_type(elem_type: int) -> bool:
    """Weights are float or narrow quantized integers; int32/int64/bool constants are shapes and indices."""
    return elem_type != 0 and elem_type not in INDEX_TYPES


def decode(t: TensorProto, what: str, shape: tuple[int, ...]) -> np.ndarray:
    """An embedded tensor's data, checked against its declared shape (never external data: callers check)."""
    try:
        value = numpy_helper.to_array(t)
    except (ValueError, TypeError, KeyError) as exc:  # numpy and onnx's decoder reject the bytes
        raise ModelError(f"{what}: its data cannot be decoded ({str(exc).splitlines()[0] if str(exc) else exc})") \
            from None
    if value.shape != tuple(shape):
        raise ModelError(f"{what}: its data holds {value.size} values for declared dims {list(shape)}")
    return value
