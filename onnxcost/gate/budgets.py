"""Budgets kept in the repository: `[tool.onnxcost]` in pyproject.toml, or a standalone onnxcost.toml.

    [tool.onnxcost]
    baseline_dir = ".onnxcost"          # where `onnxcost baseline` stores accepted reports
    max_increase = "5%"                 # optional: fail on growth against the baseline

    [tool.onnxcost.budgets."models/*.onnx"]
    macs = "800 MMAC"
    params = "62M"
    peak_memory_bytes = "4 MiB"
    latency_ms = "80 ms"
    profile = "raspberry-pi-4"          # needed by latency_ms
    dims = { batch = 1 }
    forbidden_ops = ["Loop"]
    opset = { min = 13, max = 18 }

Unknown keys and malformed values are errors that name the key."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from ..base import readers
from ..base.errors import ConfigError
from ..base.units import parse_duration_ms, parse_percent, parse_quantity

#: Limits on report totals, and how each is written.
COUNT_LIMITS = ("macs", "flops", "params", "param_bytes", "peak_memory_bytes", "activation_bytes",
                "unknown_cost_nodes")
OPTION_KEYS = ("profile", "dims", "input_shapes", "input_values", "allowed_ops", "forbidden_ops", "opset",
               "allow_unknown", "max_increase", "inplace", "schedule", "strict")
BUDGET_KEYS = (*COUNT_LIMITS, "latency_ms", *OPTION_KEYS)
TOP_KEYS = ("baseline_dir", "max_increase", "allow_unknown", "budgets", "exclude")


@dataclass
class Budget:
    """Limits and analysis options for the models matching `pattern` (a path or glob, config-relative)."""

    pattern: str
    limits: dict[str, float] = field(default_factory=dict)  # metric -> limit (latency in ms)
    profile: str | None = None
    dims: dict[str, int] = field(default_factory=dict)
    input_shapes: dict[str, list[int]] = field(default_factory=dict)
    input_values: dict[str, list[float]] = field(default_factory=dict)
    allowed_ops: list[str] | None = None
    forbidden_ops: list[str] = field(default_factory=list)
    opset_min: int | None = None
    opset_max: int | None = None
    allow_unknown: bool = False
    max_increase: float | None = None  # percent
    inplace: bool = False
    schedule: str = "optimal"
    strict: bool = False  # an unknown cost is an error (exit 2), not a failed check
    line: int | None = None  # where its table starts in the config file (for CI annotations)


@dataclass
class Config:
    path: Path
    root: Path  # patterns and baseline_dir are relative to it
    budgets: list[Budget]
    baseline_dir: Path
    exclude: list[str] = field(default_factory=list)  # patterns of models never checked (test fixtures)

    def excluded(self, model: Path) -> bool:
        rel = _relative(model, self.root)
        return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(model.name, p) for p in self.exclude)

    def matching(self, model: Path) -> list[Budget]:
        rel = _relative(model, self.root)
        return [b for b in self.budgets if fnmatch.fnmatch(rel, b.pattern) or fnmatch.fnmatch(model.name, b.pattern)]

    def budget_for(self, model: Path) -> Budget | None:
        """All matching budgets merged in file order (later entries refine earlier ones)."""
        found = self.matching(model)
        if not found:
            return None
        merged = Budget(pattern=_relative(model, self.root))
        for b in found:
            merged.limits.update(b.limits)
            for key in ("profile", "allowed_ops", "opset_min", "opset_max", "max_increase"):
                if getattr(b, key) is not None:
                    setattr(merged, key, getattr(b, key))
            merged.dims.update(b.dims)
            merged.input_shapes.update(b.input_shapes)
            merged.input_values.update(b.input_values)
            merged.forbidden_ops = sorted(set(merged.forbidden_ops) | set(b.forbidden_ops))
            merged.allow_unknown = b.allow_unknown
            merged.strict = merged.strict or b.strict
            merged.inplace, merged.schedule = b.inplace, b.schedule
            merged.line = b.line or merged.line
        return merged

    def models(self) -> list[Path]:
        """Existing files matched by the budgets' patterns."""
        out: dict[Path, None] = {}
        for b in self.budgets:
            for p in sorted(self.root.glob(b.pattern)):  # pathlib's ** follows no symlinked folder
                if p.is_file():
                    out[p] = None
        return list(out)

    def inside(self, model: Path) -> bool:
        """Whether the model file, symlinks resolved, lies in the config's folder."""
        return model.resolve().is_relative_to(self.root.resolve())

    def display_path(self, model: Path) -> str:
        return _relative(model, self.root)

    def baseline_path(self, model: Path) -> Path:
        return self.baseline_dir / (_relative(model, self.root).replace("/", "__") + ".json")


def _relative(model: Path, root: Path) -> str:
    try:
        return model.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return model.as_posix()


