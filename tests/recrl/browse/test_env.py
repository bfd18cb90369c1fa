import math
import warnings

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env
from sklearn.metrics import ndcg_score

import recrl.browse  # noqa: F401
from ellm_core.goals import OracleGoals
from ellm_core.text.embed import HashingEmbedder
from ellm_core.wrappers import ELLMReward
from recrl.browse.catalog import build_catalog
from recrl.browse.env import SHOW_OTHERS, ProductBrowseEnv, parse_mix
from recrl.browse.metrics import dcg, session_ndcg
from recrl.data.prepared import load_prepared
from recrl.data.synthetic import write_prepared


@pytest.fixture
def catalog(tmp_path):
    return build_catalog(load_prepared(write_prepared(tmp_path / "p", users=6, items=20)), "hashing", cache="none")


def make(catalog, **kwargs) -> ProductBrowseEnv:
    return ProductBrowseEnv(catalog=catalog, **{"slate_size": 4, "mix": "2,1,1", "session_steps": 6, **kwargs})


def test_check_env_and_registration(tmp_path, catalog):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no checker warning either
        check_env(gym.make("recrl/ProductBrowse-v0", catalog=catalog, slate_size=4, mix="2,1,1").unwrapped)
    data = write_prepared(tmp_path / "q", users=3, items=10)
    env = gym.make("recrl/ProductBrowse-v0", data=str(data), embedder="hashing", slate_size=3, mix="1,1,1")
    observation, info = env.reset(seed=0)
    assert observation.shape == (4,) and info["valid_actions"][-1] == SHOW_OTHERS
    vector = gym.vector.SyncVectorEnv([lambda: make(catalog) for _ in range(2)])
    observations, _ = vector.reset(seed=1)
    assert observations.shape == (2, 5)
    vector.step(np.array([0, 4]))


def test_seeded_reset_is_reproducible(catalog):
    first, second = make(catalog), make(catalog)
    a, info_a = first.reset(seed=3)
    b, info_b = second.reset(seed=3)
    assert (a == b).all() and info_a["observation_text"] == info_b["observation_text"]
    assert (first.step(1)[0] == second.step(1)[0]).all()


def test_slates_are_distinct_sized_and_fresh(catalog):
    env = make(catalog, session_steps=30)
    env.reset(seed=0)
    for step in range(30):
        slate = env.slate
        assert len(slate) == 4 and len(set(slate.tolist())) == 4 and env.current not in slate
        assert set(slate[:2].tolist()) <= set(catalog.neighbours[env.current][:10].tolist()) or step > 0
        env.step(step % 5)


def test_slate_mix_is_validated():
    assert parse_mix("3,1,1", 5) == (3, 1, 1)
    with pytest.raises(ValueError, match="summing to the slate size 5"):
        parse_mix("3,1", 5)


def test_held_out_ratings_only_in_eval_mode(catalog):
    train_env = make(catalog)
    train_env.reset(seed=0)
    for _ in range(6):
        *_, truncated, info = train_env.step(0)
        assert "held_out_rating" not in info and "session" not in info
    eval_env = make(catalog, split="test", eval_mode=True)
    _, info = eval_env.reset(seed=0, options={"user_id": "u1"})
    rated = {catalog.item_ids[i]: r for (u, i), r in catalog.held_out.items() if u == "u1"}
    for _ in range(6):
        *_, truncated, info = eval_env.step(0)
        expected = rated.get(info["item_id"], math.nan)
        assert info["held_out_rating"] == expected or (math.isnan(expected) and math.isnan(info["held_out_rating"]))
    assert truncated and info["session"]["user_id"] == "u1" and len(info["session"]["opened"]) >= 1


