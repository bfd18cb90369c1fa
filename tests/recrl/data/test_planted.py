"""The planted-taste category: its files read as Amazon 2023, its taste is there, and validation finds it."""

from __future__ import annotations

import gzip
import json

import numpy as np
from scipy.stats import spearmanr

from recrl.cli import main
from recrl.data.planted import matches
from recrl.data.prepared import load_prepared


def test_ratings_follow_the_planted_taste_and_popularity_does_not(planted):
    reviews, category, _ = planted
    rows = [json.loads(line) for line in gzip.open(reviews, "rt", encoding="utf-8")]
    users = np.array([int(row["user_id"][1:]) for row in rows])
    items = np.array([int(row["parent_asin"][1:]) for row in rows])
    ratings = np.array([row["rating"] for row in rows])
    met = matches(category, users, items)
    assert spearmanr(met, ratings).statistic > 0.6  # the taste decides the rating (one in ten is noise)
    picks = np.bincount(items, minlength=len(category.items))
    assert abs(spearmanr(picks[items], ratings).statistic) < 0.1  # how often an item is picked does not
    assert not any("average_rating" in json.loads(line) for line in gzip.open(reviews.parent / "meta_Planted.jsonl.gz",
                                                                               "rt", encoding="utf-8"))
    liked = [row["text"] for row, r in zip(rows, ratings) if r >= 4]
    assert sum("wanted" in text or "love" in text or "glad" in text or "suits" in text for text in liked) > 0.8 * len(liked)


def test_validate_on_a_seeded_sample_finds_the_taste_in_own_liked_reviews(planted, tmp_path):
    prepared = planted[2]
    data = load_prepared(prepared)
    everyone = data.test_users()
    sample = data.test_users(100, seed=3)
    assert len(sample) == 100 and set(sample) < set(everyone) and sample == data.test_users(100, seed=3)
    assert sample != everyone[:100] and sample != data.test_users(100, seed=4)
    out = tmp_path / "validate"
    assert main(["validate", "--data", str(prepared), "--sample-users", "100", "--seed", "3",
                 "--metric", "tfidf-cosine", "--bootstrap", "50", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["users"] == 100 and report["test_users"] == len(everyone)
    assert f"On a sample of 100 of the {len(everyone)} test users" in (out / "report.md").read_text()
    personal = {row["goals"]: row for row in report["personal"]}["own liked reviews"]
    assert personal["own_minus_shuffled_spearman"]["low"] > 0  # the user's own reviews know the user's taste
    table = {(row["metric"], row["goals"]): row for row in report["table"]}
    own = table["tfidf-cosine", "own liked reviews"]["spearman"]["value"]
    assert own > table["popularity", "no goals"]["spearman"]["value"] + 0.1
