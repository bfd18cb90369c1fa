"""``ellm crafter prewarm``: the cache it fills is the one a training run reads (same keys), and its report."""

from __future__ import annotations

import dataclasses
import json

import pytest

import ellm_core.run.assembly
from ellm_core.cache import SQLiteCache
from ellm_core.cli import main
from ellm_core.crafter.cli import crafter_train_defaults
from ellm_core.crafter.prewarm import play_situations, prewarm
from ellm_core.lm.base import CachedLM, ScriptedLM, last_user_message
from ellm_core.run.config import updated
from ellm_core.run.train import train


def test_play_collects_unique_situations_reproducibly():
    first = play_situations(300, seed=1, policy="scripted", length=100)
    assert first == play_situations(300, seed=1, policy="scripted", length=100)
    assert 10 < len(first) <= 300 and sum(first.values()) == 300
    assert all(len(actions) == 17 for _, actions in first)


def test_a_run_after_prewarm_hits_the_cache_on_every_situation_prewarm_saw(tmp_path, monkeypatch):
    made: list[CachedLM] = []

    def recording_lm(config, cache):  # the scripted LM behind the real cache, remembering what it computed
        inner = ScriptedLM(lambda text: "- collect wood" if "tree" in text else "- explore")
        made.append(CachedLM(inner, cache))
        return made[-1]

    monkeypatch.setattr(ellm_core.run.assembly, "make_language_model", recording_lm)
    config = updated(crafter_train_defaults("smoke"), reward="ellm", goal_source="lm", steps=400, seed=3,
                                 env_kwargs=json.dumps({"length": 100, "pixels": False}), embedder="hashing:64",
                                 cache=str(tmp_path / "cache.sqlite"), out=str(tmp_path / "run"), tensorboard=False,
                                 eval_episodes=1)
    report = prewarm(config, policy="random", check_steps=300, batch_size=16)
    seen = {obs for obs, _ in play_situations(400, seed=3, policy="random", length=100)}
    assert report["unique_situations"] == report["generated"] == len(seen)
    assert report["check_hit_rate_after"] > report["check_hit_rate_before"] == 0.0

    again = ellm_core.run.assembly.make_goal_source(config, SQLiteCache(config.cache))
    again.suggest_batch(sorted(seen), [list(actions) for _, actions in play_situations(400, 3, "random", 100)][:1]
                        * len(seen))
    assert made[-1].hits == len(seen) and made[-1].misses == 0  # same keys as training's generator

    train(config)
    run_lm = made[-1]
    computed = {last_user_message(chat).split("\n")[1] for chat in run_lm.lm.calls}
    assert run_lm.hits > 0 and not computed & seen  # nothing prewarm saw was asked of the LM again


