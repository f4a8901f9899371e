"""One exception hierarchy; the CLI maps each class to an exit code in one place."""

from __future__ import annotations


class OnnxcostError(Exception):
    """Base of every error onnxcost raises on purpose; its message is one line a user can act on."""


class ModelError(OnnxcostError):
    """The model file cannot be analysed: not ONNX, truncated, cyclic, dangling, inconsistent."""


class ConfigError(OnnxcostError):
    """A budget file, hardware profile or command-line value is malformed."""
