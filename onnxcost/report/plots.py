"""Pictures of a report as PNGs: the memory timeline, the roofline, a sweep (matplotlib, imported lazily). The
terminal sparkline is sparkline.py's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.errors import ConfigError
from .schema import Report

if TYPE_CHECKING:
    from ..latency.profiles import Profile

def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: pip install 'onnxcost[plot]'") from None
    return plt


def _save(plt: Any, fig: Any, path: Path) -> None:
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)


def memory_png(report: Report, path: Path) -> None:
    """Live activation bytes per step, the peak marked with its node and largest live tensors."""
    if report.memory is None:
        raise ConfigError("no memory timeline: some activation shapes are unknown")
    plt = _pyplot()
    mem = report.memory
    mib = [b / 2**20 for b in mem.timeline_bytes]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.fill_between(range(len(mib)), mib, step="mid", alpha=0.4)
    ax.plot(range(len(mib)), mib, drawstyle="steps-mid")
    ax.axhline(mib[mem.peak_step], linestyle="--", linewidth=0.8)
    live = ", ".join(mem.peak_live_tensors[:3]) + (" …" if len(mem.peak_live_tensors) > 3 else "")
    ax.annotate(f"peak {mib[mem.peak_step]:.2f} MiB at {mem.peak_node}\nlive: {live}",
                xy=(mem.peak_step, mib[mem.peak_step]), xytext=(0.5, 0.9), textcoords="axes fraction",
                ha="center", va="top", fontsize=8, arrowprops={"arrowstyle": "->"})
    ax.set_xlabel(f"step ({report.schedule_method} schedule{', in-place' if mem.inplace else ''})")
    ax.set_ylabel("live activations (MiB)")
    ax.set_title(report.model.path or report.model.graph_name)
    _save(plt, fig, path)


@dataclass(frozen=True)
class Roofline:
    """What the roofline plot draws: per op class, its roof as (intensity, FLOP/s) points (a knee where the
    memory slope meets the class's peak, one roof for DRAM and one for the cache), and its nodes."""

    roofs: dict[str, dict[str, list[tuple[float, float]]]]  # class -> "DRAM"/"cache" -> points
    points: dict[str, list[tuple[float, float]]]  # class -> (intensity, achieved FLOP/s) per node


def roofline_data(report: Report, profile: Profile, lo: float = 1e-2, hi: float = 1e4) -> Roofline:
    """Roofs min(peak × efficiency, intensity × bandwidth) per class, and every node with known time."""
    points: dict[str, list[tuple[float, float]]] = {}
    for n in report.nodes:
        if n.latency_us and n.arithmetic_intensity and n.flops:
            points.setdefault(n.op_class or "?", []).append((n.arithmetic_intensity, n.flops / (n.latency_us * 1e-6)))
    bandwidths = {"DRAM": profile.bandwidth}
    if profile.cache_bandwidth:
        bandwidths["cache"] = profile.cache_bandwidth
    roofs: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for cls in points:
        peak = profile.flops_per_s("fp32", cls)
        roofs[cls] = {}
        for name, bw in bandwidths.items():
            knee = peak / bw
            xs = sorted({lo, hi, *(x for x in (knee,) if lo < x < hi)})
            roofs[cls][name] = [(x, min(peak, x * bw)) for x in xs]
    return Roofline(roofs, points)


def roofline_png(report: Report, profile: Profile, path: Path) -> None:
    """Each node at (FLOPs per byte, achieved FLOP/s) under its class's roofs (DRAM solid, cache dashed)."""
    plt = _pyplot()
    data = roofline_data(report, profile)
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, cls in enumerate(sorted(data.points)):
        color = colors[k % len(colors)]
        for name, roof in data.roofs[cls].items():
            ax.plot(*zip(*roof, strict=True), color=color, linewidth=1, linestyle="-" if name == "DRAM" else "--",
                    label=f"roof {cls} ({name})")
        ax.scatter(*zip(*data.points[cls], strict=True), s=10, color=color, alpha=0.7, label=cls)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOPs / byte)")
    ax.set_ylabel("estimated FLOP/s")
    ax.set_title(f"{report.model.path or report.model.graph_name} on {profile.name}")
    ax.legend(fontsize=7)
    _save(plt, fig, path)


def sweep_png(points: list[Any], path: Path) -> None:
    """MACs, peak memory and (with a profile) latency against the first swept dim, one line per value of the
    others."""
    plt = _pyplot()
    keys = [k for k in ("macs", "peak_memory_bytes", "latency_ms") if any(p.totals.get(k) is not None for p in points)]
    x_name = next(iter(points[0].dims))
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    groups: dict[tuple[tuple[str, int], ...], list[Any]] = {}
    for p in points:
        groups.setdefault(tuple((k, v) for k, v in p.dims.items() if k != x_name), []).append(p)
    for ax, key in zip(axes[0], keys, strict=True):
        for label, members in groups.items():
            ax.plot([m.dims[x_name] for m in members], [m.totals.get(key) for m in members], marker="o",
                    label=", ".join(f"{k}={v}" for k, v in label) or None)
        ax.set_xlabel(x_name)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        if any(label for label in groups):
            ax.legend(fontsize=8)
    _save(plt, fig, path)
