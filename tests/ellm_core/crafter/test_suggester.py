"""The fine-tuned Crafter goal suggester: examples, exclusion of the evaluation set, a few real LoRA steps."""

from __future__ import annotations

import json

import pytest

from ellm_core.crafter.suggester import SuggesterConfig, target_text, train_suggester, training_situations
from ellm_core.goals.quality import Situation, save_situations


def test_target_lists_the_chosen_truth_capped():
    situation = Situation("You see a tree.", ["do"], ["collect wood", "place table", "eat cow", "drink water"],
                          in_view=["collect wood"])
    assert target_text(situation, "in_view", 3) == "- collect wood"
    assert target_text(situation, "oracle", 2) == "- collect wood\n- place table"
    assert target_text(Situation("x", ["do"], [], in_view=[]), "in_view", 3) == ""


def test_training_situations_never_contain_an_excluded_observation(tmp_path):
    config = SuggesterConfig(situations=30, eval_situations=6, play_seed=5, exclude=None)
    train, _ = training_situations(config)
    excluded = tmp_path / "eval.jsonl"
    save_situations(train[:10], excluded)
    again, held_out = training_situations(SuggesterConfig(situations=30, eval_situations=6, play_seed=5,
                                                          exclude=str(excluded)))
    assert not {s.observation for s in again} & {s.observation for s in train[:10]}
    assert all(target_text(s, "in_view", 1) for s in again + held_out)  # nothing-achievable situations skipped


@pytest.mark.real_model
def test_a_few_lora_steps_fit_the_held_out_goals_and_the_adapter_serves_goals(tmp_path):
    from ellm_core.goals import OpenEndedGoals
    from ellm_core.goals.prompts import PromptConfig
    from ellm_core.lm.hf import TransformersLM
    from ellm_core.resources import data_dir

    config = SuggesterConfig(out=str(tmp_path / "run"), situations=12, eval_situations=6, steps=3, batch_size=4,
                             max_length=200, checkpoint_every=0, device="cpu", exclude=None)
    metrics = train_suggester(config)
    assert metrics["eval_loss_tuned"] < metrics["eval_loss_base"]
    manifest = json.loads((tmp_path / "run" / "adapter" / "manifest.json").read_text())
    assert manifest["kind"] == "crafter goal suggester" and manifest["few_shot"] is False
    assert (tmp_path / "run" / "loss.png").stat().st_size > 0
    lm = TransformersLM(adapter=str(tmp_path / "run" / "adapter"), max_new_tokens=12)
    prompts = PromptConfig.load(data_dir() / "crafter" / "prompts.yaml").without_few_shot()
    answers = OpenEndedGoals(lm, prompts).suggest_batch(["You see a tree nearby to the west and grass."], [["do"]])
    assert len(answers) == 1 and all(isinstance(goal, str) and goal for goal in answers[0])
    # the CTranslate2 backend merges the adapter into its converted copy and answers the same
    import shutil

    from ellm_core.lm.ct2 import CTranslate2LM, converted_model

    adapter = str(tmp_path / "run" / "adapter")
    try:
        merged = CTranslate2LM(adapter=adapter, max_new_tokens=12)
        assert "adapter=" in merged.identity
        assert OpenEndedGoals(merged, prompts).suggest_batch(["You see a tree nearby to the west and grass."],
                                                              [["do"]]) == answers
    finally:
        shutil.rmtree(converted_model(adapter=adapter), ignore_errors=True)  # keep the user's cache small
