"""Speed targets, rerunnable:

1. A 650 MB GPT-2-small-shaped export (163 M params, ~1,200 nodes, dynamic batch/seq, weights embedded) is
   reported faster than `onnx.load()` of the same file; the same graph with its weights file absent works.
2. Swin (6,000+ nodes) is reported at least 2x faster than onnx-tool's `model_profile` in the same run
   (onnx-tool is not a dependency: `pip install onnx-tool` to include it; it is skipped if absent).

3. `--side-by-side PYTHON`: the whole process of a default `onnxcost report` against onnx-tool's
   `model_profile` run by PYTHON (a separate venv with onnx-tool 1.0.1: it is no dependency of onnxcost),
   over tests/data and the real-model corpus at the shapes each is fed, with each ratio; `--extra DIR` adds
   the *.onnx files of DIR (torchvision exports with their weights, which onnx-tool needs: swin_t, the
   issue's 3x target, from `export_torchvision.py DIR swin_t`) at the shapes they declare.

    python benchmarks/bench_speed.py [--keep DIR]
    python benchmarks/bench_speed.py --side-by-side /path/to/onnx-tool-venv/bin/python [--only SUBSTR]
        [--repeat N] [--extra DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import onnxcost  # noqa: E402
from benchmarks.gpt2_like import build  # noqa: E402

SHARED = ROOT / "tests" / "data"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def gpt2(tmp: Path) -> None:
    embedded = tmp / "gpt2_small.onnx"
    onnx.save_model(build(zeros=True), str(embedded))
    size_mb = embedded.stat().st_size / 1e6
    t_load = timed(lambda: onnx.load(str(embedded)))
    t_ours = timed(lambda: onnxcost.analyze(embedded, dims={"batch": 1, "seq": 128}))
    rep = onnxcost.analyze(embedded, dims={"batch": 1, "seq": 128})
    assert rep.totals.params is not None and rep.totals.macs is not None, "every dim is bound"
    print(f"GPT-2-small-like, {size_mb:.0f} MB embedded, {rep.totals.nodes} nodes, "
          f"{rep.totals.params / 1e6:.1f} M params, {rep.totals.macs / 1e9:.2f} GMAC at seq 128")
    print(f"  onnx.load          {t_load:7.3f} s")
    print(f"  onnxcost.analyze   {t_ours:7.3f} s   ({t_load / t_ours:.1f}x faster: "
          f"{'PASS' if t_ours < t_load else 'FAIL'})")
    graph_only = tmp / "gpt2_graph_only.onnx"
    onnx.save_model(build(zeros=False), str(graph_only))
    t_graph = timed(lambda: onnxcost.analyze(graph_only, dims={"batch": 1, "seq": 128}))
    same = onnxcost.analyze(graph_only, dims={"batch": 1, "seq": 128}).totals.macs == rep.totals.macs
    print(f"  weights absent     {t_graph:7.3f} s   (same MACs: {same})")


def swin(tmp: Path) -> None:
    truth = json.loads((SHARED / "truth.json").read_text())
    src = SHARED / "swin_s.onnx"
    dst = tmp / src.name
    shutil.copy(src, dst)
    with open(tmp / "swin_s.weights", "wb") as f:  # onnx-tool loads weights: give it zeros of the right size
        f.truncate(truth["swin_s"]["weights_bytes"])
    t_ours = timed(lambda: onnxcost.analyze(dst))
    print(f"swin_s, {truth['swin_s']['nodes']} nodes")
    print(f"  onnxcost.analyze   {t_ours:7.3f} s")
    try:
        import onnx_tool
    except ImportError:
        print("  onnx-tool          not installed (pip install onnx-tool to compare)")
        return

    def profile() -> None:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            onnx_tool.model_profile(str(dst), save_profile=str(tmp / "onnx_tool_profile.txt"))

    t_tool = timed(profile, repeat=1)
    verdict = "PASS" if t_tool >= 2 * t_ours else "FAIL"
    print(f"  onnx-tool profile  {t_tool:7.3f} s   ({t_tool / t_ours:.1f}x: {verdict})")


ONNX_TOOL = """import sys, json, contextlib, io, numpy as np, onnx_tool
shapes = json.loads(sys.argv[2])
with contextlib.redirect_stdout(io.StringIO()):
    onnx_tool.model_profile(sys.argv[1], dynamic_shapes={k: np.zeros(v, np.float32) for k, v in shapes.items()} or None)
