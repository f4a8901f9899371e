"""The unit profile every latency test can compute by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PROFILE


@pytest.fixture()
def unit_profile(tmp_path: Path) -> Path:
    p = tmp_path / "unit.toml"
    p.write_text(PROFILE.format(fusion="false"))
    return p
