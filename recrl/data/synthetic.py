"""A tiny synthetic prepared directory in the canonical schema, for tests, examples and benchmarks.

Users rate every item once, one item per day; the last two interactions of each user are ``test``, the one
before ``valid``, the rest ``train``. Items are films with a genre, a director and a cast in their description.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

GENRES = ["Comedy", "Drama", "Horror"]



def default_rating(user: int, item: int) -> float:
    """5 (liked) unless ``user + item`` is a multiple of 3, then 1 (disliked)."""
    return 5.0 if (user + item) % 3 else 1.0


def write_prepared(directory: str | Path, users: int = 4, items: int = 8, with_reviews: bool = True,
                   rating=default_rating) -> Path:
    """Write ``users`` × ``items`` interactions (see the module docstring); ``rating(user, item)`` sets each rating."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    item_rows = [{"item_id": f"i{i}", "title": f"Film {i} ({1980 + i})",
                  "description": f"Film {i} ({1980 + i}). {GENRES[i % 3]}. Director: Person {i}. Cast: Actor {i}.",
                  "categories": [GENRES[i % 3]], "extra": json.dumps({"year": 1980 + i})} for i in range(items)]
    rows, split = [], []
    for u in range(users):
        for day, i in enumerate(range(items)):
            r = rating(u, i)
            text = f"I loved the {GENRES[i % 3].lower()} of film {i}. More text here." if with_reviews else ""
            rows.append({"user_id": f"u{u}", "item_id": f"i{i}", "rating": r, "review_title": "",
                         "review_text": text, "timestamp": pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(days=day)})
            part = "test" if day >= items - 2 else "valid" if day == items - 3 else "train"
            split.append({"user_id": f"u{u}", "item_id": f"i{i}", "split": part})
    interactions = pd.DataFrame(rows)
    interactions["rating"] = interactions["rating"].astype("float32")
    interactions["timestamp"] = interactions["timestamp"].astype("datetime64[ms, UTC]")
    interactions["liked"] = interactions["rating"] >= 4
    pd.DataFrame(item_rows).to_parquet(directory / "items.parquet", index=False)
    interactions.to_parquet(directory / "interactions.parquet", index=False)
    pd.DataFrame(split).to_parquet(directory / "split.parquet", index=False)
    (directory / "report.json").write_text(json.dumps({"source": "test", "liked_threshold": 4}), encoding="utf-8")
    return directory
