"""Reading a prepared directory back: :func:`load_prepared` and the summary :func:`dataset_stats`."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recrl.data.schema import INTERACTION_COLUMNS, ITEM_COLUMNS, SPLITS

REQUIRED_FILES = ("items.parquet", "interactions.parquet", "split.parquet", "report.json")


@dataclass
class PreparedData:
    """A prepared directory in memory. ``interactions`` carries its ``split`` and ``liked`` columns."""

    items: pd.DataFrame
    interactions: pd.DataFrame
    users: pd.DataFrame | None
    report: dict[str, Any]

    def part(self, split: str) -> pd.DataFrame:
        """The interactions of one split (``train``, ``valid`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        return self.interactions[self.interactions["split"] == split]

    def item_text(self) -> dict[str, str]:
        """item_id -> description (the product caption)."""
        return dict(zip(self.items["item_id"], self.items["description"]))

    def test_users(self, sample: int = 0, seed: int = 0) -> list[str]:
        """The users with held-out (test) ratings, sorted; with ``sample`` a seeded sample of that many of them
        (sorted), the same for every command given the same data, size and seed."""
        users = sorted(map(str, self.part("test")["user_id"].unique()))
        if 0 < sample < len(users):
            users = sorted(random.Random(seed).sample(users, sample))
        return users


def load_prepared(directory: str | Path) -> PreparedData:
    """Load a directory written by ``recrl data prepare``; a clear error names whatever is missing."""
    directory = Path(directory)
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} is not a prepared data directory: missing {', '.join(missing)} "
                                "(create one with `recrl data prepare`)")
    items = pd.read_parquet(directory / "items.parquet")
    interactions = pd.read_parquet(directory / "interactions.parquet")
    split = pd.read_parquet(directory / "split.parquet")
    for name, frame, columns in (("items", items, ITEM_COLUMNS), ("interactions", interactions, INTERACTION_COLUMNS)):
        absent = [column for column in columns if column not in frame.columns]
        if absent:
            raise ValueError(f"{directory / (name + '.parquet')} lacks columns {absent}")
    interactions = interactions.merge(split, on=["user_id", "item_id"], how="left", validate="one_to_one")
    users = pd.read_parquet(directory / "users.parquet") if (directory / "users.parquet").is_file() else None
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    return PreparedData(items, interactions, users, report)


def summarize(interactions: pd.DataFrame, items: int) -> dict[str, Any]:
    """Users, items, interactions, density, liked share, rating histogram and split sizes of interactions that
    carry ``split`` (and ``liked``) columns."""
    users = interactions["user_id"].nunique()
    histogram = interactions["rating"].value_counts().sort_index()
    has_liked = "liked" in interactions and len(interactions) > 0
    return {
        "users": int(users),
        "items": int(items),
        "interactions": len(interactions),
        "density": len(interactions) / max(users * items, 1),
        "liked_share": float(interactions["liked"].mean()) if has_liked else None,
        "rating_histogram": {f"{rating:g}": int(count) for rating, count in histogram.items()},
        "split": {name: int((interactions["split"] == name).sum()) for name in SPLITS},
    }


def dataset_stats(data: PreparedData) -> dict[str, Any]:
    """Users, items, interactions, density, the rating histogram and the split sizes."""
    return summarize(data.interactions, len(data.items))
