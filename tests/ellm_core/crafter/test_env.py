"""The Crafter adapter: gymnasium API, captions from real crafter states, the oracle from crafter's rules."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from crafter import constants
from gymnasium.utils.env_checker import check_env

import ellm_core.crafter  # noqa: F401  (registers ellm/Crafter-v0)
from ellm_core.crafter.caption import SEMANTIC_NAMES, observation_caption, transition_caption
from ellm_core.crafter.env import CrafterEnv, achievable

ACTION = {name: index for index, name in enumerate(constants.actions)}


def test_check_env_and_registration():
    env = gym.make("ellm/Crafter-v0", length=50)
    check_env(env.unwrapped, skip_render_check=True)
    observation, info = env.reset(seed=3)
    assert observation.shape == (64, 64, 3) and observation.dtype == np.uint8
    assert {"observation_text", "valid_actions", "achievements", "inventory"} <= set(info)
    assert len(info["valid_actions"]) == 17 and "place crafting table" in info["valid_actions"]


def test_same_seed_same_world_and_text():
    first, second = CrafterEnv(length=50), CrafterEnv(length=50)
    a, info_a = first.reset(seed=7)
    b, info_b = second.reset(seed=7)
    assert np.array_equal(a, b) and info_a["observation_text"] == info_b["observation_text"]
    c, _ = first.reset(seed=8)
    assert not np.array_equal(a, c)


def test_truncation_at_length_and_episode_stats():
    env = CrafterEnv(length=5)
    env.reset(seed=0)
    for _ in range(5):
        _, _, terminated, truncated, info = env.step(ACTION["noop"])
        assert not terminated
    assert truncated and info["episode_stats"]["length"] == 5
    assert {f"achievement_{name}" for name in constants.achievements} <= set(info["episode_stats"])


def _face_tree(env: CrafterEnv) -> None:
    """Put a tree in front of the player (a real crafter world edit, as the player would find one)."""
    player = env._env._player
    target = (player.pos[0] + player.facing[0], player.pos[1] + player.facing[1])
    env._env._world[target] = "tree"


def test_collecting_wood_is_captioned_and_changes_the_oracle():
    env = CrafterEnv(length=100)
    _, info = env.reset(seed=1)
    assert "collect wood" in env.oracle_goals() and "place crafting table" not in env.oracle_goals()
    _face_tree(env)
    assert "You face a tree." in env.observation_text()
    caption = ""
    for _ in range(10):  # collecting wood takes one `do` on a tree
        _, _, _, _, info = env.step(ACTION["do"])
        caption = caption or info["caption"]
    assert caption == "collect wood"
    assert info["inventory"]["wood"] >= 1 and "You have" in info["observation_text"] and "wood" in info["observation_text"]
    assert "collect wood" not in env.oracle_goals()  # achieved this episode
    assert "make wood pickaxe" in env.oracle_goals()


def test_cow_in_view_appears_in_the_text():
    env = CrafterEnv(length=100)
    env.reset(seed=2)
    player = env._env._player
    cow_pos = (player.pos[0] + 2, player.pos[1])
    env._env._world[cow_pos] = "grass"
    from crafter import objects

    env._env._world.add(objects.Cow(env._env._world, np.array(cow_pos)))
    assert "a cow nearby to the east" in env.observation_text()


def test_observation_caption_from_a_semantic_map():
    ids = {name: index for index, name in SEMANTIC_NAMES.items()}
    semantic = np.full((20, 20), ids["grass"], dtype=np.uint8)
    semantic[10, 10] = ids["player"]
    semantic[8, 10] = ids["tree"]      # 2 west
    semantic[13, 7] = ids["water"]     # 3 east, 3 north
    semantic[10, 11] = ids["zombie"]   # in front (facing south)
    inventory = {"health": 9, "food": 2, "drink": 9, "energy": 9, "wood": 2, "sapling": 1}
    text = observation_caption(semantic, (10, 10), (0, 1), inventory, night=True)
    assert text == ("You see a zombie nearby to the south, a tree nearby to the west, water to the north-east. "
                    "You face a zombie. You have 1 sapling, 2 wood. You are hungry. It is dark.")


def test_transition_caption():
    assert transition_caption({"collect_wood": 1, "eat_cow": 0}, {"collect_wood": 2, "eat_cow": 0}) == "collect wood"
    assert transition_caption({"collect_wood": 1}, {"collect_wood": 1}) == ""
    assert transition_caption({}, {"place_table": 1}) == "place crafting table"


@pytest.mark.parametrize("inventory, unlocked, expected, absent", [
    ({}, set(), {"collect_wood", "collect_drink", "eat_cow", "wake_up"}, {"collect_stone", "place_table"}),
    ({"wood": 1}, {"collect_wood"}, {"make_wood_pickaxe", "make_wood_sword"}, {"collect_wood", "place_table"}),
    ({"wood": 2}, set(), {"place_table"}, {"place_furnace"}),
    ({"wood_pickaxe": 1}, set(), {"collect_stone", "collect_coal"}, {"collect_iron"}),
    ({"wood": 1, "coal": 1, "iron": 1}, set(), {"make_iron_pickaxe"}, {"eat_plant"}),
    ({}, {"place_plant"}, {"eat_plant"}, set()),
])
def test_oracle_follows_crafters_rules(inventory, unlocked, expected, absent):
    names = set(achievable(inventory, unlocked))
    assert expected <= names and not (absent & names)


def test_episodes_are_reproducible_step_by_step():
    """crafter keeps objects in sets (address order); the adapter makes their order deterministic."""
    texts = []
    for _ in range(2):
        env = CrafterEnv(length=300)
        env.reset(seed=11)
        rng = np.random.default_rng(0)
        run = []
        for action in rng.integers(0, 17, 300):
            _, _, terminated, truncated, info = env.step(int(action))
            run.append(info["observation_text"])
            if terminated or truncated:
                break
        texts.append(run)
    assert texts[0] == texts[1]


def test_in_view_truth_needs_the_target_in_view():
    from ellm_core.crafter.env import achievable_in_view

    assert "collect_wood" not in achievable_in_view({}, set(), visible=set())
    assert "collect_wood" in achievable_in_view({}, set(), visible={"tree"})
    assert "make_wood_pickaxe" not in achievable_in_view({"wood": 1}, set(), visible={"tree"})
    assert "make_wood_pickaxe" in achievable_in_view({"wood": 1}, set(), visible={"table"})
    assert "wake_up" not in achievable_in_view({"energy": 9}, set(), visible=set())
    assert "wake_up" in achievable_in_view({"energy": 2}, set(), visible=set())
    env = CrafterEnv(length=100)
    env.reset(seed=1)
    _face_tree(env)
    assert "collect wood" in env.goals_in_view()


def _play(pixels: bool, steps: int = 300, seed: int = 5):
    """Seeded random play; what each step said, and a frame every 25 steps."""
    env = CrafterEnv(length=400, pixels=pixels, render_mode="rgb_array")
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    said, frames, nights = [], [], 0
    for step in range(steps):
        action = ACTION["noop"] if rng.random() < 0.5 else int(rng.integers(17))  # idles often: lives into the night
        _, reward, terminated, truncated, info = env.step(action)
        nights += env._env._world.daylight < 0.5
        said.append((info["observation_text"], info["caption"], info["achievements"], info["inventory"], reward,
                     terminated, truncated))
        if step % 25 == 0:
            frames.append(env.render())
        if terminated or truncated:
            _, info = env.reset()
    return said, frames, nights


def test_the_text_fast_path_says_and_draws_what_the_image_path_does():
    with_pixels, frames, nights = _play(pixels=True)
    text_only, text_frames, _ = _play(pixels=False)
    assert nights > 20  # night noise draws from the world's generator: the hard case is covered
    assert text_only == with_pixels  # same worlds, captions, achievements, inventories, rewards, episode ends
    assert len(frames) == len(text_frames) == 12
    assert all(np.array_equal(a, b) for a, b in zip(frames, text_frames))  # render() draws the same frame
    blank, _ = CrafterEnv(pixels=False).reset(seed=0)
    assert blank.shape == (64, 64, 3) and not blank.any()
    check_env(CrafterEnv(length=20, pixels=False), skip_render_check=True)


def test_start_inventory_and_an_oracle_that_repeats_unlocked_achievements():
    from ellm_core.crafter.env import CrafterEnv

    env = CrafterEnv(length=50, pixels=False, start_inventory={"wood": 5})
    _, info = env.reset(seed=0)
    assert info["inventory"]["wood"] == 5 and "place crafting table" in env.oracle_goals()
    env._achievements["collect_wood"] = 1  # as if a wood had been collected this episode
    assert "collect wood" not in env.oracle_goals()
    repeats = CrafterEnv(length=50, pixels=False, oracle_repeats=True)
    repeats.reset(seed=0)
    repeats._achievements["collect_wood"] = 1
    assert "collect wood" in repeats.oracle_goals()  # the reward's --pay-limit decides how often it pays
    import pytest

    with pytest.raises(ValueError, match="unknown items \\['planks'\\]"):
        CrafterEnv(start_inventory={"planks": 1})
