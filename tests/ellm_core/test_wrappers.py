import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import ellm_core.envs  # noqa: F401  (registers ellm/TextChain-v0)
from ellm_core.envs.text_chain import TextChainEnv
from ellm_core.goals import OpenEndedGoals, OracleGoals
from ellm_core.lm.base import ScriptedLM
from ellm_core.text.embed import CachedEmbedder, HashingEmbedder
from ellm_core.wrappers import ELLMReward

RIGHT, DO = 1, 2


def scripted_goals():
    """An LM that suggests what the observation text makes sensible, plus one garbage answer."""

    def answer(text: str) -> str:
        if "a tree" in text:
            return "- Collect wood.\n- collect wood"
        if "a lake" in text:
            return "1. drink water"
        if "chest" in text:
            return "x" * 10_000  # garbage: parses to no goal, never crashes
        return "Sure! Here is what I would do:\n- collect wood\n- drink water"

    return OpenEndedGoals(ScriptedLM(answer))


def test_wrapped_env_passes_check_env_and_is_registered():
    with pytest.warns(UserWarning, match="different from the unwrapped"):  # expected: we check the wrapper
        check_env(ELLMReward(TextChainEnv(), scripted_goals(), HashingEmbedder()), skip_render_check=True)
    check_env(TextChainEnv(), skip_render_check=True)
    env = gym.make("ellm/TextChain-v0")
    assert env.spec.max_episode_steps == 50


def test_reward_fires_on_matching_caption_once_per_episode():
    embedder = CachedEmbedder(HashingEmbedder())
    env = ELLMReward(TextChainEnv(), scripted_goals(), embedder, threshold=0.7, keep_extrinsic=True)
    _, info = env.reset(seed=0)
    assert info["goals"] == ["collect wood", "drink water"]
    _, reward, *_ , info = env.step(RIGHT)  # into the tree room
    assert reward == 0.0 and info["goals"] == ["collect wood"]
    _, reward, *_, info = env.step(DO)  # "you collect wood"
    assert info["achieved_goal"] == "collect wood"
    assert reward == pytest.approx(info["intrinsic_reward"]) and reward > 0.7
    assert info["goals"] == []  # the only suggestion here was achieved: filtered for the rest of the episode
    _, reward, *_, info = env.step(DO)
    assert reward == 0.0 and info["achieved_goal"] == ""
    _, info = env.reset()
    _, _, *_, info = env.step(RIGHT)
    _, reward, *_, info = env.step(DO)
    assert reward > 0.7  # a new episode: rewarded again


def test_extrinsic_reward_kept_or_dropped_and_scaled():
    def last_step(keep_extrinsic: bool, scale: float) -> tuple[float, dict]:
        env = ELLMReward(TextChainEnv(length=4, tree_room=1, lake_room=2), OracleGoals(lambda: ["open the chest"]),
                         HashingEmbedder(), threshold=0.7, scale=scale, keep_extrinsic=keep_extrinsic)
        env.reset(seed=0)
        for action in [RIGHT, DO, RIGHT, RIGHT]:  # collect wood, walk to the chest
            env.step(action)
        _, reward, terminated, _, info = env.step(DO)  # "you open the chest": extrinsic 1, episode ends
        assert terminated and info["extrinsic_reward"] == 1.0 and info["intrinsic_reward"] > 0.7
        return reward, info

    reward, info = last_step(True, 1.0)
    assert reward == pytest.approx(1.0 + info["intrinsic_reward"])
    reward, info = last_step(False, 1.0)
    assert reward == pytest.approx(info["intrinsic_reward"])
    reward, info = last_step(False, 0.5)
    assert reward == pytest.approx(0.5 * info["intrinsic_reward"])


def test_garbage_lm_output_never_crashes_an_episode():
    env = ELLMReward(TextChainEnv(), OpenEndedGoals(ScriptedLM(["", "🙂" * 100, "1. 1. 1.", None])), HashingEmbedder())
    env.reset(seed=0)
    for step in range(30):
        _, reward, terminated, truncated, info = env.step(step % 3)
        assert info["goals"] == [] and reward >= 0.0
        if terminated or truncated:
            env.reset()


def test_missing_text_info_is_a_clear_error():
    env = ELLMReward(gym.make("CartPole-v1"), scripted_goals(), HashingEmbedder())
    with pytest.raises(KeyError, match="observation_text"):
        env.reset(seed=0)


def test_filter_off_rewards_every_time():
    env = ELLMReward(TextChainEnv(), OracleGoals(lambda: ["collect wood"]), HashingEmbedder(), threshold=0.7,
                     filter_achieved=False)
    env.reset(seed=0)
    env.step(RIGHT)
    assert all(env.step(DO)[1] > 0.7 for _ in range(3))
