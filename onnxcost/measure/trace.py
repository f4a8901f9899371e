"""Timelines in the Chrome trace event format, which Perfetto and chrome://tracing open: the estimated per-node
timeline of a report (each node after the previous one in the schedule, for its roofline estimate), and
beside it, from a traced bench run, the per-node times onnxruntime measured in its last profiled run (onnxruntime
writes the same format)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

ESTIMATE_PID, MEASURED_PID = 1, 2


def _process(pid: int, name: str) -> dict[str, Any]:
    return {"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": name}}


def estimated_events(nodes: Sequence[Any], schedule: Sequence[str], profile: str | None) -> list[dict[str, Any]]:
    """One complete event per node with an estimate, back to back in schedule order (a runtime on one stream
    runs them so); times in microseconds, as the format wants."""
    by_name = {n.name: n for n in nodes}
    events = [_process(ESTIMATE_PID, f"onnxcost estimate ({profile})" if profile else "onnxcost estimate")]
    ts = 0.0
    for name in schedule:
        n = by_name.get(name)
        if n is None or n.folded or n.latency_us is None:
            continue
        events.append({"name": n.name, "cat": n.op_type, "ph": "X", "ts": round(ts, 3),
                       "dur": round(n.latency_us, 3), "pid": ESTIMATE_PID, "tid": 0,
                       "args": {"op_type": n.op_type, "macs": n.macs, "flops": n.flops, "bound": n.bound}})
        ts += n.latency_us
    return events


def measured_events(ort_events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """onnxruntime's node events of its last profiled run, shifted to start at 0, named by node."""
    runs = [e for e in ort_events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    if not runs:
        return []
    last = max(runs, key=lambda e: float(e.get("ts", 0)))
    start, end = float(last["ts"]), float(last["ts"]) + float(last.get("dur", 0))
    events = [_process(MEASURED_PID, "onnxruntime (measured)")]
    for e in ort_events:
        name = str(e.get("name", ""))
        if e.get("cat") != "Node" or not name.endswith("_kernel_time") or not start <= float(e.get("ts", 0)) <= end:
            continue
        raw = e.get("args")
        args: dict[str, Any] = raw if isinstance(raw, dict) else {}
        events.append({"name": name.removesuffix("_kernel_time"), "cat": str(args.get("op_name", "")), "ph": "X",
                       "ts": round(float(e["ts"]) - start, 3), "dur": float(e.get("dur", 0)), "pid": MEASURED_PID,
                       "tid": 0, "args": {"op_type": args.get("op_name")}})
    return events


def trace_json(events: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"traceEvents": list(events), "displayTimeUnit": "ms"}) + "\n"
