"""The `onnxcost` command: parses arguments, calls the Python API, formats. It computes nothing itself.

Every error a user can cause ends as one line on stderr and exit code 2; see `main`."""

from __future__ import annotations

import io
import re
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from ..base.errors import ConfigError, OnnxcostError, internal_error, printable

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


def _markdown(fmt: E) -> E:
    """md is markdown: one enum member for the renderers to test."""
    return type(fmt)["markdown"] if fmt.value == "md" else fmt


def _only(fmt: Enum, command: str, supported: tuple[str, ...]) -> None:
    """A format the command cannot write is an error, never a silent table."""
    if fmt.value not in supported:
        raise ConfigError(f"{command} cannot write --format {fmt.value}; it writes {', '.join(supported)}")


class Schedule(str, Enum):
    file = "file"
    topo = "topo"
    optimal = "optimal"


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"


_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def parse_dims(items: list[str] | None) -> dict[str, int]:
    """['batch=1', 'seq=128'] -> {'batch': 1, 'seq': 128}."""
    out: dict[str, int] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not _DIGITS.fullmatch(value.strip()):
            raise ConfigError(f"--dim expects NAME=N with N a non-negative integer (e.g. --dim batch=1), got {item!r}")
        out[name.strip()] = int(value)
    return out


def parse_input_shapes(items: list[str] | None) -> dict[str, list[int]]:
    """['input=1x3x224x224'] -> {'input': [1, 3, 224, 224]}."""
    out: dict[str, list[int]] = {}
    for item in items or []:
        name, sep, value = item.rpartition("=")
        dims = value.replace(",", "x").split("x") if value else []
        if not sep or not name or not all(_DIGITS.fullmatch(d.strip()) for d in dims):
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
        out[name] = [int(v) if _DIGITS.fullmatch(v.lstrip("-")) else float(v) for v in parts]
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
          (re.compile(r"strict=True"), "--strict"), (re.compile(r"schedule_budget=(\S+)"), r"--schedule-budget \1")]


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
) -> None:
    """Per-node and total MACs, FLOPs, parameters, bytes and peak memory of each model."""
    from ..batch import expand
    from ..pipeline import analyze
    from ..report import render as formats

    fmt = _markdown(fmt)

    paths = expand(models)
    if not paths:
        raise ConfigError(f"no .onnx file in {', '.join(models)}")
    if len(paths) > 1 and fmt is Format.html:
        raise ConfigError("--format html takes one model")
    if trace is not None and profile is None:
        raise ConfigError("--trace needs --profile: the timeline is of estimated latencies")
    if len(paths) > 1:
        if plot is not None or plot_roofline is not None or trace is not None:
            raise ConfigError("--plot, --plot-roofline and --trace take one model")
        _report_many(paths, fmt, output, top, jobs, dict(
            dims=parse_dims(dim), input_shapes=parse_input_shapes(input_shape), schedule=schedule.value,
            schedule_budget=schedule_budget, inplace=inplace, arena=arena, profile=profile, strict=strict,
            input_values=parse_input_values(input_value)))
        return
    if batch is not None and training is None:
        raise ConfigError("--batch sets the training batch and needs --training; bind an inference batch with "
                          "--dim batch=N")
    model = paths[0]
    rep = analyze(model, dims=parse_dims(dim), input_shapes=parse_input_shapes(input_shape),
                  schedule=schedule.value, schedule_budget=schedule_budget, inplace=inplace, arena=arena,
                  training=None if training is None else training.value, batch=batch, profile=profile,
                  strict=strict, input_values=parse_input_values(input_value))
    warn(rep.warnings)
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
        if output is None:
            Console(width=None if sys.stdout.isatty() else 160).print(formats.table(rep, top))
            return
        buffer = Console(width=160, file=io.StringIO(), color_system=None)
        buffer.print(formats.table(rep, top))
        emit(buffer.file.getvalue(), output)  # type: ignore[attr-defined]
        return
    if fmt is Format.html:
        from ..latency.profiles import load_profile
        from ..report.html import page

        emit(page(rep, load_profile(profile) if profile else None), output)
        return
    text = {Format.json: lambda: formats.json_text(rep), Format.csv: lambda: formats.csv_text(rep, top),
            Format.markdown: lambda: formats.markdown_text(rep, top)}[fmt]()
    emit(text, output)


