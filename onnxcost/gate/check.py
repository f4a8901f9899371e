"""The CI gate: a model's report against its budget (and its accepted baseline). Exit codes: 0 every budget
holds, 1 some budget is exceeded, 2 bad input or bad configuration (raised as OnnxcostError)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..base import readers
from ..base.errors import ConfigError, ModelError, internal_error
from ..pipeline import analyze
from ..report.schema import SCHEMA, Report
from .budgets import Budget, Config

EXIT_PASS, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
BASELINE_METRICS = ("macs", "flops", "params", "param_bytes", "peak_memory_bytes", "latency_ms")


@dataclass
class CheckLine:
    metric: str
    value: float | str | None
    limit: float | str | None
    headroom: float | None  # percent of the limit still free (negative: over budget)
    passed: bool
    message: str = ""


@dataclass
class ModelCheck:
    path: str
    passed: bool
    lines: list[CheckLine] = field(default_factory=list)
    error: str | None = None  # the model could not be analysed: this one line says why
    seconds: float = 0.0  # time its analysis took
    budget_file: str | None = None  # the config holding its budget, and the line of that budget
    budget_line: int | None = None


@dataclass
class CheckResult:
    models: list[ModelCheck]

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.models)

    @property
    def exit_code(self) -> int:
        if any(m.error for m in self.models):
            return EXIT_BAD_INPUT
        return EXIT_PASS if self.passed else EXIT_FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "onnxcost.check/1", "passed": self.passed, "models": [asdict(m) for m in self.models]}


def analyze_for(model: Path, budget: Budget) -> Report:
    return analyze(model, dims=budget.dims, input_shapes=budget.input_shapes, schedule=budget.schedule,
                   inplace=budget.inplace, profile=budget.profile, strict=budget.strict,
                   input_values=budget.input_values or None)


def _count(x: float | None) -> float | int | None:
    """A whole number as an int (JSON writes 1814073344, not 1814073344.0); a fraction stays a float."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _limit_line(metric: str, value: float | None, limit: float, why: str = "") -> CheckLine:
    if value is None:
        return CheckLine(metric, None, _count(limit), None, False, f"{metric} is unknown for this model{why}")
    headroom = 100.0 * (limit - value) / limit if limit else (0.0 if value == 0 else -100.0)
    ok = value <= limit
    return CheckLine(metric, _count(value), _count(limit), round(headroom, 2), ok,
                     "" if ok else f"{metric} {_num(value)} exceeds the budget {_num(limit)}")


def _num(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def _unknown_why(report: Report, budget: Budget) -> str:
    """Why a total is unknown, and the fix: the dims left unbound and the budget line that binds them."""
    if report.symbolic:
        names = list(report.symbolic["symbols"])
        where = f" (line {budget.line})" if budget.line else ""
        return (f": dim(s) {', '.join(names)} are unbound; bind them in the budget of '{budget.pattern}'{where}, "
                f"e.g. dims = {{ {names[0]} = 1 }}")
    if report.totals.unknown_cost_nodes:
        return f": {report.totals.unknown_cost_nodes} node(s) have an unknown cost"
    return ""


def evaluate(report: Report, budget: Budget, baseline: dict[str, Any] | None,
             max_increase: float | None) -> list[CheckLine]:
    t = report.totals
    lines: list[CheckLine] = []
    for metric, limit in budget.limits.items():
        value = getattr(t, metric)
        lines.append(_limit_line(metric, None if value is None else float(value), limit, _unknown_why(report, budget)))
    if t.unknown_cost_nodes and not budget.allow_unknown and "unknown_cost_nodes" not in budget.limits:
        names = [n.name for n in report.nodes if n.macs is None or n.flops is None][:5]
        lines.append(CheckLine("complete analysis", t.unknown_cost_nodes, 0, None, False,
                               f"{t.unknown_cost_nodes} node(s) with unknown cost ({', '.join(names)}); "
                               "set allow_unknown = true to accept"))
    ops = {n.op_type for n in report.nodes}
    if budget.forbidden_ops:
        bad = sorted(ops & set(budget.forbidden_ops))
        lines.append(CheckLine("forbidden ops", ", ".join(bad) or "none", ", ".join(budget.forbidden_ops), None,
                               not bad, f"forbidden op(s) present: {', '.join(bad)}" if bad else ""))
    if budget.allowed_ops is not None:
        bad = sorted(ops - set(budget.allowed_ops))
        lines.append(CheckLine("allowed ops", ", ".join(bad) or "all allowed", ", ".join(budget.allowed_ops), None,
                               not bad, f"op(s) outside the allowed list: {', '.join(bad)}" if bad else ""))
    if budget.opset_min is not None or budget.opset_max is not None:
        opset = report.model.opsets.get("ai.onnx", 0)
        lo, hi = budget.opset_min or 0, budget.opset_max or 10**9
        ok = lo <= opset <= hi
        lines.append(CheckLine("opset", opset, f"{budget.opset_min or ''}..{budget.opset_max or ''}", None, ok,
                               "" if ok else f"opset {opset} outside {lo}..{budget.opset_max or 'any'}"))
    increase = max_increase if max_increase is not None else budget.max_increase
    if increase is not None:
        lines += _baseline_lines(report, baseline, increase)
    return lines


def _baseline_lines(report: Report, baseline: dict[str, Any] | None, increase: float) -> list[CheckLine]:
    if baseline is None:
        return [CheckLine("baseline", "none stored", "", None, True,
                          "no accepted baseline stored yet: run `onnxcost baseline MODEL`")]
    old_totals = baseline.get("totals", {})
    lines = []
    for metric in BASELINE_METRICS:
        new, old = getattr(report.totals, metric, None), old_totals.get(metric)
        if new is None or old is None:
            continue
        grown = 100.0 * (new - old) / old if old else (0.0 if new == 0 else 100.0)
        ok = grown <= increase
        lines.append(CheckLine(f"{metric} vs baseline", new, f"{old:,} +{increase:g}%",
                               round(increase - grown, 2), ok,
                               "" if ok else f"{metric} grew {grown:+.2f}% over the baseline (allowed +{increase:g}%)"))
    return lines


def load_baseline(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    data = readers.load_json(path, "the stored baseline")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"baseline {path} is not an {SCHEMA} report")
    totals = data.get("totals")
    if not isinstance(totals, dict) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf"))
            for k, v in totals.items() if k in BASELINE_METRICS):
        raise ConfigError(f"baseline {path}: its totals ({', '.join(BASELINE_METRICS)}) must be non-negative "
                          "numbers or null")
    return data


