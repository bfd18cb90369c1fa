"""The vectorised world generation gives crafter's worlds bit for bit, and the env with it the same episodes."""

from __future__ import annotations

import crafter
import numpy as np
import pytest
from crafter import worldgen as crafter_worldgen

from ellm_core.crafter.env import CrafterEnv
from ellm_core.crafter.worldgen import generate_world


def world_snapshot(env: crafter.Env) -> tuple:
    world = env._world
    objects = sorted((type(obj).__name__, tuple(int(v) for v in obj.pos)) for obj in world.objects)
    return world._mat_map.copy(), [world._mat_names[i] for i in sorted(world._mat_names)], objects, \
        world.random.get_state()[1].copy()


def worlds(generator, seed: int, count: int, monkeypatch) -> list[tuple]:
    monkeypatch.setattr(crafter.env.worldgen, "generate_world", generator)
    env = crafter.Env(seed=seed)
    snapshots = []
    for _ in range(count):
        env.reset()
        snapshots.append(world_snapshot(env))
    return snapshots


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_the_same_worlds_as_crafters_generator(seed, monkeypatch):
    original = crafter_worldgen.generate_world
    theirs = worlds(original, seed, 4, monkeypatch)
    ours = worlds(generate_world, seed, 4, monkeypatch)
    for (their_map, their_names, their_objects, their_rng), (map_, names, objects, rng) in zip(theirs, ours):
        assert names == their_names
        np.testing.assert_array_equal(map_, their_map)
        assert objects == their_objects and len(objects) > 10  # cows, zombies, skeletons at the same cells
        np.testing.assert_array_equal(rng, their_rng)  # the same random draws: the episode goes on the same
    # and the worlds differ from one episode to the next (the comparison is not of empty maps)
    assert not np.array_equal(theirs[0][0], theirs[1][0])


def test_env_plays_the_same_episode_with_either_generator():
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 17, 300)
    texts = {}
    for fast in (True, False):
        env = CrafterEnv(length=150, pixels=False, fast_worldgen=fast)
        _, info = env.reset(seed=3)
        seen = [info["observation_text"]]
        for action in actions:
            _, reward, terminated, truncated, info = env.step(int(action))
            seen.append((info["observation_text"], info.get("caption"), reward))
            if terminated or truncated:
                _, info = env.reset()
                seen.append(info["observation_text"])
        texts[fast] = seen
    assert texts[True] == texts[False]
