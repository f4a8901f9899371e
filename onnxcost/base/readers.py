"""The one way onnxcost reads a config, profile, stored report or CSV: size-capped, decoded strictly, depth-
limited, each failure one ConfigError that names the file. Hostile files (not UTF-8, nested thousands deep,
/dev/zero given as a CSV) end there, not in a traceback or a multi-GB read."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: No config, profile, report or timings file of ours comes near this; a larger one is refused unread.
MAX_BYTES = 64 << 20
#: Deeper nesting than any real TOML or JSON file of ours: the parsers recurse per level.
MAX_DEPTH = 64
#: A CSV field longer than this is no timing, dims or path.
MAX_CSV_FIELD = 4096


def read_text(path: Path, what: str) -> str:
    """The file as text: at most MAX_BYTES read, strict UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: {what} is larger than {MAX_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text (byte {exc.start})") from None


def _depth(text: str) -> int:
    """The deepest nesting of brackets and braces outside strings (a bound on what the parser recurses)."""
    deepest = depth = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _shallow(text: str, path: Path, what: str) -> str:
    if _depth(text) > MAX_DEPTH:
        raise ConfigError(f"{path}: {what} nests deeper than {MAX_DEPTH} levels")
    return text


def load_toml(path: Path, what: str) -> dict[str, Any]:
    text = _shallow(read_text(path, what), path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not valid TOML: {exc}") from None


def load_json(path: Path, what: str) -> Any:
    text = _shallow(read_text(path, what), path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not valid JSON: {exc}") from None


def read_csv(path: Path, what: str) -> list[dict[str, str]]:
    """Rows as dicts by the header; a field over MAX_CSV_FIELD characters or a malformed row is an error."""
    text = read_text(path, what)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CSV_FIELD)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ConfigError(f"{path}: {what} is not a readable CSV: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    for k, row in enumerate(rows, start=2):
        if None in row or any(v is None for v in row.values()):  # more or fewer cells than the header
            raise ConfigError(f"{path}:{k}: {what} row has a different number of cells than the header")
    return rows
