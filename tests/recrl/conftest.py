"""Shared recrl fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from recrl.data.synthetic import write_prepared


@pytest.fixture
def tiny_prepared(tmp_path: Path) -> Path:
    return write_prepared(tmp_path / "prepared")


@pytest.fixture(scope="session")
def planted(tmp_path_factory):
    """A planted-taste category of 3,000 reviews (:mod:`recrl.data.planted`) and its prepared directory:
    ``(reviews file, planted facts, prepared directory)``."""
    from recrl.cli import main
    from recrl.data.planted import write_category

    folder = tmp_path_factory.mktemp("planted")
    reviews, category = write_category(folder / "raw", reviews=3000, seed=2)
    assert main(["data", "prepare", "--source", "amazon2023", "--input", str(reviews), "--out",
                 str(folder / "prepared")]) == 0
    return reviews, category, folder / "prepared"
