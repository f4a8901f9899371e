"""The analysis commands: report, annotate, sweep and ops."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from ..base.errors import ConfigError
from .common import DimOpt, ModelArg, ShapeOpt, ValueOpt, app, emit_rows
from .options import (
    BIND_HINT,
    DIGITS,
    EXIT_BAD_INPUT,
    Format,
    Fusions,
    Optimizer,
    Schedule,
    api_options,
    as_markdown,
    emit,
    flags,
    parse_dims,
    parse_input_shapes,
    parse_input_values,
    require_format,
    warn,
)
from .single import write_report


@app.command()
def report(
    models: Annotated[list[str], typer.Argument(help="ONNX model files, folders or globs ('zoo/**/*.onnx')",
                                                show_default=False)],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N heaviest nodes")] = None,
    dim: DimOpt = None,
    input_shape: ShapeOpt = None,
    schedule: Annotated[Schedule, typer.Option(
        "--schedule", help="Execution order for the peak: the file's, a breadth-first one, or minimum-peak")
    ] = Schedule.optimal,
    schedule_budget: Annotated[float, typer.Option(
        "--schedule-budget", min=0.0, help="Seconds the optimal scheduler may spend proving optimality")] = 1.0,
    inplace: Annotated[bool, typer.Option(
        "--inplace", help="Views alias their input; unary ops overwrite an input they read last")] = False,
    arena: Annotated[bool, typer.Option("--arena", help="Plan one buffer with an offset per activation")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the memory timeline as a PNG")] = None,
    training: Annotated[Optimizer | None, typer.Option(
        "--training", help="Add training compute and memory with this optimizer")] = None,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Training batch size")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="Hardware profile (see `onnxcost profiles`) or a .toml file: roofline latency")] = None,
    plot_roofline: Annotated[Path | None, typer.Option(
        "--plot-roofline", help="With --profile: write each node on the device's roofline as a PNG")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Any node of unknown cost is an error (exit 2)")] = False,
    input_value: ValueOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Models analysed in parallel")] = 1,
    trace: Annotated[Path | None, typer.Option(
        "--trace", help="With --profile: write the estimated per-node timeline (Chrome trace JSON, for Perfetto)")]
    = None,
    fusions: Annotated[Fusions, typer.Option(
        "--fusions", help="With --profile: which nodes run fused, from the estimate's rules or from the graph "
        "onnxruntime optimizes (opens a session: reads the weights)")] = Fusions.patterns,
) -> None:
    """Per-node and total MACs, FLOPs, parameters, bytes and peak memory of each model."""
    from ..paths import expand

    fmt = as_markdown(fmt)

    paths = expand(models)
    if not paths:
        raise ConfigError(f"no .onnx file in {', '.join(models)}")
    if trace is not None and profile is None:
        raise ConfigError("--trace needs --profile: the timeline is of estimated latencies")
    options = api_options(dim, input_shape, input_value, schedule, schedule_budget, inplace, arena, profile, strict,
                          fusions)
    if len(paths) > 1:
        if plot is not None or plot_roofline is not None or trace is not None:
            raise ConfigError("--plot, --plot-roofline and --trace take one model")
        if fmt is Format.html:
            _html_many(paths, output, profile, options)
            return
        _report_many(paths, fmt, output, top, jobs, options)
        return
    if batch is not None and training is None:
        raise ConfigError("--batch sets the training batch and needs --training; bind an inference batch with "
                          "--dim batch=N")
    write_report(paths[0], fmt, output, top, options, None if training is None else training.value, batch, plot,
                 plot_roofline, trace)


def _html_many(paths: list[Path], output: Path | None, profile: str | None, kwargs: dict[str, Any]) -> None:
    """One HTML page for many models; a model that fails is its error row there, the others still run."""
    from ..batch import analyze_one
    from ..latency.profiles import load_profile
    from ..report.html import pages

    items: list[tuple[str, Any, str | None]] = []
    for path in paths:
        rep, error = analyze_one(path, kwargs)
        if rep is not None:
            warn([f"{path}: {w}" for w in rep.warnings])
        items.append((str(path), rep, None if error is None else flags(error)))
    emit(pages(items, load_profile(profile) if profile else None), output)
    for name, _, error in items:
        if error:
            print(f"onnxcost: error: {error if error.startswith(name) else f'{name}: {error}'}", file=sys.stderr)
    if any(error for _, _, error in items):
        raise typer.Exit(EXIT_BAD_INPUT)


def _report_many(paths: list[Path], fmt: Format, output: Path | None, top: int | None, jobs: int,
                 kwargs: dict[str, object]) -> None:
    """Several models: a table each and a summary (or a JSON list); a model that fails is an error row and
    the others still run; exit 2 if any failed."""
    import json

    from rich.console import Console
    from rich.progress import Progress

    from ..batch import analyze_many

    with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("analysing", total=len(paths))
        results = analyze_many(paths, jobs, top, progress=lambda k: bar.update(task, completed=k),
                               bind_hint=BIND_HINT, **kwargs)
    failed = [r for r in results if r.error]
    for r in results:  # each model's warnings, named: a missing weights file or an unbound dim is news
        warn([f"{r.path}: {w}" for w in (r.report or {}).get("warnings", [])])
    for r in failed:
        print(f"onnxcost: error: {flags(r.error or '')}", file=sys.stderr)
    if fmt is Format.json:
        emit(json.dumps([r.report if r.report is not None else {"path": r.path, "error": r.error}
                         for r in results], indent=1) + "\n", output)
    else:
        header = ["model", "nodes", "macs", "flops", "params", "peak_memory_bytes", "latency_ms", "error"]
        rows = []
        for r in results:
            t = (r.report or {}).get("totals", {})
            formulas = ((r.report or {}).get("symbolic") or {}).get("totals") or {}
            cells = [str(t[k]) if t.get(k) is not None else str(formulas.get(k) or "") for k in header[1:-1]]
            rows.append([r.path, *cells, r.error or ""])  # a total left a formula by unbound dims shows it
        emit_rows(header, rows, fmt, output, title=f"{len(results)} models", right=frozenset(header[1:-1]),
                  before="".join(r.table for r in results if r.report is not None) if fmt is Format.table else "")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def annotate(
    model: ModelArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The annotated copy (never the input)")],
    dim: DimOpt = None,
    input_shape: ShapeOpt = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Add each node's estimated latency")] = None,
    input_value: ValueOpt = None,
) -> None:
    """Write a copy of MODEL whose nodes carry their costs where Netron shows them."""
    from ..annotate import annotate as run_annotate

    rep = run_annotate(model, output, dims=parse_dims(dim), input_shapes=parse_input_shapes(input_shape),
                       profile=profile, input_values=parse_input_values(input_value) or None)
    warn(rep.warnings)
    print(f"wrote {output}: {len(rep.nodes)} nodes annotated; open it in Netron")


@app.command("sweep")
def sweep_cmd(
    model: ModelArg,
    dim: Annotated[list[str], typer.Option("--dim", help="NAME=V1,V2,… to sweep (repeatable), or NAME=V to bind")],
    input_shape: ShapeOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json, csv or markdown")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
    input_value: ValueOpt = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Add a latency estimate per point")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Draw MACs, peak memory, latency against a dim")]
    = None,
    memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Peak memory per point (a schedule each)")]
    = True,
) -> None:
    """Totals of MODEL over a grid of dim values: --dim seq=128,512,2048 --dim batch=1,8."""
    import json

    from ..measure.sweep import sweep

    grid: dict[str, list[int]] = {}
    fixed: dict[str, int] = {}
    for item in dim:
        name, sep, values = item.partition("=")
        parts = [v.strip() for v in values.split(",")]
        if not sep or not name.strip() or not all(DIGITS.fullmatch(v) for v in parts):
            raise ConfigError(f"--dim expects NAME=V1,V2,… with non-negative integers, got {item!r}")
        if len(parts) == 1:
            fixed[name.strip()] = int(parts[0])
        else:
            grid[name.strip()] = [int(v) for v in parts]
    fmt = as_markdown(fmt)
    require_format(fmt, "sweep", ("table", "json", "csv", "markdown", "md"))
    points = sweep(model, grid or {k: [v] for k, v in fixed.items()}, {} if not grid else fixed, profile, memory,
                   input_shapes=parse_input_shapes(input_shape), input_values=parse_input_values(input_value))
    if plot is not None:
        from ..report.plots import sweep_png

        sweep_png(points, plot)
    if fmt is Format.json:
        emit(json.dumps({"points": [{"dims": p.dims, "totals": p.totals} for p in points]}, indent=1) + "\n",
             output)
        return
    from ..base.units import binary_bytes, si

    header = [*points[0].dims, *points[0].totals]
    rows = [[str(v) for v in p.dims.values()] + ["" if v is None else str(v) for v in p.totals.values()]
            for p in points]
    shown = [[str(v) for v in p.dims.values()] + [
        binary_bytes(v) if key.endswith("bytes") else "?" if v is None else f"{v:,.3f}" if key == "latency_ms"
        else si(v) for key, v in p.totals.items()] for p in points]
    emit_rows(header, rows, fmt, output, title=f"{len(points)} points", shown=shown, right=frozenset(header))


@app.command("ops")
def ops_table(
    domain: Annotated[str | None, typer.Option("--domain", help="Only this domain (ai.onnx, ai.onnx.ml, "
                                                                "com.microsoft)")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, json, csv or markdown")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
) -> None:
    """The op coverage table: each op's opsets, and whether onnxcost has its shape, value and cost rules."""
    import dataclasses
    import json

    from ..latency.hints import hints
    from ..ops.coverage import coverage

    fmt = as_markdown(fmt)
    require_format(fmt, "ops", ("table", "json", "csv", "markdown", "md"))
    # the latency class beside the semantics, before the note (the column the table has always had there)
    rows = [{**{k: v for k, v in dataclasses.asdict(r).items() if k != "note"},
             "op_class": hints(r.domain, r.op_type).op_class, "note": r.note} for r in coverage(domain)]
    if not rows:
        raise ConfigError(f"no ops in domain {domain!r}")
    if fmt is Format.json:
        emit(json.dumps(rows, indent=1) + "\n", output)
        return
    header = list(rows[0])
    cells = [[str(r[k]) if not isinstance(r[k], bool) else ("yes" if r[k] else "-") for k in header] for r in rows]
    emit_rows(header, cells, fmt, output, title=f"{len(rows)} op definitions")
