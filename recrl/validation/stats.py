"""Statistics of reward against held-out ratings, with bootstrap confidence intervals over users.

For pairs (user, item, rating, reward): Spearman ρ over all pairs, the mean over users of each user's own Spearman ρ
(users with at least three held-out pairs whose ratings and rewards both vary; a global ρ also rewards knowing which
users rate generously, which no description reward can know, so the per-user one is the fairer comparison),
Kendall τ (scipy), ROC-AUC of liked (rating >= 4)
against disliked (rating <= 2) pairs (scikit-learn), and the mean over users of NDCG@10 of ranking the
user's held-out items by reward (scikit-learn's ``ndcg_score``, graded by rating; users with one held-out
item are skipped). Confidence intervals: percentile bootstrap, resampling users with replacement.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from sklearn.metrics import ndcg_score

STATISTICS = ("spearman", "user_spearman", "kendall", "auc", "ndcg10")


def _auc(scores: np.ndarray, ratings: np.ndarray, liked: float, disliked: float) -> float:
    """ROC-AUC of liked against disliked pairs, by the Mann-Whitney rank sum (equal to scikit-learn's
    ``roc_auc_score``, ties counted half, and fast enough for thousands of bootstrap resamples)."""
    keep = (ratings >= liked) | (ratings <= disliked)
    labels = ratings[keep] >= liked
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return math.nan
    ranks = stats.rankdata(scores[keep])
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _spearman(scores: np.ndarray, ratings: np.ndarray) -> float:
    """Spearman's ρ as the Pearson correlation of average ranks (scipy's definition, without its overhead)."""
    if len(scores) < 3 or np.ptp(scores) == 0 or np.ptp(ratings) == 0:
        return math.nan
    return float(np.corrcoef(stats.rankdata(scores), stats.rankdata(ratings))[0, 1])


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


def statistics(scores, ratings, ndcg_values, liked: float = 4.0, disliked: float = 2.0,
               user_rho_values=()) -> dict[str, float]:
    """The statistics of pairs (``ndcg_values`` / ``user_rho_values``: the per-user NDCG@10 and Spearman values to
    average)."""
    scores, ratings = np.asarray(scores, dtype=float), np.asarray(ratings, dtype=float)
    finite = [v for v in ndcg_values if not math.isnan(v)]
    rhos = [v for v in user_rho_values if not math.isnan(v)]
    return {
        "spearman": _spearman(scores, ratings),
        "user_spearman": float(np.mean(rhos)) if rhos else math.nan,
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
    rho = np.asarray([_spearman(scores[m], ratings[m]) for m in members])
    point = statistics(scores, ratings, ndcg, liked, disliked, rho)
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in STATISTICS}
    for _ in range(bootstrap if len(unique) > 1 else 0):
        chosen = rng.integers(len(unique), size=len(unique))
        index = np.concatenate([members[u] for u in chosen])
        for name, value in statistics(scores[index], ratings[index], ndcg[chosen], liked, disliked, rho[chosen]).items():
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
                       "spearman": _spearman(reward, ratings)})
    return points


# --- How much of the reward is personal -------------------------------------------------------------------------
# A reward can correlate with ratings only because popular items are both described like what people ask for and
# rated higher. These statistics separate that from the part that depends on *this* user's goals.

PERSONAL = ("own_minus_shuffled_spearman", "own_minus_shuffled_auc", "own_minus_shuffled_ndcg10", "partial_spearman",
            "auc_within_popularity", "incremental_auc")


def partial_spearman(scores: np.ndarray, ratings: np.ndarray, control: np.ndarray) -> float:
    """Spearman ρ of scores and ratings with ``control`` (e.g. log popularity) partialled out: the Pearson
    correlation of the residuals of their ranks after a linear fit on the control's ranks."""
    if len(scores) < 4 or np.ptp(scores) == 0 or np.ptp(ratings) == 0:
        return math.nan
    ranks = [stats.rankdata(values) for values in (scores, ratings, control)]
    design = np.column_stack([np.ones(len(scores)), ranks[2]])
    residuals = [r - design @ np.linalg.lstsq(design, r, rcond=None)[0] for r in ranks[:2]]
    if min(np.std(residual) for residual in residuals) == 0:
        return math.nan
    return float(np.corrcoef(*residuals)[0, 1])


