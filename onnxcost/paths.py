"""The model files a command line names: files as given, folders as every *.onnx below them, globs as their
matches. Apart from the batch runner so that one model's report never imports it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .base.errors import ConfigError


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
