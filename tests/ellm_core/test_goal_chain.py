"""The LM's prerequisites: asked in the ranked form, calibrated, written as a file; goal lists that put them first."""

import json

import numpy as np
import pytest

from ellm_core.goals.chain import CONTENT_FREE_GOAL, GoalChain, ask_prerequisites
from ellm_core.goals.prompts import PromptConfig
from ellm_core.lm.base import ScriptedLM
from ellm_core.reward import VectorGoalReward
from ellm_core.text.embed import HashingEmbedder

CANDIDATES = ["collect wood", "place crafting table", "make wood pickaxe", "drink water"]
KNOWS = {"make wood pickaxe": "place crafting table", "place crafting table": "collect wood"}


def scores(question: str, continuation: str) -> float:
    """An LM that knows two steps of the chain, and likes "drink water" whatever it is asked (the calibration's
    job to discount)."""
    goal = next((g for g in KNOWS if f"want to {g}," in question), None)
    return (3.0 if goal and KNOWS[goal] == continuation.strip() else 0.0) + (2.0 if "drink" in continuation else 0.0)


def test_the_lm_is_asked_once_per_goal_and_its_calibrated_best_other_goal_is_the_prerequisite(tmp_path):
    lm = ScriptedLM(scores=scores)
    result = ask_prerequisites(lm, CANDIDATES, ["do", "noop"], PromptConfig.load("data:crafter/prompts.yaml"))
    asked = len(CANDIDATES) + 1  # each goal, and no goal in particular; then each goal's material
    assert len(lm.calls) == asked + len(CANDIDATES) and CONTENT_FREE_GOAL in lm.calls[asked - 1][-1]["content"]
    calibrated = {goal: row["goal"] for goal, row in result["prerequisite_calibrated"].items()}
    raw = {goal: row["goal"] for goal, row in result["prerequisite"].items()}
    assert calibrated["make wood pickaxe"] == "place crafting table" and calibrated["place crafting table"] == "collect wood"
    assert all(goal != row for goal, row in calibrated.items())  # never its own prerequisite
    assert np.allclose(result["prior"], [0, 0, 0, 2])  # raw "drink water" was best everywhere; calibration removes it
    assert raw["make wood pickaxe"] == "place crafting table" and raw["collect wood"] == "drink water"
    path = tmp_path / "prerequisites.json"
    path.write_text(json.dumps(result))
    assert GoalChain.load(path, calibrated=True).chain("make wood pickaxe")[:2] == ["collect wood",
                                                                                     "place crafting table"]
    assert GoalChain.load(path).chain("place crafting table") == ["drink water", "collect wood",
                                                                  "place crafting table"]


def test_a_chain_puts_prerequisites_first_each_goal_once_and_stops_at_cycles_and_depth():
    chain = GoalChain({"make wood pickaxe": "place crafting table", "place crafting table": "collect wood",
                       "collect wood": "make wood pickaxe", "eat cow": "eat cow"}, depth=2)
    assert chain.chain("make wood pickaxe") == ["collect wood", "place crafting table", "make wood pickaxe"]
    assert chain.chain("collect wood") == ["place crafting table", "make wood pickaxe", "collect wood"]
    assert chain.expand(["make wood pickaxe", "place crafting table"]) == \
        ["collect wood", "place crafting table", "make wood pickaxe"]
    assert chain.expand(["eat cow"]) == ["eat cow"]
    assert GoalChain(chain.prerequisites, depth=0).expand(["make wood pickaxe"]) == ["make wood pickaxe"]
    with pytest.raises(ValueError, match="depth"):
        GoalChain({}, depth=-1)


def test_a_bad_prerequisite_file_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m ellm_core.crafter.analysis.prerequisites"):
        GoalChain.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"prerequisite": [1]}')
    with pytest.raises(ValueError, match="not a prerequisite file"):
        GoalChain.load(tmp_path / "bad.json")


class Fixed:
    def suggest(self, observation, actions):
        return ["make wood pickaxe", "drink water"]


