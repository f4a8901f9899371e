"""The report as one self-contained HTML page: inline CSS and JavaScript, pictures as inline SVG, nothing
fetched from the network. Overview first (inputs at the shapes analysed, totals, where the cost is), then
the per-op-type breakdown, the memory timeline and the roofline (axes, units, a legend, each point named on
hover), and last a sortable, filterable node table. Every name from the model is escaped: names are data."""

from __future__ import annotations

import math
from html import escape

from ..base.units import binary_bytes, si
from ..latency.profiles import Profile
from .schema import NodeReport, Report, op_key

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}h1{font-size:1.3em}
h2{font-size:1.1em;margin-top:2em}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}
th{background:#f4f4f4;text-align:left}#nodes th{cursor:pointer;user-select:none}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th.asc::after{content:" \\25B2"}
th.desc::after{content:" \\25BC"}#filter{margin:.5em 0;padding:4px;width:20em}.warn{color:#8a4b00}
svg{border:1px solid #ddd;background:#fff}.bar{fill:#2a6fdb}.axis{stroke:#555}.grid{stroke:#eee}
svg text{font-size:11px;fill:#333}.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;
padding:.5em 1em;border-radius:4px}.card b{display:block;font-size:1.2em}.tag{font-size:.8em;color:#666}
"""

_JS = """
document.querySelectorAll('table.nodes').forEach(table => {
  const body = table.tBodies[0], rows = Array.from(body.rows);
  table.querySelectorAll('th').forEach((th, col) => th.addEventListener('click', () => {
    const desc = !th.classList.contains('desc');
    table.querySelectorAll('th').forEach(h => h.classList.remove('asc', 'desc'));
    th.classList.add(desc ? 'desc' : 'asc');
    const key = r => { const v = r.cells[col].dataset.v; return v === undefined ? r.cells[col].textContent : +v; };
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x > y ? 1 : x < y ? -1 : 0) * (desc ? -1 : 1); });
    rows.forEach(r => body.appendChild(r));
  }));
  document.getElementById(table.dataset.filter).addEventListener('input', e => {
    const q = e.target.value.toLowerCase();
    rows.forEach(r => { r.style.display = r.textContent.toLowerCase().includes(q) ? '' : 'none'; });
  });
});
"""

COLUMNS = ("node", "op", "output shape", "MACs", "FLOPs", "params", "out bytes", "est. µs", "bound")
COLORS = ["#2a6fdb", "#e07b00", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]


def page(report: Report, profile: Profile | None = None) -> str:
    """The whole page as a string."""
    title = escape(report.model.path or report.model.graph_name or "model")
    return _document(f"onnxcost report: {title}", title, _sections(report, profile, ""))


def pages(items: list[tuple[str, Report | None, str | None]], profile: Profile | None = None) -> str:
    """One page for many models: a summary row each (linking to its section, or its error), then each
    model's sections. `items`: (path, report or None, error or None)."""
    head = ["model", "nodes", "MACs", "FLOPs", "params", "peak memory", "latency", "error"]
    rows, sections = [], []
    for k, (path, rep, error) in enumerate(items):
        name = f"<a href='#m{k}'>{escape(path)}</a>" if rep is not None else escape(path)
        if rep is None:
            rows.append(f"<tr><td>{name}</td>" + "<td></td>" * 6 + f"<td class='warn'>{escape(error or '')}</td></tr>")
            continue
        t = rep.totals
        latency = "" if t.latency_ms is None else f"{t.latency_ms:,.3f} ms"
        rows.append(f"<tr><td>{name}</td><td class='n'>{t.nodes}</td><td class='n'>{escape(si(t.macs))}</td>"
                    f"<td class='n'>{escape(si(t.flops))}</td><td class='n'>{escape(si(t.params))}</td>"
                    f"<td class='n'>{escape(binary_bytes(t.peak_memory_bytes))}</td><td class='n'>{latency}</td>"
                    "<td></td></tr>")
        sections.append(f"<h1 id='m{k}'>{escape(path)}</h1>" + "".join(_sections(rep, profile, f"-{k}")))
    summary = ("<h2>Models</h2><table id='models'><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
               + "".join(rows) + "</table>")
    return _document(f"onnxcost report: {len(items)} models", f"{len(items)} models", [summary, *sections])


