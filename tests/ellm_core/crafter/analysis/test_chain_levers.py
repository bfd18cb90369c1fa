"""Goal-source levers recomputed from a label file: other rankings of the same scores, no LM call."""

import json

import numpy as np

from ellm_core.cache import SQLiteCache
from ellm_core.crafter.analysis.chain_levers import format_table, lever_table, main, rankings
from ellm_core.goals.labels import summarize_labels, write_labels
from tests.ellm_core.test_labels import ACTIONS, ranked

SITUATIONS = [("You see a tree. You have 2 wood.", ACTIONS), ("You see water.", ACTIONS),
              ("You see a cow and a tree. You have 1 wood.", ACTIONS), ("You see nothing.", ACTIONS)]


def labels(tmp_path):
    path = tmp_path / "labels.jsonl"
    write_labels(path, ranked(SQLiteCache(":memory:")), SITUATIONS, "scripted-lm", "data:prompts.yaml")
    return path


def test_the_full_calibration_is_the_files_own_ranking_and_raw_adds_the_prior_back(tmp_path):
    path = labels(tmp_path)
    candidates, observations, variants = rankings(path)
    assert len(observations) == 4 and candidates == ["collect wood", "drink water", "eat cow"]
    firsts = [candidates[i] for i in variants["calibrated x 1"].argmax(axis=1)]
    share = summarize_labels(path)["first_goal_share"]
    assert {goal: firsts.count(goal) / 4 for goal in set(firsts)} == share
    prior = variants["raw"] - variants["calibrated x 1"]
    assert np.allclose(prior, prior[0])  # one content-free prior per action set
    assert np.allclose(variants["calibrated x 0.5"], variants["raw"] - 0.5 * prior)


def test_the_lever_table_counts_the_goal_among_the_top_k_where_the_item_is_held(tmp_path, capsys):
    result = lever_table(labels(tmp_path), "collect wood", having="wood")
    assert result["situations"] == 4 and result["situations_having"] == 2
    today = next(row for row in result["rows"] if row["ranking"] == "calibrated x 1"
                 and not row["usual_achievements_removed"])
    assert today["top1_having"] == 1.0  # both wood situations see a tree
    assert today["top1_all"] == 0.75  # and "You see nothing." ties, which the first candidate wins
    assert all(row["top4_all"] == 1.0 for row in result["rows"])  # 3 candidates: always among the top 4
    assert "| calibrated x 1 | no | 100.0 % (75.0 %) |" in format_table(result)
    assert main([str(labels(tmp_path)), "--goal", "collect wood", "--out", str(tmp_path / "out" / "levers")]) == 0
    assert json.loads((tmp_path / "out" / "levers.json").read_text()) == result


def test_the_lms_prerequisites_add_rows_that_put_each_goals_prerequisite_first(tmp_path):
    from ellm_core.goals.chain import GoalChain

    chain = GoalChain({"drink water": "eat cow"})
    result = lever_table(labels(tmp_path), "eat cow", having=None, chain=chain)
    rows = {(row["ranking"], row["usual_achievements_removed"]): row for row in result["rows"]}
    plain = rows[("calibrated x 1", False)]
    chained = rows[("calibrated x 1 + the LM's prerequisites", False)]
    first = rows[("calibrated x 1 + the LM's prerequisites, first goal only", False)]
    assert plain["top1_all"] == 0.0  # the cow situation also holds wood, which wins its tie
    assert chained["top1_all"] == first["top1_all"] == 0.25  # the water situation meets it before its own goal
    assert rows[("calibrated x 1 + the LM's prerequisites", True)]["top1_all"] == 0.0  # eat cow: usually achieved
