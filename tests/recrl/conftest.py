"""Shared recrl fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from recrl.data.synthetic import write_prepared


@pytest.fixture
def tiny_prepared(tmp_path: Path) -> Path:
    return write_prepared(tmp_path / "prepared")
