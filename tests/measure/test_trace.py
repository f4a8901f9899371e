"""Chrome trace timelines: `report --trace` (the estimate) and `bench --trace` (the estimate beside
onnxruntime's measured per-node profile), loaded back and checked event by event."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest

from models import zoo
from onnxcost.cli.app import main


@pytest.fixture()
def lenet(tmp_path: Path) -> Path:
    path = tmp_path / "lenet.onnx"
    onnx.save_model(zoo.lenet_1989(weights="random"), str(path))
    return path


def _complete(events: list[dict], pid: int) -> list[dict]:
    return [e for e in events if e.get("ph") == "X" and e["pid"] == pid]


def test_report_trace_has_one_event_per_node_back_to_back(lenet: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.json"
    assert main(["report", str(lenet), "--profile", "xeon-8480", "--trace", str(trace), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    events = _complete(json.loads(trace.read_text())["traceEvents"], 1)
    work = [n for n in report["nodes"] if not n["folded"]]
    assert [e["name"] for e in events] == [n for n in report["schedule"] if n in {w["name"] for w in work}]
    for a, b in zip(events, events[1:], strict=False):  # each starts where the previous one ends
        assert b["ts"] == pytest.approx(a["ts"] + a["dur"], abs=1e-3)
    total_us = sum(e["dur"] for e in events)
    assert total_us == pytest.approx(sum(n["latency_us"] for n in work), rel=1e-6)


def test_report_trace_needs_a_profile(lenet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(lenet), "--trace", str(tmp_path / "t.json")]) == 2
    assert "--trace needs --profile" in capsys.readouterr().err


def test_bench_trace_puts_the_measurement_beside_the_estimate(lenet: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.json"
    assert main(["bench", str(lenet), "--profile", "xeon-8480", "--runs", "3", "--warmup", "1", "--threads", "1",
                 "--trace", str(trace), "--format", "json"]) == 0
    events = json.loads(trace.read_text())["traceEvents"]
    estimated, measured = _complete(events, 1), _complete(events, 2)
    names = {e["args"]["name"] for e in events if e.get("ph") == "M"}
    assert {"onnxruntime (measured)"} <= names and any(n.startswith("onnxcost estimate") for n in names)
    assert len(estimated) >= 1 and len(measured) >= 1
    assert len({e["name"] for e in measured}) == len(measured)  # one run: one event per executed node
    assert all(e["ts"] >= 0 and e["dur"] >= 0 for e in measured)
