"""Session metrics against held-out ratings (evaluation only): liked share, mean rating, NDCG.

For a session that opened items ``o_1 .. o_n`` (repeats count once, at their first position):

- ``liked_share``: the share of opened items the user rated >= the liked threshold in the held-out split;
- ``mean_rating``: the mean held-out rating of the opened items that have one (NaN when none has);
- ``ndcg``: DCG = sum_i rel(o_i) / log2(i + 1) with rel = the held-out rating (0 when unrated), divided by
  the DCG of the user's n best held-out ratings (the ideal session); 0 when the user has no held-out rating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

METRICS = ("liked_share", "mean_rating", "ndcg")  # what every evaluated session reports
REFERENCE = "DQN + none"  # the evaluation pairs every policy with this group ...
ANCHORS = ("popularity policy", "CF policy (MF)")  # ... and every agent with these


def dcg(relevances: Sequence[float]) -> float:
    """Discounted cumulative gain of relevances in rank order (rank 1 first)."""
    values = np.asarray(relevances, dtype=float)
    return float((values / np.log2(np.arange(2, len(values) + 2))).sum())


def session_ndcg(opened_ratings: Sequence[float], user_ratings: Sequence[float]) -> float:
    """NDCG of a session: relevances = held-out ratings of the opened items (NaN = unrated = 0)."""
    gains = [0.0 if math.isnan(r) else float(r) for r in opened_ratings]
    ideal = dcg(sorted(user_ratings, reverse=True)[: len(gains)])
    return dcg(gains) / ideal if ideal > 0 else 0.0


def session_summary(catalog, user: str, opened: Sequence[int], liked_threshold: float = 4.0) -> dict:
    """The metrics of one session (see the module docstring) plus the opened item ids and their ratings."""
    unique = list(dict.fromkeys(int(i) for i in opened))
    ratings = [catalog.held_out_rating(user, item) for item in unique]
    rated = [r for r in ratings if not math.isnan(r)]
    user_ratings = catalog.held_out_by_user.get(user, [])
    return {
        "user_id": user,
        "opened": [catalog.item_ids[i] for i in unique],
        "ratings": ratings,
        "rated": len(rated),
        "liked_share": sum(r >= liked_threshold for r in rated) / len(unique) if unique else 0.0,
        "mean_rating": float(np.mean(rated)) if rated else math.nan,
        "ndcg": session_ndcg(ratings, user_ratings),
    }