def _document(heading: str, title: str, body: list[str]) -> str:
    return "\n".join([f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>onnxcost: {title}"
                      f"</title><style>{_CSS}</style></head><body><h1>{heading}</h1>", *body,
                      f"<script>{_JS}</script></body></html>"])


def _sections(report: Report, profile: Profile | None, suffix: str) -> list[str]:
    """One model's sections; `suffix` keeps element ids unique on a page of many models."""
    parts = [_overview(report, suffix)]
    if report.warnings:
        parts.append("<h2>Warnings</h2><ul>" + "".join(f"<li class='warn'>{escape(w)}</li>"
                                                       for w in report.warnings) + "</ul>")
    parts.append(_by_op_type(report, suffix))
    if report.memory is not None and report.memory.timeline_bytes:
        parts.append("<h2>Memory timeline</h2>" + _timeline_svg(report, suffix))
    if profile is not None:
        parts.append(f"<h2>Roofline on {escape(profile.name)}</h2>" + _roofline_svg(report, profile, suffix))
    parts.append(_nodes(report, suffix))
    return parts


def _dims(shape: list[int | str] | None) -> str:
    return "?" if shape is None else " × ".join(map(str, shape)) or "scalar"


def _overview(report: Report, suffix: str) -> str:
    """What was analysed (inputs at their shapes, the dims left free) and the totals, as cards and a table."""
    t = report.totals
    bound = f" ({t.unknown_cost_nodes} nodes unknown)" if t.lower_bound else ""
    formulas = report.symbolic["totals"] if report.symbolic else {}

    def total(value: int | None, key: str, unit: str) -> str:
        if value is None and isinstance(formulas.get(key), str):
            return f"{formulas[key]} {unit}"
        return f"≥ {si(value, unit)}{bound}" if bound and value is not None else si(value, unit)

    cards = [("MACs", total(t.macs, "macs", "MAC")), ("FLOPs", total(t.flops, "flops", "FLOP")),
             ("params", si(t.params)), ("peak memory", binary_bytes(t.peak_memory_bytes))]
    if t.latency_ms is not None:
        cards.append((f"latency on {t.profile}", f"{t.latency_ms:,.3f} ms"))
    html = ["<h2>Overview</h2><div class='cards'>" + "".join(
        f"<div class='card'><span class='tag'>{escape(k)}</span><b>{escape(v)}</b></div>" for k, v in cards)
        + "</div>"]
    io_rows = [("input", s.name, s.dtype, _dims(s.shape)) for s in report.inputs]
    io_rows += [("output", s.name, s.dtype, _dims(s.shape)) for s in report.outputs]
    html.append(f"<h2>Inputs and outputs, at the shapes analysed</h2><table id='io{suffix}'><tr><th></th><th>name</th>"
                "<th>type</th><th>shape</th></tr>" + "".join(
                    f"<tr><td>{k}</td><td>{escape(n)}</td><td>{escape(d)}</td><td>{escape(s)}</td></tr>"
                    for k, n, d, s in io_rows) + "</table>")
    if report.symbolic:
        free = ", ".join(report.symbolic["symbols"])
        html.append(f"<p>Dims left free: <b>{escape(free)}</b>. Totals are formulas in them; bind them to get "
                    "numbers.</p>")
    rows = [("nodes", str(t.nodes)), ("MACs", total(t.macs, "macs", "MAC")),
            ("FLOPs", total(t.flops, "flops", "FLOP")), ("params", si(t.params)),
            ("param bytes", binary_bytes(t.param_bytes)),
            ("activation bytes", binary_bytes(t.activation_bytes)), ("peak memory", binary_bytes(t.peak_memory_bytes)),
            ("schedule", report.schedule_method + (" (proven optimal)" if report.schedule_optimal else ""))]
    if t.latency_ms is not None:
        rows.append(("latency", f"{t.latency_ms:,.3f} ms on {t.profile}"))
    if t.upper_bound:
        rows.append(("note", "some costs are upper bounds (they depend on run-time data)"))
    html.append(f"<h2>Totals</h2><table id='totals{suffix}'>" + "".join(
        f"<tr><td>{escape(k)}</td><td class='n'>{escape(v)}</td></tr>" for k, v in rows) + "</table>")
    return "".join(html)


