import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import ndcg_score, roc_auc_score

from recrl.validation_stats import evaluate_scores, statistics, threshold_curve, user_ndcg


def synthetic(users: int, seed: int = 0, noise: float = 1.0):
    rng = np.random.default_rng(seed)
    ratings = rng.integers(1, 6, size=users * 8).astype(float)
    scores = ratings + noise * rng.normal(size=ratings.size)
    return scores, ratings, np.repeat(np.arange(users), 8)


def test_statistics_match_scipy_and_scikit_learn():
    scores, ratings, users = synthetic(20)
    ndcg = [user_ndcg(scores[users == u], ratings[users == u]) for u in range(20)]
    result = statistics(scores, ratings, ndcg)
    assert result["spearman"] == pytest.approx(stats.spearmanr(scores, ratings)[0])
    assert result["kendall"] == pytest.approx(stats.kendalltau(scores, ratings)[0])
    keep = (ratings >= 4) | (ratings <= 2)
    assert result["auc"] == pytest.approx(roc_auc_score(ratings[keep] >= 4, scores[keep]))
    first = users == 0
    assert ndcg[0] == pytest.approx(ndcg_score([ratings[first]], [scores[first]], k=10))


def test_perfect_and_reversed_rewards():
    ratings = np.array([1, 2, 3, 4, 5.0])
    assert statistics(ratings, ratings, [1.0])["auc"] == 1.0
    assert statistics(-ratings, ratings, [])["spearman"] == pytest.approx(-1.0)


def test_bootstrap_interval_contains_the_estimate_and_narrows_with_more_users():
    small = evaluate_scores(*synthetic(20, seed=1, noise=3.0), bootstrap=200, seed=0)
    large = evaluate_scores(*synthetic(400, seed=1, noise=3.0), bootstrap=200, seed=0)
    for result in (small, large):
        for name in ("spearman", "kendall", "auc", "ndcg10"):
            assert result[name]["low"] <= result[name]["value"] <= result[name]["high"]
    width = {name: r["spearman"]["high"] - r["spearman"]["low"] for name, r in (("small", small), ("large", large))}
    assert width["large"] < width["small"] / 2


def test_pairs_without_goals_are_left_out():
    scores, ratings, users = synthetic(10)
    scores[users == 3] = np.nan
    result = evaluate_scores(scores, ratings, users, bootstrap=10)
    assert result["users"]["value"] == 9 and result["pairs"]["value"] == 72


def test_threshold_curve_fires_less_as_the_threshold_rises():
    scores, ratings, _ = synthetic(30)
    points = threshold_curve(scores, ratings)
    fired = [p["fired"] for p in points]
    assert fired[0] > 0.99 and fired == sorted(fired, reverse=True) and fired[-1] <= 0.06
