"""One assembly: a config becomes envs, goal source and rollout; a run folder, old or new, becomes an agent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml

from ellm_core.config import save_config
from ellm_core.goals import DistilledGoals, OracleGoals
from ellm_core.run.assembly import assemble, load_agent, load_train_config, loop_threads
from ellm_core.run.cli import add_train_arguments, train_config_from_args
from ellm_core.run.config import TrainConfig, apply_preset, updated
from ellm_core.text.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]
#: committed run folders written before the goal fields were nested (flat config.yaml): Crafter and browsing
OLD_RUNS = ["results/crafter/100k/runs/ellm-distilled-seed0", "results/crafter/100k/runs/qwen-chain-one-gc-seed0",
            "results/crafter/100k/runs/oracle-paper-seed0", "results/recrl/browse-20k/runs/ellm-seed0"]


@pytest.mark.parametrize("run", OLD_RUNS)
def test_committed_run_folders_load_through_load_agent(run):
    folder = ROOT / run
    flat = yaml.safe_load((folder / "config.yaml").read_text())
    assert "goal" not in flat and "goal_source" in flat  # written before GoalConfig
    loaded = load_agent(folder)
    config = loaded.config
    assert config.goal.source == flat["goal_source"] and config.goal.mode == flat["goals"]
    assert config.goal.rank_k == flat["rank_k"] and config.goal_conditioned == flat["goal_conditioned"]
    assert loaded.weights.name == "qnet.pt"
    layers = [module for module in loaded.agent.q.net if hasattr(module, "weight")]
    assert layers[0].in_features == 384 * config.frame_stack * (2 if config.goal_conditioned else 1)  # MiniLM
    assert all(np.array_equal(a.detach(), b.detach()) for a, b in zip(loaded.agent.q.parameters(),
                                                                      loaded.agent.target.parameters()))


def test_a_new_config_saves_its_goal_fields_nested_and_loads_back(tmp_path):
    config = updated(TrainConfig(), goals="ranked", goal_source="distilled", rank_k=3, prerequisites="p.json",
                     materials=True, threshold=0.99, dqn={"hidden": 32})
    save_config(config, tmp_path)
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["goal"]["mode"] == "ranked" and saved["goal"]["source"] == "distilled" and "goals" not in saved
    assert load_train_config(tmp_path) == config
    with pytest.raises(FileNotFoundError, match="not a training run directory"):
        load_train_config(tmp_path / "nothing")


def test_the_goal_flags_keep_their_names():
    import argparse

    parser = argparse.ArgumentParser()
    add_train_arguments(parser, TrainConfig())
    args = parser.parse_args(["--goals", "ranked", "--goal-source", "distilled", "--rank-k", "4", "--lm-async",
                              "--active-goals", "1", "--threshold", "0.9"])
    config = train_config_from_args(args)
    assert (config.goal.mode, config.goal.source, config.goal.rank_k, config.goal.lm_async) == \
        ("ranked", "distilled", 4, True)
    assert config.goal.active_goals == 1 and config.threshold == 0.9 and config.lm.backend == "transformers"


def test_assemble_builds_the_parts_each_reward_needs(tmp_path):
    base = apply_preset(TrainConfig(embedder="hashing", cache="none", out=str(tmp_path)), "smoke")
    oracle = assemble(updated(base, reward="oracle"), embedder=HashingEmbedder(32))
    assert isinstance(oracle.rollout.goal_reward.generator, OracleGoals) and oracle.goal_source is None
    novelty = assemble(updated(base, reward="novelty"), embedder=HashingEmbedder(32))
    assert novelty.rollout.goal_reward is None and novelty.rollout.intrinsic is not None
    distilled = assemble(updated(base, reward="ellm", goal_source="distilled", lm={"backend": "scripted"}),
                         embedder=HashingEmbedder(32))
    assert isinstance(distilled.goal_source, DistilledGoals)
    distilled.goal_source.close()
    for parts in (oracle, novelty, distilled):
        parts.envs.close()


def test_a_background_lm_and_the_loop_split_the_cores(monkeypatch):
    """With the LM in the background the loop's embedder and learner take the cores its LM leaves; otherwise all."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # a 2-core sweep cell
    distilled = updated(TrainConfig(), reward="ellm", goal_source="distilled")
    assert loop_threads(distilled) == 1  # the LM left on "all cores" (0) gets half
    assert loop_threads(updated(distilled, goal_source="lm", lm_async=True)) == 1
    assert loop_threads(updated(distilled, goal_source="lm")) == 0  # synchronous: one at a time, all cores each
    assert loop_threads(updated(distilled, reward="novelty")) == 0
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    assert loop_threads(updated(distilled, lm={"threads": 2})) == 6
    assert loop_threads(updated(distilled, lm={"threads": 9})) == 1


def test_the_embedder_gets_the_loops_threads(monkeypatch):
    import ellm_core.text.embed as embed

    built = []
    monkeypatch.setattr(embed, "CTranslate2Embedder", lambda **kwargs: built.append(kwargs) or HashingEmbedder(8))
    embed.make_embedder("default", threads=1)
    embed.make_embedder("minilm-int8", threads=3)
    embed.make_embedder("default")
    assert [kwargs["threads"] for kwargs in built] == [1, 3, 0]


def test_load_agent_reads_a_fresh_run_and_says_what_is_missing(tmp_path):
    import ellm_core.envs  # noqa: F401  (registers ellm/TextChain-v0)
    from ellm_core.run.train import train

    config = apply_preset(TrainConfig(embedder="hashing", cache="none", tensorboard=False, reward="none",
                                      out=str(tmp_path / "run")), "smoke")
    train(dataclasses.replace(config, steps=200), embedder=HashingEmbedder())
    loaded = load_agent(tmp_path / "run")
    actions = gym.make("ellm/TextChain-v0").action_space.n
    assert loaded.agent.q.net[-1].out_features == actions and loaded.config.steps == 200
    (tmp_path / "empty").mkdir()
    save_config(config, tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="no network"):
        load_agent(tmp_path / "empty")
