"""`onnxcost fit`: a hardware profile fitted to end-to-end timings of a few models on the target device, for
devices onnxcost cannot run microbenchmarks on (phones, GPUs behind TensorRT, someone else's server).

Starting from a base profile, the physical parameters (the efficiency of each op class, the per-node launch
overhead, the per-run overhead, the short-dot-product and few-rows terms) are fitted by bounded least squares
(scipy) on log(estimate / measured), each kept in its physical range. Leave-one-model-out errors say how well
the fit predicts a model it has not seen."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..base import readers
from ..base.errors import ConfigError
from ..cost import nodes as costs_mod
from ..latency.estimate import Kernels, compute_path, estimate, group_kernels, total_latency_us
from ..latency.profiles import Profile
from ..pipeline import analyze
from ..shapes.graph import Graph

#: Scalar parameters and their physical bounds (efficiencies are per op class, in (0, 1]).
SCALARS = {"launch_overhead_us": (0.0, 1000.0), "run_overhead_us": (0.0, 1e5), "dense_k_half": (0.0, 1e4),
           "dense_m_half": (0.0, 1e5), "dense_launch_overhead_us": (0.0, 1000.0),
           "parallel_flops_half": (0.0, 1e10)}
#: A factor on every peak FLOP/s and the bandwidth at once: a base profile whose efficiencies are already 1
#: (a calibrated one) can still describe a faster machine.
SPEED_BOUNDS = (0.05, 20.0)
EFFICIENCY_BOUNDS = (1e-4, 1.0)
#: The share of a model's estimated time an op class needs, in two models, for fit to choose its efficiency.
MIN_SHARE = 0.1


@dataclass(frozen=True)
class Measurement:
    model: Path
    latency_ms: float
    dims: dict[str, int]
    input_shapes: dict[str, list[int]]
    group: str = ""  # rows of one architecture (its float32 and float16 exports): left out together

    @property
    def held_out_as(self) -> str:
        """What leave-one-model-out leaves out with this row: its group, else its model file."""
        return self.group or str(self.model)

    @property
    def label(self) -> str:
        bound = " ".join(f"{k}={v}" for k, v in self.dims.items())
        return f"{self.model.stem}{' ' + bound if bound else ''}"


@dataclass(frozen=True)
class Case:
    """One measurement, analysed once: its graph and costs, re-estimated for every candidate profile. `grouped`
    memoises its fused kernels per (fusion, NCHWc block): fitting changes rates, never those."""

    measurement: Measurement
    graph: Graph
    costs: list[costs_mod.NodeCost]
    grouped: dict[tuple[bool, int], Kernels] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Prediction:
    label: str
    model: str
    measured_ms: float
    predicted_ms: float

    @property
    def error(self) -> float:
        return self.predicted_ms / self.measured_ms - 1


@dataclass(frozen=True)
class Candidate:
    """One set of free parameters tried, and how well fits with it predict the models they left out."""

    names: tuple[str, ...]
    held_out_median: float | None  # |estimate / measured - 1| over the left-out models
    held_out_p90: float | None


@dataclass(frozen=True)
class FitResult:
    profile: Profile
    parameters: dict[str, float]
    fitted: list[Prediction]  # every measurement under the fitted profile
    held_out: list[Prediction]  # each model predicted by a fit on the others
    candidates: tuple[Candidate, ...] = ()  # parameter sets tried when none were given, fewest first
    at_bound: tuple[str, ...] = ()  # parameters the fit pushed to an end of their physical range


def read_csv(path: Path, latency_column: str = "latency_ms") -> list[Measurement]:
    """Rows of `model` (a path relative to the CSV), the latency column, and optional `dims` ("batch=32
    seq=128"), `input_shapes` ("input=32x3x224x224; mask=32x128") and `group` (rows of one architecture, e.g.
    its float32 and float16 exports, which leave-one-model-out leaves out together)."""
    rows = readers.read_csv(path, "the timings CSV")
    if not rows or "model" not in rows[0] or latency_column not in rows[0]:
        raise ConfigError(f"{path}: needs the columns model and {latency_column}")
    out = []
    for k, row in enumerate(rows, start=2):
        where = f"{path}:{k}"
        try:
            latency = float(row[latency_column])
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: {latency_column} {row[latency_column]!r} is not a number") from None
        if not math.isfinite(latency) or latency <= 0:
            raise ConfigError(f"{where}: {latency_column} must be a positive time in ms")
        dims = {}
        for item in (row.get("dims") or "").split():
            name, _, value = item.partition("=")
            if not (value.isascii() and value.isdigit()):  # isdigit alone takes '²'
                raise ConfigError(f"{where}: dims expects NAME=N, got {item!r}")
            dims[name] = int(value)
        shapes = {}
        for item in (row.get("input_shapes") or "").split(";"):
            if item.strip():
                name, _, value = item.strip().partition("=")
                parts = value.split("x")
                if not all(p.isascii() and p.isdigit() for p in parts):
                    raise ConfigError(f"{where}: input_shapes expects NAME=1x3x224x224, got {item!r}")
                shapes[name] = [int(p) for p in parts]
        if not row["model"]:
            raise ConfigError(f"{where}: the model cell is empty")
        model = path.parent / row["model"]
        if not model.resolve().is_relative_to(path.parent.resolve()):  # '..', an absolute path or a symlink out
            raise ConfigError(f"{where}: model {row['model'][:80]!r} resolves outside the CSV's folder")
        out.append(Measurement(model, latency, dims, shapes, (row.get("group") or "").strip()))
    return out


def prepare(measurements: list[Measurement]) -> list[Case]:
    cases = []
    for m in measurements:
        rep = analyze(m.model, dims=m.dims or None, input_shapes=m.input_shapes or None, schedule="file")
        assert rep.graph is not None
        node_costs, _, _ = costs_mod.graph_costs(rep.graph)
        if any(not c.known for c in node_costs) or rep.symbolic is not None:
            raise ConfigError(f"{m.label}: some cost is unknown or a dim is unbound; bind it in the CSV's dims")
        cases.append(Case(m, rep.graph, node_costs))
    return cases


def _grouped(case: Case, profile: Profile) -> Kernels:
    """The case's fused kernels for the profile's fusion switch and NCHWc block, worked out on first use."""
    key = (profile.fusion, profile.nchwc_block)
    if key not in case.grouped:
        case.grouped[key] = group_kernels(case.graph, case.costs, profile)
    return case.grouped[key]


def predict_ms(case: Case, profile: Profile) -> float:
    grouped = _grouped(case, profile)
    us = total_latency_us(case.graph, estimate(case.graph, case.costs, profile, grouped=grouped), profile, grouped)
    assert us is not None  # every cost is known (prepare checked)
    return us / 1000


def _shares(case: Case, base: Profile) -> dict[str, float]:
    """Each efficiency parameter the model's nodes run under, with its share of the model's estimated time:
    `efficiency.CLASS`, or `efficiency.PATH.dense` for a dense node off the float32 path (a GPU's TF32 convs
    and fp16 tensor cores, a CPU's int8 kernels), whose share of its peak differs from float32's."""
    estimates = estimate(case.graph, case.costs, base, grouped=_grouped(case, base))
    total = sum(e.latency_us or 0 for e in estimates) or 1.0
    shares: dict[str, float] = {}
    for e, n in zip(estimates, case.graph.nodes, strict=True):
        if n.folded or e.op_class == "view" or not (e.latency_us or 0) > 0:
            continue
        path = compute_path(n, case.graph, base) if e.op_class == "dense" else "fp32"
        name = f"efficiency.{path}.dense" if path != "fp32" and path in base.peak_flops else f"efficiency.{e.op_class}"
        shares[name] = shares.get(name, 0.0) + (e.latency_us or 0) / total
    return shares


def _scalars(base: Profile) -> list[str]:
    """The scalar terms the base can free: a dense kernel's own cost on a GPU, the parallel term on a CPU of
    several threads, and the others on any device."""
    return [n for n in SCALARS if (n != "parallel_flops_half" or base.threads > 1)
            and (n != "dense_launch_overhead_us" or base.kind == "gpu")]


def with_parameters(base: Profile, names: list[str], values: Any) -> Profile:
    efficiency = dict(base.efficiency)
    profile = base
    for name, value in zip(names, values, strict=True):
        if name.startswith("efficiency."):
            efficiency[name.split(".", 1)[1]] = float(value)
        elif name in SCALARS:
            profile = replace(profile, **{name: float(value)})  # type: ignore[arg-type]
        elif name == "speed":
            profile = replace(profile, peak_flops={k: v * float(value) for k, v in base.peak_flops.items()},
                              bandwidth=base.bandwidth * float(value),
                              cache_bandwidth=base.cache_bandwidth * float(value))
        else:
            raise ConfigError(f"names=[...]: unknown parameter {name!r} (efficiency.CLASS, speed or "
                              f"{', '.join(SCALARS)})")
    return replace(profile, efficiency=efficiency)


def _current(base: Profile, name: str, reference: Profile | None = None) -> float:
    if name == "speed":
        return base.peak_flops["fp32"] / (reference or base).peak_flops["fp32"]
    if name.startswith("efficiency."):
        parts = name.split(".")
        dtype, cls = (parts[1], parts[2]) if len(parts) == 3 else ("fp32", parts[1])
        return base.flops_per_s(dtype, cls) / base.peak_flops.get(dtype, base.peak_flops["fp32"])
    if name == "dense_launch_overhead_us":
        return base.dense_overhead_us
    return float(getattr(base, name))


def supported(cases: list[Case], base: Profile, shares: list[dict[str, float]] | None = None) -> set[str]:
    """The efficiencies that at least two of the groups left out spend MIN_SHARE of their estimated time under
    (`shares`: each case's, when already worked out). One model alone cannot tell a class's rate from its own
    quirks, and a fit without that model would set the rate from models that barely run the class (on the H100
    timings without convnext_tiny: float32 GEMMs from alexnet's classifier alone, which put convnext_tiny 3.4x
    too slow)."""
    per_case = shares if shares is not None else [_shares(c, base) for c in cases]
    by_group: dict[str, list[dict[str, float]]] = {}
    for c, s in zip(cases, per_case, strict=True):
        by_group.setdefault(c.measurement.held_out_as, []).append(s)
    votes: dict[str, int] = {}
    for rows in by_group.values():
        for name in {n for s in rows for n in s}:
            votes[name] = votes.get(name, 0) + (sum(s.get(name, 0.0) for s in rows) / len(rows) >= MIN_SHARE)
    return {name for name, n in votes.items() if n >= 2}


def ranked_parameters(cases: list[Case], base: Profile) -> list[str]:
    """The parameters fit may choose, most telling first: one speed factor for the whole machine, then the
    efficiencies (those `supported`) by their share of the estimated time, then the scalar terms."""
    per_case = [_shares(c, base) for c in cases]
    totals: dict[str, float] = {}
    for s in per_case:
        for name, share in s.items():
            totals[name] = totals.get(name, 0.0) + share
    held = supported(cases, base, per_case)
    return ["speed", *sorted((k for k in totals if k in held), key=lambda k: -totals[k]), *_scalars(base)]


def _bounds(base: Profile, n: str) -> tuple[float, float]:
    if n == "speed":
        return SPEED_BOUNDS
    if n.startswith("efficiency."):
        return EFFICIENCY_BOUNDS
    if n == "parallel_flops_half" and base.threads <= 1:
        raise ConfigError("parallel_flops_half needs the base profile's threads (more than 1): give threads=N")
    if n not in SCALARS:
        raise ConfigError(f"names=[...]: unknown parameter {n!r} (efficiency.CLASS, speed or {', '.join(SCALARS)})")
    return SCALARS[n]


def fit_cases(cases: list[Case], base: Profile, names: list[str]) -> Profile:
    """Bounded least squares on log(estimate / measured) from the base profile's values."""
    import numpy as np
    from scipy.optimize import least_squares

    models = {c.measurement.model for c in cases}
    if len(models) < len(names):
        raise ConfigError(f"{len(models)} distinct models cannot fit {len(names)} free parameters "
                          f"({', '.join(names)}): time more models, or fix some with names=[...]")
    if not names:
        return base
    lo = np.array([_bounds(base, n)[0] for n in names])
    hi = np.array([_bounds(base, n)[1] for n in names])
    x0 = np.clip([_current(base, n) for n in names], lo + 1e-9, hi - 1e-9)

    def residuals(x: Any) -> Any:
        profile = with_parameters(base, names, x)
        return [math.log(predict_ms(c, profile) / c.measurement.latency_ms) for c in cases]

    result = least_squares(residuals, x0, bounds=(lo, hi), x_scale="jac", method="trf")
    return with_parameters(base, names, result.x)


def _held_out(cases: list[Case], base: Profile, names: list[str]) -> list[Prediction]:
    """Each model (or group) predicted by a fit on the others, where those can fit `names`."""
    out: list[Prediction] = []
    for group in sorted({c.measurement.held_out_as for c in cases}):
        rest = [c for c in cases if c.measurement.held_out_as != group]
        if len({c.measurement.model for c in rest}) < len(names):
            continue
        partial = fit_cases(rest, base, names)
        out += [Prediction(c.measurement.label, c.measurement.model.stem, c.measurement.latency_ms,
                           predict_ms(c, partial)) for c in cases if c.measurement.held_out_as == group]
    return out


def _score(c: Candidate) -> float:
    """Median + p90 of a set's left-out errors (a typical model and a bad one both count); inf when unscored."""
    if c.held_out_median is None or c.held_out_p90 is None:
        return math.inf
    return round(c.held_out_median + c.held_out_p90, 6)


def choose(cases: list[Case], base: Profile, progress: Callable[[str], None] | None = None,
           ) -> tuple[list[str], tuple[Candidate, ...], list[Prediction]]:
    """Forward selection by leave-one-model-out error. From no parameters, each step adds the one (of speed, the
    efficiencies by their share of the time, the scalar terms: `ranked_parameters`) whose set predicts the
    models left out best, while that beats the set before and the models can fit one more with one left out.
    A fixed order of sets would miss a pair that only works together (the Xeon's timings: speed with the
    short-dot-product term). A tie goes to the smaller set, then the earlier-ranked parameter. Returns the
    chosen names, every set tried, and the chosen set's left-out predictions."""
    ranked = ranked_parameters(cases, base)
    most = min(len(ranked), max(len({c.measurement.held_out_as for c in cases}) - 1, 0))
    tried: list[Candidate] = []
    predictions: dict[tuple[str, ...], list[Prediction]] = {}

    def score(names: tuple[str, ...]) -> Candidate:
        if progress is not None:
            progress(", ".join(names) or "the base profile")
        predictions[names] = _held_out(cases, base, list(names))
        scored = summary(predictions[names]) if most else None
        tried.append(Candidate(names, *(scored or (None, None))))
        return tried[-1]

    best = score(())
    while len(best.names) < most:
        step = [score((*best.names, n)) for n in ranked if n not in best.names]
        winner = min(step, key=_score)
        if _score(winner) >= _score(best):
            break
        best = winner
    return list(best.names), tuple(tried), predictions[best.names]


def fit(measurements: list[Measurement], base: Profile, names: list[str] | None = None,
        progress: Callable[[str], None] | None = None) -> FitResult:
    """The fitted profile, its errors on every measurement, and leave-one-model-out predictions.

    Parameters
    ----------
    names: the parameters to fit; by default they are chosen (`choose`): never more than the models can fit,
      and only as many as improve the prediction of models left out. The others keep the base profile's values.
    progress: called with each parameter set as its left-out fits start (choosing takes a minute or more on
      ten models).

    Returns
    -------
    FitResult; with `names` given, raises ConfigError when there are fewer distinct models than names."""
    cases = prepare(measurements)
    candidates: tuple[Candidate, ...] = ()
    held_out = None
    if names is None:
        names, candidates, held_out = choose(cases, base, progress)
    profile = fit_cases(cases, base, names)
    fitted = [Prediction(c.measurement.label, c.measurement.model.stem, c.measurement.latency_ms,
                         predict_ms(c, profile)) for c in cases]
    parameters = {n: _current(profile, n, base) for n in names}
    at_bound = tuple(n for n, v in parameters.items()
                     if any(math.isclose(v, b, rel_tol=1e-4, abs_tol=1e-9) for b in _bounds(base, n)))
    held_out = _held_out(cases, base, names) if held_out is None else held_out  # choose() has them already
    return FitResult(profile, parameters, fitted, held_out, candidates, at_bound)


def selection_path(result: FitResult) -> str:
    """The forward selection's steps as text: the base profile's left-out errors, each parameter added with its
    set's, and the best next set, which did not improve on them."""
    def scored(c: Candidate) -> str:
        return "unscored" if c.held_out_median is None else f"{c.held_out_median:.1%} / {c.held_out_p90:.1%}"

    by_names = {c.names: c for c in result.candidates}
    chosen = tuple(result.parameters)
    steps = [f"base {scored(by_names[()])}"] if () in by_names else []
    steps += [f"+ {chosen[k - 1]} {scored(by_names[chosen[:k]])}" for k in range(1, len(chosen) + 1)
              if chosen[:k] in by_names]
    path = " -> ".join(steps)
    following = [c for c in result.candidates if len(c.names) == len(chosen) + 1 and c.names[:-1] == chosen]
    if following:
        nxt = min(following, key=_score)
        path += f" (next best: + {nxt.names[-1]} {scored(nxt)})"
    return path


def summary(predictions: list[Prediction]) -> tuple[float, float] | None:
    """Median and 90th percentile of |estimate / measured − 1|."""
    if not predictions:
        return None
    errors = sorted(abs(p.error) for p in predictions)
    return statistics.median(errors), errors[min(len(errors) - 1, round(0.9 * (len(errors) - 1)))]