def test_ellm_reward_fires_once_on_the_matching_product(tmp_path, catalog):
    target = catalog.texts[5]
    path = tmp_path / "rationales.jsonl"
    pd.DataFrame([{"user_id": "u0", "rank": 0, "rationale": target}]).to_json(path, orient="records", lines=True)
    env = make(catalog, rationales=str(path), session_steps=20)
    wrapped = ELLMReward(env, OracleGoals(env.suggested_goals), HashingEmbedder(), threshold=0.9, keep_extrinsic=False)
    _, info = wrapped.reset(seed=0, options={"user_id": "u0"})
    assert info["goals"] == [target]
    rewards = []
    for _ in range(2):  # open product 5 twice: force it into the first slot
        env.slate[0] = 5
        _, reward, *_ = wrapped.step(0)
        rewards.append(reward)
        env.current = 0
    _, other, *_ = wrapped.step(1)
    assert rewards[0] == pytest.approx(1.0) and rewards[1] == 0.0 and other == 0.0  # achieved goals are filtered


def test_users_without_history_or_rationales_have_defined_fallbacks(tmp_path):
    data = write_prepared(tmp_path / "p", users=3, items=9, rating=lambda u, i: 1.0 if u == 0 else 5.0)
    catalog = build_catalog(load_prepared(data), "hashing", cache="none")
    path = tmp_path / "r.jsonl"
    pd.DataFrame([{"user_id": "u1", "rank": 0, "rationale": "I want a drama."}]).to_json(path, orient="records", lines=True)
    env = make(catalog, slate_size=3, mix="1,1,1", rationales=str(path))
    _, info = env.reset(seed=0, options={"user_id": "u0"})
    assert "You liked: nothing yet." in info["observation_text"]
    assert env.suggested_goals() == [] and env.missing_rationales == 1


def test_an_empty_split_is_a_clear_error(tmp_path, catalog):
    catalog.users_by_split["test"] = []
    with pytest.raises(ValueError, match="no users in the 'test' split"):
        make(catalog, split="test")


def test_ndcg_matches_scikit_learn_without_ties():
    ratings = {"a": 5.0, "b": 3.0, "c": 1.0, "d": 4.0}
    opened = ["b", "d", "a"]
    ours = session_ndcg([ratings[i] for i in opened], list(ratings.values()))
    scores = {"b": 3, "d": 2, "a": 1, "c": 0}
    theirs = ndcg_score([list(ratings.values())], [[scores[i] for i in ratings]], k=3)
    assert ours == pytest.approx(theirs)
    assert session_ndcg([math.nan, math.nan], [5.0]) == 0.0 and session_ndcg([5.0], []) == 0.0
    assert dcg([3.0, 3.0]) == pytest.approx(3 + 3 / np.log2(3))


def test_items_without_description_are_captioned_by_title_and_empty_catalogues_fail(tmp_path):
    directory = write_prepared(tmp_path / "p", users=3, items=6)
    items = pd.read_parquet(directory / "items.parquet")
    items.loc[0, "description"] = ""
    items.to_parquet(directory / "items.parquet", index=False)
    catalog = build_catalog(load_prepared(directory), "hashing", cache="none")
    assert catalog.texts[0] == "Film 0 (1980)." and catalog.texts[1].startswith("Film 1 (1981). Drama.")
    items.iloc[:0].to_parquet(directory / "items.parquet", index=False)
    with pytest.raises(ValueError, match="no items: nothing to browse"):
        build_catalog(load_prepared(directory), "hashing", cache="none")


def test_the_content_knn_reward_reads_the_users_train_ratings_only(catalog):
    from recrl.validation.content import content_knn

    plain = make(catalog)
    plain.reset(seed=0, options={"user_id": "u1"})
    assert plain.step(0)[1] == 0.0  # the default: no reward of its own
    env = make(catalog, reward_model="content-knn", neighbours=3)
    check_env(env)
    env.reset(seed=0, options={"user_id": "u1"})
    rated, ratings = catalog.train_ratings["u1"]
    for action in (0, 1, 4):
        _, reward, *_, info = env.step(action)
        if action == 4:  # "show other candidates" opens nothing
            assert reward == 0.0
            continue
        item = catalog.item_ids.index(info["item_id"])
        similarity = catalog.vectors[rated] @ catalog.vectors[item]
        assert reward == pytest.approx(content_knn(similarity[None], ratings, 3)[0] - ratings.mean())
    with pytest.raises(ValueError, match="reward_model"):
        make(catalog, reward_model="ratings")