def auc_within_quantiles(scores: np.ndarray, ratings: np.ndarray, bins: np.ndarray, liked: float,
                         disliked: float) -> float:
    """Mean over popularity bins of the liked-vs-disliked AUC inside the bin (bins without both are skipped)."""
    values = [_auc(scores[bins == b], ratings[bins == b], liked, disliked) for b in np.unique(bins)]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def popularity_bins(popularity: np.ndarray, quantiles: int = 5) -> np.ndarray:
    """Quantile bin (0 .. quantiles-1) of each pair's item popularity (ties share a bin)."""
    ranks = stats.rankdata(popularity, method="average") / (len(popularity) + 1)
    return np.minimum((ranks * quantiles).astype(int), quantiles - 1)


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int = 5,
                              seed: int = 0) -> np.ndarray:
    """P(liked) of each pair from a logistic regression trained on the other folds of users (GroupKFold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = min(folds, len(np.unique(groups)))
    result = np.full(len(labels), np.nan)
    for train, test in GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(features, labels, groups):
        if len(np.unique(labels[train])) < 2:
            continue
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(features[train], labels[train])
        result[test] = model.predict_proba(features[test])[:, 1]
    return result


def personal_signal(own, shuffled, ratings, users, popularity, bootstrap: int = 1000, seed: int = 0,
                    liked: float = 4.0, disliked: float = 2.0, folds: int = 5) -> dict[str, dict[str, float]]:
    """The personal part of a reward, each with a 95 % percentile-bootstrap interval over users.

    - ``own_minus_shuffled_*``: Spearman, AUC and NDCG@10 of the reward under the user's own goals minus the same
      statistic under another user's goals, on the same pairs (paired: one user resample for both);
    - ``partial_spearman``: reward vs rating with log(1 + train count) of the item partialled out;
    - ``auc_within_popularity``: the liked-vs-disliked AUC inside each popularity quintile, averaged;
    - ``incremental_auc``: AUC of a logistic model on popularity + reward minus one on popularity alone, out of
      fold over users (``folds`` GroupKFold folds), on liked vs disliked pairs.

    Pairs where either reward is NaN (a user without goals) are left out.
    """
    own, shuffled, ratings = (np.asarray(v, dtype=float) for v in (own, shuffled, ratings))
    users, popularity = np.asarray(users), np.log1p(np.asarray(popularity, dtype=float))
    keep = ~(np.isnan(own) | np.isnan(shuffled))
    own, shuffled, ratings, users, popularity = (v[keep] for v in (own, shuffled, ratings, users, popularity))
    unique, inverse = np.unique(users, return_inverse=True)
    members = [np.flatnonzero(inverse == u) for u in range(len(unique))]
    ndcg = {name: np.asarray([user_ndcg(values[m], ratings[m]) for m in members])
            for name, values in (("own", own), ("shuffled", shuffled))}
    bins = popularity_bins(popularity)
    polar = (ratings >= liked) | (ratings <= disliked)
    labels = ratings >= liked
    probabilities = {}
    if polar.sum() >= 10 and len(np.unique(labels[polar])) == 2 and len(unique) >= 2:
        base = out_of_fold_probabilities(popularity[polar, None], labels[polar], users[polar], folds, seed)
        full = out_of_fold_probabilities(np.column_stack([popularity, own])[polar], labels[polar], users[polar],
                                         folds, seed)
        probabilities = {"base": np.full(len(own), np.nan), "full": np.full(len(own), np.nan)}
        probabilities["base"][polar], probabilities["full"][polar] = base, full

    def estimate(index: np.ndarray, chosen: np.ndarray) -> dict[str, float]:
        o, s, r = own[index], shuffled[index], ratings[index]
        values = {
            "own_minus_shuffled_spearman": _spearman(o, r) - _spearman(s, r),
            "own_minus_shuffled_auc": _auc(o, r, liked, disliked) - _auc(s, r, liked, disliked),
            "own_minus_shuffled_ndcg10": float(np.nanmean(ndcg["own"][chosen] - ndcg["shuffled"][chosen]))
            if np.any(~np.isnan(ndcg["own"][chosen])) else math.nan,
            "partial_spearman": partial_spearman(o, r, popularity[index]),
            "auc_within_popularity": auc_within_quantiles(o, r, bins[index], liked, disliked),
            "incremental_auc": math.nan,
        }
        if probabilities:
            fitted = ~np.isnan(probabilities["full"][index])
            values["incremental_auc"] = (_auc(probabilities["full"][index][fitted], r[fitted], liked, disliked)
                                         - _auc(probabilities["base"][index][fitted], r[fitted], liked, disliked))
        return values

    everyone = np.arange(len(unique))
    point = estimate(np.concatenate(members) if members else np.zeros(0, dtype=int), everyone)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in PERSONAL}
    for _ in range(bootstrap if len(unique) > 1 else 0):
        chosen = rng.integers(len(unique), size=len(unique))
        for name, value in estimate(np.concatenate([members[u] for u in chosen]), chosen).items():
            draws[name].append(value)
    result = {}
    for name in PERSONAL:
        values = np.asarray([v for v in draws[name] if not math.isnan(v)])
        low, high = np.percentile(values, [2.5, 97.5]) if len(values) else (math.nan, math.nan)
        result[name] = {"value": point[name], "low": float(low), "high": float(high)}
    return result
