"""Human-readable numbers (3.66 GMAC, 12.3 MiB) and their parsing ("4.2M", "256 KiB", "12 ms")."""

from __future__ import annotations

import math
import re

from .errors import ConfigError

_SI = [(10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")]
_BIN = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]


def si(n: int | float | None, unit: str = "") -> str:
    """1234567 -> '1.23 M' (+unit); None -> '?' (unknown is never shown as 0)."""
    if n is None:
        return "?"
    for scale, prefix in _SI:
        if abs(n) >= scale:
            return f"{n / scale:.3g} {prefix}{unit}".rstrip()
    return f"{n:g} {unit}".rstrip() if isinstance(n, float) else f"{n} {unit}".rstrip()


def binary_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for scale, suffix in _BIN:
        if abs(n) >= scale:
            return f"{n / scale:.3g} {suffix}"
    return f"{n} B"


_MULT = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
_TIME = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "µs": 1e-3, "ns": 1e-6}
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-zµ%]*)\s*$")
_UNIT_WORDS = ("MACs", "MAC", "FLOPs", "FLOP", "B", "bytes", "byte", "params", "param", "")


def _possible(value: float, text: object, key: str, what: str = "a non-negative finite number") -> float:
    """A limit a model can meet or miss: finite and not negative (TOML reads 1e999 as inf, nan as nan)."""
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{key}: {text!r} is not {what}")
    return value


def parse_quantity(text: str | int | float, key: str = "value") -> float:
    """'4.2M' -> 4.2e6, '600 MMAC' -> 6e8, '256 KiB' -> 262144, '1.5 GFLOPs' -> 1.5e9. Raises ConfigError."""
    if isinstance(text, bool):
        raise ConfigError(f"{key}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        return _possible(float(text), text, key)
    m = _NUMBER.match(str(text))
    if not m:
        raise ConfigError(f"{key}: cannot read {text!r} as a number (examples: 4.2M, '600 MMAC', '256 KiB')")
    number, suffix = float(m.group(1)), m.group(2)
    for word in _UNIT_WORDS:
        if suffix.endswith(word) and suffix[: len(suffix) - len(word)] in _MULT:
            return _possible(number * _MULT[suffix[: len(suffix) - len(word)]], text, key)
    raise ConfigError(f"{key}: unknown unit {suffix!r} in {text!r}")


def parse_duration_ms(text: str | int | float, key: str = "latency_ms") -> float:
    """'12 ms' -> 12.0, '1.5s' -> 1500.0, 250 (a bare number is milliseconds) -> 250.0."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _possible(float(text), text, key, "a non-negative finite duration")
    m = _NUMBER.match(str(text))
    if not m or m.group(2) not in (*_TIME, ""):
        raise ConfigError(f"{key}: cannot read {text!r} as a duration (examples: '12 ms', '1.5 s')")
    return _possible(float(m.group(1)) * _TIME.get(m.group(2), 1.0), text, key, "a non-negative finite duration")


def parse_percent(text: str | int | float, key: str = "percent") -> float:
    """'5%' -> 5.0, 5 -> 5.0."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _possible(float(text), text, key, "a non-negative finite percentage")
    m = re.match(r"^\s*([0-9]*\.?[0-9]+)\s*%?\s*$", str(text))
    if not m:
        raise ConfigError(f"{key}: cannot read {text!r} as a percentage (example: 5%)")
    return _possible(float(m.group(1)), text, key, "a non-negative finite percentage")
