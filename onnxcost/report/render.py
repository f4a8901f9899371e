"""Renderers of a Report: rich terminal table, JSON, CSV and Markdown. Pure: they return text or tables. rich is
imported by the table functions alone, so text formats never pay for it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..base import symbolic
from ..base.errors import printable
from ..base.units import binary_bytes, si
from .schema import NodeReport, Report
from .sparkline import sparkline
from .tables import LongTable, TextTable, draw, rich_table

if TYPE_CHECKING:
    from rich.console import Group

NODE_COLUMNS = ("name", "op_type", "output_shapes", "macs", "flops", "params", "param_bytes",
                "input_bytes", "output_bytes", "folded", "op_class", "bound", "arithmetic_intensity", "latency_us")


def md(text: str) -> str:
    """Text from a model inside Markdown: one line, no table or code-span breaking characters."""
    return printable(text).replace("|", "\\|").replace("`", "'")


def heaviest(report: Report, top: int | None) -> list[NodeReport]:
    """Nodes that do work at inference (folded constants hidden), or the `top` heaviest by MACs then FLOPs."""
    nodes = [n for n in report.nodes if not n.folded]
    if top is None:
        return nodes
    return sorted(nodes, key=lambda n: (-(n.macs or 0), -(n.flops or 0), n.name))[:top]


def _shape(n: NodeReport) -> str:
    return ", ".join("?" if s is None else "x".join(map(str, s)) or "scalar" for s in n.output_shapes)


#: How the unbound-dims row says to bind one: in the Python API's words; the command line passes its flag.
API_BIND_HINT = "dims={{'{name}': N}}"


def _totals_rows(report: Report, bind_hint: str = API_BIND_HINT) -> list[tuple[str, str]]:
    t = report.totals
    formulas = report.symbolic["totals"] if report.symbolic else {}

    def count(value: int | None, key: str, unit: str) -> str:
        if value is None and formulas.get(key):
            text = f"{symbolic.readable(formulas[key])} {unit}"
        else:
            text = "?" if value is None else f"{si(value, unit)} ({value:,})"
        # with nodes of unknown cost the sum is a lower bound, and says so
        return f"≥ {text} ({t.unknown_cost_nodes} nodes unknown)" if t.lower_bound and text != "?" else text

    rows = [
        ("nodes", str(t.nodes)),
        ("MACs", count(t.macs, "macs", "MAC")),
        ("FLOPs", count(t.flops, "flops", "FLOP")),
        ("params", f"{si(t.params)} ({t.params:,})"),
        ("param bytes", binary_bytes(t.param_bytes)),
        ("activation bytes", binary_bytes(t.activation_bytes) if t.activation_bytes is not None or not
         formulas.get("activation_bytes") else f"{symbolic.readable(formulas['activation_bytes'])} B"),
        ("peak memory bytes", binary_bytes(t.peak_memory_bytes)),
    ]
    if report.symbolic:
        names = list(report.symbolic["symbols"])
        rows.append(("unbound dims", f"{', '.join(names)}: bind with {bind_hint.format(name=names[0])}"))
    if t.unknown_cost_nodes:
        rows.append(("unknown-cost nodes", f"{t.unknown_cost_nodes} (totals count known nodes only)"))
    if t.profile is not None:
        rows.append(("latency (roofline)", ("?" if t.latency_ms is None else f"{t.latency_ms:,.3f} ms")
                     + f" on {t.profile}"))
    if t.layout_reorders:
        rows.append(("layout reorders (in latency)",
                     f"{t.layout_reorders} copies of {binary_bytes(t.layout_reorder_bytes)}, "
                     f"{t.layout_reorder_ms or 0:,.3f} ms"))
    return rows


def memory_rows(report: Report) -> list[tuple[str, str]]:
    """The memory bottleneck, schedule, arena and training figures, as label/value pairs."""
    rows: list[tuple[str, str]] = []
    mem, t = report.memory, report.totals
    if mem is not None:
        proven = "proven optimal" if report.schedule_optimal else "not proven optimal"
        method = report.schedule_method + (f" ({proven})" if report.schedule_method == "optimal" else "")
        rows += [
            ("schedule", method + (", in-place reuse" if mem.inplace else "")),
            ("peak memory", f"{binary_bytes(t.peak_memory_bytes)} ({t.peak_memory_elements:,} elements) at step "
                            f"{mem.peak_step + 1}/{len(mem.timeline_bytes)}: {mem.peak_node}"),
            ("live at peak", ", ".join(mem.peak_live_tensors[:4]) + (" …" if len(mem.peak_live_tensors) > 4 else "")),
            ("peak in file order", binary_bytes(t.peak_memory_bytes_file_order)),
            ("timeline", sparkline(mem.timeline_bytes)),
        ]
        if mem.arena_bytes is not None:
            rows.append(("arena", f"{binary_bytes(mem.arena_bytes)} ({mem.arena_fragmentation:.3f} x peak)"))
    return rows


def llm_rows(report: Report) -> list[tuple[str, str]]:
    """The KV cache and prefill against decode, as label/value pairs."""
    v = report.llm
    if v is None:
        return []
    rows = [("cache inputs", f"{len(v.kv_cache_inputs)} ({', '.join(v.kv_cache_inputs[:2])}"
                             + (", …)" if len(v.kv_cache_inputs) > 2 else ")")),
            ("cache bytes per token", binary_bytes(v.kv_cache_bytes_per_token) + " per sequence, all layers")]
    if v.kv_cache_bytes is not None:
        rows.append(("cache bytes at the bound length", binary_bytes(v.kv_cache_bytes)))
    if v.prefill_macs is not None and v.decode_macs is not None:
        rows += [("prefill: n prompt tokens", f"{symbolic.readable(v.prefill_macs)} MAC"),
                 ("decode: 1 token after n", f"{symbolic.readable(v.decode_macs)} MAC")]
    if v.bound is not None:
        b = v.bound

        def cache(nbytes: int | None, verb: str) -> str:
            return "" if nbytes is None else f", {verb} {binary_bytes(nbytes)} of cache"

        rows += [(f"prefill: {b.seq} tokens, batch {b.batch}",
                  f"{si(b.prefill_macs, 'MAC')} ({b.prefill_macs:,})" + cache(b.prefill_cache_bytes, "writes")),
                 (f"decode: 1 token after {b.past}",
                  f"{si(b.decode_macs, 'MAC')} ({b.decode_macs:,})" + cache(b.decode_cache_bytes, "reads"))]
    return rows


def training_rows(report: Report) -> list[tuple[str, str, str]]:
    """Inference and training figures side by side (training at its batch size, per step)."""
    tr, t = report.training, report.totals
    if tr is None:
        return []
    inference_memory = t.param_bytes + (t.peak_memory_bytes or 0)
    first = report.inputs[0].shape if report.inputs else None
    return [
        ("batch", str(first[0]) if first else "?", f"{tr.batch} ({tr.optimizer})"),
        ("MACs", si(t.macs, "MAC"), si(tr.training_macs, "MAC")),
        ("FLOPs", si(t.flops, "FLOP"), si(tr.training_flops, "FLOP")),
        ("parameters", binary_bytes(t.param_bytes), binary_bytes(tr.param_bytes)),
        ("gradients", "", binary_bytes(tr.gradient_bytes)),
        ("optimizer state", "", binary_bytes(tr.optimizer_state_bytes)),
        ("activations", f"{binary_bytes(t.peak_memory_bytes)} (peak live)",
         f"{binary_bytes(tr.activation_bytes)} (saved for backward)"),
        ("memory", binary_bytes(inference_memory), binary_bytes(tr.total_memory_bytes)),
    ]


def sections(report: Report, top: int | None = None, bind_hint: str = API_BIND_HINT) -> list[TextTable]:
    """The report's tables as data: nodes (the `top` heaviest), op types, functions, totals, memory, decoder
    phases and training, each present when it has rows."""
    title = f"{'Top ' + str(top) + ' nodes' if top else 'Nodes'} — {report.model.path or 'model'}"
    columns = [("node", "left"), ("op", "left"), ("output shape", "left"), ("MACs", "right"), ("FLOPs", "right"),
               ("params", "right"), ("out bytes", "right")]
    timed = report.totals.profile is not None
    if timed:
        columns += [("est. µs", "right"), ("bound", "left")]
    rows = []
    for n in heaviest(report, top):
        row = [n.name, n.op_type, _shape(n), si(n.macs), si(n.flops), si(n.params) if n.params else "",
               binary_bytes(n.output_bytes)]
        if timed:
            row += ["?" if n.latency_us is None else f"{n.latency_us:,.1f}", n.bound or ""]
        rows.append(tuple(row))
    ops = [(op, str(a.count), si(a.macs), si(a.flops), si(a.params) if a.params else "")
           for op, a in report.by_op_type.items()]
    functions = [(name, str(f.calls), str(f.nodes), si(f.macs), si(f.flops), si(f.params) if f.params else "")
                 for name, f in report.by_function.items()]
    right = "right"
    parts = [TextTable(title, tuple(columns), tuple(rows)),
             TextTable("By op type", (("op", "left"), ("count", right), ("MACs", right), ("FLOPs", right),
                                      ("params", right)), tuple(ops))]
    if functions:
        parts.append(TextTable("By function (model-local, nested calls included)",
                               (("function", "left"), ("calls", right), ("nodes", right), ("MACs", right),
                                ("FLOPs", right), ("params", right)), tuple(functions)))
    parts.append(TextTable("Totals", (("metric", "left"), ("value", right)),
                           tuple(_totals_rows(report, bind_hint)), header=False))
    memory = tuple(memory_rows(report))
    if memory:
        parts.append(TextTable("Memory", (("what", "left"), ("value", "left")), memory, header=False))
    if report.llm is not None:
        parts.append(TextTable("Decoder with a key/value cache", (("what", "left"), ("value", "left")),
                               tuple(llm_rows(report)), header=False))
    if report.training is not None:
        parts.append(TextTable("Inference vs training", (("", "left"), ("inference", right), ("training", right)),
                               tuple(training_rows(report))))
    return parts


def table(report: Report, top: int | None = None, bind_hint: str = API_BIND_HINT) -> Group:
    """The report's tables for rich (a terminal); a long node table is drawn directly (`LongTable`)."""
    from rich.console import Group

    parts = sections(report, top, bind_hint)
    nodes = parts[0]
    first = LongTable(nodes.title, list(nodes.columns), [list(r) for r in nodes.rows]) \
        if len(nodes.rows) >= LongTable.LONG else rich_table(nodes)
    return Group(first, *(rich_table(t) for t in parts[1:]))


