import numpy as np
import pytest

from ellm_core.reward import AchievedGoalFilter, EpisodeReward, ellm_reward
from ellm_core.text.embed import HashingEmbedder

E = np.eye(3, dtype=np.float32)


def unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_reward_is_the_max_similarity_above_threshold():
    goals = np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 0, 1)])
    reward, index = ellm_reward(goals, unit(0, 1, 0), threshold=0.5)
    assert index == 1 and reward == pytest.approx(np.sqrt(0.5), abs=1e-6)  # proportional: reward = similarity


def test_threshold_edge_is_exclusive():
    goals = np.stack([unit(1, 0, 0)])
    caption = unit(0.6, 0.8, 0)  # cosine exactly 0.6
    assert ellm_reward(goals, caption, threshold=0.6) == (0.0, -1)
    assert ellm_reward(goals, caption, threshold=0.59)[0] == pytest.approx(0.6)


def test_no_goals_no_reward():
    assert ellm_reward(np.zeros((0, 3), np.float32), unit(1, 0, 0), threshold=0.0) == (0.0, -1)


def test_filter_removes_achieved_goals_and_paraphrases_and_resets():
    flt = AchievedGoalFilter(threshold=0.9)
    goals = ["collect wood", "chop wood", "drink water"]
    embeddings = np.stack([E[0], unit(1, 0.1, 0), E[2]])
    flt.mark("collect wood", E[0])
    assert flt.keep_mask(goals, embeddings).tolist() == [False, False, True]
    flt.reset()
    assert flt.keep_mask(goals, embeddings).all()


def test_filter_disabled_keeps_everything():
    flt = AchievedGoalFilter(threshold=0.9, enabled=False)
    flt.mark("collect wood", E[0])
    assert flt.keep_mask(["collect wood"], E[:1]).all()


def test_episode_reward_fires_once_per_episode_unless_filter_off():
    episode = EpisodeReward(HashingEmbedder(), threshold=0.5)
    goals = ["collect wood", "drink water"]
    first, goal, _ = episode.step(goals, "collect wood")
    assert first == pytest.approx(1.0) and goal == "collect wood"
    assert episode.step(goals, "collect wood")[:2] == (0.0, None)
    assert episode.step(goals, "drink water")[1] == "drink water"
    episode.reset()
    assert episode.step(goals, "collect wood")[1] == "collect wood"
    ablation = EpisodeReward(HashingEmbedder(), threshold=0.5, filter_achieved=False)
    assert [ablation.step(goals, "collect wood")[0] for _ in range(3)] == pytest.approx([1.0] * 3)


def test_empty_caption_or_goals_give_zero():
    episode = EpisodeReward(HashingEmbedder(), threshold=0.1)
    assert episode.step(["collect wood"], "") == (0.0, None, ["collect wood"])
    assert episode.step([], "collect wood") == (0.0, None, [])


def test_vector_goal_reward_tallies_active_and_rewarded_goals_and_keeps_them_in_its_state():
    from ellm_core.goals import OpenEndedGoals
    from ellm_core.lm.base import ScriptedLM
    from ellm_core.reward import VectorGoalReward

    generator = OpenEndedGoals(ScriptedLM({"tree": "- collect wood\n- drink water"}, default="- drink water"))
    goal_reward = VectorGoalReward(generator, HashingEmbedder(), num_envs=2, threshold=0.9)
    goal_reward.suggest(["a tree", "sand"], [["do"], ["do"]])  # env 0: wood + water, env 1: water
    rewards, achieved = goal_reward.reward(["collect wood", "walk"])
    assert achieved == ["collect wood", ""] and rewards[0] == pytest.approx(1.0)
    goal_reward.suggest(["a tree", "sand"], [["do"], ["do"]])  # wood achieved in env 0: no longer active there
    assert goal_reward.goal_counts() == [
        {"goal": "drink water", "active_steps": 4, "rewarded": 0},
        {"goal": "collect wood", "active_steps": 1, "rewarded": 1},
    ]
    restored = VectorGoalReward(generator, HashingEmbedder(), num_envs=2, threshold=0.9)
    restored.load_state_dict(goal_reward.state_dict())
    assert restored.goal_counts() == goal_reward.goal_counts()


