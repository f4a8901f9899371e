"""Differences between two reports (two models, or a model and a stored report): totals, op types, and the
nodes that appeared, vanished or changed most (matched by name, then by position and op type)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..base import readers
from ..base.errors import ConfigError
from ..pipeline import analyze
from ..report.schema import SCHEMA

TOTAL_METRICS = ("nodes", "macs", "flops", "params", "param_bytes", "activation_bytes", "peak_memory_bytes",
                 "unknown_cost_nodes", "latency_ms")


@dataclass
class Change:
    key: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def percent(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        if self.old == 0:
            return 0.0 if self.new == 0 else None
        return 100.0 * (self.new - self.old) / self.old


@dataclass
class ReportDiff:
    old: str
    new: str
    totals: list[Change]
    op_types: list[Change]  # MACs per op type (FLOPs where an op has no MACs)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # matched nodes whose MACs or FLOPs changed, largest first
    notes: list[str] = field(default_factory=list)  # what a reader must know: different input shapes

    def to_dict(self) -> dict[str, Any]:
        def ch(c: Change) -> dict[str, Any]:
            return {**asdict(c), "delta": c.delta, "percent": None if c.percent is None else round(c.percent, 3)}

        return {"schema": "onnxcost.diff/1", "old": self.old, "new": self.new,
                "totals": [ch(c) for c in self.totals], "op_types": [ch(c) for c in self.op_types],
                "added_nodes": self.added, "removed_nodes": self.removed,
                "changed_nodes": [ch(c) for c in self.changed], "notes": self.notes}


def load_report(path: Path, dims: dict[str, int] | None = None,
                input_shapes: dict[str, list[int]] | None = None, profile: str | None = None) -> dict[str, Any]:
    """A model (.onnx: analysed now, with these dims, input shapes and profile) or a stored report (.json)."""
    if path.suffix == ".json":
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
        data = readers.load_json(path, "the stored report")
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise ConfigError(f"{path}: not an {SCHEMA} report")
        problem = _malformed(data)
        if problem:
            raise ConfigError(f"{path}: a malformed {SCHEMA} report: {problem}")
        return data
    return analyze(path, dims=dims, input_shapes=input_shapes, profile=profile).to_dict()


def stored_dims(report: dict[str, Any], model: Path) -> dict[str, int]:
    """The dims a model leaves unbound, bound as the stored report it is compared with had them (same input,
    same axis). A dim the model fixes keeps its own value: a model whose input grew from 224 to 256 is
    compared at 256, never rebound to the stored 224."""
    import onnx

    stored = {}
    for spec in report.get("inputs", []):
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            stored[str(spec.get("name"))] = shape
    try:
        proto = onnx.load_model(str(model), load_external_data=False)
    except Exception:  # noqa: BLE001 - any parse failure: the analysis of this model reports it, in one line
        return {}
    out: dict[str, int] = {}
    for vi in proto.graph.input:
        if vi.name not in stored or not vi.type.tensor_type.HasField("shape"):
            continue
        dims = vi.type.tensor_type.shape.dim
        if len(dims) != len(stored[vi.name]):
            continue
        for k, (d, value) in enumerate(zip(dims, stored[vi.name], strict=True)):
            if not (d.HasField("dim_value") and d.dim_value > 0):
                out[d.dim_param or f"{vi.name}_{k}"] = value
    return out


def input_note(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """A line saying the two sides were analysed at different input shapes, or None."""
    def shapes(r: dict[str, Any]) -> dict[str, Any]:
        return {str(i.get("name")): i.get("shape") for i in r.get("inputs", []) if isinstance(i, dict)}

    a, b = shapes(old), shapes(new)
    differ = [f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return f"analysed at different input shapes ({'; '.join(differ)})" if differ else None


def _number(v: object) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _malformed(data: dict[str, Any]) -> str | None:
    """What makes a stored report unusable for a diff (the fields diff reads), or None."""
    totals, by_op, nodes = data.get("totals"), data.get("by_op_type"), data.get("nodes")
    if not isinstance(totals, dict) or not all(_number(totals.get(k)) for k in TOTAL_METRICS):
        return "'totals' is not a table of numbers"
    if not isinstance(by_op, dict) or not all(
            isinstance(v, dict) and _number(v.get("macs")) and _number(v.get("flops")) for v in by_op.values()):
        return "'by_op_type' is not a table of op types with numeric macs and flops"
    if not isinstance(nodes, list) or not all(
            isinstance(n, dict) and isinstance(n.get("name"), str) and isinstance(n.get("op_type"), str)
            and _number(n.get("macs")) and _number(n.get("flops")) for n in nodes):
        return "'nodes' is not a list of nodes with a name, an op_type and numeric macs and flops"
    return None


def _work(node: dict[str, Any]) -> float:
    """MACs, or FLOPs for an op without MACs: the counts as they are (ints stay ints in the JSON)."""
    return node.get("macs") or node.get("flops") or 0


def _match(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pairs (old index, new index): first by name, then the rest in order within each op type."""
    by_name = {n["name"]: i for i, n in enumerate(old)}
    pairs, used_old, used_new = [], set(), set()
    for j, n in enumerate(new):
        i = by_name.get(n["name"])
        if i is not None and old[i]["op_type"] == n["op_type"]:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    rest_old: dict[str, list[int]] = {}
    for i, n in enumerate(old):
        if i not in used_old:
            rest_old.setdefault(n["op_type"], []).append(i)
    for j, n in enumerate(new):
        if j in used_new:
            continue
        queue = rest_old.get(n["op_type"])
        if queue:
            i = queue.pop(0)
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    return (pairs, [i for i in range(len(old)) if i not in used_old], [j for j in range(len(new)) if j not in used_new])


def diff(old: dict[str, Any], new: dict[str, Any], old_name: str = "old", new_name: str = "new") -> ReportDiff:
    totals = [Change(k, old["totals"].get(k), new["totals"].get(k)) for k in TOTAL_METRICS
              if old["totals"].get(k) is not None or new["totals"].get(k) is not None]
    ops = sorted(set(old["by_op_type"]) | set(new["by_op_type"]))

    def op_work(report: dict[str, Any], op: str) -> float | None:
        agg = report["by_op_type"].get(op)
        if agg is None:
            return 0.0
        return _work(agg)

    op_changes = [Change(op, op_work(old, op), op_work(new, op)) for op in ops]
    op_changes = [c for c in op_changes if c.old != c.new or (old["by_op_type"].get(c.key, {}).get("count")
                                                             != new["by_op_type"].get(c.key, {}).get("count"))]
    on, nn = [n for n in old["nodes"] if not n.get("folded")], [n for n in new["nodes"] if not n.get("folded")]
    pairs, removed, added = _match(on, nn)
    changed = [Change(nn[j]["name"], _work(on[i]), _work(nn[j])) for i, j in pairs if _work(on[i]) != _work(nn[j])]
    changed.sort(key=lambda c: -abs(c.delta or 0))
    note = input_note(old, new)
    return ReportDiff(old_name, new_name, totals, op_changes, [nn[j]["name"] for j in added],
                      [on[i]["name"] for i in removed], changed, [note] if note else [])
