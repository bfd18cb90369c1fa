"""Distilled goals: the LM's own answer where known, the nearest labelled situation's goals above the floor, none
below it; bursts, shutdown, worker errors, and a resume that keeps the labels."""

from __future__ import annotations

import csv
import dataclasses
import threading

import numpy as np
import pytest

from ellm_core.cache import SQLiteCache
from ellm_core.goals import OpenEndedGoals
from ellm_core.goals.background import BackgroundWorkerError
from ellm_core.goals.distilled import DistilledGoals, NearestLabels
from ellm_core.lm.base import CachedLM, ScriptedLM

ACTIONS = ["do", "sleep"]


class TableEmbedder:
    """Fixed vectors: texts with "tree" point one way, "water" another, anything else a third."""

    def encode(self, texts):
        def vector(text):
            v = np.array([("tree" in text) * 1.0, ("water" in text) * 1.0, 0.3 * ("north" in text), 0.05], np.float32)
            return v / np.linalg.norm(v)

        return np.stack([vector(text) for text in texts]) if texts else np.zeros((0, 4), np.float32)


def answers(text: str) -> str:
    return "- collect wood" if "tree" in text else "- drink water" if "water" in text else "- explore"


def test_nearest_labels_use_the_floor_and_only_compare_new_labels():
    model = NearestLabels(floor=0.9)
    embed = TableEmbedder().encode
    assert model.predict(["a tree"], embed(["a tree"])) == [None]  # nothing learned yet
    model.add(embed(["a tree"]), [["collect wood"]])
    assert model.predict(["a tree to the north"], embed(["a tree to the north"])) == [["collect wood"]]  # cos 0.96
    assert model.predict(["water"], embed(["water"])) == [None]  # cos 0.05 < floor
    model.add(embed(["water here"]), [["drink water"]])
    assert model.predict(["water"], embed(["water"])) == [["drink water"]]  # compared with the new label only
    assert len(model) == 2


def test_a_labelled_situation_gets_the_lms_answer_and_an_unlabelled_one_the_nearest_labels():
    lm = ScriptedLM(answers)
    goals = DistilledGoals(OpenEndedGoals(lm), TableEmbedder(), floor=0.9)
    try:
        assert goals.suggest_batch(["You see a tree.", "You see water."], [ACTIONS, ACTIONS]) == [[], []]  # queued
        goals.drain(timeout_s=10)
        assert goals.suggest_batch(["You see a tree.", "You see water."], [ACTIONS, ACTIONS]) == [
            ["collect wood"], ["drink water"]]  # the LM's own answers
        # never labelled: the nearest labelled situation's goals above the floor, none below it
        assert goals.suggest_batch(["You see a tree to the north.", "You see grass."], [ACTIONS, ACTIONS]) == [
            ["collect wood"], []]
        assert goals.answered_by == {"lm": 2, "model": 1, "none": 3}
        assert goals.shares()["labels"] == 2
        goals.drain(timeout_s=10)  # the worker meanwhile labelled both new situations
        assert goals.suggest("You see grass.", ACTIONS) == ["explore"]
    finally:
        goals.close()


def test_a_burst_is_answered_once_each_and_shutdown_is_clean():
    seen = []
    lock = threading.Lock()

    def answer(text):
        with lock:
            seen.append(text)
        return answers(text)

    goals = DistilledGoals(OpenEndedGoals(ScriptedLM(answer)), TableEmbedder(), floor=0.99, batch_size=4)
    burst = [f"You see a tree, step {i % 37}." for i in range(400)]
    for start in range(0, len(burst), 8):
        goals.suggest_batch(burst[start:start + 8], [ACTIONS] * 8)
    goals.drain(timeout_s=30)
    asked = [text.splitlines()[1] for text in seen]  # the observation line of each prompt the LM answered
    assert sorted(asked) == sorted(set(burst))  # none lost, none asked twice
    assert len(goals.model) == 37
    goals.close()
    assert not goals.background._worker.is_alive()


def test_a_worker_error_surfaces_at_the_next_call():
    def broken(text):
        raise RuntimeError("the LM server went away")

    goals = DistilledGoals(OpenEndedGoals(ScriptedLM(broken)), TableEmbedder())
    goals.suggest("You see a tree.", ACTIONS)
    with pytest.raises(BackgroundWorkerError, match="went away"):
        goals.drain(timeout_s=10)
    with pytest.raises(BackgroundWorkerError):
        goals.suggest("You see water.", ACTIONS)
    goals.close()


