"""The paper's game (``ellm/CrafterPaper-v0``) pinned to the official text Crafter's behaviour.

The fixtures in ``tests/ellm_core/data/paper_game/`` were recorded from the official game (yuqingd/ellm
``text_crafter``, run outside the project by ``record.py`` there): per step the action, its success, the inventory,
the achievements, what the player faces and what the official ``SimpleOracle`` suggests next. Replaying the same
action ids in the same seeded worlds must give the same values at every step.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from crafter import constants
from gymnasium.utils.env_checker import check_env

import ellm_core.crafter  # noqa: F401  (registers the envs)
from ellm_core.crafter.paper import PaperCrafterEnv, action_names

FIXTURES = Path(__file__).parents[1] / "data" / "paper_game"
SEQUENCES = sorted(path.stem for path in FIXTURES.glob("*.json"))


def _facing(env: PaperCrafterEnv) -> str:
    player = env._env._player
    target = (player.pos[0] + player.facing[0], player.pos[1] + player.facing[1])
    material, obj = env._env._world[target]
    return type(obj).__name__.lower() if obj is not None else material


def test_the_fixtures_are_there():
    assert {"wood_table_pickaxe", "stone_without_pickaxe", "water_and_grass", "cow", "random_all"} <= set(SEQUENCES)


@pytest.mark.parametrize("name", SEQUENCES)
def test_replays_the_official_game_step_by_step(name):
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    env = PaperCrafterEnv(length=400, pixels=False)
    _, info = env.reset(seed=fixture["seed"])
    assert sorted(env.oracle_goals()) == fixture["start_oracle"]
    for index, want in enumerate(fixture["steps"]):
        _, _, terminated, truncated, info = env.step(want["action"])
        where = f"{name} step {index} ({want['name']})"
        assert info["action"] == want["name"], where
        assert (info["action_success"], info["eval_success"]) == (want["success"], want["eval_success"]), where
        assert info["inventory"] == want["inventory"], where
        assert {k: v for k, v in info["achievements"].items() if v} == want["achievements"], where
        assert _facing(env) == want["facing"], where
        assert sorted(env.oracle_goals()) == want["oracle"], where
        assert info["caption"] == (want["name"] if want["success"] else ""), where
        assert not (terminated or truncated)


def test_the_semantics_the_issue_names():
    steps = {name: json.loads((FIXTURES / f"{name}.json").read_text())["steps"] for name in SEQUENCES}
    chops = [s for s in steps["wood_table_pickaxe"] if s["name"] == "chop tree"]
    assert chops[0]["success"] and chops[0]["inventory"]["wood"] == 1 and chops[0]["facing"] == "grass"  # tree gone
    water = next(s for s in steps["water_and_grass"] if s["name"] == "chop tree")
    assert water["facing"] == "water" and not water["success"]
    mine = next(s for s in steps["stone_without_pickaxe"] if s["name"] == "mine stone")
    assert mine["success"] and not mine["eval_success"] and mine["inventory"]["stone"] == 0
    table = next(s for s in steps["wood_table_pickaxe"] if s["name"] == "place crafting table")
    assert table["eval_success"] and table["inventory"]["wood"] == 0 and table["achievements"]["place_table"] == 1


def test_one_wood_makes_a_table_here_and_not_in_crafters_game():
    paper = PaperCrafterEnv(length=50, pixels=False, start_inventory={"wood": 1})
    paper.reset(seed=0)
    _, _, _, _, info = paper.step(action_names().index("place crafting table"))
    assert info["achievements"]["place_table"] == 1 and info["inventory"]["wood"] == 0
    crafter_game = gym.make("ellm/Crafter-v0", length=50, pixels=False, start_inventory={"wood": 1}).unwrapped
    crafter_game.reset(seed=0)
    _, _, _, _, info = crafter_game.step(constants.actions.index("place_table"))
    assert info["achievements"]["place_table"] == 0 and info["inventory"]["wood"] == 1
    assert constants.place["table"]["uses"] == {"wood": 2}  # crafter's own rules are untouched


def test_registered_and_checked():
    env = gym.make("ellm/CrafterPaper-v0", length=20, pixels=False)
    assert env.action_space.n == 139
    check_env(env.unwrapped)
    check_env(PaperCrafterEnv(length=20, pixels=False, goal_vocabulary="achievements"))
    names = action_names()
    assert names[:6] == ["do nothing", "move left", "move right", "move up", "move down", "sleep"]
    assert names[6] == "mine zombie" and names[6 + 3 * 19 + 3] == "chop tree" and names[-1] == "make iron sword"


def test_text_interface_and_the_official_reward():
    env = PaperCrafterEnv(length=400, pixels=False)
    _, info = env.reset(seed=0)
    assert "chop tree" in info["valid_actions"] and len(info["valid_actions"]) == 29  # the official good actions
    assert len(env.goal_candidates()) == 24 and env.goal_aliases()["eat cow"] == "attack cow"
    steps = json.loads((FIXTURES / "wood_table_pickaxe.json").read_text())["steps"]
    rewards, captions = [], []
    for step in steps:
        _, reward, _, _, info = env.step(step["action"])
        rewards.append(reward)
        captions.append(info["caption"])
    assert sum(rewards) == 6.0  # one per achievement unlocked first in the episode, no health part
    assert "chop tree" in captions and "place crafting table" in captions
    health = PaperCrafterEnv(length=400, pixels=False, reward="health")
    health.reset(seed=0)
    assert all(health.step(step["action"])[1] == 0.0 for step in steps)  # the official env sets it to 0


def test_achievement_vocabulary_names_the_same_events():
    env = PaperCrafterEnv(length=400, pixels=False, goal_vocabulary="achievements")
    env.reset(seed=0)
    steps = json.loads((FIXTURES / "wood_table_pickaxe.json").read_text())["steps"]
    captions = [env.step(step["action"])[4]["caption"] for step in steps]
    assert "collect wood" in captions and "place crafting table" in captions and "chop tree" not in captions
    assert set(env.goal_candidates()) == set(ellm_core.crafter.caption.crafter_text()["achievements"].values())


def test_same_worlds_as_crafters_game():
    paper, plain = PaperCrafterEnv(length=10, pixels=False), gym.make("ellm/Crafter-v0", length=10, pixels=False)
    for seed in (0, 7):
        _, a = paper.reset(seed=seed)
        _, b = plain.reset(seed=seed)
        assert a["observation_text"] == b["observation_text"]
        assert np.array_equal(paper._env._world._mat_map, plain.unwrapped._env._world._mat_map)