def find_config(start: Path | None = None) -> Path:
    """onnxcost.toml, or a pyproject.toml with [tool.onnxcost], in `start` or its parents."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "onnxcost.toml").is_file():
            return d / "onnxcost.toml"
        pp = d / "pyproject.toml"
        if pp.is_file() and "tool" in (data := _read(pp)) and "onnxcost" in data["tool"]:
            return pp
    raise ConfigError("no budget configuration: add onnxcost.toml or [tool.onnxcost] to pyproject.toml "
                      "(or name one: config=FILE)")


def _read(path: Path) -> dict[str, Any]:
    return readers.load_toml(path, "the budget file")


def load_config(path: Path | None = None) -> Config:
    path = path if path is not None else find_config()
    if not path.is_file():
        raise ConfigError(f"budget configuration {path} not found")
    data = _read(path)
    section = data.get("tool", {}).get("onnxcost") if path.name == "pyproject.toml" else data
    where = f"{path} [tool.onnxcost]" if path.name == "pyproject.toml" else str(path)
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: no [tool.onnxcost] table")
    for key in section:
        if key not in TOP_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(TOP_KEYS)})")
    budgets_table = section.get("budgets", {})
    if not isinstance(budgets_table, dict) or not budgets_table:
        raise ConfigError(f"{where}: no budgets; add a [budgets.\"models/*.onnx\"] table")
    defaults: dict[str, Any] = {k: section[k] for k in ("max_increase", "allow_unknown") if k in section}
    budgets = []
    for pattern, spec in budgets_table.items():
        key = f"{where} budgets.\"{pattern}\""
        if not isinstance(spec, dict):
            raise ConfigError(f"{key}: must be a table of limits, e.g. {{ macs = \"2 GMAC\" }}, got {spec!r:.60}")
        if not pattern.strip() or Path(pattern).is_absolute() or PureWindowsPath(pattern).is_absolute():
            raise ConfigError(f"{key}: the model pattern must be a non-empty path or glob relative to {path.name}")
        parts = PureWindowsPath(pattern).parts  # splits on / and \ alike
        if ".." in parts:
            raise ConfigError(f"{key}: the model pattern may not leave the folder of {path.name} ('..')")
        if any("**" in part and part != "**" for part in parts):
            raise ConfigError(f"{key}: '**' can only be a whole path component")
        budgets.append(_budget(pattern, {**defaults, **spec}, key))
    baseline_dir = section.get("baseline_dir", ".onnxcost")
    if not isinstance(baseline_dir, str):
        raise ConfigError(f"{where}: 'baseline_dir' must be a string")
    exclude = [_string(v, f"{where} exclude") for v in _list(section.get("exclude", []), f"{where} exclude")]
    lines = readers.read_text(path, "the budget file").splitlines()
    for b in budgets:  # the line of its table header, for annotations in CI
        b.line = next((k + 1 for k, text in enumerate(lines) if "budgets" in text and f'"{b.pattern}"' in text), None)
    return Config(path, path.parent, budgets, path.parent / baseline_dir, exclude)


def _budget(pattern: str, spec: Any, where: str) -> Budget:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a table of limits")
    b = Budget(pattern=pattern)
    for key, value in spec.items():
        name = f"{where}.{key}"
        if key in COUNT_LIMITS:
            b.limits[key] = parse_quantity(value, name)
        elif key == "latency_ms":
            b.limits[key] = parse_duration_ms(value, name)
        elif key == "profile":
            b.profile = _string(value, name)
        elif key == "dims":
            b.dims = {k: _int(v, f"{name}.{k}") for k, v in _table(value, name).items()}
        elif key == "input_shapes":
            b.input_shapes = {k: _shape(v, f"{name}.{k}")
                              for k, v in _table(value, name).items()}
        elif key == "input_values":
            b.input_values = {k: [_number(x, f"{name}.{k}") for x in (v if isinstance(v, list) else [v])]
                              for k, v in _table(value, name).items()}
        elif key in ("allowed_ops", "forbidden_ops"):
            ops = [_string(v, name) for v in _list(value, name)]
            if key == "allowed_ops":
                b.allowed_ops = ops
            else:
                b.forbidden_ops = ops
        elif key == "opset":
            table = _table(value, name)
            for k in table:
                if k not in ("min", "max"):
                    raise ConfigError(f"{name}: unknown key '{k}' (known: min, max)")
            b.opset_min = _int(table["min"], f"{name}.min") if "min" in table else None
            b.opset_max = _int(table["max"], f"{name}.max") if "max" in table else None
            if b.opset_min is not None and b.opset_max is not None and b.opset_min > b.opset_max:
                raise ConfigError(f"{name}: min = {b.opset_min} is above max = {b.opset_max}")
        elif key in ("allow_unknown", "inplace", "strict"):
            if not isinstance(value, bool):
                raise ConfigError(f"{name}: expected true or false, got {value!r}")
            setattr(b, key, value)
        elif key == "max_increase":
            b.max_increase = parse_percent(value, name)
        elif key == "schedule":
            if value not in ("file", "topo", "optimal"):
                raise ConfigError(f"{name}: expected file, topo or optimal, got {value!r}")
            b.schedule = value
        else:
            raise ConfigError(f"{name}: unknown key '{key}' (known: {', '.join(BUDGET_KEYS)})")
    if "latency_ms" in b.limits and not b.profile:
        raise ConfigError(f"{where}: latency_ms needs a hardware 'profile'")
    return b


def _shape(value: Any, name: str) -> list[int]:
    """An input shape as a list [1, 3, 224, 224] or in the CLI's spelling "1x3x224x224"."""
    if isinstance(value, str):
        parts = value.lower().split("x")
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise ConfigError(f"{name}: expected a shape like \"1x3x224x224\" or [1, 3, 224, 224], got {value!r:.60}")
        return [int(p) for p in parts]
    return [_int(d, name) for d in _list(value, name)]


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    return value


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected a string, got {value!r}")
    return value


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name}: expected a non-negative integer, got {value!r}")
    return value


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: expected a table, e.g. {{ batch = 1 }}, got {value!r}")
    return value


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{name}: expected a list, got {value!r}")
    return value
