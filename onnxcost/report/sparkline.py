"""The memory timeline as a line of block characters, for the terminal and text reports."""

from __future__ import annotations

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int], width: int = 64) -> str:
    """Values squeezed into `width` bins (each bin shows its maximum), one block character per bin."""
    if not values:
        return ""
    bins = min(width, len(values))
    top = max(values) or 1
    chars = []
    for k in range(bins):
        lo, hi = k * len(values) // bins, max((k + 1) * len(values) // bins, k * len(values) // bins + 1)
        v = max(values[lo:hi])
        chars.append(BARS[min(len(BARS) - 1, v * len(BARS) // (top + 1))])
    return "".join(chars)