def _by_op_type(report: Report, suffix: str) -> str:
    """Per op type: count, MACs, FLOPs, params, bytes moved and (with a profile) estimated time, with a bar of
    each one's share of the time (of the FLOPs without a profile); then the heaviest nodes."""
    moved: dict[str, int] = {}
    time_us: dict[str, float] = {}
    for n in report.nodes:
        key = op_key(n.domain, n.op_type)
        moved[key] = moved.get(key, 0) + (n.input_bytes or 0) + (n.output_bytes or 0)
        time_us[key] = time_us.get(key, 0.0) + (n.latency_us or 0.0)
    timed = report.totals.latency_ms is not None
    weight = {op: (time_us[op] if timed else float(a.flops or 0)) for op, a in report.by_op_type.items()}
    total = sum(weight.values()) or 1.0
    what = "estimated time" if timed else "FLOPs"
    rows = []
    for op, a in sorted(report.by_op_type.items(), key=lambda kv: -weight[kv[0]]):
        share = weight[op] / total
        bar = (f"<svg width='160' height='12' style='border:0'><rect class='bar' width='{160 * share:.1f}' "
               f"height='12'><title>{escape(op)}: {share:.1%} of the {what}</title></rect></svg>")
        est = f"<td class='n'>{time_us[op]:,.1f}</td>" if timed else ""
        rows.append(f"<tr><td>{escape(op)}</td><td class='n'>{a.count}</td><td class='n'>{escape(si(a.macs))}</td>"
                    f"<td class='n'>{escape(si(a.flops))}</td><td class='n'>{escape(si(a.params))}</td>"
                    f"<td class='n'>{escape(binary_bytes(moved.get(op)))}</td>{est}<td>{bar} {share:.1%}</td></tr>")
    head = ["op", "count", "MACs", "FLOPs", "params", "bytes moved"] + (["est. µs"] if timed else []) + [
        f"share of {what}"]
    return (f"<h2>By op type</h2><table id='ops{suffix}'><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
            + "".join(rows) + "</table>" + _top_nodes(report, suffix, timed))


def _top_nodes(report: Report, suffix: str, timed: bool, count: int = 10) -> str:
    """The heaviest nodes: by estimated time with a profile, else by MACs then FLOPs."""
    def weight(n: NodeReport) -> tuple[float, float]:
        return (n.latency_us or 0.0, 0.0) if timed else (float(n.macs or 0), float(n.flops or 0))

    top = sorted((n for n in report.nodes if not n.folded), key=weight, reverse=True)[:count]
    rows = "".join(f"<tr><td>{escape(n.name)}</td><td>{escape(n.op_type)}</td><td>"
                   f"{escape(', '.join(_dims(s) for s in n.output_shapes))}</td><td class='n'>"
                   f"{escape(_work(n, 'macs'))}</td><td class='n'>{escape(_work(n, 'flops'))}</td><td class='n'>"
                   + ("" if n.latency_us is None else f"{n.latency_us:,.1f} µs") + "</td></tr>" for n in top)
    return (f"<h2>Top {len(top)} nodes</h2><table id='top{suffix}'><tr><th>node</th><th>op</th><th>output shape</th>"
            f"<th>MACs</th><th>FLOPs</th><th>est.</th></tr>{rows}</table>")


def _cell(value: int | float | None, text: str) -> str:
    return f"<td class='n' data-v='{value if value is not None else -1}'>{escape(text)}</td>"


def _work(n: NodeReport, metric: str) -> str:
    value, formula = getattr(n, metric), getattr(n, f"{metric}_expr")
    return formula if value is None and formula else si(value)


