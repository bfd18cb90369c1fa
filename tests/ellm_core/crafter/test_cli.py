"""``ellm crafter train`` end to end on the smoke preset: train -> stats.jsonl -> eval table."""

from __future__ import annotations

import json

import pytest

from ellm_core.cli import main
from ellm_core.crafter.score import read_stats


@pytest.mark.parametrize("reward, extra", [("oracle", []), ("novelty", []),
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
    assert "ellm/Crafter-v0" in config and "crafter/prompts.yaml" in config and "keep_extrinsic: false" in config
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
