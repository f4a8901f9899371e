"""What every command shares: the typer app, output formats, the parsers of --dim, --input-shape and
--input-value, warnings in the command line's words, and writing to stdout or a file."""

from __future__ import annotations

import io
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from ..base.errors import ConfigError, printable

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="What will this exported model cost? MACs, FLOPs, params, memory, latency.")

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


def emit_rows(header: list[str], rows: list[list[str]], fmt: Format, output: Path | None = None, title: str = "",
              shown: list[list[str]] | None = None, right: frozenset[str] = frozenset(), before: str = "") -> None:
    """A table of rows as CSV, Markdown or a terminal table (`shown`: the cells as displayed there, with units;
    `before`: text the table follows). The JSON of each command is its own."""
    from ..report import render as formats

    if fmt is Format.csv:
        emit(formats.csv_rows(header, rows), output)
    elif fmt is Format.markdown:
        emit(formats.markdown_rows(header, rows), output)
    else:
        from rich.table import Table

        table = Table(header_style="bold", title=title)
        for col in header:
            table.add_column(col, justify="right" if col in right else "left")
        for row in shown or rows:
            formats.add_row(table, *row)
        if output is None:
            sys.stdout.write(before)
            Console(width=None if sys.stdout.isatty() else 160).print(table)
        else:
            buffer = Console(width=160, file=io.StringIO(), color_system=None)
            buffer.print(table)
            emit(before + buffer.file.getvalue(), output)  # type: ignore[attr-defined]


#: The Python API names its parameters in messages; the command line says its flags instead.
_FLAGS = [(re.compile(r"dims=\{'([^']*)': N\}"), r"--dim \1=N"), (re.compile(r"dims\['([^']*)'\]"), r"--dim \1"),
          (re.compile(r"dims=\{\.\.\.\}"), "--dim NAME=N"),
          (re.compile(r"input_shapes=\{'([^']*)': \[[^]]*\]\}"), r"--input-shape \1=1x3x224x224"),
          (re.compile(r"input_shapes\['([^']*)'\]"), r"--input-shape \1"),
          (re.compile(r"input_values\['([^']*)'\]"), r"--input-value \1"),
          (re.compile(r"strict=True"), "--strict"), (re.compile(r"schedule_budget=(\S+)"), r"--schedule-budget \1"),
          (re.compile(r"config=FILE"), "--config FILE"), (re.compile(r"names=\[\.\.\.\]"), "--params"),
          (re.compile(r"threads=N"), "--threads N")]


#: The unbound-dims row of a report table, in the command line's words.
BIND_HINT = "--dim {name}=N (or `onnxcost sweep`)"


def flags(message: str) -> str:
    """An API message in the command line's words: dims={'seq': N} becomes --dim seq=N."""
    for pattern, replacement in _FLAGS:
        message = pattern.sub(replacement, message)
    return message


def warn(messages: list[str]) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for m in messages[:MAX_WARNINGS_SHOWN]:
        err.print(f"onnxcost: warning: {printable(flags(m))}", markup=False, highlight=False)
    if len(messages) > MAX_WARNINGS_SHOWN:
        err.print(f"onnxcost: warning: … and {len(messages) - MAX_WARNINGS_SHOWN} more "
                  "(all are in --format json under \"warnings\")", markup=False)


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        print(f"onnxcost {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit")] = False,
) -> None:
    """What will this exported model cost? MACs, FLOPs, params, memory, latency."""


ModelArg = Annotated[Path, typer.Argument(help="ONNX model file", show_default=False)]
DimOpt = Annotated[list[str] | None, typer.Option("--dim", help="Bind a symbolic dim: NAME=INT (repeatable)")]
ValueOpt = Annotated[list[str] | None, typer.Option(
    "--input-value", help="NAME=V[,V…]: the value of a scalar or 1-D input (sample rate, length, flag)")]
ShapeOpt = Annotated[list[str] | None, typer.Option(
    "--input-shape", help="Fix an input's shape: NAME=1x3x224x224 (repeatable)")]
