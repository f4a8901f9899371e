"""Hardware profiles: datasheet numbers in TOML (one file per device, sources in comments), loaded and
validated. Names resolve to ./hwprofiles/NAME.toml first (e.g. a calibrated local.toml), then to the
profiles shipped with onnxcost."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base import readers
from ..base.errors import ConfigError

SHIPPED = Path(__file__).parent / "hwprofiles"
OP_CLASSES = ("dense", "grouped", "depthwise", "elementwise", "movement", "einsum")
#: A class without its own efficiency borrows another's (Einsum runs as dense matmuls unless measured; a grouped
#: conv with few channels per group is costed like a depthwise one unless measured).
FALLBACK_CLASS = {"einsum": "dense", "grouped": "depthwise"}
#: Compute paths with a peak of their own: tf32 is float32 math on tensor cores (a GPU's fp32 convolutions
#: when `tf32_convs` is set).
DTYPES = ("fp32", "fp16", "int8", "tf32")


def busy_threads(threads: int, flops: float, half: float) -> float:
    """Threads a kernel of `flops` keeps busy: 1 + (threads - 1) x W / (W + half). A thread pool splits small
    work into fewer, or less even, pieces; `half` is the work that keeps half of the extra threads busy."""
    return 1 + (threads - 1) * flops / (flops + half)


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str
    peak_flops: dict[str, float]  # per dtype class, FLOP/s
    bandwidth: float  # bytes/s from main memory
    launch_overhead_us: float  # per executed node
    efficiency: dict[str, float]  # per op class: fraction of peak FLOP/s reached
    cache_bytes: int = 0  # a node whose bytes fit here streams at cache_bandwidth
    cache_bandwidth: float = 0.0
    bias_bandwidth: float = 0.0  # bytes/s of a GEMM's bias pass over its output (RuntimeHints.bias_pass); 0: free
    weight_bandwidth: float = 0.0  # bytes/s at which a CPU conv pays for reading its weights, on top of its math
    run_overhead_us: float = 0.0  # once per inference (binding inputs and outputs)
    dense_k_half: float = 0.0  # dot-product length at which a dense kernel reaches half its efficiency
    dense_m_half: float = 0.0  # output rows (conv: pixels) at which a dense kernel reaches half its efficiency
    fusion: bool = True  # the runtime fuses BatchNorm/activations/residual adds into dense kernels
    nchwc_block: int = 0  # channels per block of the runtime's blocked conv layout (0: no layout reorders)
    dense_launch_overhead_us: float | None = None  # per dense kernel (a GPU conv/GEMM call); None: launch_overhead_us
    tf32_convs: bool = False  # float32 convolutions run on tensor cores at peak_flops.tf32 (cuDNN's default)
    nhwc_convs: tuple[str, ...] = ()  # compute paths whose convs convert NCHW activations to NHWC and back
    threads: int = 1  # a CPU's intra-op threads: the rates above are what a large kernel reaches on all of them
    parallel_flops_half: float = 0.0  # a kernel of this many FLOPs keeps half of the extra threads busy
    copy_call_ns: float = 0.0  # one small memcpy in a CPU kernel's copy loop (OpDef.copies); 0: not costed
    serial_pow_ns: float = 0.0  # one scalar power in a serial CPU kernel (RuntimeHints.serial_pow); 0: not costed
    one_block_ratio: float = 0.0  # a blocked conv of one block of outputs, as a share of dense; 0: unknown
    block_group_ratio: float = 0.0  # a grouped conv of one nchwc_block per group, as a share of dense; 0: unknown
    unsigned_int8_ratio: float = 0.0  # an integer kernel of uint8 weights, as a share of int8 ones; 0: unknown
    quantized_softmax_ns: float = 0.0  # one element of a QDQ Softmax (onnxruntime's QLinearSoftmax); 0: not costed
    source: str = ""

    def parallel_slowdown(self, flops: float) -> float:
        """How much slower than the all-threads rate a kernel of `flops` runs (see busy_threads)."""
        if self.threads <= 1 or not self.parallel_flops_half:
            return 1.0
        return self.threads / busy_threads(self.threads, flops, self.parallel_flops_half)

    @property
    def dense_overhead_us(self) -> float:
        """The fixed cost of one dense kernel (a conv or GEMM call)."""
        if self.dense_launch_overhead_us is None:
            return self.launch_overhead_us
        return self.dense_launch_overhead_us

    def flops_per_s(self, dtype: str, op_class: str) -> float:
        """The class's share of the dtype's peak: its own for that dtype ([efficiency.fp16]) when given, else
        the class's, else the class it falls back to."""
        eff = self.efficiency.get(f"{dtype}.{op_class}")
        if eff is None:
            eff = self.efficiency.get(op_class, self.efficiency.get(FALLBACK_CLASS.get(op_class, ""), 1.0))
        return self.peak_flops.get(dtype, self.peak_flops["fp32"]) * eff


