"""Content-based rating prediction from a user's own history: the kNN of :mod:`recrl.validation.strongest`, also the
``reward_model="content-knn"`` reward of ``recrl/ProductBrowse-v0``."""

from __future__ import annotations

import numpy as np


def content_knn(similarity: np.ndarray, ratings: np.ndarray, k: int = 20) -> np.ndarray:
    """Predicted ratings of the target items: the user's mean rating plus the similarity-weighted, mean-centred
    ratings of their ``k`` most similar rated items (negative similarities weigh 0).

    Args:
        similarity: (targets, rated items) cosines between the target items' and the rated items' descriptions.
        ratings: the user's ratings of the rated items.
        k: rated items per prediction.
    """
    similarity, ratings = np.atleast_2d(np.asarray(similarity, dtype=float)), np.asarray(ratings, dtype=float)
    if ratings.size == 0:
        return np.full(similarity.shape[0], np.nan)
    k = min(k, ratings.size)
    nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 0.0, None)
    centred = (ratings - ratings.mean())[nearest]
    total = weights.sum(axis=1)
    return ratings.mean() + np.divide((weights * centred).sum(axis=1), total, out=np.zeros_like(total),
                                      where=total > 0)
