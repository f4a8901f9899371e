"""Shared fixtures: the repository root on sys.path (for `models` and `tests.ort_harness`), data paths."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Graph-only torchvision exports with published figures, copied from the team's shared folder (see README there).
SHARED_MODELS = ROOT / "tests" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Tests never read or write the developer's own profiles folder.
os.environ["ONNXCOST_PROFILES"] = tempfile.mkdtemp(prefix="onnxcost-profiles-")
# ... nor its cache of onnxruntime's optimized graphs (latency/runtime.py).
os.environ["ONNXCOST_CACHE"] = tempfile.mkdtemp(prefix="onnxcost-cache-")


@pytest.fixture(scope="session")
def shared_models() -> Path:
    """tests/data: graph-only torchvision exports with published figures (see its README)."""
    assert (SHARED_MODELS / "truth.json").is_file(), f"expected the reference exports in {SHARED_MODELS}"
    return SHARED_MODELS


@pytest.fixture(scope="session")
def truth(shared_models: Path) -> dict:
    return json.loads((shared_models / "truth.json").read_text())
