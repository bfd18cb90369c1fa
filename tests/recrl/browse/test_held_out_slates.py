"""Held-out slates (``recrl browse eval --slates held-out``): one held-out item among negatives the user never rated."""

from __future__ import annotations

import numpy as np
import pytest

from recrl.browse.catalog import build_catalog
from recrl.browse.env import ProductBrowseEnv
from recrl.browse.evaluate import content_policy, popularity_policy, random_policy
from recrl.data.prepared import load_prepared


@pytest.fixture(scope="module")
def catalog(planted):
    return build_catalog(load_prepared(planted[2]), "hashing", cache="none")


def test_each_slate_holds_one_held_out_item_among_negatives_never_rated(catalog):
    env = ProductBrowseEnv(catalog=catalog, split="test", eval_mode=True, held_out_slates=True, slate_size=5,
                           session_steps=8)
    rng = np.random.default_rng(0)
    for episode in range(20):
        env.reset(seed=episode)
        held = set(catalog.held_out_items[env.user])
        rated = held | {int(i) for i in catalog.train_ratings[env.user][0]}
        seen = set()
        for _ in range(8):
            slate = [int(item) for item in env.slate]
            positives = [item for item in slate if item in held]
            assert len(positives) == (1 if held - {env.current} else 0), (held, env.current, slate)
            assert len(positives) <= 1 and len(set(slate)) == 5 and env.current not in slate
            assert not (set(slate) - held) & rated  # the negatives: items the user never rated
            seen.update(positives)
            env.step(int(rng.integers(6)))
        assert seen == held - {env.current} or seen == held  # every held-out item comes in turn


def test_held_out_slates_are_for_evaluation_only(catalog):
    with pytest.raises(ValueError, match="evaluation"):
        ProductBrowseEnv(catalog=catalog, split="test", held_out_slates=True)


def test_popularity_alone_does_not_find_the_held_out_item(catalog):
    """Negatives are drawn by popularity, so the most popular candidate is the held-out one little more often than
    chance (1 in 5), whereas uniform negatives would hand it to the popularity policy."""
    env = ProductBrowseEnv(catalog=catalog, split="test", eval_mode=True, held_out_slates=True, slate_size=5,
                           session_steps=10)
    hits = {"popularity": [], "random": [], "content": []}
    policies = {"popularity": popularity_policy, "random": random_policy(np.random.default_rng(0)),
                "content": content_policy}
    for name, policy in policies.items():
        for episode in range(60):
            _, info = env.reset(seed=episode)
            held = set(catalog.held_out_items[env.user])
            for _ in range(10):
                action = policy(env, info)
                hits[name].append(action < 5 and int(env.slate[action]) in held)
                _, _, _, _, info = env.step(action)
    assert np.mean(hits["random"]) == pytest.approx(1 / 6, abs=0.04)
    assert np.mean(hits["popularity"]) < 0.33