def plain_table(report: Report, top: int | None, bind_hint: str, width: int) -> str | None:
    """The report's tables as rich prints them to a file or pipe, without rich; None when one needs rich to
    fit it (see `draw`)."""
    texts = [draw(t, width) for t in sections(report, top, bind_hint)]
    return None if any(t is None for t in texts) else "".join(t for t in texts if t is not None)


def json_text(report: Report, pretty: bool = True) -> str:
    """The report's JSON: indented for a person, or compact for a program (json's C encoder, 4x faster)."""
    return (report.to_json(indent=1) if pretty else json.dumps(report.to_dict(), separators=(",", ":"))) + "\n"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join("?" if s is None else "x".join(map(str, s)) for s in value)
    return printable(str(value))


def csv_text(report: Report, top: int | None = None) -> str:
    """One row per node; unknown costs are empty cells, never 0."""
    nodes: Iterable[NodeReport] = heaviest(report, top) if top else report.nodes
    return csv_rows(NODE_COLUMNS, [[_cell(getattr(n, c)) for c in NODE_COLUMNS] for n in nodes])


def markdown_text(report: Report, top: int | None = None, bind_hint: str = API_BIND_HINT) -> str:
    lines = [f"## onnxcost report: `{md(report.model.path or report.model.graph_name)}`", "",
             "| metric | value |", "|---|---:|"]
    lines += [f"| {k} | {md(v)} |" for k, v in _totals_rows(report, bind_hint) + memory_rows(report)]
    if report.training is not None:
        lines += ["", "| | inference | training |", "|---|---:|---:|"]
        lines += [f"| {a} | {b} | {c} |" for a, b, c in training_rows(report)]
    lines += ["", "| op type | count | MACs | FLOPs | params |", "|---|---:|---:|---:|---:|"]
    for op, agg in report.by_op_type.items():
        lines.append(f"| {md(op)} | {agg.count} | {si(agg.macs)} | {si(agg.flops)} | {si(agg.params)} |")
    lines += ["", "| node | op | output shape | MACs | FLOPs | params |", "|---|---|---|---:|---:|---:|"]
    for n in heaviest(report, top):
        lines.append(f"| `{md(n.name)}` | {md(n.op_type)} | {_shape(n)} | {si(n.macs)} | {si(n.flops)} | "
                     f"{si(n.params)} |")
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {md(w)}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def csv_rows(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain CSV table (csv is imported here: the other formats never need it)."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def markdown_rows(header: list[str], rows: list[list[str]]) -> str:
    """A plain Markdown table; cells escaped (see `md`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
