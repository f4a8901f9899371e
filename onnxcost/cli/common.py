"""What every typer command shares: the app, `emit_rows` for tables, the root callback and the argument types.
What needs no typer lives in `options.py`."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Annotated

import typer

from .options import Format, emit

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="What will this exported model cost? MACs, FLOPs, params, memory, latency.")


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
        from rich.console import Console
        from rich.table import Table

        from ..report.tables import add_row

        table = Table(header_style="bold", title=title)
        for col in header:
            table.add_column(col, justify="right" if col in right else "left")
        for row in shown or rows:
            add_row(table, *row)
        if output is None:
            sys.stdout.write(before)
            Console(width=None if sys.stdout.isatty() else 160).print(table)
        else:
            buffer = Console(width=160, file=io.StringIO(), color_system=None)
            buffer.print(table)
            emit(before + buffer.file.getvalue(), output)  # type: ignore[attr-defined]


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
