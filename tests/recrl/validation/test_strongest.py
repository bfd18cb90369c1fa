"""The strongest description-based reward: each candidate on a hand-made history with known answers, and the
selection end to end on the tiny fixture."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from recrl.validation.strongest import CANDIDATES, StrongestConfig, candidate_scores, main

ROOT2 = math.sqrt(0.5)
VECTORS = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0]), "c": np.array([ROOT2, ROOT2]), "x": np.array([1.0, 0.0])}


def test_each_candidate_on_a_known_history():
    history = pd.DataFrame({"user_id": ["u"] * 3, "item_id": ["a", "b", "c"], "rating": [5.0, 1.0, 4.0],
                            "timestamp": [1, 2, 3]})
    pairs = pd.DataFrame({"user_id": ["u", "nobody"], "item_id": ["x", "x"]})
    scores = candidate_scores(history, pairs, VECTORS, StrongestConfig(neighbours=2))
    assert set(scores) == set(CANDIDATES)
    assert scores["own liked, max (latest 5)"][0] == pytest.approx(1.0)  # x is the liked a itself
    centroid = np.array([1 + ROOT2, ROOT2]) / np.linalg.norm([1 + ROOT2, ROOT2])  # mean of a and c, unit
    assert scores["own liked, centroid"][0] == pytest.approx(centroid[0])
    assert scores["liked − disliked centroid"][0] == pytest.approx(centroid[0] - 0.0)  # x is orthogonal to b
    mean = 10 / 3  # the two nearest rated items, a (cosine 1) and c (0.707), weight their centred ratings
    assert scores["content kNN"][0] == pytest.approx(mean + (1 * (5 - mean) + ROOT2 * (4 - mean)) / (1 + ROOT2))
    assert all(math.isnan(values[1]) for values in scores.values())  # no history: no score


def test_selection_end_to_end_writes_the_chosen_reward_beside_the_anchors(tmp_path, tiny_prepared, capsys):
    out = tmp_path / "strongest"
    assert main(["--data", str(tiny_prepared), "--embedder", "hashing:64", "--bootstrap", "10",
                 "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["chosen"] in CANDIDATES
    assert report["validation_auc"][report["chosen"]] == max(v for v in report["validation_auc"].values()
                                                             if not math.isnan(v))
    rewards = [row["reward"] for row in report["table"]]
    assert rewards[:len(CANDIDATES)] == list(CANDIDATES) and {"popularity", "MF"} <= set(rewards)
    assert f"**{report['chosen']}**" in (out / "report.md").read_text()
    assert main(["--data", str(tmp_path / "missing"), "--out", str(out)]) == 2
