"""One exception hierarchy; the CLI maps each class to an exit code in one place."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with control characters (newlines, ANSI escapes) written as escapes: names from a model are
    data, and a message stays one line that cannot drive a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def internal_error(exc: BaseException) -> str:
    """The one line that names a bug of onnxcost's (an exception it did not raise on purpose): reported, never
    hidden, as the CLI's last word or as the error row of the one model it hit in a run over many."""
    return (f"internal error: {type(exc).__name__}: {printable(str(exc))[:300]} (a bug in onnxcost, not in your "
            "model: please report it with the command line)")


class OnnxcostError(Exception):
    """Base of every error onnxcost raises on purpose; its message is one printable line a user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class ModelError(OnnxcostError):
    """The model file cannot be analysed: not ONNX, truncated, cyclic, dangling, inconsistent."""


class ConfigError(OnnxcostError):
    """A budget file, hardware profile or command-line value is malformed."""
