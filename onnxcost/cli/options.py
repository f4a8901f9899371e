"""What the command line shares that needs no typer: output formats and choices, the parsers of --dim,
--input-shape and --input-value, warnings in the command line's words, and writing to stdout or a file. The
fast `report` path (`fast.py`) runs on these alone."""

from __future__ import annotations

import re
import sys
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from ..base.errors import ConfigError, printable

EXIT_BAD_INPUT = 2
MAX_WARNINGS_SHOWN = 12


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    md = "md"  # markdown's short name, in every command
    html = "html"


E = TypeVar("E", bound=Enum)


def as_markdown(fmt: E) -> E:
    """md is markdown: one enum member for the renderers to test."""
    return type(fmt)["markdown"] if fmt.value == "md" else fmt


def require_format(fmt: Enum, command: str, supported: tuple[str, ...]) -> None:
    """A format the command cannot write is an error, never a silent table."""
    if fmt.value not in supported:
        raise ConfigError(f"{command} cannot write --format {fmt.value}; it writes {', '.join(supported)}")


class Schedule(str, Enum):
    file = "file"
    topo = "topo"
    optimal = "optimal"


class Fusions(str, Enum):
    patterns = "patterns"
    onnxruntime = "onnxruntime"


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def parse_dims(items: list[str] | None) -> dict[str, int]:
    """['batch=1', 'seq=128'] -> {'batch': 1, 'seq': 128}."""
    out: dict[str, int] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not DIGITS.fullmatch(value.strip()):
            raise ConfigError(f"--dim expects NAME=N with N a non-negative integer (e.g. --dim batch=1), got {item!r}")
        out[name.strip()] = int(value)
    return out


def parse_input_shapes(items: list[str] | None) -> dict[str, list[int]]:
    """['input=1x3x224x224'] -> {'input': [1, 3, 224, 224]}."""
    out: dict[str, list[int]] = {}
    for item in items or []:
        name, sep, value = item.rpartition("=")
        dims = value.replace(",", "x").split("x") if value else []
        if not sep or not name or not all(DIGITS.fullmatch(d.strip()) for d in dims):
            raise ConfigError(f"--input-shape expects NAME=1x3x224x224, got {item!r}")
        out[name] = [int(d) for d in dims]
    return out


def parse_input_values(items: list[str] | None) -> dict[str, list[float]]:
    """['sr=16000', 'lengths=3,5'] -> {'sr': [16000], 'lengths': [3, 5]} (ints stay ints)."""
    out: dict[str, list[float]] = {}
    for item in items or []:
        name, sep, value = item.rpartition("=")
        parts = [v.strip() for v in value.split(",")] if value else []
        if not sep or not name or not parts or not all(_NUMBER.fullmatch(v) for v in parts):
            raise ConfigError(f"--input-value expects NAME=V[,V…] with numbers, got {item!r}")
        out[name] = [int(v) if DIGITS.fullmatch(v.lstrip("-")) else float(v) for v in parts]
    return out


#: The Python API names its parameters in messages; the command line says its flags instead. Patterns, not
#: compiled ones: `re` compiles (and caches) them the first time a message needs them, not at every start.
_FLAGS = [(r"dims=\{'([^']*)': N\}", r"--dim \1=N"), (r"dims\['([^']*)'\]", r"--dim \1"),
          (r"dims=\{\.\.\.\}", "--dim NAME=N"),
          (r"input_shapes=\{'([^']*)': \[[^]]*\]\}", r"--input-shape \1=1x3x224x224"),
          (r"input_shapes\['([^']*)'\]", r"--input-shape \1"),
          (r"input_values\['([^']*)'\]", r"--input-value \1"),
          (r"strict=True", "--strict"), (r"schedule_budget=(\S+)", r"--schedule-budget \1"),
          (r"config=FILE", "--config FILE"), (r"names=\[\.\.\.\]", "--params"),
          (r"threads=N", "--threads N")]


#: The unbound-dims row of a report table, in the command line's words.
BIND_HINT = "--dim {name}=N (or `onnxcost sweep`)"


def flags(message: str) -> str:
    """An API message in the command line's words: dims={'seq': N} becomes --dim seq=N."""
    for pattern, replacement in _FLAGS:
        message = re.sub(pattern, replacement, message)
    return message


def warn(messages: list[str]) -> None:
    """Each warning as one plain line on stderr (names in it are data: printable, never markup)."""
    for m in messages[:MAX_WARNINGS_SHOWN]:
        print(f"onnxcost: warning: {printable(flags(m))}", file=sys.stderr)
    if len(messages) > MAX_WARNINGS_SHOWN:
        print(f"onnxcost: warning: … and {len(messages) - MAX_WARNINGS_SHOWN} more "
              "(all are in --format json under \"warnings\")", file=sys.stderr)


def emit(text: str, output: Path | None) -> None:
    """Write to stdout, or to `output` with an unwritable file as a ConfigError."""
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None


def api_options(dim: list[str] | None, input_shape: list[str] | None, input_value: list[str] | None,
                schedule: Schedule, schedule_budget: float, inplace: bool, arena: bool, profile: str | None,
                strict: bool, fusions: Fusions) -> dict[str, Any]:
    """The keyword arguments of `onnxcost.analyze` that `report`'s flags set, parsed and checked."""
    return dict(dims=parse_dims(dim), input_shapes=parse_input_shapes(input_shape), schedule=schedule.value,
                schedule_budget=schedule_budget, inplace=inplace, arena=arena, profile=profile, strict=strict,
                input_values=parse_input_values(input_value), fusions=fusions.value)
