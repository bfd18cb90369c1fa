import numpy as np
import pytest

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
    from ellm_core.goals.prompts import PromptConfig, open_ended_prompt

    config = PromptConfig.load()
    full = open_ended_prompt("You see a tree.", ["do"], config)
    assert full[0]["role"] == "system" and len(full) == 2 + 2 * len(config.few_shot)
    assert len(open_ended_prompt("You see a tree.", ["do"], config.without_few_shot())) == 2
    bare = open_ended_prompt("You see a tree.", ["do"], config.without_system())
    assert bare[0]["role"] == "user" and len(bare) == 1 + 2 * len(config.few_shot)


def test_ranked_goals_take_the_top_k_candidates_by_calibrated_log_probability():
    from ellm_core.goals import RANK_CONTENT_FREE, RankedGoals

    def scores(text, candidate):  # "eat cow" is likely everywhere; "drink water" only near water
        prior = {" eat cow": -1.0, " drink water": -4.0, " collect wood": -3.0}[candidate]
        return prior + (2.5 if "water" in text and "water" in candidate else 0.0)

    lm = ScriptedLM(scores=scores)
    candidates = ["eat cow", "drink water", "collect wood"]
    raw = RankedGoals(lm, candidates, k=2, calibrate=False)
    assert raw.suggest("You see water.", ["do"]) == ["eat cow", "drink water"]  # -1 > -1.5 > -3
    calibrated = RankedGoals(lm, candidates, k=1, calibrate=True)
    assert calibrated.suggest_batch(["You see water.", "You see grass."], [["do"], ["do"]]) == [
        ["drink water"], ["eat cow"]]  # near water drink rises by 2.5 over its prior; elsewhere ties keep order
    assert RANK_CONTENT_FREE in "".join(str(call) for call in lm.calls)  # the baseline was asked for once
    assert calibrated.suggest_batch([], []) == []
    with pytest.raises(ValueError, match="scores continuations"):
        RankedGoals(object(), candidates)
    with pytest.raises(ValueError, match="k >= 1"):
        RankedGoals(lm, candidates, k=0)


def test_cached_lm_caches_continuation_scores(tmp_path):
    from ellm_core.cache import SQLiteCache
    from ellm_core.lm.base import CachedLM

    calls = []
    lm = CachedLM(ScriptedLM(scores=lambda text, c: calls.append(c) or float(len(c))), SQLiteCache(tmp_path / "c.sqlite"))
    first = lm.score_continuations(["a", "b"], [" x", " yy"], "-")
    assert first.tolist() == [[2.0, 3.0], [2.0, 3.0]] and len(calls) == 4
    assert lm.score_continuations(["b"], [" x", " yy"], "-").tolist() == [[2.0, 3.0]] and len(calls) == 4
    lm.score_continuations(["b"], [" x"], "-")  # another candidate list is another question
    assert len(calls) == 5
