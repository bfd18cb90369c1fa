"""TextChain: a row of rooms with a tree, a lake and a locked chest, described in text.

The agent moves left/right and uses ``do`` on what is in its room: at the tree it collects wood, at the lake
it drinks, at the chest it opens the chest *if it carries wood* (extrinsic reward 1, episode ends). The
extrinsic reward is sparse: a few achievements ("collect wood", "drink water", "open the chest") are the
natural goals, which makes it a minimal testbed for ELLM rewards and goal-conditioned DQN.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

ACTIONS = ("move left", "move right", "do")
ACHIEVEMENTS = ("collect_wood", "drink_water", "open_chest")


class TextChainEnv(gym.Env):
    """Rooms ``0 .. length-1``; the agent starts in room 0.

    Args:
        length: number of rooms (>= 4).
        tree_room, lake_room: where the tree and the lake are (lake default: the middle room); the chest is
            in the last room.

    Observation: one-hot room followed by a has-wood flag (float32). Info carries ``observation_text``,
    ``valid_actions``, ``achievements`` (this episode's count of each, as crafter reports them) and, after a
    step, ``caption``.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, length: int = 6, tree_room: int = 1, lake_room: int | None = None,
                 render_mode: str | None = None):
        lake_room = length // 2 if lake_room is None else lake_room
        if length < 4 or not (0 < tree_room < length - 1 and 0 < lake_room < length - 1):
            raise ValueError(f"need length >= 4 and tree/lake inside the chain; got {length}, {tree_room}, {lake_room}")
        self.length, self.render_mode = length, render_mode
        self.objects = {tree_room: "a tree", lake_room: "a lake", length - 1: "a locked chest"}
        self.observation_space = spaces.Box(0.0, 1.0, shape=(length + 1,), dtype=np.float32)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.room, self.wood, self.opened = 0, 0, False
        self.achievements = dict.fromkeys(ACHIEVEMENTS, 0)

    def _observation(self) -> np.ndarray:
        observation = np.zeros(self.length + 1, dtype=np.float32)
        observation[self.room] = 1.0
        observation[-1] = float(self.wood > 0)
        return observation

    def observation_text(self) -> str:
        """Caption of the current observation."""
        seen = self.objects.get(self.room, "nothing")
        inventory = f"You have {self.wood} wood." if self.wood else "You have nothing."
        return f"You are in room {self.room + 1} of {self.length}. You see {seen}. {inventory}"

    def oracle_goals(self) -> list[str]:
        """Ground-truth achievable goals (what an oracle would suggest)."""
        goals = ["collect wood", "drink water"]
        return [*goals, "open the chest"] if self.wood else goals

    def _info(self, caption: str | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {"observation_text": self.observation_text(), "valid_actions": list(ACTIONS),
                                "achievements": dict(self.achievements)}
        if caption is not None:
            info["caption"] = caption
        return info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start in room 0 with nothing."""
        super().reset(seed=seed)
        self.room, self.wood, self.opened = 0, 0, False
        self.achievements = dict.fromkeys(ACHIEVEMENTS, 0)
        return self._observation(), self._info()

    def step(self, action: int):
        """Move or interact; opening the chest gives reward 1 and ends the episode."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in {self.action_space}, got {action!r}")
        caption, reward, terminated = "", 0.0, False
        if ACTIONS[action] == "move left":
            self.room = max(0, self.room - 1)
        elif ACTIONS[action] == "move right":
            self.room = min(self.length - 1, self.room + 1)
        else:
            thing = self.objects.get(self.room)
            if thing == "a tree":
                self.wood, caption, achievement = self.wood + 1, "you collect wood", "collect_wood"
            elif thing == "a lake":
                caption, achievement = "you drink water", "drink_water"
            elif thing == "a locked chest" and self.wood:
                caption, reward, terminated, achievement = "you open the chest", 1.0, True, "open_chest"
            else:
                achievement = None
            if achievement:
                self.achievements[achievement] += 1
        return self._observation(), reward, terminated, False, self._info(caption)

    def get_state(self) -> dict[str, Any]:
        """Plain-data state (for exact resume of a training run)."""
        return {"room": self.room, "wood": self.wood, "opened": self.opened, "achievements": dict(self.achievements)}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        self.room, self.wood, self.opened = int(state["room"]), int(state["wood"]), bool(state["opened"])
        self.achievements = {name: int(count) for name, count in state["achievements"].items()}

    def render(self) -> str | None:
        """Text rendering in ``ansi`` mode."""
        if self.render_mode == "ansi":
            return self.observation_text()
        return None
