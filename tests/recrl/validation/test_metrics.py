import numpy as np
import pytest

from recrl.validation.metrics import available_metrics, metric

DESCRIPTIONS = ["A light summer dress with pockets, red cotton.", "Heavy winter boots for hiking in snow.",
                "A thriller film about a bank heist with an ensemble cast."]
GOALS = ["I want a light summer dress with pockets", "boots for snow hiking", "a heist thriller film"]


@pytest.mark.parametrize("name", ["sbert-cosine:hashing", "tfidf-cosine", "bm25", "jaccard"])
def test_each_goal_is_closest_to_its_own_description(name):
    scorer = metric(name)
    if hasattr(scorer, "fit"):
        scorer.fit(DESCRIPTIONS)
    scores = scorer.score(GOALS, DESCRIPTIONS)
    assert scores.shape == (3, 3)
    assert (scores.argmax(axis=1) == np.arange(3)).all()
    assert (np.diag(scores) > scores.max(axis=1, initial=-np.inf, where=~np.eye(3, dtype=bool))).all()


@pytest.mark.parametrize("name", ["sbert-cosine:hashing", "tfidf-cosine", "jaccard"])
def test_identical_text_scores_highest_and_unrelated_text_zero_or_low(name):
    scores = metric(name).score(["red cotton dress"], ["red cotton dress", "quantum chromodynamics lecture"])
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5) and scores[0, 1] < 0.2


@pytest.mark.real_model
def test_sentence_embedding_cosine_with_the_real_embedder():
    scores = metric("sbert-cosine").score(GOALS, DESCRIPTIONS)
    assert (scores.argmax(axis=1) == np.arange(3)).all() and scores.max() <= 1.0 + 1e-6


def test_bm25_scores_only_shared_terms():
    scores = metric("bm25").score(["winter boots"], DESCRIPTIONS)
    assert scores[0, 1] > 0 and scores[0, 0] == 0 and scores[0, 2] == 0


def test_unknown_and_unusable_metrics_are_clear_errors(tmp_path):
    assert {"bm25", "jaccard", "learned", "sbert-cosine", "tfidf-cosine"} <= set(available_metrics())
    with pytest.raises(ValueError, match="unknown metric 'cosine'.*known: bm25"):
        metric("cosine")
    with pytest.raises(ValueError, match="learned metric needs learned:PATH"):
        metric(f"learned:{tmp_path}")
