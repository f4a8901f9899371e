"""Many models in one call: paths, folders and globs expanded to model files, each analysed (in a process pool
with several jobs), a failure kept as an error row while the others still run."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base.errors import ConfigError, OnnxcostError, internal_error

if TYPE_CHECKING:
    from .report.schema import Report


@dataclass(frozen=True)
class ModelResult:
    """One model's report as its JSON dict and its rendered table, or the one-line error that stopped it."""

    path: str
    report: dict[str, Any] | None
    table: str
    error: str | None = None


def _glob(pattern: str) -> list[Path]:
    """Matches of a glob, ** included, by pathlib from its fixed leading folders: a ** never follows a
    symlinked folder (`up -> ..` would loop), unlike glob.glob's."""
    parts = Path(pattern).parts
    fixed = next((k for k, part in enumerate(parts) if any(c in part for c in "*?[")), len(parts))
    root = Path(*parts[:fixed]) if fixed else Path(".")
    rest = "/".join(parts[fixed:])
    if any("**" in part and part != "**" for part in parts[fixed:]):
        raise ConfigError(f"{pattern!r}: '**' can only be a whole path component")
    found = [p for p in root.glob(rest) if p.is_file()]
    for p in found:  # a match through a symlinked folder (d/out -> ../secrets) leaves the glob's folder
        if not p.resolve().is_relative_to(root.resolve()):
            raise ConfigError(f"{str(p)!r}, matched by {pattern!r}, resolves outside {str(root)!r}")
    return found


def expand(items: Sequence[str]) -> list[Path]:
    """Files as given, folders as every *.onnx below them, globs (** included) as their matches; sorted within
    each item, duplicates dropped. An item that matches nothing is kept, so it reports as missing."""
    out: list[Path] = []
    for item in items:
        path = Path(item)
        try:
            folder = path.is_dir()
        except OSError:  # a name too long to look up: the load stage says so, in one line
            folder = False
        if folder:
            found = sorted(path.rglob("*.onnx"))
        elif any(c in item for c in "*?["):
            found = sorted(p for p in _glob(item) if p.name.endswith(".onnx"))
            if not found:
                raise ConfigError(f"{item!r} matches no .onnx file")
        else:
            found = [path]
        out += [p for p in found if p not in out]
    return out


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
