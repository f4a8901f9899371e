"""A seeded fuzz campaign in the normal test run: every structured mutation ends in a report or one
OnnxcostError, within CASE_SECONDS and under MEMORY_LIMIT_BYTES (tests/fuzzing.py; the longer campaign
is benchmarks/fuzz.py)."""

from __future__ import annotations

from pathlib import Path

from tests.fuzzing import CASE_SECONDS, run

SEED, CASES = 20261128, 240


def test_fuzz_campaign_has_no_crash_hang_or_huge_allocation(tmp_path: Path) -> None:
    results = run(SEED, CASES, tmp_path)
    assert len(results) == CASES
    failures = [r for r in results if r.outcome not in ("ok", "error") or r.seconds > CASE_SECONDS]
    assert failures == []
    # the campaign reaches both ends: models that analyse and models refused with one clear error
    assert sum(r.outcome == "ok" for r in results) > CASES // 5
    assert sum(r.outcome == "error" for r in results) > CASES // 5
