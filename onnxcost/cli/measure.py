"""The measurement commands: bench, calibrate, profiles and fit."""

from __future__ import annotations

import io
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..base.errors import ConfigError
from .common import DimOpt, ModelArg, ShapeOpt, ValueOpt, app, emit_rows
from .options import Format, emit, parse_dims, parse_input_shapes, parse_input_values


class BenchFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def bench(
    model: ModelArg,
    provider: Annotated[str, typer.Option("--provider", help="onnxruntime execution provider")]
    = "CPUExecutionProvider",
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Intra-op threads (default: all cores)")]
    = None,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed runs first")] = 5,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Timed runs")] = 50,
    per_node: Annotated[bool, typer.Option("--per-node", help="Profile each node and join it to the graph")]
    = False,
    profile: Annotated[str | None, typer.Option(
        "--profile", help="Hardware profile for the estimate beside the measurement (default: local if present)")]
    = None,
    fmt: Annotated[BenchFormat, typer.Option("--format", "-f", help="Output format")] = BenchFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
    dim: DimOpt = None,
    input_shape: ShapeOpt = None,
    input_value: ValueOpt = None,
    inputs: Annotated[Path | None, typer.Option("--inputs", help="An .npz file of input arrays, by input name")]
    = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N first nodes of the per-node table")]
    = None,
    sort: Annotated[str, typer.Option("--sort", help="Per-node order: measured, estimated, ratio or graph")]
    = "measured",
    trace: Annotated[Path | None, typer.Option(
        "--trace", help="Write onnxruntime's measured per-node timeline beside the estimated one (Chrome trace "
                        "JSON, for Perfetto); implies --per-node")] = None,
) -> None:
    """Run MODEL with onnxruntime: measured latency beside the roofline estimate, per model and per node."""
    import json

    import numpy as np
    from rich.console import Console
    from rich.progress import Progress

    from ..gate.formats import BENCH_SORTS
    from ..latency.profiles import available
    from ..measure.bench import bench as run_bench

    if sort not in BENCH_SORTS:
        raise ConfigError(f"--sort {sort!r}: choose one of {', '.join(BENCH_SORTS)}")
    given: dict[str, np.ndarray] = {}
    if inputs is not None:
        try:
            with np.load(inputs, allow_pickle=False) as data:
                given.update({k: np.asarray(data[k]) for k in data.files})
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--inputs {inputs}: not a readable .npz file of arrays ({exc})") from None
    given.update({k: np.asarray(v) for k, v in parse_input_values(input_value).items()})
    if profile is None and "local" in available():
        profile = "local"
    quiet = fmt is BenchFormat.json or not sys.stderr.isatty()
    with Progress(console=Console(stderr=True), transient=True, disable=quiet) as bar:
        task = bar.add_task("running", total=runs)
        result = run_bench(model, parse_dims(dim), parse_input_shapes(input_shape), provider, threads, warmup, runs,
                           per_node or trace is not None, profile, progress=lambda k: bar.update(task, completed=k),
                           inputs=given)
    if trace is not None:
        from ..measure.trace import trace_json

        emit(trace_json(result.trace_events), trace)
    if profile is None:
        print("onnxcost: hint: give --profile NAME (or run `onnxcost calibrate` once) to see the estimate beside "
              "the measurement", file=sys.stderr)
    if fmt is BenchFormat.json:
        emit(json.dumps(result.to_dict(), indent=1) + "\n", output)
        return
    from ..gate import formats as gate_formats

    if output is not None:
        buffer = Console(width=160, file=io.StringIO(), color_system=None)
        buffer.print(gate_formats.bench_table(result, top, sort))
        emit(buffer.file.getvalue(), output)  # type: ignore[attr-defined]
        return
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(gate_formats.bench_table(result, top, sort))


