import numpy as np

from ellm_core.goals import ClosedFormGoals, GoalGenerator, OpenEndedGoals, OracleGoals, suggest_batch
from ellm_core.llm import ScriptedLM


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
