"""The report as one self-contained HTML page: inline CSS and JavaScript, pictures as inline SVG, nothing
fetched from the network. It holds the totals, a sortable and filterable node table, the memory timeline and,
with a profile, the roofline. Every name from the model is escaped: names are data."""

from __future__ import annotations

import json
import math
from html import escape

from ..base.units import binary_bytes, si
from ..latency.profiles import Profile
from .schema import Report

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}th{cursor:pointer;background:#f4f4f4;
text-align:left;user-select:none}td.n{text-align:right;font-variant-numeric:tabular-nums}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}#filter{margin:.5em 0;padding:4px;width:20em}
.warn{color:#8a4b00}svg{border:1px solid #ddd;background:#fff}
"""

_JS = """
(function(){
  const table = document.getElementById('nodes'), body = table.tBodies[0];
  const rows = Array.from(body.rows);
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const desc = !th.classList.contains('desc');
    table.querySelectorAll('th').forEach(h => h.classList.remove('asc', 'desc'));
    th.classList.add(desc ? 'desc' : 'asc');
    const key = r => { const v = r.cells[col].dataset.v; return v === undefined ? r.cells[col].textContent : +v; };
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (desc ? -1 : 1); });
    rows.forEach(r => body.appendChild(r));
  }));
  document.getElementById('filter').addEventListener('input', e => {
    const q = e.target.value.toLowerCase();
    rows.forEach(r => { r.style.display = r.textContent.toLowerCase().includes(q) ? '' : 'none'; });
  });
})();
"""

COLUMNS = ("node", "op", "output shape", "MACs", "FLOPs", "params", "out bytes", "est. µs")


def page(report: Report, profile: Profile | None = None) -> str:
    """The whole page as a string."""
    title = escape(report.model.path or report.model.graph_name or "model")
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>onnxcost: {title}</title>",
             f"<style>{_CSS}</style></head><body><h1>onnxcost report: {title}</h1>", _totals(report)]
    if report.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li class='warn'>{escape(w)}</li>"
                                                       for w in report.warnings) + "</ul>")
    parts.append(_nodes(report))
    if report.memory is not None and report.memory.timeline_bytes:
        parts.append("<h2>Memory timeline</h2>" + _timeline_svg(report.memory.timeline_bytes))
    if profile is not None:
        parts.append(f"<h2>Roofline on {escape(profile.name)}</h2>" + _roofline_svg(report, profile))
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def _totals(report: Report) -> str:
    t = report.totals
    bound = f" ({t.unknown_cost_nodes} nodes unknown)" if t.lower_bound else ""

    def total(value: int | None, unit: str) -> str:
        return f"≥ {si(value, unit)}{bound}" if bound and value is not None else si(value, unit)

    rows = [("nodes", str(t.nodes)), ("MACs", total(t.macs, "MAC")), ("FLOPs", total(t.flops, "FLOP")),
            ("params", si(t.params)), ("param bytes", binary_bytes(t.param_bytes)),
            ("activation bytes", binary_bytes(t.activation_bytes)),
            ("peak memory", binary_bytes(t.peak_memory_bytes))]
    if t.latency_ms is not None:
        rows.append(("latency", f"{t.latency_ms:,.3f} ms on {t.profile}"))
    if report.symbolic:
        rows += [(f"{k} (formula)", v) for k, v in report.symbolic["totals"].items() if isinstance(v, str)]
    return "<h2>Totals</h2><table id='totals'>" + "".join(
        f"<tr><td>{escape(k)}</td><td class='n'>{escape(v)}</td></tr>" for k, v in rows) + "</table>"


def _cell(value: int | float | None, text: str) -> str:
    return f"<td class='n' data-v='{value if value is not None else -1}'>{escape(text)}</td>"


def _nodes(report: Report) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = []
    for n in report.nodes:
        if n.folded:
            continue
        shape = ", ".join("?" if s is None else "x".join(map(str, s)) for s in n.output_shapes)
        body.append("<tr>" + f"<td>{escape(n.name)}</td><td>{escape(n.op_type)}</td><td>{escape(shape)}</td>"
                    + _cell(n.macs, si(n.macs)) + _cell(n.flops, si(n.flops)) + _cell(n.params, si(n.params))
                    + _cell(n.output_bytes, binary_bytes(n.output_bytes))
                    + _cell(n.latency_us, "" if n.latency_us is None else f"{n.latency_us:,.1f}") + "</tr>")
    return ("<h2>Nodes</h2><input id='filter' placeholder='filter by name or op'>"
            f"<table id='nodes'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _timeline_svg(values: list[int], width: int = 800, height: int = 200) -> str:
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{k * step:.1f},{height - v / top * (height - 10):.1f}" for k, v in enumerate(values))
    return (f"<svg id='timeline' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
            f"<polyline fill='none' stroke='#2a6fdb' stroke-width='1.5' points='{points}'/>"
            f"<text x='4' y='14' font-size='12'>peak {escape(binary_bytes(top))}</text></svg>")


def _roofline_svg(report: Report, profile: Profile, width: int = 800, height: int = 400) -> str:
    from .plots import roofline_data

    data = roofline_data(report, profile)
    xs = [x for roofs in data.roofs.values() for r in roofs.values() for x, _ in r]
    ys = [y for roofs in data.roofs.values() for r in roofs.values() for _, y in r]
    ys += [y for pts in data.points.values() for _, y in pts]
    if not xs or not ys:
        return "<p>no node with a known time</p>"
    lx, hx, ly, hy = (math.log10(min(xs)), math.log10(max(xs)), math.log10(min(ys)), math.log10(max(ys)))

    def at(x: float, y: float) -> str:
        return (f"{(math.log10(x) - lx) / (hx - lx or 1) * (width - 20) + 10:.1f},"
                f"{height - 10 - (math.log10(y) - ly) / (hy - ly or 1) * (height - 20):.1f}")

    colors = ["#2a6fdb", "#e07b00", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    shapes = []
    for k, cls in enumerate(sorted(data.points)):
        color = colors[k % len(colors)]
        for name, roof in data.roofs[cls].items():
            dash = "" if name == "DRAM" else " stroke-dasharray='4 3'"
            shapes.append(f"<polyline fill='none' stroke='{color}'{dash} points='"
                          + " ".join(at(x, y) for x, y in roof) + "'/>")
        shapes += [f"<circle cx='{at(x, y).split(',')[0]}' cy='{at(x, y).split(',')[1]}' r='2.5' fill='{color}'>"
                   f"<title>{escape(cls)}</title></circle>" for x, y in data.points[cls]]
    legend = json.dumps(sorted(data.points))
    return (f"<svg id='roofline' width='{width}' height='{height}' viewBox='0 0 {width} {height}' "
            f"data-classes='{escape(legend)}'>{''.join(shapes)}</svg>")
