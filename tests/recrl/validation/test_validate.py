import json

import numpy as np
import pandas as pd
import pytest

from recrl.cli import main
from recrl.data.prepared import load_prepared
from recrl.validation.learned_metric import build_triplets, train_learned_metric
from recrl.validation.metrics import Jaccard, metric
from recrl.validation.validate import own_liked_goals, pair_scores, shuffled


def test_pair_scores_take_the_max_over_the_users_goals():
    pairs = pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": ["x", "y", "x", "y"], "rating": [5, 1, 4, 2.0]})
    texts = {"x": "red summer dress", "y": "winter boots"}
    goals = {"a": ["winter boots", "red dress"], "b": ["nothing related"]}
    scores = pair_scores(Jaccard(), goals, pairs, texts, chunk_users=1)
    assert scores[0] == pytest.approx(2 / 3) and scores[1] == 1.0 and scores[2] == 0.0 and np.isnan(scores[3])


def test_shuffled_goals_never_stay_with_their_user():
    goals = {f"u{i}": [f"goal {i}"] for i in range(7)}
    mixed = shuffled(goals, seed=3)
    assert sorted(map(tuple, mixed.values())) == sorted(map(tuple, goals.values()))
    assert all(mixed[user] != goals[user] for user in goals)


def test_own_liked_goals_come_from_train_reviews(tiny_prepared):
    goals = own_liked_goals(load_prepared(tiny_prepared), ["u0"], 4.0, 2)
    # u0's liked train items are i1, i2, i4 (oldest first): the latest two, as review sentences
    assert goals == {"u0": ["I loved the horror of film 2. More text here.", "I loved the drama of film 4. More text here."]}


def test_learned_metric_triplets_use_the_train_split_only(tiny_prepared):
    data = load_prepared(tiny_prepared)
    triplets = build_triplets(data, max_triplets=0)
    assert triplets
    train = data.part("train")
    descriptions = dict(zip(data.items["item_id"], data.items["description"]))
    train_texts = {descriptions[i] for i in train["item_id"]}
    test_only = {descriptions[i] for i in set(data.part("test")["item_id"]) - set(train["item_id"])}
    for user, anchor, positive, negative in triplets:
        mine = train[train["user_id"] == user]
        assert positive in {descriptions[i] for i in mine[mine["rating"] >= 4]["item_id"]}
        assert negative in {descriptions[i] for i in mine[mine["rating"] <= 2]["item_id"]}
        assert positive in train_texts and negative in train_texts and anchor not in test_only


def test_validate_cli_end_to_end(tmp_path, tiny_prepared, capsys):
    out = tmp_path / "validate"
    rationales = tmp_path / "r.jsonl"
    pd.DataFrame([{"user_id": f"u{u}", "rank": 0, "rationale": "I loved the comedy"} for u in range(4)]).to_json(
        rationales, orient="records", lines=True)
    assert main(["validate", "--data", str(tiny_prepared), "--rationales", str(rationales), "--metric", "jaccard",
                 "--metric", "tfidf-cosine", "--bootstrap", "20", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    labels = {(row["metric"], row["goals"]) for row in report["table"]}
    assert ("jaccard", "rationales") in labels and ("tfidf-cosine", "shuffled") in labels
    assert ("jaccard", "own liked reviews") in labels and ("popularity", "no goals") in labels
    # the CF anchors, on the same pairs, and the per-user Spearman column beside the global one for every row
    assert {("item mean", "ratings (CF)"), ("user + item bias", "ratings (CF)"), ("MF", "ratings (CF)")} <= labels
    assert all("user_spearman" in row for row in report["table"])
    assert "mean per-user ρ" in (out / "report.md").read_text()
    assert report["pairs"] == 8 and report["users"] == 4
    for name in ("report.md", "reward_by_rating.png", "roc.png", "threshold.png", "personal.png", "config.yaml"):
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "| jaccard | rationales | 8 |" in printed
    # the report leads with the personal part: each goal source against the same goals dealt to other users
    assert printed.index("How much of the reward is personal") < printed.index("| jaccard | rationales | 8 |")
    personal = {(row["metric"], row["goals"]): row for row in report["personal"]}
    assert set(personal) == {(m, g) for m in ("jaccard", "tfidf-cosine") for g in ("rationales", "own liked reviews")}
    assert set(personal["jaccard", "rationales"]) >= {"own_minus_shuffled_auc", "partial_spearman", "incremental_auc",
                                                       "auc_within_popularity"}
    # every user has the same rationale: dealing them to other users changes nothing
    assert personal["jaccard", "rationales"]["own_minus_shuffled_spearman"]["value"] == pytest.approx(0.0)


@pytest.mark.real_model
def test_learned_metric_trains_saves_and_loads(tmp_path, tiny_prepared):
    path = train_learned_metric(load_prepared(tiny_prepared), tmp_path / "learned", steps=2, batch_size=4)
    manifest = json.loads((path / "learned_metric.json").read_text())
    assert manifest["trained_on"] == "train split only" and manifest["steps"] == 2
    scores = metric(f"learned:{path}").score(["I loved the comedy"], ["Film 1 (1981). Drama.", "I loved the comedy"])
    assert scores[0, 1] == pytest.approx(1.0, abs=1e-5) and scores[0, 0] < scores[0, 1]
    saved = (path / "model.safetensors").stat().st_mtime_ns
    assert train_learned_metric(load_prepared(tiny_prepared), tmp_path / "learned", steps=2, batch_size=4) == path
    assert (path / "model.safetensors").stat().st_mtime_ns == saved  # same settings: reused, not trained again


def test_taste_triplets_match_the_negative_to_the_positive_in_popularity(tiny_prepared):
    from recrl.validation.learned_metric import MATCH_LOG_POPULARITY, log_popularity

    data = load_prepared(tiny_prepared)
    popularity = log_popularity(data)
    assert set(popularity) == set(data.part("train")["item_id"])
    by_description = {d: i for i, d in zip(data.items["item_id"], data.items["description"])}
    matched = build_triplets(data, max_triplets=0, negatives="popularity-matched")
    assert matched and len(matched) <= len(build_triplets(data, max_triplets=0))
    assert all(abs(popularity[by_description[p]] - popularity[by_description[n]]) <= MATCH_LOG_POPULARITY
               for _, _, p, n in matched)
    with pytest.raises(ValueError, match="negatives"):
        build_triplets(data, negatives="popular")


def test_pair_scores_grow_linearly_in_users():
    """Twice the users take under three times as long (the per-user conversion of the item column was quadratic)."""
    import time

    class Zeros:
        def score(self, goals, texts):
            return np.zeros((len(goals), len(texts)))

    def timed(users: int) -> float:
        ids = [f"u{i}" for i in range(users)]
        pairs = pd.DataFrame({"user_id": np.repeat(ids, 2), "item_id": pd.array([f"i{i % 500}" for i in range(2 * users)],
                                                                             dtype="string[pyarrow]")})
        texts = {f"i{i}": f"item {i}" for i in range(500)}
        goals = {user: ["a goal"] for user in ids}
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            pair_scores(Zeros(), goals, pairs, texts)
            best = min(best, time.perf_counter() - start)
        return best

    assert timed(12_000) < 3 * timed(6_000)
