"""One model's report in any format, to stdout or a file: the body of `report` for the typer command and for
the fast path alike, so the two cannot differ. rich is imported only for the terminal table."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

from ..base.errors import ConfigError
from .options import BIND_HINT, Format, emit, warn

PLAIN_WIDTH = 160  # columns of a table written to a file or pipe


def write_report(model: Path, fmt: Format, output: Path | None, top: int | None, options: dict[str, Any],
                 training: str | None = None, batch: int | None = None, plot: Path | None = None,
                 plot_roofline: Path | None = None, trace: Path | None = None) -> None:
    """Analyse `model` with the API's `options`, write the plots and trace asked for, then the report."""
    from ..pipeline import analyze
    from ..report import render as formats

    rep = analyze(model, training=training, batch=batch, **options)
    warn(rep.warnings)
    profile = options.get("profile")
    if plot is not None:
        from ..report.plots import memory_png

        memory_png(rep, plot)
    if plot_roofline is not None:
        if profile is None:
            raise ConfigError("--plot-roofline needs --profile")
        from ..latency.profiles import load_profile
        from ..report.plots import roofline_png

        roofline_png(rep, load_profile(profile), plot_roofline)
    if trace is not None:
        from ..measure.trace import estimated_events, trace_json

        emit(trace_json(estimated_events(rep.nodes, rep.schedule, rep.totals.profile)), trace)
    if fmt is Format.table:
        terminal = output is None and (sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR")))
        plain = None if terminal else formats.plain_table(rep, top, BIND_HINT, PLAIN_WIDTH)
        if plain is not None:  # what rich would print to a file or pipe, drawn without it
            emit(plain, output)
            return
        from rich.console import Console

        if output is None:
            Console(width=None if sys.stdout.isatty() else PLAIN_WIDTH).print(formats.table(rep, top, BIND_HINT))
            return
        buffer = Console(width=PLAIN_WIDTH, file=io.StringIO(), color_system=None)
        buffer.print(formats.table(rep, top, BIND_HINT))
        emit(buffer.file.getvalue(), output)  # type: ignore[attr-defined]
        return
    if fmt is Format.html:
        from ..latency.profiles import load_profile
        from ..report.html import page

        emit(page(rep, load_profile(profile) if profile else None), output)
        return
    pretty = output is not None or sys.stdout.isatty()  # a pipe feeds a program: compact, at C speed
    text = {Format.json: lambda: formats.json_text(rep, pretty), Format.csv: lambda: formats.csv_text(rep, top),
            Format.markdown: lambda: formats.markdown_text(rep, top, BIND_HINT)}[fmt]()
    emit(text, output)
