"""onnxcost: what will this exported model cost? MACs, FLOPs, params, memory and latency of ONNX files."""

from .errors import ConfigError, ModelError, OnnxcostError
from .report import Report, analyze

__all__ = ["ConfigError", "ModelError", "OnnxcostError", "Report", "analyze"]
__version__ = "0.1.0"
