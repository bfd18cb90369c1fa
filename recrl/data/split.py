"""The shared data rules: latest-wins deduplication, k-core filtering, and the per-user held-out split.

The split is per user and temporal: each user's interactions are ordered by time (ties and users without
timestamps in a seeded random order), the latest go to ``test``, the ones before them to ``valid``, the rest
to ``train``. :func:`check_no_leakage` states the two guarantees and is run on every prepared directory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def drop_duplicates_latest(frame: pd.DataFrame, key: list[str], time_column: str | None = None) -> pd.DataFrame:
    """Keep one row per ``key``: the latest by ``time_column`` (ties and missing times: the later row)."""
    order = frame.reset_index(drop=True)
    order["_row"] = np.arange(len(order))
    sort_by = ([time_column] if time_column else []) + ["_row"]
    order = order.sort_values(sort_by, kind="stable", na_position="first")
    kept = order.drop_duplicates(key, keep="last").sort_values("_row")
    return kept.drop(columns="_row").reset_index(drop=True)


def k_core(interactions: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    """Repeatedly drop users with fewer than ``min_user`` and items with fewer than ``min_item`` interactions
    until every remaining user and item meets its minimum."""
    frame = interactions
    while True:
        user_counts = frame["user_id"].map(frame["user_id"].value_counts())
        item_counts = frame["item_id"].map(frame["item_id"].value_counts())
        keep = (user_counts >= min_user) & (item_counts >= min_item)
        if keep.all():
            return frame
        frame = frame[keep.to_numpy()]


def _held_out_counts(size: float, n: np.ndarray) -> np.ndarray:
    """Per user with ``n`` interactions: ``size`` >= 1 means that many; 0 < size < 1 a fraction (rounded,
    at least 1); never more than ``n``."""
    if size <= 0:
        return np.zeros_like(n)
    count = np.full_like(n, int(size)) if size >= 1 else np.maximum(1, np.floor(size * n + 0.5).astype(n.dtype))
    return np.minimum(count, n)


def temporal_split(interactions: pd.DataFrame, test_size: float = 0.2, valid_size: float = 0.1,
                   min_train: int = 1, seed: int = 0) -> pd.Series:
    """``train`` / ``valid`` / ``test`` per interaction (a Series aligned with ``interactions``' index).

    Args:
        test_size: per user, the last ``k`` interactions (``k = test_size`` if >= 1) or the last fraction.
        valid_size: the same for the interactions just before the test ones.
        min_train: users are given held-out interactions only while this many stay in train (a user with
            too few interactions keeps them all in train).
        seed: orders ties (same timestamp) and users without timestamps.
    """
    rng = np.random.default_rng(seed)
    frame = interactions[["user_id", "timestamp"]].copy()
    frame["tiebreak"] = rng.random(len(frame))
    frame["has_time"] = ~frame["timestamp"].isna().groupby(frame["user_id"]).transform("any")
    # Users with a timestamp on every interaction are ordered by it; the others only by the random draw.
    frame["order_time"] = frame["timestamp"].where(frame["has_time"])
    frame = frame.sort_values(["user_id", "order_time", "tiebreak"], kind="stable", na_position="first")
    position = frame.groupby("user_id").cumcount().to_numpy()
    size = frame.groupby("user_id")["user_id"].transform("size").to_numpy()
    n_test, n_valid = _held_out_counts(test_size, size), _held_out_counts(valid_size, size)
    room = np.maximum(size - min_train, 0)  # at most this many may be held out
    n_test = np.minimum(n_test, room)
    n_valid = np.minimum(n_valid, room - n_test)
    from_end = size - position  # 1 for the latest interaction
    labels = np.where(from_end <= n_test, "test", np.where(from_end <= n_test + n_valid, "valid", "train"))
    return pd.Series(labels, index=frame.index, name="split").reindex(interactions.index)


def check_no_leakage(interactions: pd.DataFrame, split: pd.Series) -> None:
    """Raise AssertionError unless (1) no (user, item) pair is in two splits and (2) for every user with
    timestamps, no test interaction is earlier than any of their train (or valid) interactions."""
    frame = interactions[["user_id", "item_id", "timestamp"]].assign(split=split.to_numpy())
    pairs = frame.groupby(["user_id", "item_id"])["split"].nunique()
    assert (pairs <= 1).all(), f"{int((pairs > 1).sum())} (user, item) pairs are in more than one split"
    timed = frame[frame["timestamp"].notna()]
    latest_train = timed[timed["split"] == "train"].groupby("user_id")["timestamp"].max()
    latest_valid = timed[timed["split"] == "valid"].groupby("user_id")["timestamp"].max()
    for name, earlier in (("train", latest_train), ("valid", latest_valid)):
        for later in ("valid", "test") if name == "train" else ("test",):
            first_later = timed[timed["split"] == later].groupby("user_id")["timestamp"].min()
            both = pd.concat([earlier, first_later], axis=1, join="inner", keys=["earlier", "later"])
            bad = both[both["later"] < both["earlier"]]
            assert bad.empty, f"{len(bad)} users have a {later} interaction earlier than a {name} one"
