"""k-core filtering and the per-user temporal split: sizes, seeds and the no-leakage guarantees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recrl.data import check_no_leakage, k_core, temporal_split
from recrl.data.split import drop_duplicates_latest


def random_interactions(seed: int, users: int = 40, items: int = 30, rows: int = 600, ties: bool = True):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"user_id": rng.integers(users, size=rows).astype(str),
                          "item_id": rng.integers(items, size=rows).astype(str),
                          "rating": rng.integers(1, 6, size=rows).astype(float),
                          "timestamp": pd.to_datetime(rng.integers(0, 50 if ties else 10**9, size=rows), unit="s",
                                                      utc=True)})
    return drop_duplicates_latest(frame, ["user_id", "item_id"], "timestamp")


def test_k_core_reaches_a_fixed_point():
    frame = random_interactions(0)
    core = k_core(frame, min_user=8, min_item=10)
    assert len(core) < len(frame)
    assert core["user_id"].value_counts().min() >= 8
    assert core["item_id"].value_counts().min() >= 10


@pytest.mark.parametrize("seed", range(5))
def test_split_has_no_leakage(seed):
    frame = random_interactions(seed)
    split = temporal_split(frame, test_size=0.2, valid_size=0.1, seed=seed)
    check_no_leakage(frame, split)  # raises on a violation
    joined = frame.assign(split=split)
    for _, user in joined.groupby("user_id"):
        if (user["split"] == "test").any() and (user["split"] == "train").any():
            assert user.loc[user["split"] == "test", "timestamp"].min() >= user.loc[user["split"] == "train",
                                                                                   "timestamp"].max()


def test_check_no_leakage_catches_violations():
    frame = pd.DataFrame({"user_id": ["u", "u", "u"], "item_id": ["a", "b", "c"],
                          "timestamp": pd.to_datetime([1, 2, 3], unit="s", utc=True)})
    with pytest.raises(AssertionError, match="test interaction earlier"):
        check_no_leakage(frame, pd.Series(["test", "train", "train"]))
    doubled = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(AssertionError, match="more than one split"):
        check_no_leakage(doubled, pd.Series(["train", "train", "test", "test"]))


def test_split_sizes_counts_and_fractions():
    frame = pd.DataFrame({"user_id": ["u"] * 10 + ["v"] * 2, "item_id": [str(i) for i in range(12)],
                          "timestamp": pd.to_datetime(list(range(10)) + [5, 6], unit="s", utc=True)})
    split = temporal_split(frame, test_size=2, valid_size=1)
    assert list(split[:10]) == ["train"] * 7 + ["valid"] + ["test"] * 2  # the latest two are test
    assert list(split[10:]) == ["train", "test"]  # min_train=1 leaves v one train interaction
    split = temporal_split(frame, test_size=0.3, valid_size=0.0)
    assert (split[:10] == "test").sum() == 3


def test_users_without_timestamps_get_a_seeded_random_order():
    frame = pd.DataFrame({"user_id": ["u"] * 20, "item_id": [str(i) for i in range(20)],
                          "timestamp": pd.Series([pd.NaT] * 20, dtype="datetime64[ms, UTC]")})
    first = temporal_split(frame, test_size=5, valid_size=0, seed=1)
    assert (first == "test").sum() == 5
    assert first.equals(temporal_split(frame, test_size=5, valid_size=0, seed=1))
    assert not first.equals(temporal_split(frame, test_size=5, valid_size=0, seed=2))
    assert list(first[first == "test"].index) != list(range(15, 20))  # not simply the last rows


def test_duplicates_keep_the_latest():
    frame = pd.DataFrame({"user_id": ["u", "u", "u"], "item_id": ["a", "a", "b"], "rating": [5.0, 1.0, 3.0],
                          "timestamp": pd.to_datetime([20, 10, 5], unit="s", utc=True)})
    kept = drop_duplicates_latest(frame, ["user_id", "item_id"], "timestamp")
    assert list(zip(kept["item_id"], kept["rating"])) == [("a", 5.0), ("b", 3.0)]
