"""The CI gate's commands: check, baseline and diff."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..base.errors import ConfigError
from .common import DimOpt, ShapeOpt, app
from .options import as_markdown, emit, flags, parse_dims, parse_input_shapes


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

    fmt = as_markdown(fmt)
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

    fmt = as_markdown(fmt)

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
