"""Statistics of reward against held-out ratings, with bootstrap confidence intervals over users.

For pairs (user, item, rating, reward): Spearman ρ and Kendall τ (scipy), ROC-AUC of liked (rating >= 4)
against disliked (rating <= 2) pairs (scikit-learn), and the mean over users of NDCG@10 of ranking the
user's held-out items by reward (scikit-learn's ``ndcg_score``, graded by rating; users with one held-out
item are skipped). Confidence intervals: percentile bootstrap, resampling users with replacement.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from sklearn.metrics import ndcg_score, roc_auc_score

STATISTICS = ("spearman", "kendall", "auc", "ndcg10")


def _auc(scores: np.ndarray, ratings: np.ndarray, liked: float, disliked: float) -> float:
    keep = (ratings >= liked) | (ratings <= disliked)
    labels = ratings[keep] >= liked
    if labels.all() or not labels.any():
        return math.nan
    return float(roc_auc_score(labels, scores[keep]))


def _correlation(function, scores: np.ndarray, ratings: np.ndarray) -> float:
    if len(scores) < 3 or np.ptp(scores) == 0 or np.ptp(ratings) == 0:
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(function(scores, ratings)[0])


def user_ndcg(scores: np.ndarray, ratings: np.ndarray, k: int = 10) -> float:
    """NDCG@k of one user's held-out items ranked by reward (NaN with fewer than two items)."""
    if len(scores) < 2:
        return math.nan
    return float(ndcg_score(ratings[None, :], scores[None, :], k=k))


def statistics(scores, ratings, ndcg_values, liked: float = 4.0, disliked: float = 2.0) -> dict[str, float]:
    """The four statistics of pairs (``ndcg_values``: the per-user NDCG@10 values to average)."""
    scores, ratings = np.asarray(scores, dtype=float), np.asarray(ratings, dtype=float)
    finite = [v for v in ndcg_values if not math.isnan(v)]
    return {
        "spearman": _correlation(stats.spearmanr, scores, ratings),
        "kendall": _correlation(stats.kendalltau, scores, ratings),
        "auc": _auc(scores, ratings, liked, disliked),
        "ndcg10": float(np.mean(finite)) if finite else math.nan,
    }


def evaluate_scores(scores, ratings, users, bootstrap: int = 200, seed: int = 0, liked: float = 4.0,
                    disliked: float = 2.0) -> dict[str, dict[str, float]]:
    """Each statistic with its 95% percentile-bootstrap interval over users: ``{stat: {value, low, high}}``.

    Pairs with a NaN reward (a user without goals) are left out.
    """
    scores, ratings, users = np.asarray(scores, float), np.asarray(ratings, float), np.asarray(users)
    keep = ~np.isnan(scores)
    scores, ratings, users = scores[keep], ratings[keep], users[keep]
    unique, inverse = np.unique(users, return_inverse=True)
    members = [np.flatnonzero(inverse == u) for u in range(len(unique))]
    ndcg = np.asarray([user_ndcg(scores[m], ratings[m]) for m in members])
    point = statistics(scores, ratings, ndcg, liked, disliked)
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in STATISTICS}
    for _ in range(bootstrap if len(unique) > 1 else 0):
        chosen = rng.integers(len(unique), size=len(unique))
        index = np.concatenate([members[u] for u in chosen])
        for name, value in statistics(scores[index], ratings[index], ndcg[chosen], liked, disliked).items():
            draws[name].append(value)
    result = {}
    for name in STATISTICS:
        values = np.asarray([v for v in draws[name] if not math.isnan(v)])
        low, high = (np.percentile(values, [2.5, 97.5]) if len(values) else (math.nan, math.nan))
        result[name] = {"value": point[name], "low": float(low), "high": float(high)}
    result["pairs"] = {"value": int(len(scores))}
    result["users"] = {"value": int(len(unique))}
    return result


QUANTILES = tuple(np.linspace(0, 0.95, 20))


def threshold_curve(scores, ratings, quantiles=QUANTILES, liked: float = 4.0,
                    disliked: float = 2.0) -> list[dict[str, float]]:
    """The ELLM threshold's effect: reward = score where score > t else 0, for t at score quantiles.

    Each point: the threshold, the share of pairs that still get a reward, its AUC and Spearman ρ.
    """
    scores, ratings = np.asarray(scores, float), np.asarray(ratings, float)
    keep = ~np.isnan(scores)
    scores, ratings = scores[keep], ratings[keep]
    points = []
    for q in quantiles:
        t = float(np.quantile(scores, q)) if len(scores) else math.nan
        reward = np.where(scores > t, scores, 0.0)
        points.append({"quantile": float(q), "threshold": t, "fired": float((scores > t).mean()) if len(scores) else 0,
                       "auc": _auc(reward, ratings, liked, disliked),
                       "spearman": _correlation(stats.spearmanr, reward, ratings)})
    return points