def test_a_resumed_source_reads_its_labels_from_the_lm_cache(tmp_path):
    cache = SQLiteCache(tmp_path / "cache.sqlite")
    first = DistilledGoals(OpenEndedGoals(CachedLM(ScriptedLM(answers), cache)), TableEmbedder())
    first.suggest_batch(["You see a tree.", "You see water."], [ACTIONS, ACTIONS])
    first.drain(timeout_s=10)
    state = first.state_dict()
    first.close()
    lm = ScriptedLM(lambda text: pytest.fail("a resumed run must not ask the LM again"))
    resumed = DistilledGoals(OpenEndedGoals(CachedLM(lm, cache)), TableEmbedder())
    resumed.load_state_dict(state)
    assert len(resumed.model) == 2 and resumed.answered_by == first.answered_by
    assert resumed.suggest("You see a tree to the north.", ACTIONS) == ["collect wood"]  # the goal model, at once
    resumed.close()


def test_a_distilled_training_run_logs_who_answered_and_resumes_with_its_labels(tmp_path):
    from ellm_core.run.config import TrainConfig, apply_preset, updated
    from ellm_core.run.train import train
    from ellm_core.text.embed import HashingEmbedder

    config = apply_preset(updated(TrainConfig(), reward="ellm", goal_source="distilled", distill_floor=0.5, steps=300,
                                  cache=str(tmp_path / "cache.sqlite"), out=str(tmp_path / "run"), tensorboard=False,
                                  eval_episodes=1, checkpoint_every=150, log_every=50, lm={"backend": "scripted"}),
                          "smoke")
    config = dataclasses.replace(config, steps=150)
    train(config, embedder=HashingEmbedder(64))
    summary = train(dataclasses.replace(config, steps=300, resume=True), embedder=HashingEmbedder(64))
    rows = list(csv.DictReader((tmp_path / "run" / "progress.csv").open()))
    shares = [float(rows[-1][f"goals_by_{who}"]) for who in ("lm", "model", "none")]
    assert sum(shares) == pytest.approx(1.0, abs=1e-3) and shares[0] > 0
    assert summary["labels"] >= 1 and summary["step"] == 300

    from ellm_core.run.checkpoint import run_labels  # the run's labels feed the quality measurement

    labelled = run_labels(tmp_path / "run")
    assert len(labelled) >= 1 and all(isinstance(actions, tuple) for _, actions in labelled)
    assert len(set(labelled)) == len(labelled)  # each situation labelled once
    with pytest.raises(ValueError, match="no checkpoint"):
        run_labels(tmp_path)


def test_the_quality_measurement_compares_both_goal_models_with_the_lms_answers(tmp_path):
    from ellm_core.crafter.analysis.distill_quality import format_markdown, measure
    from ellm_core.crafter.cli import crafter_train_defaults
    from ellm_core.run.config import updated
    from ellm_core.text.embed import HashingEmbedder

    def lm_answer(text):  # what the scripted LM says depends on what is in view
        observation = text.splitlines()[1]
        return "- drink water" if "water" in observation else "- collect wood" if "tree" in observation else "- explore"

    config = updated(crafter_train_defaults("demo"), reward="ellm", cache="none", distill_floor=0.8)
    result = measure(config, labels=[40, 120], heldout=30, thresholds=[0.5, 0.99],
                     generator=OpenEndedGoals(ScriptedLM(lm_answer)), embedder=HashingEmbedder(256))
    rows = {(row["model"], row["labels"]): row for row in result["rows"]}
    assert set(rows) == {("nearest", 40), ("classifier", 40), ("nearest", 120), ("classifier", 120),
                         ("the LM's most frequent answer", 120)}
    for row in rows.values():
        assert 0 <= row["coverage"] <= 1 and 0 <= row["precision@0.99"] <= 1 and row["heldout"] == 30
    assert rows["classifier", 40]["coverage"] == 1.0  # the classifier answers everything; the nearest only above floor
    assert "| nearest | 120 | 30 |" in format_markdown(result)


def test_the_quality_measurement_asks_the_lm_itself_under_crafters_distilled_default():
    from ellm_core.crafter.analysis.distill_quality import measure
    from ellm_core.crafter.cli import crafter_train_defaults
    from ellm_core.lm.base import LMConfig
    from ellm_core.run.config import updated
    from ellm_core.text.embed import HashingEmbedder

    config = updated(crafter_train_defaults("demo"), reward="ellm", cache="none",
                                 lm=LMConfig(backend="scripted"))
    assert config.goal.source == "distilled"
    result = measure(config, labels=[20], heldout=10, thresholds=[0.5], embedder=HashingEmbedder(64))
    assert {row["model"] for row in result["rows"]} >= {"nearest", "classifier"}
