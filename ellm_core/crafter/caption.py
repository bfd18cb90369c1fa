"""Crafter captioners: the observation as text, and what a transition achieved.

Both are plain functions of plain data (the semantic map, the player's position and facing, the inventory,
the achievement counts), so they are tested on real crafter states without an environment. The observation
text is deliberately coarse (eight compass directions, "nearby" within two cells) so that the same situation
gives the same text and LLM/embedding caches hit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from crafter import constants

from ellm_core.resources import load_yaml

#: Semantic map ids (crafter.engine.SemanticView): 0 is outside the world, then the materials, then objects.
SEMANTIC_NAMES: dict[int, str] = {
    **{index + 1: name for index, name in enumerate(constants.materials)},
    **{len(constants.materials) + 1 + index: name
       for index, name in enumerate(("player", "cow", "zombie", "skeleton", "arrow", "plant"))},
}
#: What the observation text mentions (grass, sand and path are the floor; the player and arrows are left out).
MENTIONED = ("water", "stone", "tree", "lava", "coal", "iron", "diamond", "table", "furnace", "cow", "zombie",
             "skeleton", "plant")
LOCAL_VIEW = (9, 7)  # crafter's image shows 9 x 7 cells around the player (the rest is the inventory)
LOW_STAT = 3  # a vital at or below this is mentioned ("You are thirsty.")
_VITALS = {"health": "hurt", "food": "hungry", "drink": "thirsty", "energy": "tired"}
_ARTICLE = {name: ("an " if name[0] in "aeiou" else "a ") for name in MENTIONED}
_MASS = {"water", "stone", "lava", "coal", "iron"}  # "You see water", not "a water"
_ITEM_ORDER = {name: index for index, name in enumerate(constants.items)}  # inventory in crafter's order


def crafter_text() -> dict[str, dict[str, str]]:
    """``data/crafter/goals.yaml``: achievement -> goal text, and action -> action text."""
    return load_yaml("crafter/goals.yaml")


def _direction(dx: int, dy: int) -> str:
    """Compass direction of an offset (x grows to the east, y to the south, as in crafter's map)."""
    vertical = "north" if dy < 0 else "south" if dy > 0 else ""
    horizontal = "west" if dx < 0 else "east" if dx > 0 else ""
    if vertical and horizontal and max(abs(dx), abs(dy)) > 2 * min(abs(dx), abs(dy)):
        return vertical if abs(dy) > abs(dx) else horizontal  # mostly along one axis
    return f"{vertical}-{horizontal}" if vertical and horizontal else vertical or horizontal


def _thing(name: str) -> str:
    return name if name in _MASS else _ARTICLE[name] + name


def visible_things(semantic: np.ndarray, player_pos: tuple[int, int] | np.ndarray) -> dict[str, tuple[int, int, int]]:
    """The :data:`MENTIONED` things in the local view: name -> (distance, dx, dy) of the nearest one."""
    x, y = int(player_pos[0]), int(player_pos[1])
    half_w, half_h = LOCAL_VIEW[0] // 2, LOCAL_VIEW[1] // 2
    nearest: dict[str, tuple[int, int, int]] = {}
    for dx in range(-half_w, half_w + 1):
        for dy in range(-half_h, half_h + 1):
            cx, cy = x + dx, y + dy
            if (dx, dy) == (0, 0) or not (0 <= cx < semantic.shape[0] and 0 <= cy < semantic.shape[1]):
                continue
            name = SEMANTIC_NAMES.get(int(semantic[cx, cy]))
            if name in MENTIONED:
                distance = abs(dx) + abs(dy)
                if name not in nearest or distance < nearest[name][0]:
                    nearest[name] = (distance, dx, dy)
    return nearest


def observation_caption(semantic: np.ndarray, player_pos: tuple[int, int] | np.ndarray, facing: tuple[int, int],
                        inventory: Mapping[str, int], night: bool = False, sleeping: bool = False) -> str:
    """The local view, what the player faces, the inventory and low vitals as a few short sentences.

    Example: "You see a tree nearby to the west, water to the north-east. You face grass. You have 2 wood.
    You are thirsty."
    """
    x, y = int(player_pos[0]), int(player_pos[1])
    nearest = visible_things(semantic, player_pos)
    seen = []
    for name in sorted(nearest, key=lambda n: (nearest[n][0], MENTIONED.index(n))):
        distance, dx, dy = nearest[name]
        where = "nearby to the " if distance <= 2 else "to the "
        seen.append(f"{_thing(name)} {where}{_direction(dx, dy)}")
    sentences = [f"You see {', '.join(seen)}." if seen else "You see only grass around you."]
    fx, fy = x + int(facing[0]), y + int(facing[1])
    inside = 0 <= fx < semantic.shape[0] and 0 <= fy < semantic.shape[1]
    front = SEMANTIC_NAMES.get(int(semantic[fx, fy]), "the edge of the world") if inside else "the edge of the world"
    sentences.append(f"You face {_thing(front) if front in MENTIONED else front}.")
    items = [f"{inventory[name]} {name.replace('_', ' ')}"
             for name in sorted(inventory, key=lambda n: _ITEM_ORDER.get(n, len(_ITEM_ORDER)))
             if name not in _VITALS and inventory[name] > 0]
    sentences.append(f"You have {', '.join(items)}." if items else "You have nothing.")
    low = [word for vital, word in _VITALS.items() if inventory.get(vital, 9) <= LOW_STAT]
    if low:
        sentences.append(f"You are {' and '.join(low)}.")
    if sleeping:
        sentences.append("You are asleep.")
    elif night:
        sentences.append("It is dark.")
    return " ".join(sentences)


def transition_caption(before: Mapping[str, int], after: Mapping[str, int],
                       goal_text: Mapping[str, str] | None = None) -> str:
    """What the step achieved, from the change in achievement counts ("collect wood"); "" if nothing."""
    goal_text = goal_text or crafter_text()["achievements"]
    done = [name for name in sorted(after) if after[name] > before.get(name, 0)]
    return ", ".join(goal_text.get(name, name.replace("_", " ")) for name in done)
