"""onnxcost: what will this exported model cost? MACs, FLOPs, params, memory and latency of ONNX files.

The API is imported lazily so that the command line's help and other light commands start without onnx/networkx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base.errors import ConfigError, ModelError, OnnxcostError

if TYPE_CHECKING:
    from .pipeline import Report, analyze

__all__ = ["ConfigError", "ModelError", "OnnxcostError", "Report", "analyze"]
__version__ = "0.1.0"


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> Any:
    if name in ("analyze", "Report"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'onnxcost' has no attribute {name!r}")