def _nodes(report: Report, suffix: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = []
    for n in report.nodes:
        if n.folded:
            continue
        shape = ", ".join(_dims(s) for s in n.output_shapes)
        est = "" if n.latency_us is None else ("fused" if n.bound == "fused" else f"{n.latency_us:,.1f}")
        body.append("<tr>" + f"<td>{escape(n.name)}</td><td>{escape(n.op_type)}</td><td>{escape(shape)}</td>"
                    + _cell(n.macs, _work(n, "macs")) + _cell(n.flops, _work(n, "flops"))
                    + _cell(n.params, si(n.params)) + _cell(n.output_bytes, binary_bytes(n.output_bytes))
                    + _cell(n.latency_us, est) + f"<td>{escape(n.bound or '')}"
                    + (" ≤" if n.upper_bound else "") + "</td></tr>")
    return (f"<h2>Nodes</h2><input id='filter{suffix}' placeholder='filter by name or op'>"
            f"<table id='nodes{suffix}' class='nodes' data-filter='filter{suffix}'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values from lo to hi."""
    if hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / count))
    step *= next(m for m in (1, 2, 5, 10) if (hi - lo) / (step * m) <= count)
    return [k * step for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def _timeline_svg(report: Report, suffix: str, width: int = 800, height: int = 240) -> str:
    """Live bytes at each step of the schedule, with axes in MiB and steps, the peak marked and named."""
    assert report.memory is not None
    values, names = report.memory.timeline_bytes, report.memory.timeline_nodes
    left, bottom, top_pad = 60, 30, 20
    top = max(values) or 1
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    step = plot_w / max(len(values) - 1, 1)

    def x(k: float) -> float:
        return left + k * step

    def y(v: float) -> float:
        return top_pad + plot_h - v / top * plot_h

    parts = [f"<svg id='timeline{suffix}' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"]
    for v in _ticks(0, top / 2**20):
        at = y(v * 2**20)
        parts.append(f"<line class='grid' x1='{left}' x2='{width - 10}' y1='{at:.1f}' y2='{at:.1f}'/>"
                     f"<text x='{left - 4}' y='{at + 4:.1f}' text-anchor='end'>{v:g}</text>")
    for k in _ticks(0, len(values) - 1):
        parts.append(f"<text x='{x(k):.1f}' y='{height - bottom + 14}' text-anchor='middle'>{k:g}</text>")
    parts.append(f"<line class='axis' x1='{left}' x2='{left}' y1='{top_pad}' y2='{top_pad + plot_h}'/>"
                 f"<line class='axis' x1='{left}' x2='{width - 10}' y1='{top_pad + plot_h}' y2='{top_pad + plot_h}'/>"
                 f"<text x='12' y='{top_pad + plot_h / 2:.0f}' transform='rotate(-90 12 {top_pad + plot_h / 2:.0f})' "
                 f"text-anchor='middle'>live MiB</text><text x='{left + plot_w / 2:.0f}' y='{height - 4}' "
                 f"text-anchor='middle'>step ({escape(report.schedule_method)} schedule)</text>")
    points = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(values))
    parts.append(f"<polyline fill='none' stroke='#2a6fdb' stroke-width='1.5' points='{points}'/>")
    parts += [f"<circle cx='{x(k):.1f}' cy='{y(v):.1f}' r='3' fill='transparent'><title>step {k}: "
              f"{escape(names[k] if k < len(names) else '')}, {escape(binary_bytes(v))}</title></circle>"
              for k, v in enumerate(values)]
    peak = report.memory.peak_step
    parts.append(f"<circle cx='{x(peak):.1f}' cy='{y(values[peak]):.1f}' r='4' fill='#d62728'><title>peak "
                 f"{escape(binary_bytes(values[peak]))} at {escape(report.memory.peak_node)}</title></circle>"
                 f"<text x='{min(x(peak) + 6, width - 200):.1f}' y='{max(y(values[peak]) - 6, 12):.1f}'>peak "
                 f"{escape(binary_bytes(values[peak]))} at {escape(report.memory.peak_node[:40])}</text></svg>")
    return "".join(parts)