def user_dir() -> Path:
    """The per-user folder `calibrate` and `fit` write profiles to, found from any working directory
    (platformdirs: ~/.config/onnxcost/hwprofiles on Linux; ONNXCOST_PROFILES overrides it)."""
    override = os.environ.get("ONNXCOST_PROFILES")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("onnxcost")) / "hwprofiles"


def search_path() -> list[Path]:
    """Where profile names are looked up, later folders overriding earlier ones."""
    return [SHIPPED, user_dir(), Path.cwd() / "hwprofiles"]


def available() -> dict[str, Path]:
    """Profile name -> file: shipped ones, overridden by the user folder's, then by ./hwprofiles/*.toml."""
    found: dict[str, Path] = {}
    seen: set[Path] = set()
    for folder in search_path():
        if folder.is_dir() and folder.resolve() not in seen:
            seen.add(folder.resolve())
            found.update({p.stem: p for p in sorted(folder.glob("*.toml"))})
    return found


def resolve(name_or_path: str) -> Path:
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f"hardware profile file {path} not found")
        return path
    profiles = available()
    if name_or_path not in profiles:
        raise ConfigError(f"unknown hardware profile {name_or_path!r}; known: {', '.join(profiles)}; looked in "
                          f"{', '.join(str(f) for f in search_path())} (or give a path to a .toml file)")
    return profiles[name_or_path]


def _number(table: dict[str, Any], key: str, where: str, required: bool = True, default: float = 0.0) -> float:
    if key not in table:
        if required:
            raise ConfigError(f"{where}: missing key '{key}'")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where}: '{key}' must be a non-negative number, got {value!r}")
    return float(value)


