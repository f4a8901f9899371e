"""The 7B decoders with every dim unbound: time and memory of a whole `onnxcost report` process.

Both Llama-2-7B-shaped graphs of models/llama.py (int4 GroupQueryAttention, and standard attention with a
causal mask and a past Concat), graph only, are written to a temporary folder and reported by the CLI in a
fresh process each, --format json, with no options. Target (issue #19): under 2 s and 1 GiB each.

    python -m benchmarks.bench_decoders [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.llama import LLAMA2_7B, llama, llama_standard  # noqa: E402


def run_once(path: Path) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one `onnxcost report PATH --format json` process."""
    code = ("import sys, resource; from onnxcost.cli.app import main; rc = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "report", str(path), "--format", "json"],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) * 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in (("int4 GQA", llama), ("standard attention", llama_standard)):
            path = Path(tmp) / f"{name.split()[0]}.onnx"
            onnx.save(build(LLAMA2_7B, weights="external"), path)
            runs = [run_once(path) for _ in range(args.rounds)]
            best = min(s for s, _ in runs)
            peak = max(m for _, m in runs)
            print(f"{name:20s} {path.stat().st_size / 1e6:6.2f} MB file  best {best:.2f} s of {args.rounds}  "
                  f"peak RSS {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
