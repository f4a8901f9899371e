"""Renderers for `onnxcost check` (text, json, junit, github, markdown), `onnxcost diff` and `onnxcost bench`."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from rich.console import Group
from rich.table import Table

from ..base.errors import printable
from ..base.units import binary_bytes
from ..measure.bench import BenchResult
from ..report.render import md
from ..report.tables import add_row
from .check import CheckLine, CheckResult, ModelCheck
from .diff import Change, ReportDiff


def _fmt(value: float | str | None, metric: str = "") -> str:
    if value is None:
        return "?"
    if isinstance(value, str):
        return value
    if "latency" in metric:
        return f"{value:,.3f} ms"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _headroom(line: CheckLine) -> str:
    return "" if line.headroom is None else f"{line.headroom:+.1f}%"


def check_text(result: CheckResult) -> str:
    out = []
    for m in result.models:
        if m.error:
            out.append(f"ERROR {m.path}: {m.error}")
            continue
        out.append(f"{'PASS' if m.passed else 'FAIL'}  {m.path}")
        width = max((len(line.metric) for line in m.lines), default=6)
        out.append(f"  {'metric':<{width}}  {'value':>18}  {'limit':>22}  {'headroom':>9}  result")
        for line in m.lines:
            out.append(f"  {line.metric:<{width}}  {_fmt(line.value, line.metric):>18}  "
                       f"{_fmt(line.limit, line.metric):>22}  {_headroom(line):>9}  "
                       f"{'pass' if line.passed else 'FAIL'}" + (f"  {line.message}" if line.message and not line.passed
                                                                   or line.metric == "baseline" else ""))
    n_error = sum(bool(m.error) for m in result.models)
    n_fail = sum(not m.passed for m in result.models) - n_error
    out.append(f"{len(result.models) - n_fail - n_error} passed, {n_fail} failed, {n_error} could not be analysed"
               if result.models else "no models")
    return "\n".join(out) + "\n"


def check_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=1) + "\n"


def _classname(path: str) -> str:
    """A JUnit classname readers do not split: they take dots as package separators (models/a.onnx)."""
    return _xml(path.replace(".", "_"))


def check_junit(result: CheckResult) -> str:
    """One test suite per model, one test case per budget line: CI systems show failures as test failures,
    and a model that could not be analysed as an <error> (the common JUnit XSD's attributes throughout)."""
    def cases(m: ModelCheck) -> int:
        return len(m.lines) or 1

    suites = ET.Element("testsuites", name="onnxcost", tests=str(sum(cases(m) for m in result.models)),
                        failures=str(sum(not line.passed for m in result.models for line in m.lines)),
                        errors=str(sum(bool(m.error) for m in result.models)),
                        time=f"{sum(m.seconds for m in result.models):.3f}")
    for k, m in enumerate(result.models):
        suite = ET.SubElement(suites, "testsuite", name=_xml(m.path), id=str(k), tests=str(cases(m)),
                              failures=str(sum(not line.passed for line in m.lines)), errors=str(int(bool(m.error))),
                              skipped="0", time=f"{m.seconds:.3f}")
        if m.error:
            case = ET.SubElement(suite, "testcase", classname=_classname(m.path), name="analysis",
                                 time=f"{m.seconds:.3f}")
            ET.SubElement(case, "error", message=_xml(m.error), type="ModelError").text = _xml(m.error)
            continue
        for line in m.lines:
            case = ET.SubElement(suite, "testcase", classname=_classname(m.path), name=_xml(line.metric), time="0")
            detail = f"value {_fmt(line.value, line.metric)}, limit {_fmt(line.limit, line.metric)}"
            if not line.passed:
                ET.SubElement(case, "failure", message=_xml(line.message or detail),
                              type="BudgetExceeded").text = _xml(detail)
            else:
                ET.SubElement(case, "system-out").text = detail
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _gh_escape(text: str) -> str:
    """A workflow command's message: one line (GitHub's %-escapes), no other control characters."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _gh_property(text: str) -> str:
    """A workflow command's property value (file=…): the message escapes, and ',' and ':' too, which would
    end the property or the command's properties."""
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


#: Characters XML 1.0 cannot hold at all (not even escaped): C0 controls but tab, newline and return.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text for an XML attribute or element, with the characters XML 1.0 forbids written as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def check_github(result: CheckResult) -> str:
    """GitHub Actions workflow commands: an ::error annotation on the model file per exceeded budget."""
    out = []
    for m in result.models:
        if m.error:
            out.append(f"::error file={_gh_property(m.path)},title=onnxcost cannot analyse::{_gh_escape(m.error)}")
        for line in m.lines:
            if not line.passed:
                out.append(f"::error file={_gh_property(m.path)},title=onnxcost {_gh_property(line.metric)}::"
                           f"{_gh_escape(line.message)}")
                if m.budget_file and m.budget_line:  # and on the budget itself, in the config file
                    out.append(f"::error file={_gh_property(m.budget_file)},line={m.budget_line},title=onnxcost "
                               f"budget of {_gh_property(m.path)}::{_gh_escape(line.message)}")
        if m.passed:
            out.append(f"::notice file={_gh_property(m.path)},title=onnxcost::all {len(m.lines)} budget checks pass")
    return "\n".join(out) + "\n"


def check_markdown(result: CheckResult) -> str:
    out = ["## onnxcost budget check: " + ("✅ pass" if result.passed else "❌ fail"), ""]
    for m in result.models:
        if m.error:
            out += [f"### ⚠️ `{md(m.path)}`", "", f"cannot be analysed: {md(m.error)}", ""]
            continue
        out += [f"### {'✅' if m.passed else '❌'} `{md(m.path)}`", "", "| metric | value | limit | headroom | |",
                "|---|---:|---:|---:|---|"]
        for line in m.lines:
            out.append(f"| {md(line.metric)} | {md(_fmt(line.value, line.metric))} | "
                       f"{md(_fmt(line.limit, line.metric))} | {_headroom(line)} | "
                       f"{'✅' if line.passed else '❌ ' + md(line.message)} |")
        out.append("")
    return "\n".join(out)


def render_check(result: CheckResult, fmt: str) -> str:
    return {"text": check_text, "json": check_json, "junit": check_junit, "github": check_github,
            "markdown": check_markdown}[fmt](result)


def _change(c: Change) -> str:
    pct = c.percent
    pct_text = "new" if pct is None and c.old in (0, None) else ("?" if pct is None else f"{pct:+.2f}%")
    return f"{_fmt(c.old)} -> {_fmt(c.new)} ({pct_text})"


def diff_text(d: ReportDiff, top: int = 10) -> str:
    out = [f"onnxcost diff: {d.old} -> {d.new}", *(f"note: {n}" for n in d.notes), "", "totals:"]
    out += [f"  {c.key:<20} {_change(c)}" for c in d.totals]
    if d.op_types:
        out += ["", "op types (MACs, or FLOPs for ops without MACs):"]
        out += [f"  {c.key:<20} {_change(c)}" for c in d.op_types]
    if d.added:
        out += ["", f"nodes added ({len(d.added)}): " + ", ".join(d.added[:top]) + (" …" if len(d.added) > top else "")]
    if d.removed:
        out += ["", f"nodes removed ({len(d.removed)}): " + ", ".join(d.removed[:top])
                + (" …" if len(d.removed) > top else "")]
    if d.changed:
        out += ["", "nodes changed most:"] + [f"  {c.key:<40} {_change(c)}" for c in d.changed[:top]]
    return "\n".join(out) + "\n"


def diff_markdown(d: ReportDiff, top: int = 10) -> str:
    out = [f"## onnxcost diff: `{d.old}` → `{d.new}`", "", "| total | old | new | change |", "|---|---:|---:|---:|"]
    for c in d.totals:
        out.append(f"| {c.key} | {_fmt(c.old)} | {_fmt(c.new)} | {'' if c.percent is None else f'{c.percent:+.2f}%'} |")
    if d.added or d.removed:
        out += ["", f"Added: {', '.join(f'`{n}`' for n in d.added[:top]) or 'none'}  ",
                f"Removed: {', '.join(f'`{n}`' for n in d.removed[:top]) or 'none'}"]
    return "\n".join(out) + "\n"


#: The orders the bench table's per-node rows can be sorted in.
BENCH_SORTS = ("measured", "estimated", "ratio", "graph")


def bench_table(result: BenchResult, top: int | None = None, sort: str = "measured") -> Group:
    """Whole-model latency statistics, then measured and estimated time per op type and per node (the `top`
    nodes by `sort`: measured or estimated time, estimate/measured ratio, or graph order)."""
    head = Table(title=f"onnxruntime {result.provider}, {result.threads} threads, {result.runs} runs",
                 header_style="bold")
    for col in ("min ms", "p50 ms", "p90 ms", "mean ms", "estimate ms"):
        head.add_column(col, justify="right")
    lat = result.latency_ms
    add_row(head, *(f"{lat[k]:.3f}" for k in ("min", "p50", "p90", "mean")),
                 "?" if result.estimate_ms is None else f"{result.estimate_ms:.3f} ({result.profile})")
    parts: list[Table] = [head]
    if result.run_rss_growth_bytes is not None or result.planned_peak_bytes is not None:
        memory = Table(title="Memory", header_style="bold")
        for col in ("planned peak (activations)", "first run (RSS growth)", "session (RSS growth)"):
            memory.add_column(col, justify="right")
        add_row(memory, binary_bytes(result.planned_peak_bytes), binary_bytes(result.run_rss_growth_bytes),
                binary_bytes(result.session_rss_bytes))
        parts.append(memory)
    if result.nodes:
        per_op: dict[str, list[float]] = {}
        for n in result.nodes:
            agg = per_op.setdefault(n.op_type, [0.0, 0.0, 0.0])
            agg[0] += n.measured_us or 0.0
            agg[1] += n.estimated_us or 0.0
            agg[2] += 1
        ops = Table(title="By op type (µs)", header_style="bold")
        for col in ("op", "nodes", "measured", "estimated", "est / meas"):
            ops.add_column(col, justify="left" if col == "op" else "right")
        for op, (meas, est, count) in sorted(per_op.items(), key=lambda kv: -kv[1][0]):
            add_row(ops, op, str(int(count)), f"{meas:,.1f}", f"{est:,.1f}", f"{est / meas:.2f}" if meas else "")
        for kernel in sorted(set(result.unmatched_us) | set(result.unmatched_estimated_us)):
            k_meas, k_est = result.unmatched_us.get(kernel), result.unmatched_estimated_us.get(kernel)
            add_row(ops, f"{kernel} (onnxruntime kernel, no graph node)", "",
                        "" if k_meas is None else f"{k_meas:,.1f}", "" if k_est is None else f"{k_est:,.1f}",
                        f"{k_est / k_meas:.2f}" if k_meas and k_est else "")
        nodes = Table(title="Nodes (µs)", header_style="bold")
        for col in ("node", "op", "measured", "estimated"):
            nodes.add_column(col, justify="left" if col in ("node", "op") else "right")
        keys = {"measured": lambda n: -(n.measured_us or 0.0), "estimated": lambda n: -(n.estimated_us or 0.0),
                "ratio": lambda n: -((n.estimated_us or 0.0) / n.measured_us if n.measured_us else 0.0)}
        chosen = sorted(result.nodes, key=keys[sort]) if sort in keys else list(result.nodes)
        for n in chosen[:top] if top else chosen:
            shown = f"fused into {n.fused_into}" if n.fused_into else ("" if n.measured_us is None
                                                                       else f"{n.measured_us:,.1f}")
            add_row(nodes, n.name, n.op_type, shown, "" if n.estimated_us is None else f"{n.estimated_us:,.1f}")
        parts += [ops, nodes]
    return Group(*parts)
