"""A gymnasium adapter over ``crafter.Env`` that speaks the ELLM text interface.

``reset``/``step`` follow the gymnasium API (terminated on death, truncated at ``length``); ``info`` carries
``observation_text``, ``valid_actions``, ``caption`` (after a step), ``achievements``, ``inventory`` and, at
the end of an episode, ``episode_stats`` in the format of crafter's own ``StatsRecorder`` (one line of
``stats.jsonl``). ``oracle_goals()`` and ``goal_candidates()`` give the oracle and the closed-form candidates.
"""

from __future__ import annotations

import collections
from typing import Any

import crafter
import gymnasium as gym
import numpy as np
from crafter import constants
from gymnasium import spaces

from ellm_core.crafter.caption import (
    LOW_STAT,
    crafter_text,
    observation_caption,
    transition_caption,
    visible_things,
)
from ellm_core.crafter.worldgen import generate_world

#: crafter's item name for what each collect_* achievement takes from the world.
_COLLECTED_FROM = {"drink": "water", "sapling": "grass", "wood": "tree"}


def achievable(inventory: dict[str, int], unlocked: set[str]) -> list[str]:
    """Achievements not yet unlocked whose inventory prerequisites hold, by crafter's own rules (data.yaml).

    ``eat_plant`` needs a plant placed earlier (``place_plant`` unlocked); fights, ``eat_cow`` and ``wake_up``
    need nothing.
    """
    names = []
    for name in constants.achievements:
        if name in unlocked:
            continue
        kind, _, thing = name.partition("_")
        if kind == "collect":
            need = constants.collect[_COLLECTED_FROM.get(thing, thing)]["require"]
        elif kind == "place":
            need = constants.place[thing]["uses"]
        elif kind == "make":
            need = constants.make[thing]["uses"]
        else:
            need = {}
        if name == "eat_plant" and "place_plant" not in unlocked:
            continue
        if all(inventory.get(item, 0) >= amount for item, amount in need.items()):
            names.append(name)
    return names


#: What must be in view for an achievement to be achievable *now* (beyond its inventory prerequisites).
_NEEDS_IN_VIEW = {"collect_wood": ("tree",), "collect_drink": ("water",), "collect_stone": ("stone",),
                  "collect_coal": ("coal",), "collect_iron": ("iron",), "collect_diamond": ("diamond",),
                  "eat_cow": ("cow",), "defeat_zombie": ("zombie",), "defeat_skeleton": ("skeleton",),
                  "eat_plant": ("plant",), "make_wood_pickaxe": ("table",), "make_stone_pickaxe": ("table",),
                  "make_wood_sword": ("table",), "make_stone_sword": ("table",),
                  "make_iron_pickaxe": ("table", "furnace"), "make_iron_sword": ("table", "furnace")}


def achievable_in_view(inventory: dict[str, int], unlocked: set[str], visible: set[str],
                       sleeping: bool = False) -> list[str]:
    """The stricter, situation-aware subset of :func:`achievable`: what it needs is also in view (a tree for
    wood, a table for crafting, ...), and ``wake_up`` only when tired or asleep."""
    names = []
    for name in achievable(inventory, unlocked):
        if name == "wake_up" and not (sleeping or inventory.get("energy", 9) <= LOW_STAT):
            continue
        if all(thing in visible for thing in _NEEDS_IN_VIEW.get(name, ())):
            names.append(name)
    return names


class _InsertionOrderedSet(dict):
    """A set that iterates in insertion order (crafter keeps each chunk's objects in a plain ``set``)."""

    def add(self, item: Any) -> None:
        self[item] = None

    def remove(self, item: Any) -> None:
        del self[item]


def _deterministic_chunks(world: Any) -> None:
    """Make crafter's object bookkeeping iterate in a reproducible order.

    crafter stores each chunk's objects in a ``set``, whose order follows memory addresses; when it despawns
    "a random cow" it indexes into that order, so the same seed gave different episodes in different
    processes. Replacing the sets with insertion-ordered ones after every ``World.reset`` fixes that.
    """
    original_reset = world.reset

    def reset(seed: int | None = None) -> None:
        original_reset(seed=seed)
        world._chunks = collections.defaultdict(_InsertionOrderedSet)

    world.reset = reset


