import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import ndcg_score, roc_auc_score

from recrl.validation.stats import (
    evaluate_scores,
    partial_spearman,
    personal_signal,
    statistics,
    threshold_curve,
    user_ndcg,
)


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


def synthetic_pairs(personal: float, users: int = 200, per_user: int = 20, seed: int = 0):
    """Held-out pairs where ratings depend on item popularity (5 levels) and, with weight ``personal``, on
    whether the item has the user's favourite genre. The reward under a user's goals sees popularity and whether
    the item has the genre the *goals* ask for; shuffled goals ask for another user's genre."""
    rng = np.random.default_rng(seed)
    favourite = rng.integers(5, size=users)
    other = np.roll(favourite, 1)  # another user's goals
    user = np.repeat(np.arange(users), per_user)
    level = rng.integers(5, size=users * per_user)  # popularity level of the item
    genre = rng.integers(5, size=users * per_user)
    popularity = 10.0 ** level
    latent = 0.6 * level + personal * (genre == favourite[user]) + rng.normal(0, 1, users * per_user)
    ratings = np.clip(np.round(1 + latent), 1, 5)
    own = 0.3 * level + (genre == favourite[user]) + rng.normal(0, 0.3, users * per_user)
    shuffled = 0.3 * level + (genre == other[user]) + rng.normal(0, 0.3, users * per_user)
    return own, shuffled, ratings, user.astype(str), popularity


def test_a_popularity_driven_rating_has_no_personal_signal():
    result = personal_signal(*synthetic_pairs(personal=0.0), bootstrap=200)
    for name in ("own_minus_shuffled_spearman", "own_minus_shuffled_auc", "own_minus_shuffled_ndcg10",
                 "partial_spearman", "incremental_auc"):
        assert result[name]["low"] < 0 < result[name]["high"], name
    assert result["auc_within_popularity"]["low"] < 0.5 < result["auc_within_popularity"]["high"]


def test_a_planted_user_specific_signal_is_detected():
    result = personal_signal(*synthetic_pairs(personal=1.5), bootstrap=200)
    for name in ("own_minus_shuffled_spearman", "own_minus_shuffled_auc", "own_minus_shuffled_ndcg10",
                 "partial_spearman", "incremental_auc"):
        assert result[name]["low"] > 0, name
    assert result["auc_within_popularity"]["low"] > 0.55


def test_partial_spearman_removes_a_shared_cause():
    rng = np.random.default_rng(3)
    cause = rng.normal(size=2000)
    a, b = cause + rng.normal(0, 0.5, 2000), cause + rng.normal(0, 0.5, 2000)
    assert stats.spearmanr(a, b)[0] > 0.7
    assert abs(partial_spearman(a, b, cause)) < 0.06
    assert partial_spearman(a + 0.8 * b, b, cause) > 0.5


def test_the_per_user_spearman_ignores_who_rates_generously():
    from recrl.validation.stats import evaluate_scores

    # two users rank their items perfectly, but one rates everything 2 higher: the global ρ is diluted by the
    # offset, the mean per-user ρ is 1
    ratings = np.array([1, 2, 3, 3, 4, 5.0])
    users = np.array([0, 0, 0, 1, 1, 1])
    scores = np.array([1, 2, 3, 1, 2, 3.0])  # right within each user, blind to the user's level
    result = evaluate_scores(scores, ratings, users, bootstrap=20)
    assert result["user_spearman"]["value"] == pytest.approx(1.0)
    assert result["spearman"]["value"] < 0.9
    assert result["user_spearman"]["low"] == pytest.approx(1.0)