"""


def _process_s(cmd: list[str]) -> float | None:
    """Wall time of one whole process; None when it fails."""
    import subprocess

    t = time.perf_counter()
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    return time.perf_counter() - t


def _paired_s(ours_cmd: list[str], tool_cmd: list[str], repeat: int) -> tuple[float | None, float | None]:
    """Median wall times of two processes run alternately, so a slow spell of the machine hits both."""
    times: dict[int, list[float] | None] = {0: [], 1: []}
    for _ in range(repeat):
        for side, cmd in enumerate((ours_cmd, tool_cmd)):
            runs = times[side]
            if runs is not None:
                t = _process_s(cmd)
                times[side] = None if t is None else [*runs, t]
    ours, tool = (None if times[s] is None else statistics.median(times[s] or [0.0]) for s in (0, 1))
    return ours, tool


def _compile_bytecode() -> None:
    """Write onnxcost's .pyc files, as `pip install` does for onnx-tool, even under PYTHONDONTWRITEBYTECODE."""
    import compileall

    compileall.compile_dir(str(ROOT / "onnxcost"), quiet=1)


def _versions(python: str) -> str:
    import subprocess

    code = ("import importlib.metadata as m; print(' '.join(f'{p} {m.version(p)}' for p in "
            "('onnx', 'numpy', 'ml_dtypes')))")
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def side_by_side(tool_python: str, only: str, repeat: int, extra: Path | None = None) -> None:
    from tests.golden import models

    _compile_bytecode()
    print(f"onnxcost: {_versions(sys.executable)}; onnx-tool: {_versions(tool_python)}")
    print(f"{'model':55} {'onnx-tool':>10} {'onnxcost':>9} {'ratio':>6}")
    ratios = []
    alone: list[float] = []  # onnxcost's times where onnx-tool fails: the target there is 0.5 s
    extras = [(f"extra/{p.name}", p, None, None) for p in sorted(extra.glob("*.onnx"))] if extra else []
    for ident, path, shapes, _values in [*models(), *extras]:
        if only not in ident:
            continue
        if shapes is None:
            m = onnx.load(str(path), load_external_data=False)
            inits = {t.name for t in m.graph.initializer}
            shapes = {i.name: [d.dim_value or 1 for d in i.type.tensor_type.shape.dim] for i in m.graph.input
                      if i.name not in inits}  # a dim the file leaves open is 1 for both tools
        flags = [f for k, v in shapes.items() for f in ("--input-shape", f"{k}={'x'.join(map(str, v))}")]
        ours, tool = _paired_s([sys.executable, "-m", "onnxcost", "report", str(path), *flags],
                               [tool_python, "-c", ONNX_TOOL, str(path), json.dumps(shapes)], repeat)
        ratio = None if ours is None or tool is None else ours / tool
        if ratio is not None:
            ratios.append(ratio)
        elif tool is None and ours is not None:
            alone.append(ours)
        print(f"{ident[:55]:55} {'fails' if tool is None else f'{tool:.2f} s':>10} "
              f"{'fails' if ours is None else f'{ours:.2f} s':>9} {'' if ratio is None else f'{ratio:.2f}':>6}")
    if ratios:
        print(f"{len(ratios)} models both analyse: median ratio {statistics.median(ratios):.2f}, "
              f"{sum(r <= 1.0 for r in ratios)} at or under 1.0x")
    if alone:
        print(f"{len(alone)} models only onnxcost analyses: {sum(t <= 0.5 for t in alone)} in 0.5 s or less, "
              f"median {statistics.median(alone):.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, help="write the generated models here instead of a temp dir")
    ap.add_argument("--side-by-side", metavar="PYTHON", help="an interpreter with onnx-tool installed")
    ap.add_argument("--only", default="", help="only models whose id contains this")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--extra", type=Path, help="a folder of more models (with weights) for --side-by-side")
    args = ap.parse_args()
    if args.side_by_side:
        side_by_side(args.side_by_side, args.only, args.repeat, args.extra)
        return 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = args.keep or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        gpt2(tmp)
        swin(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
