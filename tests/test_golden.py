"""Every model's report is what tests/data/golden_digests.json recorded: a refactoring changes no byte of any
report (tests/golden.py says how to update the record when behaviour changes on purpose)."""

from __future__ import annotations

import json
import os

import pytest

from tests import golden


@pytest.mark.slow
def test_reports_match_the_golden_digests() -> None:
    recorded = json.loads(golden.DIGESTS.read_text())
    now = golden.compute()
    assert len(now) >= 21  # tests/data and models/ at least; the corpus too where fetched
    if os.environ.get("CI"):
        assert set(now) == set(recorded)  # in CI every corpus model is there
    changed = sorted(k for k in now if recorded.get(k) != now[k])
    assert changed == [], "reports changed; if on purpose, run `python -m tests.golden --update`"
