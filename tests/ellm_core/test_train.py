"""The training loop on TextChain with fakes: it learns, ELLM helps on a sparse chain, runs resume exactly."""

import csv
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from ellm_core.goals import OpenEndedGoals
from ellm_core.lm.base import ScriptedLM
from ellm_core.run.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from ellm_core.run.config import REWARDS, TrainConfig, apply_preset, updated
from ellm_core.run.train import train
from ellm_core.text.embed import HashingEmbedder


def scripted_goals() -> OpenEndedGoals:
    """What a sensible LM would suggest in TextChain, from the observation text alone."""

    def answer(text: str) -> str:
        goals = [goal for thing, goal in (("a tree", "- collect wood"), ("a lake", "- drink water"),
                                          ("chest", "- open the chest")) if thing in text]
        return "\n".join(goals) or "- explore the rooms"

    return OpenEndedGoals(ScriptedLM(answer))


def config(tmp_path, name: str, **overrides) -> TrainConfig:
    base = apply_preset(TrainConfig(embedder="hashing", cache="none", tensorboard=False, out=str(tmp_path / name)),
                        "smoke")
    return updated(base, **overrides)


def test_dqn_solves_the_short_chain(tmp_path):
    cfg = config(tmp_path, "solve", reward="none", env_kwargs='{"length": 4}', steps=3000, eval_episodes=5,
                 dqn={"eps_decay_steps": 1500})
    summary = train(cfg, embedder=HashingEmbedder())
    assert summary["final_eval"]["extrinsic_return_mean"] == 1.0
    assert summary["final_eval"]["length_mean"] <= 6  # optimal: right, do, right, right, do


def test_ellm_reward_unlocks_more_achievements_than_none_on_a_sparse_chain(tmp_path):
    unlocked = {}
    for reward in ("none", "ellm"):
        results = []
        for seed in (0, 1):
            cfg = config(tmp_path, f"{reward}{seed}", reward=reward, seed=seed, env_kwargs='{"length": 8}',
                         steps=3000, eval_episodes=5, threshold=0.8, dqn={"eps_decay_steps": 1500})
            results.append(train(cfg, goal_generator=scripted_goals(), embedder=HashingEmbedder())["final_eval"])
        unlocked[reward] = sum(r["achievements_unlocked_mean"] for r in results) / len(results)
    assert unlocked["ellm"] >= unlocked["none"] + 0.5, unlocked


@pytest.mark.parametrize("reward", REWARDS)
def test_every_reward_runs_and_writes_the_run_directory(tmp_path, reward):
    cfg = config(tmp_path, reward, reward=reward, steps=400, num_envs=2, goal_conditioned=True)
    summary = train(cfg, goal_generator=scripted_goals(), embedder=HashingEmbedder())
    run = tmp_path / reward
    for name in ("config.yaml", "progress.csv", "episodes.csv", "eval.csv", "summary.json", "curves.png"):
        assert (run / name).exists(), name
    assert summary["step"] == 400 and summary["episodes"] >= 2
    assert json.loads((run / "summary.json").read_text())["reward"] == reward
    assert (run / "goals.csv").exists() == (reward in ("ellm", "oracle"))  # the goal tally of goal rewards


def test_an_ellm_run_tallies_its_goals_in_goals_csv(tmp_path):
    cfg = config(tmp_path, "goals", reward="ellm", steps=400, threshold=0.8)
    summary = train(cfg, goal_generator=scripted_goals(), embedder=HashingEmbedder())
    rows = list(csv.DictReader((tmp_path / "goals" / "goals.csv").open()))
    counts = {row["goal"]: (int(row["active_steps"]), int(row["rewarded"])) for row in rows}
    assert set(counts) <= {"collect wood", "drink water", "open the chest", "explore the rooms"}
    assert 0 < sum(active for active, _ in counts.values()) <= 400 * len(counts)  # at most each goal every step
    assert [int(row["active_steps"]) for row in rows] == sorted((int(row["active_steps"]) for row in rows), reverse=True)
    rewarded = sum(paid for _, paid in counts.values())
    episodes = list(csv.DictReader((tmp_path / "goals" / "episodes.csv").open()))
    # finished episodes' achieved goals, plus any of the unfinished last one
    assert rewarded >= sum(int(row["achieved_goals"]) for row in episodes) > 0 and summary["step"] == 400


def parameters(run_dir) -> dict:
    return load_checkpoint(latest_checkpoint(run_dir))["agent"]["q"]