def test_prewarm_command_prints_its_report(tmp_path, capsys):
    argv = ["crafter", "prewarm", "--steps", "150", "--length", "60", "--check-steps", "100", "--lm-backend",
            "scripted", "--cache", str(tmp_path / "c.sqlite"), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unique_situations"] == report["generated"] > 0 and report["check_situations"] > 0
    assert main([*argv[:-1]]) == 0  # a second time everything is cached already
    assert "0 situations" in capsys.readouterr().out


def test_a_distilled_run_with_the_imported_labels_asks_the_lm_about_none_of_them(tmp_path, monkeypatch):
    """Labels written by prewarm, imported into a fresh cache by the run itself (--labels): every labelled situation
    the run meets is answered from the cache, and the goal model knows all of them from the first step."""
    from ellm_core.goals.labels import read_labels

    made: list[CachedLM] = []

    def recording_lm(config, cache):
        inner = ScriptedLM(scores=lambda text, goal: 1.0 if goal.split()[-1] in text else 0.0)
        made.append(CachedLM(inner, cache))
        return made[-1]

    monkeypatch.setattr(ellm_core.run.assembly, "make_language_model", recording_lm)
    base = updated(crafter_train_defaults("smoke"), reward="ellm", goals="ranked", calibrate=True,
                               goal_source="lm", steps=400, seed=3, embedder="hashing:64", tensorboard=False,
                               env_kwargs=json.dumps({"length": 100, "pixels": False}), eval_episodes=1,
                               cache=str(tmp_path / "prewarm.sqlite"), out=str(tmp_path / "unused"))
    labels = tmp_path / "labels.jsonl.gz"
    report = prewarm(base, policy="random", check_steps=0, batch_size=16, labels_out=str(labels))
    _, lines = read_labels(labels)
    labelled = {row["observation"] for row in lines}
    assert len(labelled) == report["unique_situations"] > 10

    run = updated(base, goal_source="distilled", labels=str(labels), cache=str(tmp_path / "fresh.sqlite"),
                              out=str(tmp_path / "run"))
    summary = train(run)
    asked = {last_user_message(chat).split("\n")[1] for chat in made[-1].lm.calls}
    assert asked and not asked & labelled  # new situations went to the LM, labelled ones never
    assert summary["labels_preloaded"] == len(labelled) and summary["goals_by_lm"] > 0


@pytest.mark.real_model
def test_committed_agents_play_reproducibly_and_meet_their_own_situations():
    """``--policy agent``: a committed 100k run's network plays, ε-greedy, with its own embedder; the same seed gives
    the same situations, and two agents meet more than one."""
    from ellm_core.crafter.prewarm import agent_situations
    from ellm_core.resources import data_dir

    runs = data_dir().parent / "results" / "crafter" / "100k" / "runs"
    first = agent_situations([runs / "health-seed0"], 120, seed=4, length=60)
    assert first == agent_situations([runs / "health-seed0"], 120, seed=4, length=60)
    assert sum(first.values()) == 120 and 5 < len(first) < 120
    assert all(len(actions) == 17 for _, actions in first)
    both = agent_situations([runs / "health-seed0", runs / "ellm-seed1"], 120, seed=4, length=60)
    assert sum(both.values()) == 240 and set(first) <= set(both)
    with pytest.raises(FileNotFoundError, match="not a training run"):
        agent_situations([runs], 10)


def test_another_lm_labels_the_same_situations_from_a_label_file(tmp_path, monkeypatch):
    """``--policy labels --situations-from FILE``: the same coverage with another LM (the ranked-labelled row)."""
    from ellm_core.goals.labels import read_labels

    def scripted(prefer):
        def make(config, cache):
            return CachedLM(ScriptedLM(scores=lambda text, goal: 1.0 if prefer in goal else 0.0), cache)
        return make

    base = updated(crafter_train_defaults("smoke"), reward="ellm", goals="ranked", calibrate=False,
                               goal_source="lm", steps=200, seed=5, embedder="hashing:32", tensorboard=False,
                               env_kwargs=json.dumps({"length": 50, "pixels": False}),
                               cache=str(tmp_path / "a.sqlite"))
    monkeypatch.setattr(ellm_core.run.assembly, "make_language_model", scripted("wood"))
    prewarm(base, policy="random", check_steps=0, labels_out=str(tmp_path / "a.jsonl"))
    monkeypatch.setattr(ellm_core.run.assembly, "make_language_model", scripted("water"))
    report = prewarm(dataclasses.replace(base, cache=str(tmp_path / "b.sqlite")), policy="labels", check_steps=0,
                     situations_from=str(tmp_path / "a.jsonl"), labels_out=str(tmp_path / "b.jsonl"))
    first, second = (list(read_labels(tmp_path / name)[1]) for name in ("a.jsonl", "b.jsonl"))
    assert [row["observation"] for row in first] == [row["observation"] for row in second]
    assert report["generated"] == len(first) > 5
    assert {row["goals"][0] for row in first} == {"collect wood"}
    assert {row["goals"][0] for row in second} == {"drink water"}
    assert [row.get("visits") for row in first] == [row.get("visits") for row in second]
