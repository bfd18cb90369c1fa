"""Goal-quality scoring with a scripted LM on fixed situations, and reproducible Crafter situations."""

from __future__ import annotations

import pytest

from ellm_core.crafter.situations import collect_situations
from ellm_core.goals import OpenEndedGoals
from ellm_core.goals.quality import (
    RandomGoals,
    Situation,
    SituationOracle,
    evaluate_generator,
    load_situations,
    save_situations,
    score_suggestions,
)
from ellm_core.lm.base import ScriptedLM
from ellm_core.text.embed import HashingEmbedder

SITUATIONS = [
    Situation("You see a tree nearby to the west.", ["do"], ["collect wood", "drink water"]),
    Situation("You see water nearby to the south.", ["do"], ["drink water"]),
    Situation("You see a cow nearby to the north.", ["do"], ["eat cow", "collect wood"]),
]


def test_scores_of_a_scripted_lm_are_as_expected():
    # tree -> one right, one wrong; water -> right; cow -> garbage that parses into nothing
    lm = ScriptedLM({"tree": "- collect wood\n- fly to the moon", "water": "- drink water", "cow": "1. 1. 1."})
    result = evaluate_generator(OpenEndedGoals(lm), SITUATIONS, HashingEmbedder(256), threshold=0.99)
    assert result["precision"] == pytest.approx(2 / 3)            # 2 of 3 suggestions achievable
    assert result["recall"] == pytest.approx((1 / 2 + 1 + 0) / 3)  # per situation, averaged
    assert result["empty_share"] == pytest.approx(1 / 3)
    assert result["examples"][0]["suggested"] == ["collect wood", "fly to the moon"]


def test_in_view_scores_use_the_stricter_truth():
    strict = [Situation(s.observation, s.actions, s.achievable, in_view=s.achievable[:1]) for s in SITUATIONS]
    result = evaluate_generator(SituationOracle(strict), strict, HashingEmbedder(256), threshold=0.99)
    assert result["precision"] == 1.0
    assert result["precision_in_view"] == pytest.approx(3 / 5)  # 5 oracle goals, 3 of them in view
    assert result["recall_in_view"] == 1.0


def test_bounds():
    embedder = HashingEmbedder(256)
    oracle = evaluate_generator(SituationOracle(SITUATIONS), SITUATIONS, embedder, threshold=0.99)
    assert oracle["precision"] == oracle["recall"] == 1.0
    never = score_suggestions(SITUATIONS, [["build a rocket"]] * 3, embedder, threshold=0.99)
    assert never["precision"] == never["recall"] == 0.0
    picks = RandomGoals(["a", "b", "c"], k=2, seed=0).suggest("x", [])
    assert len(set(picks)) == 2


def test_crafter_situations_are_reproducible_and_diverse(tmp_path):
    first = collect_situations(20, seed=3, episodes=3, length=150)
    second = collect_situations(20, seed=3, episodes=3, length=150)
    assert [s.observation for s in first] == [s.observation for s in second]
    assert len({s.observation for s in first}) == len(first) == 20
    tags = {tag for s in first for tag in s.tags}
    assert {"early game", "has wood"} <= tags
    assert all(s.achievable and len(s.actions) == 17 for s in first)
    assert all(set(s.in_view) <= set(s.achievable) for s in first)
    path = save_situations(first, tmp_path / "s.jsonl")
    assert load_situations(path) == first