@pytest.mark.parametrize("reward", ["ellm", "rnd"])
def test_resume_equals_a_straight_run(tmp_path, reward):
    kwargs = {"reward": reward, "steps": 600, "num_envs": 2, "checkpoint_every": 10_000, "goal_conditioned": True}
    train(config(tmp_path, "straight", **kwargs), goal_generator=scripted_goals(), embedder=HashingEmbedder())
    half = config(tmp_path, "split", **{**kwargs, "steps": 300})
    train(half, goal_generator=scripted_goals(), embedder=HashingEmbedder())
    resumed = dataclasses.replace(half, steps=600, resume=True)
    train(resumed, goal_generator=scripted_goals(), embedder=HashingEmbedder())
    straight, split = parameters(tmp_path / "straight"), parameters(tmp_path / "split")
    assert all(torch.equal(straight[key], split[key]) for key in straight)
    if reward == "ellm":  # the goal tally survives the resume
        assert (tmp_path / "split" / "goals.csv").read_text() == (tmp_path / "straight" / "goals.csv").read_text()


def test_fresh_run_refuses_to_overwrite_an_existing_one(tmp_path):
    cfg = config(tmp_path, "run", reward="none", steps=100)
    train(cfg, embedder=HashingEmbedder())
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg, embedder=HashingEmbedder())


