"""The vector env's info dict split per environment, as gymnasium batched it."""

import gymnasium as gym
import numpy as np

import ellm_core.crafter  # noqa: F401  (registers ellm/Crafter-v0)
from ellm_core.run.rollout import unbatch_info


def test_unbatch_info_leaves_out_what_an_env_did_not_report():
    info = {"a": np.array([1, 2]), "_a": np.array([True, False]),
            "nested": {"x": np.array([3, 4]), "_x": np.array([True, True])}, "_nested": np.array([False, True])}
    assert unbatch_info(info, 2) == [{"a": 1}, {"nested": {"x": 4}}]


def test_unbatch_info_gives_back_each_crafter_env_info():
    envs = gym.vector.SyncVectorEnv([lambda: gym.make("ellm/Crafter-v0", length=50, pixels=False)] * 2)
    _, batched = envs.reset(seed=[1, 2])
    singles = [gym.make("ellm/Crafter-v0", length=50, pixels=False).reset(seed=seed)[1] for seed in (1, 2)]
    for mine, single in zip(unbatch_info(batched, 2), singles):
        assert mine["observation_text"] == single["observation_text"]
        assert list(mine["valid_actions"]) == single["valid_actions"]
        assert {k: int(v) for k, v in mine["inventory"].items()} == single["inventory"]