def load_profile(name_or_path: str) -> Profile:
    path = resolve(name_or_path)
    data = readers.load_toml(path, "the profile")
    known = {"name", "kind", "launch_overhead_us", "run_overhead_us", "dense_k_half", "dense_m_half", "peak_flops",
             "memory", "efficiency", "fusion", "nchwc_block", "dense_launch_overhead_us", "tf32_convs", "nhwc_convs",
             "threads", "parallel_flops_half", "copy_call_ns", "block_group_ratio", "serial_pow_ns",
             "one_block_ratio", "unsigned_int8_ratio", "quantized_softmax_ns"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    peak = data.get("peak_flops")
    if not isinstance(peak, dict) or "fp32" not in peak:
        raise ConfigError(f"{path}: [peak_flops] with at least fp32 is required")
    for key in peak:
        if key not in DTYPES:
            raise ConfigError(f"{path}: [peak_flops] unknown key '{key}' (known: {', '.join(DTYPES)})")
    peaks = {k: _number(peak, k, f"{path} [peak_flops]") for k in peak}
    if peaks["fp32"] <= 0:
        raise ConfigError(f"{path}: [peak_flops] fp32 must be positive")
    memory = data.get("memory")
    if not isinstance(memory, dict):
        raise ConfigError(f"{path}: [memory] with 'bandwidth' is required")
    for key in memory:
        if key not in ("bandwidth", "cache_bytes", "cache_bandwidth", "bias_bandwidth", "weight_bandwidth"):
            raise ConfigError(f"{path}: [memory] unknown key '{key}'")
    bandwidth = _number(memory, "bandwidth", f"{path} [memory]")
    if bandwidth <= 0:
        raise ConfigError(f"{path}: [memory] bandwidth must be positive")
    eff_table = data.get("efficiency", {})
    if not isinstance(eff_table, dict):
        raise ConfigError(f"{path}: [efficiency] must be a table")
    efficiency = {}
    flat = {}
    for key, value in eff_table.items():
        if isinstance(value, dict) and key in DTYPES:  # [efficiency.fp16]: a dtype's own shares
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    for key in flat:
        if key.rsplit(".", 1)[-1] not in OP_CLASSES:
            raise ConfigError(f"{path}: [efficiency] unknown op class '{key}' (known: {', '.join(OP_CLASSES)})")
        number = _number(flat, key, f"{path} [efficiency]")
        if not 0 < number <= 1:
            raise ConfigError(f"{path}: [efficiency] {key} must be in (0, 1], got {number}")
        efficiency[key] = number
    return Profile(
        name=str(data.get("name", path.stem)), kind=str(data.get("kind", "cpu")), peak_flops=peaks,
        bandwidth=bandwidth, launch_overhead_us=_number(data, "launch_overhead_us", str(path), False),
        efficiency=efficiency, cache_bytes=int(_number(memory, "cache_bytes", f"{path} [memory]", False)),
        cache_bandwidth=_number(memory, "cache_bandwidth", f"{path} [memory]", False),
        bias_bandwidth=_number(memory, "bias_bandwidth", f"{path} [memory]", False),
        weight_bandwidth=_number(memory, "weight_bandwidth", f"{path} [memory]", False),
        run_overhead_us=_number(data, "run_overhead_us", str(path), False),
        dense_k_half=_number(data, "dense_k_half", str(path), False),
        dense_m_half=_number(data, "dense_m_half", str(path), False),
        fusion=_flag(data, "fusion", str(path), default=str(data.get("kind", "cpu")) != "mcu"),
        nchwc_block=_block(data, str(path)),
        dense_launch_overhead_us=(_number(data, "dense_launch_overhead_us", str(path))
                                  if "dense_launch_overhead_us" in data else None),
        tf32_convs=_flag(data, "tf32_convs", str(path), default=False),
        nhwc_convs=_paths(data, "nhwc_convs", str(path)), threads=_threads(data, str(path)),
        parallel_flops_half=_number(data, "parallel_flops_half", str(path), False),
        copy_call_ns=_number(data, "copy_call_ns", str(path), False),
        serial_pow_ns=_number(data, "serial_pow_ns", str(path), False),
        one_block_ratio=_ratio(data, "one_block_ratio", str(path)),
        block_group_ratio=_ratio(data, "block_group_ratio", str(path)),
        unsigned_int8_ratio=_ratio(data, "unsigned_int8_ratio", str(path)),
        quantized_softmax_ns=_number(data, "quantized_softmax_ns", str(path), False), source=str(path),
    )


def _ratio(table: dict[str, Any], key: str, where: str) -> float:
    value = _number(table, key, where, False)
    if value > 1:
        raise ConfigError(f"{where}: '{key}' must be a share from 0 to 1, got {value!r}")
    return value


def _threads(table: dict[str, Any], where: str) -> int:
    value = table.get("threads", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
        raise ConfigError(f"{where}: 'threads' must be a whole number of threads from 1 to 4096, got {value!r}")
    return value


def _paths(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or any(v not in DTYPES for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of compute paths ({', '.join(DTYPES)}), got {value!r}")
    return tuple(value)


def _block(table: dict[str, Any], where: str) -> int:
    value = table.get("nchwc_block", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value & (value - 1):
        raise ConfigError(f"{where}: 'nchwc_block' must be 0 or a power of two (channels per block), got {value!r}")
    return value


def _flag(table: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: '{key}' must be true or false, got {value!r}")
    return value


def to_toml(profile: Profile, comments: list[str] | None = None) -> str:
    """A profile as the TOML that load_profile reads back, with comment lines first (what it was made from)."""
    lines = [f"# {c}" for c in comments or []]
    lines += [f"name = {json.dumps(profile.name)}", f"kind = {json.dumps(profile.kind)}",
              f"launch_overhead_us = {profile.launch_overhead_us:.6g}",
              f"run_overhead_us = {profile.run_overhead_us:.6g}",
              f"dense_k_half = {profile.dense_k_half:.6g}", f"dense_m_half = {profile.dense_m_half:.6g}",
              f"fusion = {'true' if profile.fusion else 'false'}", f"nchwc_block = {profile.nchwc_block}",
              *([f"dense_launch_overhead_us = {profile.dense_launch_overhead_us:.6g}"]
                if profile.dense_launch_overhead_us is not None else []),
              *(["tf32_convs = true"] if profile.tf32_convs else []),
              *([f"nhwc_convs = {json.dumps(list(profile.nhwc_convs))}"] if profile.nhwc_convs else []),
              *([f"threads = {profile.threads}", f"parallel_flops_half = {profile.parallel_flops_half:.6g}"]
                if profile.threads > 1 else []),
              *([f"copy_call_ns = {profile.copy_call_ns:.6g}"] if profile.copy_call_ns else []),
              *([f"serial_pow_ns = {profile.serial_pow_ns:.6g}"] if profile.serial_pow_ns else []),
              *([f"one_block_ratio = {profile.one_block_ratio:.6g}"] if profile.one_block_ratio else []),
              *([f"block_group_ratio = {profile.block_group_ratio:.6g}"] if profile.block_group_ratio else []),
              *([f"unsigned_int8_ratio = {profile.unsigned_int8_ratio:.6g}"] if profile.unsigned_int8_ratio else []),
              *([f"quantized_softmax_ns = {profile.quantized_softmax_ns:.6g}"] if profile.quantized_softmax_ns else []),
              "",
              "[peak_flops]", *(f"{k} = {v:.6g}" for k, v in profile.peak_flops.items()), "",
              "[memory]", f"bandwidth = {profile.bandwidth:.6g}"]
    if profile.cache_bytes:
        lines += [f"cache_bytes = {profile.cache_bytes}", f"cache_bandwidth = {profile.cache_bandwidth:.6g}"]
    lines += [f"{key} = {value:.6g}" for key, value in (("bias_bandwidth", profile.bias_bandwidth),
                                                         ("weight_bandwidth", profile.weight_bandwidth)) if value]
    lines += ["", "[efficiency]", *(f"{k} = {v:.6g}" for k, v in sorted(profile.efficiency.items()) if "." not in k)]
    for dtype in sorted({k.split(".")[0] for k in profile.efficiency if "." in k}):
        lines += ["", f"[efficiency.{dtype}]", *(f"{k.split('.', 1)[1]} = {v:.6g}"
                                                 for k, v in sorted(profile.efficiency.items())
                                                 if k.startswith(dtype + "."))]
    return "\n".join(lines) + "\n"
