"""A seeded fuzz campaign in the normal test run: every structured mutation ends in a report or one
OnnxcostError, within CASE_SECONDS and under MEMORY_LIMIT_BYTES (tests/fuzzing.py; the longer campaign
is benchmarks/fuzz.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzzing import CASE_SECONDS, run

SEED, CASES = 20261128, 240


@pytest.mark.slow
def test_fuzz_campaign_has_no_crash_hang_or_huge_allocation(tmp_path: Path) -> None:
    results = run(SEED, CASES, tmp_path)
    assert len(results) == CASES
    failures = [r for r in results if r.outcome not in ("ok", "error") or r.seconds > CASE_SECONDS]
    assert failures == []
    # the campaign reaches both ends: models that analyse and models refused with one clear error
    assert sum(r.outcome == "ok" for r in results) > CASES // 5
    assert sum(r.outcome == "error" for r in results) > CASES // 5


ENTRY_SEED, ENTRY_CASES = 20261201, 300


@pytest.mark.slow
def test_entry_point_campaign_has_no_finding(tmp_path: Path) -> None:
    """Budgets, baselines, stored reports, fit CSVs, profiles, annotate, globs, options and check formats
    (tests/fuzzing_entry.py): no crash, hang, file opened outside the case folder, or broken output."""
    from tests.fuzzing_entry import entry_case

    results = run(ENTRY_SEED, ENTRY_CASES, tmp_path, case_seconds=20.0, module="tests.fuzzing_entry",
                  kind_of=lambda seed, index: entry_case(seed, index).kind)
    assert len(results) == ENTRY_CASES
    assert [r for r in results if r.outcome not in ("ok", "error")] == []
    kinds = {r.kind.split(":")[0] for r in results}
    assert kinds >= {"check", "baseline", "diff", "annotate", "fit", "report-glob", "profile", "options"}
