"""Many models in one call: each model file (paths.expand) analysed, in a process pool with several jobs, a
failure kept as an error row while the others still run."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.errors import OnnxcostError, internal_error

if TYPE_CHECKING:
    from .report.schema import Report


@dataclass(frozen=True)
class ModelResult:
    """One model's report as its JSON dict and its rendered table, or the one-line error that stopped it."""

    path: str
    report: dict[str, Any] | None
    table: str
    error: str | None = None


def analyze_one(path: Path, kwargs: dict[str, Any]) -> tuple[Report | None, str | None]:
    """One model of many: its report, or the error it raised (a bug in it named as an internal error), so that
    one model never stops a run over many."""
    from .pipeline import analyze

    try:
        return analyze(path, **kwargs), None
    except OnnxcostError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in one model is its error row, named; the others still run
        return None, f"{path}: {internal_error(exc)}"


def _one(path: Path, kwargs: dict[str, Any], top: int | None, bind_hint: str | None) -> ModelResult:
    from rich.console import Console

    from .report import render as formats

    rep, error = analyze_one(path, kwargs)
    if rep is None:
        return ModelResult(str(path), None, "", error)
    buffer = Console(width=160, file=io.StringIO(), color_system=None)
    buffer.print(formats.table(rep, top, bind_hint or formats.API_BIND_HINT))
    return ModelResult(str(path), rep.to_dict(), buffer.file.getvalue())  # type: ignore[attr-defined]


def analyze_many(paths: Sequence[Path], jobs: int = 1, top: int | None = None,
                 progress: Callable[[int], None] | None = None, bind_hint: str | None = None,
                 **kwargs: Any) -> list[ModelResult]:
    """Analyse every model, in input order, with `jobs` worker processes; kwargs go to `analyze`, and
    `bind_hint` to the table (render.API_BIND_HINT by default).

    Returns
    -------
    One ModelResult per path: the report, or the error that model raised (the others still run)."""
    if jobs <= 1:
        results = []
        for k, p in enumerate(paths):
            results.append(_one(p, kwargs, top, bind_hint))
            if progress:
                progress(k + 1)
        return results
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_one, p, kwargs, top, bind_hint) for p in paths]
        results = []
        for k, f in enumerate(futures):
            results.append(f.result())
            if progress:
                progress(k + 1)
        return results