@app.command()
def calibrate(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the fitted profile "
                                                                     "(default: local.toml in the user's profiles)")]
    = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Intra-op threads (default: all cores)")]
    = None,
    seconds: Annotated[float, typer.Option("--seconds", min=0.1, help="Timing budget per microbenchmark")] = 5.0,
) -> None:
    """Fit a hardware profile of this machine from onnxruntime microbenchmarks (use it as --profile local)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..measure.calibrate import calibrate as run_calibrate
    from ..measure.calibrate import unsteady

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("calibrating", total=1)

        def step(name: str, k: int, total: int) -> None:
            bar.update(task, total=total, completed=k, description=f"calibrating: {name}")

        text, results = run_calibrate(threads, seconds, progress=step)
    try:
        if output is None:
            from ..latency.profiles import user_dir

            output = user_dir() / "local.toml"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}; use it with --profile {output.stem if output.parent.name == 'hwprofiles' else output}")
    spread = unsteady(results)
    if spread:
        print(f"warning: this machine's speed changed while calibrating (a typical case's slowest round took "
              f"{spread:.2f}x its fastest); the profile holds each case's median. On a shared machine, calibrate "
              "again when it is quiet, or compare with `onnxcost bench`.", file=sys.stderr)


@app.command()
def profiles() -> None:
    """List the hardware profiles: shipped ones and those in ./hwprofiles/."""
    from rich.console import Console
    from rich.table import Table

    from ..latency.profiles import available, load_profile

    table = Table(header_style="bold")
    for col in ("name", "device", "fp32 GFLOP/s", "int8 GOP/s", "GB/s", "file"):
        table.add_column(col, justify="right" if "/s" in col else "left")
    for name, path in available().items():
        p = load_profile(str(path))
        table.add_row(name, p.name, f"{p.peak_flops['fp32'] / 1e9:,.1f}",
                      f"{p.peak_flops.get('int8', 0) / 1e9:,.1f}", f"{p.bandwidth / 1e9:,.1f}", str(path))
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@app.command("fit")
def fit_cmd(
    measurements: Annotated[Path, typer.Argument(help="CSV: model (path relative to it), latency_ms, optional "
                                                      "dims, input_shapes and group (rows left out together)",
                                                 show_default=False)],
    base: Annotated[str, typer.Option("--base", help="The profile to start from (name or .toml)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the fitted profile")],
    latency_column: Annotated[str, typer.Option("--latency-column", help="The CSV column of times in ms")]
    = "latency_ms",
    params: Annotated[str | None, typer.Option(
        "--params", help="Comma-separated parameters to fit (default: chosen by forward selection on "
                         "leave-one-model-out error among speed, op-class efficiencies and overhead terms)")] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, max=4096, help="The CPU threads the timings ran on (the parallel_flops_half term)")]
    = None,
) -> None:
    """Fit a profile of a device to end-to-end timings measured there; prints leave-one-model-out errors."""
    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeElapsedColumn

    from ..latency.profiles import load_profile, to_toml
    from ..measure.fit import fit, read_csv, selection_path, summary

    start = load_profile(base)
    if threads is not None:
        start = replace(start, threads=threads)
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("fitting", total=None)
        result = fit(read_csv(measurements, latency_column), start,
                     [p.strip() for p in params.split(",")] if params else None,
                     progress=lambda names: bar.update(task, description=f"leaving one model out: {names}"))
    fitted, held = summary(result.fitted), summary(result.held_out)
    comments = [f"Fitted by `onnxcost fit` on {len(result.fitted)} timings in {measurements.name}, from {base}.",
                "Parameters: " + (", ".join(f"{k} = {v:.4g}" for k, v in result.parameters.items())
                                  or "none (the base profile predicts the models left out best)")]
    if result.candidates:
        comments.append(f"Chosen by forward selection on leave-one-model-out median + p90 |error| "
                        f"({len(result.candidates)} sets tried): {selection_path(result)}.")
    if result.at_bound:
        comments.append("At the end of its physical range (the data push it further): " + ", ".join(result.at_bound))
    if fitted:
        comments.append(f"On the fitted timings: median |error| {fitted[0]:.1%}, p90 {fitted[1]:.1%}.")
    if held:
        comments.append(f"Leave one model out: median |error| {held[0]:.1%}, p90 {held[1]:.1%}.")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(to_toml(replace(result.profile, name=f"{result.profile.name} (fitted)"), comments))
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror or exc}") from None
    rows = [[p.label, f"{p.measured_ms:.4g}", f"{p.predicted_ms:.4g}", f"{p.error:+.1%}"] for p in
            (result.held_out or result.fitted)]
    which = "left out of the fit" if result.held_out else "fitted (too few models to leave one out)"
    emit_rows(["measurement", "measured ms", "predicted ms", "error"], rows, Format.table,
              title=f"Each model {which}", right=frozenset({"measured ms", "predicted ms", "error"}))
    for line in comments[1:]:
        print(line)
    print(f"wrote {output}")