class TableEmbedder:
    """Fixed unit vectors per text (exact cosines for the false-pay test)."""

    def __init__(self, table):
        self.table = {text: unit(*vector) for text, vector in table.items()}

    def encode(self, texts):
        return np.stack([self.table[text] for text in texts])


def test_false_pay_counts_the_reward_paid_to_a_goal_naming_another_achievement():
    from ellm_core.reward import VectorGoalReward, false_pay

    embedder = TableEmbedder({"place stone": (1, 0, 0, 0), "place plant": (0.6, 0.8, 0, 0),
                              "eat cow": (0, 0, 1, 0), "eat a cow": (0, 0, 0.98, 0.2), "collect wood": (0, 0, 0, 1)})

    class Scripted:  # the LM's goals: "place stone" (never done) and "eat a cow"
        def suggest_batch(self, observations, actions):
            return [["place stone", "eat a cow"] for _ in observations]

    rewards = VectorGoalReward(Scripted(), embedder, num_envs=1, threshold=0.5, filter_achieved=False)
    for caption in ["", "place plant", "eat cow", "place plant", "collect wood"]:
        rewards.suggest(["obs"], [["do"]])
        rewards.reward([caption])
    pays = rewards.pay_counts()
    assert [(row["goal"], row["caption"], row["times"]) for row in pays] == [
        ("place stone", "place plant", 2), ("eat a cow", "eat cow", 1)]
    assert pays[0]["reward"] == pytest.approx(1.2) and pays[1]["reward"] == pytest.approx(0.98, abs=1e-3)
    share, rows = false_pay(pays, ["place stone", "place plant", "eat cow", "collect wood"], embedder)
    assert [(row["names"], row["false"]) for row in rows] == [("place stone", True), ("eat cow", False)]
    assert share == pytest.approx(1.2 / (1.2 + 0.98), abs=1e-3)
    restored = VectorGoalReward(Scripted(), embedder, num_envs=1)
    restored.load_state_dict(rewards.state_dict())
    assert restored.pay_counts() == pays
    assert false_pay([], ["eat cow"], embedder) == (0.0, [])


def test_a_pay_limit_lets_a_goal_pay_that_many_times_an_episode_and_paraphrases_count_too():
    episode = EpisodeReward(HashingEmbedder(), threshold=0.5, pay_limit=2)  # a table takes two wood
    goals = ["collect wood", "drink water"]
    assert episode.step(goals, "collect wood")[:2] == (1.0, "collect wood")
    assert episode.step(goals, "collect wood")[:2] == (1.0, "collect wood")
    assert episode.step(goals, "collect wood") == (0.0, None, ["drink water"])  # paid twice: gone
    episode.reset()
    assert episode.step(goals, "collect wood")[1] == "collect wood"
    assert episode.active_goals(["collect wood"]) == ["collect wood"]  # once of two: still a goal


def test_the_goal_tally_survives_a_state_dict_round_trip_with_counts():
    from ellm_core.reward import VectorGoalReward

    class Fixed:
        def suggest(self, observation, actions):
            return ["collect wood"]

    reward = VectorGoalReward(Fixed(), HashingEmbedder(), 1, pay_limit=2)
    reward.suggest(["obs"], [["do"]])
    reward.reward(["collect wood"])
    again = VectorGoalReward(Fixed(), HashingEmbedder(), 1, pay_limit=2)
    again.load_state_dict(reward.state_dict())
    assert again.suggest(["obs"], [["do"]]) == [["collect wood"]]  # one of two payments left
    again.reward(["collect wood"])
    assert again.suggest(["obs"], [["do"]]) == [[]]


def test_an_alias_of_an_achieved_goal_is_achieved_too():
    """The paper's game: "eat cow" and "attack cow" are one goal (the official LanguageModel.take_action)."""
    episode = EpisodeReward(HashingEmbedder(), threshold=0.99, aliases={"eat cow": "attack cow", "attack cow": "eat cow"})
    goals = ["attack cow", "eat cow", "chop tree"]
    assert episode.step(goals, "eat cow")[:2] == (1.0, "eat cow")
    assert episode.active_goals(goals) == ["chop tree"]
    assert EpisodeReward(HashingEmbedder(), threshold=0.99).step(goals, "eat cow")[2] == goals  # without: both stay