def test_cli_eval_records_the_variant_and_scores_the_saved_situations(tmp_path, capsys):
    import json

    from ellm_core.cli import main

    situations = save_situations([Situation(s.observation, s.actions, s.achievable, in_view=s.achievable[:1])
                                  for s in SITUATIONS], tmp_path / "situations.jsonl")
    common = ["goals", "eval", "--situations-file", str(situations), "--embedder", "hashing:64", "--cache", "none",
              "--lm-backend", "scripted"]
    assert main([*common, "--mode", "closed", "--calibrate", "--no-system", "--out", str(tmp_path / "c.json")]) == 0
    closed = json.loads((tmp_path / "c.json").read_text())
    assert closed["name"] == "scripted closed no-system calibrated" and closed["calibrate"] is True
    assert closed["system"] is False and closed["situations"] == 3
    assert closed["empty_share"] == 1.0  # the scripted P(yes) is 0.5 everywhere: calibrated, nothing stands out
    assert main([*common, "--generator", "oracle", "--out", str(tmp_path / "o.json")]) == 0
    oracle = json.loads((tmp_path / "o.json").read_text())
    assert oracle["precision"] == 1.0 and oracle["precision_in_view"] == pytest.approx(3 / 5)
    assert set(oracle["by_threshold"]) == {"0.5", "0.99"}  # the reward's default and the paper's threshold
    assert oracle["by_threshold"]["0.99"]["precision"] == 1.0  # exact texts pay at any threshold
    assert oracle["suggestions"] == [s.achievable for s in SITUATIONS]  # kept: the scores recompute without the LM
    assert "precision" in capsys.readouterr().out
    assert main([*common, "--generator", "random", "--threshold", "0.3", "--out", str(tmp_path / "r.json")]) == 0
    random = json.loads((tmp_path / "r.json").read_text())
    assert list(random["by_threshold"]) == ["0.3"] and random["threshold"] == 0.3


def test_new_situation_sets_stay_out_of_the_source_tree(tmp_path, monkeypatch):
    from ellm_core.crafter.analysis.goals_cli import situations_path
    from ellm_core.resources import data_dir

    committed = situations_path(1, 40)
    assert committed == data_dir().parent / "results" / "goal_quality" / "crafter_situations_seed1_n40.jsonl"
    assert committed.is_file()
    monkeypatch.setenv("ELLM_CACHE_DIR", str(tmp_path / "cache"))
    assert situations_path(7, 12) == tmp_path / "cache" / "situations" / "crafter_situations_seed7_n12.jsonl"
    assert situations_path(7, 12, out=str(tmp_path / "rows" / "x.json")) == tmp_path / "rows" / \
        "crafter_situations_seed7_n12.jsonl"


def test_cli_eval_of_a_distilled_runs_goal_model_gives_the_lms_answers_on_its_labels(tmp_path):
    import json

    from ellm_core.cli import main
    from ellm_core.run.checkpoint import save_checkpoint

    situations = save_situations(SITUATIONS, tmp_path / "situations.jsonl")
    common = ["goals", "eval", "--situations-file", str(situations), "--embedder", "hashing:64",
              "--lm-backend", "scripted"]
    cache = str(tmp_path / "cache.sqlite")
    assert main([*common, "--cache", cache, "--out", str(tmp_path / "lm.json")]) == 0  # the LM's answers, cached
    run = tmp_path / "run"  # a distilled run that labelled these situations
    save_checkpoint(run, 100, {"goal_source": {"labelled": [[s.observation, list(s.actions)] for s in SITUATIONS]}})
    distilled = [*common, "--generator", "distilled", "--labels-from", str(run), "--out", str(tmp_path / "d.json")]
    assert main([*distilled, "--cache", cache]) == 0
    lm, model = (json.loads((tmp_path / name).read_text()) for name in ("lm.json", "d.json"))
    assert model["suggestions"] == lm["suggestions"]  # labelled situations: the nearest is the situation itself
    assert model["name"] == f"scripted open distilled ({len(SITUATIONS)} labels)"
    assert main([*distilled, "--cache", str(tmp_path / "empty.sqlite")]) == 2  # no cached answer: one clear line


def test_cli_replay_rescores_a_rows_kept_suggestions(tmp_path):
    import json

    from ellm_core.cli import main

    situations = save_situations(SITUATIONS, tmp_path / "situations.jsonl")
    common = ["goals", "eval", "--situations-file", str(situations), "--embedder", "hashing:64", "--cache", "none"]
    assert main([*common, "--generator", "oracle", "--out", str(tmp_path / "o.json")]) == 0
    assert main([*common, "--generator", "replay", "--suggestions-from", str(tmp_path / "o.json"),
                 "--threshold", "0.5", "0.99", "--out", str(tmp_path / "r.json")]) == 0
    oracle, replayed = (json.loads((tmp_path / name).read_text()) for name in ("o.json", "r.json"))
    assert replayed["suggestions"] == oracle["suggestions"]
    assert replayed["by_threshold"] == oracle["by_threshold"]
    (tmp_path / "old.json").write_text(json.dumps({"name": "old"}))
    assert main([*common, "--generator", "replay", "--suggestions-from", str(tmp_path / "old.json")]) == 2
