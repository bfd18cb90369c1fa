"""Collaborative-filtering anchors: what every recommender paper reports, scored on the same held-out pairs as the
description rewards of ``recrl validate``, and used as browsing policies by ``recrl browse eval``.

Each anchor is fitted on the train split's ratings and scores (user, item) pairs; a higher score is a better guess
of the rating. From the weakest to the strongest:

- ``item mean``: the item's mean train rating (the global mean for an item never rated in train);
- ``user + item bias``: μ + b_user + b_item, fitted by alternating least squares (scikit-surprise ``BaselineOnly``);
- ``MF``: biased matrix factorisation, μ + b_user + b_item + p_userᵀ q_item (scikit-surprise ``SVD``, 20 factors).

scikit-surprise is the library for explicit 1–5 ratings (the held-out truth here is a rating, and its baselines are
the literature's: RMSE 0.944 for ``BaselineOnly`` on MovieLens-100k); ``implicit`` and ``lightfm`` model implicit
feedback, and ``cornac`` brings more than these three rows need.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Anchor names, weakest first (the popularity row of ``recrl validate`` comes before them).
ANCHORS = ("item mean", "user + item bias", "MF")


def _surprise_trainset(train: pd.DataFrame):
    from surprise import Dataset, Reader

    frame = train[["user_id", "item_id", "rating"]].astype({"user_id": str, "item_id": str, "rating": float})
    low, high = float(frame["rating"].min()), float(frame["rating"].max())
    return Dataset.load_from_df(frame, Reader(rating_scale=(low, high))).build_full_trainset()


class Anchor:
    """A fitted rating predictor: ``score(users, items) -> np.ndarray`` (estimated ratings)."""

    def __init__(self, name: str, train: pd.DataFrame, seed: int = 0, factors: int = 20) -> None:
        if name not in ANCHORS:
            raise ValueError(f"unknown anchor {name!r}; known: {', '.join(ANCHORS)}")
        self.name = name
        if train.empty:
            raise ValueError("an anchor needs train ratings")
        self.global_mean = float(train["rating"].mean())
        if name == "item mean":
            self.item_mean = train.groupby("item_id")["rating"].mean()
            return
        from surprise import SVD, BaselineOnly

        trainset = _surprise_trainset(train)
        if name == "user + item bias":
            self.model = BaselineOnly(bsl_options={"method": "als", "n_epochs": 10, "reg_u": 15, "reg_i": 10},
                                      verbose=False)
        else:
            self.model = SVD(n_factors=factors, random_state=seed)
        self.model.fit(trainset)

    def score(self, users, items) -> np.ndarray:
        """The estimated rating of each (user, item) pair (unknown users or items fall back to the biases/mean)."""
        if self.name == "item mean":
            return pd.Series(list(items)).map(self.item_mean).fillna(self.global_mean).to_numpy(dtype=float)
        return np.asarray([self.model.predict(str(u), str(i), clip=False).est for u, i in zip(users, items)],
                          dtype=float)


def anchor_scores(train: pd.DataFrame, pairs: pd.DataFrame, seed: int = 0) -> dict[str, np.ndarray]:
    """Every anchor's scores of ``pairs`` (user_id, item_id), fitted on ``train``."""
    scores = {}
    for name in ANCHORS:
        scores[name] = Anchor(name, train, seed).score(pairs["user_id"].to_numpy(), pairs["item_id"].to_numpy())
        logger.info("anchor %s fitted on %d train ratings", name, len(train))
    return scores