class TextCrafter(crafter.Env):
    """``crafter.Env`` that can skip drawing its per-step image (``pixels=False``), with the same world evolution.

    Drawing at night adds noise drawn from the world's random generator, which also decides spawns and
    despawns. The text path draws the same random numbers without drawing the image, so the same seed and
    actions give the same worlds, texts and achievements as the image path. :meth:`frame` still draws the current
    image (for videos), with the noise of this step, and leaves the generator as it was. With ``fast_worldgen``
    a new world comes from :func:`ellm_core.crafter.worldgen.generate_world` (the same worlds, ~4x faster).
    """

    #: The class of the player a new world gets (the paper's game plays its own, :mod:`ellm_core.crafter.paper`).
    player_class: type = crafter.objects.Player

    def __init__(self, pixels: bool = True, fast_worldgen: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pixels, self.fast_worldgen = pixels, fast_worldgen
        self._blank = np.zeros((*self._size, 3), np.uint8)
        self._noise_state: tuple | None = None
        self._last_frame = self._blank

    def reset(self) -> np.ndarray:
        """``crafter.Env.reset`` (crafter 1.8), with the faster world generation when ``fast_worldgen``."""
        if not self.fast_worldgen:
            if self.player_class is not crafter.objects.Player:
                raise ValueError("fast_worldgen=False builds crafter's own player; this game needs fast_worldgen")
            return super().reset()
        center = (self._world.area[0] // 2, self._world.area[1] // 2)
        self._episode += 1
        self._step = 0
        self._world.reset(seed=hash((self._seed, self._episode)) % (2 ** 31 - 1))
        self._update_time()
        self._player = self.player_class(self._world, center)
        self._last_health = self._player.health
        self._world.add(self._player)
        self._unlocked = set()
        generate_world(self._world, self._player)
        return self._obs()

    def _obs(self) -> np.ndarray:
        if self.pixels:
            self._last_frame = self.render()
            return self._last_frame
        self._noise_state = None
        if self._world.daylight < 0.5:  # what engine.LocalView._noise would draw for this frame
            random = self._world.random
            self._noise_state = random.get_state()
            unit = self._size // self._view
            random.uniform(32, 127, tuple(self._local_view._grid * unit))
        return np.zeros_like(self._blank)  # a new array each time, as gymnasium asks

    def frame(self) -> np.ndarray:
        """The current image, as the image path returned it at this step (the world's generator is left as is)."""
        if self.pixels:
            return self._last_frame
        if self._noise_state is None:
            return self.render()
        random = self._world.random
        now = random.get_state()
        random.set_state(self._noise_state)
        try:
            return self.render()
        finally:
            random.set_state(now)


class CrafterEnv(gym.Env):
    """Crafter with text observations in ``info``; the observation itself is crafter's RGB image.

    Args:
        length: episode step limit (crafter's default 10000; the paper's configuration used 400).
        size: image size (crafter's default 64 x 64).
        area: world size.
        render_mode: ``"rgb_array"`` to get frames from :meth:`render`.
        reward: ``"task"``: crafter's reward (+1 for each achievement unlocked first in the episode, health change
            / 10); ``"health"``: its health part alone, which the official ELLM pretraining keeps beside the
            intrinsic reward (``--profile paper``). ``stats.jsonl`` always records crafter's full reward.
        pixels: draw the image at every step. With ``False`` (the text fast path, about 1.6 times faster) the
            observation is a blank frame of the same shape; texts, achievements and worlds are unchanged, and
            :meth:`render` still draws the real frame. ``ellm crafter train`` turns it off: no agent here reads
            pixels.
        fast_worldgen: generate worlds with :mod:`ellm_core.crafter.worldgen` (the same worlds, ~4x faster than
            crafter's generator); ``False`` runs crafter's own.
        start_inventory: items the player holds at the start of every episode, e.g. ``{"wood": 5}`` (the
            crafting-chain probe: a table and a wood pickaxe are two actions away); crafter's usual start without.
        oracle_repeats: :meth:`oracle_goals` keeps achievements unlocked earlier in the episode while their
            prerequisites hold ("collect wood" after the first wood), leaving the reward's ``--pay-limit`` to decide
            how often each pays; by default the oracle names only achievements not unlocked yet.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, length: int = 10_000, size: int = 64, area: int = 64, render_mode: str | None = None,
                 pixels: bool = True, reward: str = "task", fast_worldgen: bool = True,
                 start_inventory: dict[str, int] | None = None, oracle_repeats: bool = False):
        if reward not in ("task", "health"):
            raise ValueError(f"reward must be 'task' or 'health', got {reward!r}")
        unknown = sorted(set(start_inventory or {}) - set(constants.items))
        if unknown:
            raise ValueError(f"start_inventory: unknown items {unknown}; crafter's are {', '.join(constants.items)}")
        self.start_inventory = {name: int(amount) for name, amount in (start_inventory or {}).items()}
        self.oracle_repeats = oracle_repeats
        self.reward = reward
        self._env = TextCrafter(pixels=pixels, fast_worldgen=fast_worldgen, area=(area, area), size=(size, size),
                                length=length, reward=True, seed=0)
        _deterministic_chunks(self._env._world)
        self.length, self.render_mode, self.pixels = length, render_mode, pixels
        self.observation_space = spaces.Box(0, 255, (size, size, 3), dtype=np.uint8)
        self.action_space = spaces.Discrete(len(constants.actions))
        text = crafter_text()
        self.goal_text: dict[str, str] = text["achievements"]
        self.action_text: list[str] = [text["actions"][name] for name in constants.actions]
        self._achievements: dict[str, int] = dict.fromkeys(constants.achievements, 0)
        self._episode_reward = 0.0

    # --- text interface -------------------------------------------------------------------------
    def observation_text(self, semantic: np.ndarray | None = None) -> str:
        """Caption of the current observation (see :func:`observation_caption`); ``semantic`` is the world's
        semantic map when the caller already has it (crafter's step info does)."""
        player = self._env._player
        semantic = self._env._sem_view() if semantic is None else semantic
        return observation_caption(semantic, player.pos, player.facing, player.inventory,
                                   night=self._env._world.daylight < 0.3, sleeping=player.sleeping)

    def _unlocked(self) -> set[str]:
        return {name for name, count in self._achievements.items() if count > 0}

    def oracle_goals(self) -> list[str]:
        """Text of the achievements that are achievable now and not yet unlocked this episode."""
        unlocked = set() if self.oracle_repeats else self._unlocked()
        return [self.goal_text[name] for name in achievable(self._env._player.inventory, unlocked)]

    def goals_in_view(self) -> list[str]:
        """Text of the achievements achievable now with what is in view (see :func:`achievable_in_view`)."""
        player = self._env._player
        visible = set(visible_things(self._env._sem_view(), player.pos))
        names = achievable_in_view(player.inventory, self._unlocked(), visible, player.sleeping)
        return [self.goal_text[name] for name in names]

    def goal_candidates(self) -> list[str]:
        """All 22 achievements as text: the closed-form candidates."""
        return [self.goal_text[name] for name in constants.achievements]

    def _info(self, caption: str | None = None, semantic: np.ndarray | None = None) -> dict[str, Any]:
        player = self._env._player
        info: dict[str, Any] = {"observation_text": self.observation_text(semantic),
                                "valid_actions": list(self.action_text),
                                "achievements": dict(self._achievements), "inventory": dict(player.inventory)}
        if caption is not None:
            info["caption"] = caption
        return info

    # --- gymnasium API --------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """A new world; ``seed`` restarts crafter's world sequence (same seed, same worlds)."""
        super().reset(seed=seed)
        if seed is not None:
            self._env._seed, self._env._episode = int(seed), 0
        image = self._env.reset()
        self._env._player.inventory.update(self.start_inventory)
        self._achievements = dict.fromkeys(constants.achievements, 0)
        self._episode_reward = 0.0
        return image, self._info()

    def step(self, action: int):
        """One crafter step; reward is crafter's (+1 per new achievement, health change / 10), or its health part."""
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in {self.action_space}, got {action!r}")
        before = self._achievements
        image, reward, done, crafter_info = self._env.step(self._crafter_action(int(action)))
        self._achievements = dict(crafter_info["achievements"])
        self._episode_reward += crafter_info["reward"]
        terminated = crafter_info["discount"] == 0.0
        truncated = bool(done and not terminated)
        if self.reward == "health":  # crafter adds 1.0 when an achievement is unlocked first in the episode
            reward -= float(any(count > 0 and not before.get(name) for name, count in self._achievements.items()))
        info = self._info(self._transition_caption(before, int(action)), crafter_info["semantic"])
        if terminated or truncated:
            info["episode_stats"] = {"length": self._env._step, "reward": round(self._episode_reward, 1),
                                     **{f"achievement_{k}": v for k, v in self._achievements.items()}}
        return image, float(reward), terminated, truncated, info

    def _crafter_action(self, action: int) -> int:
        """The ``crafter.Env`` action that plays ``action`` (the same here; the paper's game maps its own)."""
        return action

    def _transition_caption(self, before: dict[str, int], action: int) -> str:
        """What the step did, as text: the achievements it unlocked (again), ``""`` when none."""
        return transition_caption(before, self._achievements, self.goal_text)

    def render(self) -> np.ndarray | None:
        """The current frame in ``rgb_array`` mode."""
        return self._env.frame() if self.render_mode == "rgb_array" else None
