"""``ellm crafter train`` end to end on the smoke preset: train -> stats.jsonl -> eval table."""

from __future__ import annotations

import json

import pytest

from ellm_core.cli import main
from ellm_core.crafter.score import read_stats


@pytest.mark.parametrize("reward, extra", [("oracle", ["--threshold", "0.99"]), ("novelty", []),
                                           ("ellm", ["--lm-backend", "scripted", "--goals", "closed"])])
def test_crafter_train_smoke(tmp_path, capsys, reward, extra):
    out = tmp_path / reward
    argv = ["crafter", "train", "--preset", "smoke", "--reward", reward, "--steps", "300", "--length", "60",
            "--embedder", "hashing:64", "--cache", "none", "--no-tensorboard", "--eval-episodes", "1",
            "--out", str(out), *extra]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Crafter score" in printed and "collect_wood" in printed
    episodes = read_stats(out)
    assert len(episodes) >= 300 // 60  # every training episode is recorded, at most 60 steps each
    assert all(episode["length"] <= 60 for episode in episodes)
    assert sum(episode["length"] for episode in episodes) <= 300
    config = (out / "config.yaml").read_text()
    assert "ellm/Crafter-v0" in config and "prompts: data:crafter/prompts.yaml" in config
    assert "keep_extrinsic: false" in config
    summary = json.loads((out / "summary.json").read_text())
    if reward == "oracle":  # at 0.99 only the oracle's exact texts pay, each for its own caption: no false pay
        assert summary["false_pay_share"] == 0.0 and (out / "pays.csv").is_file()
        assert {row.split(",")[-1] for row in (out / "pays.csv").read_text().splitlines()[1:]} == {"False"}
    evaluation = json.loads((out / "crafter_eval.json").read_text())
    assert evaluation["episodes"] == len(episodes)
    assert (out / "crafter_success.png").stat().st_size > 0


def test_crafter_resume_drops_episodes_after_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["crafter", "train", "--preset", "smoke", "--reward", "none", "--length", "40", "--embedder",
            "hashing:32", "--cache", "none", "--no-tensorboard", "--eval-episodes", "1", "--out", str(out),
            "--checkpoint-every", "100"]
    assert main([*base, "--steps", "200"]) == 0
    assert main([*base, "--steps", "300", "--resume"]) == 0
    steps = [episode["step"] for episode in read_stats(out)]
    assert steps == sorted(steps) and steps[-1] <= 300


def test_the_paper_profile_sets_the_official_values_and_explicit_flags_win(tmp_path):
    from ellm_core.cli import build_parser
    from ellm_core.crafter.cli import crafter_train_defaults
    from ellm_core.run.cli import train_config_from_args

    paper = crafter_train_defaults("demo", "paper")
    assert (paper.threshold, paper.filter_achieved, paper.keep_extrinsic, paper.lm.temperature) == (0.99, True, False, 0.1)
    assert paper.env_id == "ellm/CrafterPaper-v0" and paper.dqn.hidden == 256  # the preset still applies
    crafter_game = crafter_train_defaults("demo", "paper-crafter")
    assert (crafter_game.env_id, crafter_game.keep_extrinsic, crafter_game.threshold) == ("ellm/Crafter-v0", True, 0.99)
    assert json.loads(crafter_game.env_kwargs) == {"reward": "health"}
    default = crafter_train_defaults("demo")
    assert (default.threshold, default.keep_extrinsic, default.lm.temperature) == (0.5, False, 0.0)

    def resolved(*flags):
        argv = ["crafter", "train", "--profile", "paper", *flags]
        return train_config_from_args(build_parser(crafter_defaults=crafter_train_defaults(None, "paper")).parse_args(argv))

    assert resolved().threshold == 0.99 and resolved("--threshold", "0.8").threshold == 0.8
    with pytest.raises(ValueError, match="unknown profile"):
        crafter_train_defaults(None, "nope")


def test_ranked_goals_without_a_named_backend_rank_on_one_that_scores():
    """The default backend (ctranslate2) only generates; ``--goals ranked`` takes transformers, and keeps a backend
    that scores."""
    from ellm_core.cli import build_parser
    from ellm_core.crafter.cli import crafter_train_defaults
    from ellm_core.run.cli import train_config_from_args

    def lm(*flags):
        argv = ["crafter", "train", *flags]
        return train_config_from_args(build_parser(crafter_defaults=crafter_train_defaults(None)).parse_args(argv)).lm

    assert lm().backend == "ctranslate2" and lm("--goals", "ranked").backend == "transformers"
    assert lm("--goals", "ranked", "--lm-backend", "scripted").backend == "scripted"
    assert lm("--goals", "ranked").compute_type == "auto"


def test_the_health_reward_is_crafters_reward_without_the_unlock_bonus():
    import numpy as np

    from ellm_core.crafter.env import CrafterEnv

    task, health = CrafterEnv(length=300, pixels=False), CrafterEnv(length=300, pixels=False, reward="health")
    rng = np.random.default_rng(0)
    task.reset(seed=3), health.reset(seed=3)
    unlocks = 0
    for _ in range(300):
        action = int(rng.integers(17))
        _, r_task, done, truncated, info = task.step(action)
        _, r_health, *_ = health.step(action)
        unlocked = r_task - r_health
        assert unlocked in (0.0, 1.0)
        unlocks += unlocked
        if done or truncated:
            break
    assert unlocks == sum(count > 0 for count in info["achievements"].values()) > 0
    with pytest.raises(ValueError, match="reward must be"):
        CrafterEnv(reward="sparse")
