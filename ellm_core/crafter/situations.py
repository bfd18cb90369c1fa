"""Held-out Crafter situations for measuring goal suggestions (``ellm goals eval --env crafter``).

Situations come from real, seeded Crafter play by a simple scripted policy (it chops trees it faces, drinks
when thirsty, places a table with two wood, crafts next to a table, and otherwise wanders), so that the set
covers the early game, carrying wood, water in view, night, a table in view, cows and low vitals. Each
situation stores the observation text, the valid actions, the oracle's achievable goals (crafter's rules) and
the stricter goals achievable now with what is in view.
"""

from __future__ import annotations

import numpy as np
from crafter import constants

from ellm_core.crafter.env import CrafterEnv
from ellm_core.goals.quality import Situation

ACTION = {name: index for index, name in enumerate(constants.actions)}
TAGS = ("early game", "has wood", "water in view", "night", "table in view", "cow in view", "low vitals",
        "has pickaxe")


def scripted_action(text: str, inventory: dict[str, int], rng: np.random.Generator) -> int:
    """A crude but purposeful policy reading the observation text (and the inventory)."""
    if rng.random() < 0.25:
        return int(rng.integers(1, 5))  # wander
    if "You face a tree" in text or ("You face water" in text and inventory.get("drink", 9) < 7) \
            or "You face a cow" in text or "You face stone" in text:
        return ACTION["do"]
    if "table nearby" in text and inventory.get("wood", 0) >= 1:
        return ACTION["make_wood_sword" if inventory.get("wood_pickaxe") else "make_wood_pickaxe"]
    if inventory.get("wood", 0) >= 2 and "table" not in text:
        return ACTION["place_table"]
    if inventory.get("energy", 9) < 3:
        return ACTION["sleep"]
    return int(rng.integers(1, 5)) if rng.random() < 0.8 else ACTION["do"]


def situation_tags(text: str, inventory: dict[str, int], step: int) -> list[str]:
    """Which kinds of situation this is (used to keep the set diverse)."""
    tags = []
    if step < 30:
        tags.append("early game")
    if inventory.get("wood", 0) > 0:
        tags.append("has wood")
    for word, tag in (("water", "water in view"), ("It is dark", "night"), ("table", "table in view"),
                      ("cow", "cow in view"), ("You are ", "low vitals")):
        if word in text:
            tags.append(tag)
    if inventory.get("wood_pickaxe", 0) or inventory.get("stone_pickaxe", 0):
        tags.append("has pickaxe")
    return tags


#: What crafter's ``do`` becomes in the paper's game, by what the player faces (else "chop grass").
_PAPER_DO = (("You face a tree", "chop tree"), ("You face water", "drink water"), ("You face a cow", "attack cow"),
             ("You face stone", "mine stone"))


def paper_action(crafter_action: int, text: str, names: list[str]) -> int:
    """The paper game's action for one of crafter's: its verb–noun name ("place_table" -> "place crafting table";
    ``do`` -> the verb and noun of what is faced)."""
    name = constants.actions[crafter_action]
    if name == "do":
        name = next((action for face, action in _PAPER_DO if face in text), "chop grass")
    name = {"noop": "do nothing", "place_table": "place crafting table", "place_sapling": "place plant"}.get(name, name)
    return names.index(name.replace("_", " "))


def collect_situations(count: int, seed: int = 0, episodes: int = 8, length: int = 400,
                       every: int = 3, game: str = "crafter", goal_vocabulary: str = "actions") -> list[Situation]:
    """``count`` distinct situations from ``episodes`` seeded episodes, balanced over :data:`TAGS`. ``game="paper"``
    plays the paper's game (the same policy, its actions named there) and keeps its oracle's goals in
    ``goal_vocabulary``."""
    rng = np.random.default_rng(seed)
    if game == "paper":
        from ellm_core.crafter.paper import PaperCrafterEnv

        env = PaperCrafterEnv(length=length, goal_vocabulary=goal_vocabulary)
    elif game == "crafter":
        env = CrafterEnv(length=length)
    else:
        raise ValueError(f"game must be 'crafter' or 'paper', got {game!r}")
    pool: dict[str, Situation] = {}
    for episode in range(episodes):
        _, info = env.reset(seed=seed * 1000 + episode)
        for step in range(length):
            text = info["observation_text"]
            if step % every == 0 and text not in pool:
                pool[text] = Situation(text, list(info["valid_actions"]), env.oracle_goals(),
                                       situation_tags(text, info["inventory"], step), env.goals_in_view())
            action = scripted_action(text, info["inventory"], rng)
            if game == "paper":
                action = paper_action(action, text, env.action_text)
            _, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
    return _balanced(list(pool.values()), count, rng)


def _balanced(pool: list[Situation], count: int, rng: np.random.Generator) -> list[Situation]:
    """Pick round-robin over tags (rarest first), then fill at random."""
    order = list(rng.permutation(len(pool)))
    chosen: list[int] = []
    by_tag = {tag: [i for i in order if tag in pool[i].tags] for tag in TAGS}
    for tag in sorted(TAGS, key=lambda t: len(by_tag[t])):
        for i in by_tag[tag][: max(1, count // (2 * len(TAGS)))]:
            if i not in chosen and len(chosen) < count:
                chosen.append(i)
    chosen += [i for i in order if i not in chosen][: count - len(chosen)]
    return [pool[i] for i in sorted(chosen)]
