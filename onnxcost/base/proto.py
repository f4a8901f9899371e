"""ONNX's protobuf message classes without `import onnx`. The package's `__init__` (json_format,
importlib.metadata, helper, compose, the C++ schemas) costs about 45 ms a process, a fifth of a small model's
whole report, and a report needs only the messages. onnx's generated module is loaded under its own name, so a
later `import onnx` reuses it and everyone sees one set of classes; when onnx is already imported, or its
generated file is not where onnx keeps it, this is plain `import onnx`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

_GENERATED = "onnx.onnx_ml_pb2"


def _messages() -> ModuleType:
    """onnx's generated onnx_ml_pb2 module, loaded without the onnx package when onnx is not yet imported."""
    if _GENERATED in sys.modules:
        return sys.modules[_GENERATED]
    spec = None if "onnx" in sys.modules else importlib.util.find_spec("onnx")
    folders = None if spec is None else spec.submodule_search_locations
    source = None if not folders else Path(list(folders)[0]) / "onnx_ml_pb2.py"
    if source is None or not source.is_file() or not _ml_build(source.parent / "onnx_pb.py"):
        import onnx.onnx_ml_pb2

        return onnx.onnx_ml_pb2
    generated = importlib.util.spec_from_file_location(_GENERATED, source)
    if generated is None or generated.loader is None:
        import onnx.onnx_ml_pb2

        return onnx.onnx_ml_pb2
    module = importlib.util.module_from_spec(generated)
    sys.modules[_GENERATED] = module
    try:
        generated.loader.exec_module(module)
    except BaseException:
        del sys.modules[_GENERATED]
        raise
    return module


def _ml_build(onnx_pb: Path) -> bool:
    """Whether onnx takes its messages from onnx_ml_pb2 (every released wheel; a build without ONNX_ML uses
    onnx_pb2, whose classes would clash with these)."""
    try:
        return "from .onnx_ml_pb2 import" in onnx_pb.read_text(encoding="utf-8")
    except OSError:
        return False


if TYPE_CHECKING:
    from onnx import (
        AttributeProto,
        FunctionProto,
        GraphProto,
        ModelProto,
        NodeProto,
        OperatorSetIdProto,
        SparseTensorProto,
        TensorProto,
        TypeProto,
        ValueInfoProto,
    )

    IR_VERSION: int
else:
    _pb = _messages()
    AttributeProto, FunctionProto, GraphProto = _pb.AttributeProto, _pb.FunctionProto, _pb.GraphProto
    ModelProto, NodeProto, OperatorSetIdProto = _pb.ModelProto, _pb.NodeProto, _pb.OperatorSetIdProto
    SparseTensorProto, TensorProto, TypeProto = _pb.SparseTensorProto, _pb.TensorProto, _pb.TypeProto
    ValueInfoProto = _pb.ValueInfoProto
    IR_VERSION = int(_pb.IR_VERSION)  # the newest IR version this onnx writes

__all__ = ["IR_VERSION", "AttributeProto", "FunctionProto", "GraphProto", "ModelProto", "NodeProto",
           "OperatorSetIdProto", "SparseTensorProto", "TensorProto", "TypeProto", "ValueInfoProto"]