def _roofline_svg(report: Report, profile: Profile, suffix: str, width: int = 800, height: int = 420) -> str:
    """Attained FLOP/s against arithmetic intensity on log axes: each op class's roofs (DRAM solid, cache
    dashed), each node a point named on hover, and a legend."""
    from .plots import roofline_data

    data = roofline_data(report, profile)
    xs = [x for roofs in data.roofs.values() for r in roofs.values() for x, _ in r]
    ys = [y for roofs in data.roofs.values() for r in roofs.values() for _, y in r]
    ys += [y for pts in data.points.values() for _, y in pts]
    if not xs or not ys:
        return "<p>no node with a known time</p>"
    lx, hx = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    ly, hy = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    left, bottom, right, top_pad = 70, 40, 150, 10
    plot_w, plot_h = width - left - right, height - bottom - top_pad

    def px(x: float) -> float:
        return left + (math.log10(x) - lx) / (hx - lx or 1) * plot_w

    def py(y: float) -> float:
        return top_pad + plot_h - (math.log10(y) - ly) / (hy - ly or 1) * plot_h

    parts = [f"<svg id='roofline{suffix}' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"]
    for e in range(lx, hx + 1):
        parts.append(f"<line class='grid' x1='{px(10 ** e):.1f}' x2='{px(10 ** e):.1f}' y1='{top_pad}' "
                     f"y2='{top_pad + plot_h}'/><text x='{px(10 ** e):.1f}' y='{height - bottom + 14}' "
                     f"text-anchor='middle'>1e{e}</text>")
    for e in range(ly, hy + 1):
        parts.append(f"<line class='grid' x1='{left}' x2='{left + plot_w}' y1='{py(10 ** e):.1f}' "
                     f"y2='{py(10 ** e):.1f}'/><text x='{left - 4}' y='{py(10 ** e) + 4:.1f}' "
                     f"text-anchor='end'>1e{e}</text>")
    parts.append(f"<text x='{left + plot_w / 2:.0f}' y='{height - 6}' text-anchor='middle'>arithmetic intensity "
                 f"(FLOP/byte)</text><text x='14' y='{top_pad + plot_h / 2:.0f}' text-anchor='middle' "
                 f"transform='rotate(-90 14 {top_pad + plot_h / 2:.0f})'>attained FLOP/s</text>")
    by_class: dict[str, list[NodeReport]] = {}
    for n in report.nodes:
        if n.latency_us and n.arithmetic_intensity and n.flops:
            by_class.setdefault(n.op_class or "?", []).append(n)
    for k, cls in enumerate(sorted(data.points)):
        color = COLORS[k % len(COLORS)]
        for name, roof in data.roofs[cls].items():
            dash = "" if name == "DRAM" else " stroke-dasharray='4 3'"
            parts.append(f"<polyline fill='none' stroke='{color}'{dash} points='"
                         + " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in roof) + "'/>")
        for n in by_class.get(cls, []):
            assert n.flops is not None and n.latency_us is not None and n.arithmetic_intensity is not None
            achieved = n.flops / (n.latency_us * 1e-6)
            parts.append(f"<circle cx='{px(n.arithmetic_intensity):.1f}' cy='{py(achieved):.1f}' r='3' "
                         f"fill='{color}'><title>{escape(n.name)} ({escape(n.op_type)}, {escape(cls)}): "
                         f"{n.arithmetic_intensity:.3g} FLOP/byte, {achieved:.3g} FLOP/s, "
                         f"{n.latency_us:,.1f} µs, {escape(n.bound or '')}-bound</title></circle>")
        row, count = top_pad + 14 * k + 10, len(by_class.get(cls, []))
        parts.append(f"<rect x='{width - right + 10}' y='{row - 8}' width='10' height='10' fill='{color}'/>"
                     f"<text x='{width - right + 24}' y='{row + 1}'>{escape(cls)} ({count})</text>")
    parts.append(f"<text x='{width - right + 10}' y='{height - bottom}'>— DRAM roof</text>"
                 f"<text x='{width - right + 10}' y='{height - bottom + 14}'>- - cache roof</text></svg>")
    return "".join(parts)