def test_the_reward_meets_the_chain_in_order_as_each_step_is_achieved():
    chain = GoalChain({"make wood pickaxe": "place crafting table", "place crafting table": "collect wood"})
    reward = VectorGoalReward(Fixed(), HashingEmbedder(64), 1, threshold=0.99, chain=chain, active_goals=1)
    assert reward.suggest(["obs"], [["do"]]) == [["collect wood"]]
    paid, _ = reward.reward(["collect wood"])
    assert paid[0] > 0.99
    assert reward.suggest(["obs"], [["do"]]) == [["place crafting table"]]  # achieved goals leave; the next comes
    reward.reward(["place crafting table"])
    assert reward.suggest(["obs"], [["do"]]) == [["make wood pickaxe"]]
    reward.reward(["make wood pickaxe"])
    assert reward.suggest(["obs"], [["do"]]) == [["drink water"]]  # the ranking goes on past what was achieved
    unlimited = VectorGoalReward(Fixed(), HashingEmbedder(64), 1, threshold=0.99, chain=chain)
    assert unlimited.suggest(["obs"], [["do"]]) == [["collect wood", "place crafting table", "make wood pickaxe",
                                                      "drink water"]]


def test_a_training_run_takes_the_prerequisite_file_and_tallies_the_prerequisites_as_goals(tmp_path):
    import csv

    from ellm_core.run.config import check_config
    from ellm_core.run.train import train
    from ellm_core.text.embed import HashingEmbedder
    from tests.ellm_core.test_train import config, scripted_goals

    path = tmp_path / "prerequisites.json"
    path.write_text(json.dumps({"prerequisite": {"collect wood": {"goal": "open the chest", "score": 1.0}}}))
    run = config(tmp_path, "chained", reward="ellm", steps=300, prerequisites=str(path), active_goals=2)
    train(run, goal_generator=scripted_goals(), embedder=HashingEmbedder())
    with open(tmp_path / "chained" / "goals.csv", encoding="utf-8") as handle:
        goals = {row["goal"] for row in csv.DictReader(handle)}
    assert {"collect wood", "open the chest"} <= goals
    with pytest.raises(ValueError, match=r"--prerequisites .*\(--reward ellm\), not --reward novelty"):
        check_config(config(tmp_path, "bad", reward="novelty", prerequisites=str(path)))


def test_the_material_question_ranks_only_collect_goals_and_its_answers_come_before_each_step(tmp_path):
    def likes_wood(question: str, continuation: str) -> float:
        """An LM that answers "collect wood" to every material question but its own (and the goal itself best)."""
        own = f"want to {continuation.strip()}," in question
        return 5.0 if own else (2.0 if continuation.strip() == "collect wood" else 0.0)

    lm = ScriptedLM(scores=likes_wood)
    result = ask_prerequisites(lm, CANDIDATES + ["collect stone"], ["do", "noop"],
                               PromptConfig.load("data:crafter/prompts.yaml"))
    assert result["material_candidates"] == ["collect wood", "collect stone"]
    material = {goal: row["goal"] for goal, row in result["material"].items()}
    assert material["place crafting table"] == "collect wood" and material["collect wood"] == "collect stone"
    assert material["collect stone"] == "collect wood"  # never its own material, however much the LM likes it
    path = tmp_path / "prerequisites.json"
    path.write_text(json.dumps(result | {"prerequisite": {"make wood pickaxe": {"goal": "place crafting table"}}}))
    chain = GoalChain.load(path, materials=True)
    assert chain.chain("make wood pickaxe") == ["collect wood", "place crafting table", "make wood pickaxe"]
    assert chain.expand(["drink water", "collect wood"]) == ["collect wood", "drink water", "collect stone"]
    assert GoalChain.load(path).chain("make wood pickaxe") == ["place crafting table", "make wood pickaxe"]
    old = {key: value for key, value in result.items() if not key.startswith("material")}
    path.write_text(json.dumps(old))
    with pytest.raises(ValueError, match="no material answers"):
        GoalChain.load(path, materials=True)