def _report_many(paths: list[Path], fmt: Format, output: Path | None, top: int | None, jobs: int,
                 kwargs: dict[str, object]) -> None:
    """Several models: a table each and a summary (or a JSON list); a model that fails is an error row and
    the others still run; exit 2 if any failed."""
    import json

    from rich.progress import Progress

    from ..batch import analyze_many

    with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("analysing", total=len(paths))
        results = analyze_many(paths, jobs, top, progress=lambda k: bar.update(task, completed=k), **kwargs)
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


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    markdown = "markdown"
    md = "md"


class DiffFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    md = "md"


ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Budget file: onnxcost.toml or a pyproject.toml with \\[tool.onnxcost]")]


@app.command()
def check(
    models: Annotated[list[Path] | None, typer.Argument(help="Models to check (default: all the budgets match)",
                                                         show_default=False)] = None,
    config: ConfigOpt = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="Output format")] = CheckFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
    max_increase: Annotated[str | None, typer.Option(
        "--max-increase", help="Fail when a total grew more than this over the stored baseline, e.g. 5%")] = None,
    skip_unmatched: Annotated[bool, typer.Option(
        "--skip-unmatched", help="Skip models no budget matches (the pre-commit hook passes every .onnx)")] = False,
) -> None:
    """CI gate: every model against its budgets. Exit 0 within budget, 1 over budget, 2 bad input or config."""
    from ..base.units import parse_percent
    from ..gate.budgets import load_config
    from ..gate.check import check as run_check
    from ..gate.formats import render_check

    fmt = _markdown(fmt)
    cfg = load_config(config)
    increase = None if max_increase is None else parse_percent(max_increase, "--max-increase")
    result = run_check(cfg, list(models or []), increase, skip_unmatched)
    emit(render_check(result, fmt.value), output)
    for m in result.models:
        if m.error:
            print(f"onnxcost: error: {flags(m.error)}", file=sys.stderr)
    raise typer.Exit(result.exit_code)


