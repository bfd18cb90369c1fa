import numpy as np

from ellm_core.goals import ClosedFormGoals, GoalGenerator, OpenEndedGoals, OracleGoals, suggest_batch
from ellm_core.lm.base import ScriptedLM


def test_open_ended_parses_and_counts_empty_answers():
    lm = ScriptedLM({"tree": "Here you go:\n1. Chop the tree.\n2. chop the tree", "cow": "🙂" * 50})
    generator = OpenEndedGoals(lm, max_goals=3)
    assert isinstance(generator, GoalGenerator)
    assert generator.suggest("You see a tree.", ["do"]) == ["chop the tree"]
    assert generator.suggest("You see a cow.", ["do"]) == []
    assert (generator.queries, generator.empty_answers) == (2, 1)
    assert "What would you do?" in lm.calls[0][-1]["content"]


def test_open_ended_batch_is_one_lm_call_per_situation_in_order():
    lm = ScriptedLM(lambda text: "- drink water" if "water" in text else "- collect wood")
    goals = suggest_batch(OpenEndedGoals(lm), ["You see water.", "You see a tree."], [["do"], ["do"]])
    assert goals == [["drink water"], ["collect wood"]]


def test_closed_form_keeps_candidates_above_threshold_sorted_by_probability():
    lm = ScriptedLM(yes={"collect wood": 0.9, "drink water": 0.6, "defeat zombie": 0.1})
    generator = ClosedFormGoals(lm, ["defeat zombie", "drink water", "collect wood"], threshold=0.5)
    assert generator.suggest("You see a tree.", ["do"]) == ["collect wood", "drink water"]
    assert len(lm.calls) == 3 and all("Answer Yes or No" in call[-1]["content"] for call in lm.calls)


def test_closed_form_survives_nan_probabilities_and_callable_candidates():
    lm = ScriptedLM(yes=lambda text: float("nan") if "zombie" in text else 0.7)
    generator = ClosedFormGoals(lm, lambda obs: ["collect wood", "defeat zombie"], threshold=0.5)
    assert generator.suggest("obs", ["do"]) == ["collect wood"]
    assert ClosedFormGoals(lm, [], threshold=0.5).suggest("obs", ["do"]) == []


def test_oracle_goals_come_from_the_environment_function():
    state = {"goals": ["collect wood"]}
    oracle = OracleGoals(lambda: state["goals"])
    assert oracle.suggest("ignored", []) == ["collect wood"]
    state["goals"] = []
    assert oracle.suggest("ignored", []) == []
    assert np.array(suggest_batch(oracle, ["a", "b"], [[], []]), dtype=object).shape == (2, 0)


def test_calibration_removes_the_prior_of_a_model_that_always_says_yes():
    from ellm_core.goals import CONTENT_FREE, calibrated

    # The model says yes to "collect wood" everywhere (0.8 even about nothing); only a tree lifts it further.
    def yes(text: str) -> float:
        if "collect wood" in text:
            return 0.95 if "tree" in text else 0.8
        return 0.3 if "drink water" in text and "water" in text.split("Should")[0] else 0.1

    lm = ScriptedLM(yes=yes)
    plain = ClosedFormGoals(lm, ["collect wood", "drink water"], threshold=0.5)
    tuned = ClosedFormGoals(lm, ["collect wood", "drink water"], threshold=0.5, calibrate=True)
    assert plain.suggest("You see grass.", ["do"]) == ["collect wood"]  # the prior alone passes 0.5
    assert tuned.suggest("You see grass.", ["do"]) == []
    assert tuned.suggest("You see a tree.", ["do"]) == ["collect wood"]
    assert tuned.suggest("You see water.", ["do"]) == ["drink water"]  # 0.3 is well above its prior of 0.1
    content_free = [call for call in lm.calls if f"\n{CONTENT_FREE}\n" in call[-1]["content"]]
    assert len(content_free) == 2  # the prior is asked once per goal, then remembered
    assert calibrated(np.array([0.8]), np.array([0.8]))[0] == 0.5


def test_prompt_ablations_drop_few_shot_examples_or_system_message():
    from ellm_core.prompts import PromptConfig, open_ended_prompt

    config = PromptConfig.load()
    full = open_ended_prompt("You see a tree.", ["do"], config)
    assert full[0]["role"] == "system" and len(full) == 2 + 2 * len(config.few_shot)
    assert len(open_ended_prompt("You see a tree.", ["do"], config.without_few_shot())) == 2
    bare = open_ended_prompt("You see a tree.", ["do"], config.without_system())
    assert bare[0]["role"] == "user" and len(bare) == 1 + 2 * len(config.few_shot)