def test_sigkilled_training_resumes_from_an_intact_checkpoint(tmp_path):
    run = tmp_path / "killed"
    command = [sys.executable, "-m", "ellm_core.cli", "train", "--preset", "smoke", "--reward", "novelty",
               "--embedder", "hashing", "--cache", "none", "--no-tensorboard", "--steps", "4000",
               "--checkpoint-every", "100", "--out", str(run)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while latest_checkpoint(run) is None or load_checkpoint(latest_checkpoint(run))["step"] < 300:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = load_checkpoint(latest_checkpoint(run))["step"]
    assert 300 <= killed_at < 4000
    result = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((run / "summary.json").read_text())["step"] == 4000
    steps = [int(line.split(",")[0]) for line in (run / "progress.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # rows after the kill were dropped


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_finishes_the_step_checkpoints_and_the_resumed_run_equals_a_straight_one(tmp_path, signum):
    """SIGTERM (Slurm, Kubernetes, Ray) and SIGINT: one line, exit 128 + signal, a checkpoint at the step reached
    (no periodic one before it), and a resumed run that ends where an uninterrupted one does."""
    def command(name, steps=1500):
        return [sys.executable, "-m", "ellm_core.cli", "train", "--preset", "smoke", "--reward", "novelty",
                "--embedder", "hashing", "--cache", "none", "--no-tensorboard", "--steps", str(steps),
                "--checkpoint-every", "100000", "--log-every", "50", "--out", str(tmp_path / name)]

    process = subprocess.Popen(command("stopped"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    progress, deadline = tmp_path / "stopped" / "progress.csv", time.monotonic() + 120
    while not (progress.is_file() and len(progress.read_text().splitlines()) > 3):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signum)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 128 + signum
    line = stderr.strip().splitlines()[-1]
    assert f"stopped by {signal.Signals(signum).name} at step" in line and "--resume" in line
    assert "Traceback" not in stderr
    stopped_at = load_checkpoint(latest_checkpoint(tmp_path / "stopped"))["step"]
    assert 150 <= stopped_at < 1500 and f"at step {stopped_at};" in line
    resumed = subprocess.run([*command("stopped"), "--resume"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    straight = subprocess.run(command("straight"), capture_output=True, text=True, timeout=300)
    assert straight.returncode == 0, straight.stderr[-2000:]
    stopped, uninterrupted = parameters(tmp_path / "stopped"), parameters(tmp_path / "straight")
    assert all(torch.equal(stopped[key], uninterrupted[key]) for key in stopped)  # nothing lost, nothing redone


def _die_while_writing(run_dir: str) -> None:
    save_checkpoint(run_dir, 1, {"step": 1, "weights": torch.ones(3)})
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed after writing, before the rename
    save_checkpoint(run_dir, 2, {"step": 2, "weights": torch.zeros(3)})


def test_kill_in_the_middle_of_writing_a_checkpoint_keeps_the_previous_one(tmp_path):
    import multiprocessing

    process = multiprocessing.get_context("fork").Process(target=_die_while_writing, args=(str(tmp_path),))
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    assert list((tmp_path / "checkpoints").glob("*.tmp"))  # the half-written file is there...
    state = load_checkpoint(latest_checkpoint(tmp_path))  # ...but the latest complete checkpoint is step 1
    assert state["step"] == 1 and torch.equal(state["weights"], torch.ones(3))
    save_checkpoint(tmp_path, 3, {"step": 3})
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


def test_async_vector_envs_train_too(tmp_path):
    cfg = config(tmp_path, "async", reward="oracle", steps=200, num_envs=2, async_envs=True)
    summary = train(cfg, embedder=HashingEmbedder())
    assert summary["step"] == 200 and summary["episodes"] >= 2


def test_init_from_a_pretrained_run_loads_its_q_network_only(tmp_path):
    pretrained = config(tmp_path, "pretrain", reward="none", env_kwargs='{"length": 4}', steps=3000, eval_episodes=5,
                        dqn={"eps_decay_steps": 1500})
    assert train(pretrained, embedder=HashingEmbedder())["final_eval"]["extrinsic_return_mean"] == 1.0
    # no updates in the fine-tuning run (learning starts after it ends): only the loaded network can solve it
    short = {"reward": "none", "env_kwargs": '{"length": 4}', "steps": 200, "eval_episodes": 5,
             "dqn": {"learning_starts": 10_000, "eps_start": 0.05, "eps_end": 0.05}}
    finetuned = train(config(tmp_path, "finetune", init_from=pretrained.out, **short), embedder=HashingEmbedder())
    scratch = train(config(tmp_path, "scratch", **short), embedder=HashingEmbedder())
    assert finetuned["final_eval"]["extrinsic_return_mean"] == 1.0
    assert scratch["final_eval"]["extrinsic_return_mean"] < 1.0
    weights = load_checkpoint(latest_checkpoint(tmp_path / "finetune"))["agent"]
    source = load_checkpoint(latest_checkpoint(tmp_path / "pretrain"))["agent"]
    assert all(torch.equal(weights["q"][k], source["q"][k]) and torch.equal(weights["target"][k], source["q"][k])
               for k in source["q"])
    assert weights["updates"] == 0  # the step count and optimiser are the new run's
    assert load_checkpoint(latest_checkpoint(tmp_path / "finetune"))["step"] == 200
    # the final network alone (qnet.pt, what a results folder keeps) is enough to start from
    network = load_checkpoint(tmp_path / "pretrain" / "qnet.pt")
    assert all(torch.equal(network[k], source["q"][k]) for k in source["q"])
    shutil.rmtree(tmp_path / "pretrain" / "checkpoints")
    again = train(config(tmp_path, "again", init_from=pretrained.out, **short), embedder=HashingEmbedder())
    assert again["final_eval"]["extrinsic_return_mean"] == 1.0


def test_init_from_errors_name_the_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="--init-from .*missing: not a training run directory"):
        train(config(tmp_path, "a", reward="none", steps=50, init_from=str(tmp_path / "missing")),
              embedder=HashingEmbedder())
    train(config(tmp_path, "small", reward="none", steps=100), embedder=HashingEmbedder())
    with pytest.raises(ValueError, match="does not fit"):
        train(config(tmp_path, "big", reward="none", steps=50, init_from=str(tmp_path / "small"),
                     dqn={"hidden": 32}), embedder=HashingEmbedder())


class RecordingEmbedder(HashingEmbedder):
    """Hashing vectors, with every text it was asked to compute recorded."""

    def __init__(self):
        super().__init__(64)
        self.identity, self.seen = "recording", []

    def encode(self, texts):
        self.seen.extend(texts)
        return super().encode(texts)


def test_a_resumed_run_embeds_none_of_its_earlier_captions_again(tmp_path):
    import ellm_core.crafter  # noqa: F401  (registers ellm/Crafter-v0)

    kwargs = {"env_id": "ellm/Crafter-v0", "env_kwargs": '{"length": 100, "pixels": false}', "reward": "none",
              "num_envs": 2, "checkpoint_every": 200, "cache": str(tmp_path / "cache.sqlite")}
    before, after = RecordingEmbedder(), RecordingEmbedder()
    first = config(tmp_path, "run", steps=400, **kwargs)
    train(first, embedder=before)
    summary = train(dataclasses.replace(first, steps=800, resume=True), embedder=after)
    assert len(before.seen) > 50 and len(set(before.seen)) == len(before.seen)  # each caption computed once
    assert not set(before.seen) & set(after.seen)  # the resumed run read them back from the run's cache
    assert summary["embedding_hit_rate"] > 0.5