def check(config: Config, models: list[Path] | None = None, max_increase: float | None = None,
          skip_unmatched: bool = False) -> CheckResult:
    """Check `models` (default: every file the budgets' patterns match) against their budgets. Models the
    config excludes are skipped, and with `skip_unmatched` (the pre-commit hook) so are those no budget
    matches."""
    targets = [m for m in (models if models else config.models()) if not config.excluded(m)]
    if skip_unmatched:
        targets = [m for m in targets if config.budget_for(m) is not None]
    if not targets and (skip_unmatched or models):
        return CheckResult([])
    if not targets:
        raise ConfigError(f"{config.path}: no model matches any budget pattern")
    results = []
    for model in targets:
        # paths relative to the config's folder: GitHub annotations need repository-relative file names
        shown = config.display_path(model)
        if not model.is_file():
            results.append(ModelCheck(shown, False, [], f"{model}: no such file (a missing model is not a pass)"))
            continue
        if not config.inside(model):
            results.append(ModelCheck(shown, False, [], f"{model}: resolves outside {config.root}; a budget checks "
                                      "only the models in its folder"))
            continue
        budget = config.budget_for(model)
        if budget is None:
            raise ConfigError(f"{model}: no budget in {config.path} matches it "
                              f"(patterns: {', '.join(b.pattern for b in config.budgets)})")
        start = time.perf_counter()
        try:
            report = analyze_for(model, budget)
        except ModelError as exc:  # one bad model is one error row: the others are still checked
            results.append(ModelCheck(shown, False, [], str(exc), round(time.perf_counter() - start, 3)))
            continue
        except Exception as exc:  # noqa: BLE001 - a bug hit by one model is its error row, named, not the run's end
            results.append(ModelCheck(shown, False, [], internal_error(exc), round(time.perf_counter() - start, 3)))
            continue
        lines = evaluate(report, budget, load_baseline(config.baseline_path(model)), max_increase)
        results.append(ModelCheck(shown, all(line.passed for line in lines), lines, None,
                                  round(time.perf_counter() - start, 3), config.path.name, budget.line))
    return CheckResult(results)


def store_baseline(config: Config, model: Path) -> Path:
    """Write the model's report as the accepted baseline next to the config; returns its path."""
    if not model.is_file():
        raise ModelError(f"{model}: no such file")
    budget = config.budget_for(model) or Budget(pattern=model.name)
    report = analyze_for(model, budget)
    target = config.baseline_path(model)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(report.to_json() + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot write baseline {target}: {exc.strerror or exc}") from None
    return target