@app.command()
def baseline(
    models: Annotated[list[Path] | None, typer.Argument(
        help="Models whose current report becomes the accepted one (default: all the budgets match)",
        show_default=False)] = None,
    config: ConfigOpt = None,
) -> None:
    """Store each model's report as its accepted baseline, next to the budget file."""
    from ..gate.budgets import load_config
    from ..gate.check import store_baseline

    cfg = load_config(config)
    targets = list(models or []) or cfg.models()
    if not targets:
        raise ConfigError(f"{cfg.path}: no model matches any budget pattern")
    for model in targets:
        print(f"stored {store_baseline(cfg, model)}")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="Old model (.onnx) or stored report (.json)", show_default=False)],
    new: Annotated[Path, typer.Argument(help="New model (.onnx) or stored report (.json)", show_default=False)],
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format")] = DiffFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many nodes to list")] = 10,
    dim: DimOpt = None,
    input_shape: ShapeOpt = None,
    config: ConfigOpt = None,
) -> None:
    """What changed between two models: totals, op types, nodes added, removed and changed most. A model's
    unbound dims are bound as its budget says, then as the stored report it is compared with had them, then
    as --dim/--input-shape say; a dim the model fixes is never rebound. A stored report's profile is used for
    the model it is compared with."""
    import json

    from ..gate.budgets import find_config, load_config
    from ..gate.diff import diff as run_diff
    from ..gate.diff import load_report, stored_dims
    from ..gate.formats import diff_markdown, diff_text

    fmt = _markdown(fmt)

    try:
        cfg = load_config(config if config is not None else find_config())
    except ConfigError:
        if config is not None:
            raise
        cfg = None

    def binding(path: Path, other: dict[str, object] | None) -> tuple[dict[str, int], dict[str, list[int]],
                                                                      str | None]:
        budget = cfg.budget_for(path) if cfg is not None else None
        dims = {**(stored_dims(other, path) if other else {}), **(budget.dims if budget else {}), **parse_dims(dim)}
        shapes = {**(budget.input_shapes if budget else {}), **parse_input_shapes(input_shape)}
        totals = (other or {}).get("totals")
        profile = totals.get("profile") if isinstance(totals, dict) else None
        return dims, shapes, profile if isinstance(profile, str) else None

    stored = {p: load_report(p) for p in (old, new) if p.suffix == ".json"}
    reports = []
    for path, other in ((old, new), (new, old)):
        reports.append(stored.get(path) or load_report(path, *binding(path, stored.get(other))))
    d = run_diff(reports[0], reports[1], str(old), str(new))
    text = {DiffFormat.text: lambda: diff_text(d, top), DiffFormat.markdown: lambda: diff_markdown(d, top),
            DiffFormat.json: lambda: json.dumps(d.to_dict(), indent=1) + "\n"}[fmt]()
    emit(text, output)


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
    from rich.progress import Progress

    from ..measure.calibrate import calibrate as run_calibrate
    from ..measure.calibrate import unsteady

    with Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
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
        "--params", help="Comma-separated parameters to fit (default: every op class's efficiency and the "
                         "overhead terms)")] = None,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, max=4096, help="The CPU threads the timings ran on (the parallel_flops_half term)")]
    = None,
) -> None:
    """Fit a profile of a device to end-to-end timings measured there; prints leave-one-model-out errors."""
    from ..latency.profiles import load_profile, to_toml
    from ..measure.fit import fit, read_csv, summary

    start = load_profile(base)
    if threads is not None:
        start = replace(start, threads=threads)
    result = fit(read_csv(measurements, latency_column), start,
                 [p.strip() for p in params.split(",")] if params else None)
    fitted, held = summary(result.fitted), summary(result.held_out)
    comments = [f"Fitted by `onnxcost fit` on {len(result.fitted)} timings in {measurements.name}, from {base}.",
                "Parameters: " + ", ".join(f"{k} = {v:.4g}" for k, v in result.parameters.items())]
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
        if not sep or not name.strip() or not all(_DIGITS.fullmatch(v) for v in parts):
            raise ConfigError(f"--dim expects NAME=V1,V2,… with non-negative integers, got {item!r}")
        if len(parts) == 1:
            fixed[name.strip()] = int(parts[0])
        else:
            grid[name.strip()] = [int(v) for v in parts]
    fmt = _markdown(fmt)
    _only(fmt, "sweep", ("table", "json", "csv", "markdown", "md"))
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

    from ..ops import coverage

    fmt = _markdown(fmt)
    _only(fmt, "ops", ("table", "json", "csv", "markdown", "md"))
    rows = [dataclasses.asdict(r) for r in coverage(domain)]
    if not rows:
        raise ConfigError(f"no ops in domain {domain!r}")
    if fmt is Format.json:
        emit(json.dumps(rows, indent=1) + "\n", output)
        return
    header = list(rows[0])
    cells = [[str(r[k]) if not isinstance(r[k], bool) else ("yes" if r[k] else "-") for k in header] for r in rows]
    emit_rows(header, cells, fmt, output, title=f"{len(rows)} op definitions")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turn every onnxcost error into one line and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        names = ", ".join(sorted(str(c.name or getattr(c.callback, "__name__", "")) for c in app.registered_commands))
        print(f"onnxcost: error: no command given (one of: {names}); see onnxcost --help", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        rc = app(args=args, standalone_mode=False)
        if isinstance(rc, int):  # click returns an Exit's code instead of raising it here
            return rc
    except OnnxcostError as exc:
        print(f"onnxcost: error: {flags(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # typer raises it for --help and exits inside commands
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("onnxcost: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise is one line and exit 2, never a traceback
        # typer's click (vendored or not) signals usage errors and explicit exits with exceptions.
        if type(exc).__name__ == "Exit":
            return int(getattr(exc, "exit_code", 0))
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # a usage error: one line, not click's block
            print(f"onnxcost: error: {printable(exc.format_message())}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if type(exc).__name__ == "Abort":
            return 1
        print(f"onnxcost: {internal_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
