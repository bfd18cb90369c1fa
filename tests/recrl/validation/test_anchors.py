"""The collaborative-filtering anchors on tiny fixtures with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from recrl.validation.anchors import ANCHORS, Anchor, _surprise_trainset, anchor_scores


def additive(users=6, items=5) -> pd.DataFrame:
    """Ratings that are exactly 3 + b_user + b_item, every user rating every item."""
    b_user = np.linspace(-1.0, 1.0, users)
    b_item = np.linspace(-0.5, 0.5, items)
    rows = [{"user_id": f"u{u}", "item_id": f"i{i}", "rating": 3.0 + b_user[u] + b_item[i]}
            for u, i in itertools.product(range(users), range(items))]
    return pd.DataFrame(rows)


def test_item_mean_is_the_train_mean_and_the_global_mean_for_new_items():
    train = pd.DataFrame({"user_id": ["a", "b", "a"], "item_id": ["x", "x", "y"], "rating": [5.0, 3.0, 1.0]})
    anchor = Anchor("item mean", train)
    assert anchor.score(["c", "c", "c"], ["x", "y", "new"]).tolist() == [4.0, 1.0, 3.0]


def test_bias_recovers_an_additive_rating_table():
    train = additive()
    held_out = train.sample(frac=0.3, random_state=0)
    fitted = Anchor("user + item bias", train.drop(held_out.index))
    fitted.model.bsl_options.update(reg_u=0, reg_i=0)  # without shrinkage, least squares is exact here
    fitted.model.fit(_surprise_trainset(train.drop(held_out.index)))
    predicted = fitted.score(held_out["user_id"], held_out["item_id"])
    assert predicted == pytest.approx(held_out["rating"].to_numpy(), abs=1e-6)
    shrunk = Anchor("user + item bias", train)  # the default shrinkage keeps the order of users and items
    scores = shrunk.score(["u0", "u5", "u5"], ["i0", "i0", "i4"])
    assert scores[0] < scores[1] < scores[2]


def test_mf_orders_held_out_ratings_and_every_anchor_scores_every_pair():
    rng = np.random.default_rng(0)
    users, items = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    frame = pd.DataFrame([{"user_id": u, "item_id": i, "rating": float(np.clip(3 + users[u] @ items[i], 1, 5))}
                          for u in range(40) for i in range(30)])
    test = frame.sample(frac=0.2, random_state=1)
    scores = anchor_scores(frame.drop(test.index), test, seed=0)
    assert list(scores) == list(ANCHORS) and all(len(v) == len(test) for v in scores.values())
    rho = {name: np.corrcoef(values, test["rating"])[0, 1] for name, values in scores.items()}
    assert rho["MF"] > 0.5 and rho["MF"] > rho["item mean"]  # the users' tastes are the signal here
    with pytest.raises(ValueError, match="unknown anchor"):
        Anchor("knn", frame)
