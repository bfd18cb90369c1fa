"""The paper's game: the official text Crafter of ELLM (yuqingd/ellm ``text_crafter``) on crafter 1.8.3's engine.

What differs from ``ellm/Crafter-v0`` (all of it read from ``data/crafter/paper_game.yaml``):

- **139 verb–noun actions** (the official ``action_space_type: harder``): "do nothing", four moves and "sleep",
  then each of 7 verbs (mine, eat, attack, chop, drink, place, make) with each of 19 nouns. "chop tree" acts only
  when the player faces a tree; "chop cow" never acts.
- **The success rule** (official ``Player.update``): an action *succeeds* when its noun is what the player faces
  (object or material) or an item it holds, or when the game action happened. ``info["action_success"]`` and
  ``info["eval_success"]`` (the game action happened) report it. "mine stone" facing stone without a pickaxe
  succeeds and gives nothing.
- **The recipes**: a crafting table takes one wood; an attack without a sword deals 5 damage; collecting an item
  already at its maximum gives nothing and is no achievement (the tile is still taken).
- **The caption** of a step is the name of the action that succeeded ("chop tree"), ``""`` when it failed, as the
  official goal wrapper compares goals with it; ``goal_vocabulary="achievements"`` names the same event by its
  achievement text instead ("collect wood").
- **The reward** the official env returns: +1 for an achievement unlocked first in the episode, and no health
  part (``text_crafter/env.py`` sets it to 0 before it returns).

World generation, creatures, the 22 achievements, ``episode_stats`` and Crafter's score are crafter's, so the two
games' rows compare. The rules live on the player, never in crafter's module globals, so both games can run in one
process. ``ellm/CrafterPaper-v0`` is this env.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from typing import Any

import numpy as np
from crafter import constants, objects
from gymnasium import spaces

from ellm_core.crafter.caption import LOCAL_VIEW, SEMANTIC_NAMES
from ellm_core.crafter.env import CrafterEnv
from ellm_core.resources import load_yaml

_VERB_ONLY_MOVES = ("move left", "move right", "move up", "move down")


@functools.cache
def paper_rules() -> dict[str, Any]:
    """``data/crafter/paper_game.yaml`` with crafter's collect/place/make tables under ``recipes``, its changes
    applied (a copy: crafter's own tables are untouched)."""
    rules = dict(load_yaml("crafter/paper_game.yaml"))
    recipes = {"collect": copy.deepcopy(constants.collect), "place": copy.deepcopy(constants.place),
               "make": copy.deepcopy(constants.make)}
    for table, changes in rules.get("recipes", {}).items():
        for name, fields in changes.items():
            recipes[table][name].update(copy.deepcopy(fields))
    rules["recipes"] = recipes
    return rules


def action_names() -> list[str]:
    """The 139 action names in action-id order (verb-only first, then verb-major verb–noun pairs)."""
    rules = paper_rules()
    return [*rules["verb_only"], *(f"{verb} {noun}" for verb in rules["verbs"] for noun in rules["nouns"])]


class PaperPlayer(objects.Player):
    """crafter's player with the official text Crafter's ``update``: set :attr:`command` to an action name before
    each step; :attr:`success` and :attr:`eval_success` say what the step did."""

    def __init__(self, world: Any, pos: Any) -> None:
        super().__init__(world, pos)
        rules = paper_rules()
        self.recipes, self.base_damage = rules["recipes"], int(rules["base_damage"])
        self.good_actions = frozenset(rules["good_actions"])
        self.command = "do nothing"
        self.success = self.eval_success = False

    def update(self) -> None:
        target = (self.pos[0] + self.facing[0], self.pos[1] + self.facing[1])
        material, obj = self.world[target]
        chosen = action = self.command
        success = eval_success = False
        if self.sleeping:
            if self.inventory["energy"] < constants.items["energy"]["max"]:
                action = "sleep"
            else:
                self.sleeping = False
                self.achievements["wake_up"] += 1
        if action not in ("do nothing", "sleep", *_VERB_ONLY_MOVES):
            noun = action.split(" ", 1)[1]
            success = (obj is not None and noun == type(obj).__name__.lower()) or noun == material
            success = success or self.inventory.get(noun.replace(" ", "_"), 0) > 0
        if action == "do nothing":
            success = eval_success = True
        elif action.startswith("move "):
            success = eval_success = self._move_succeeded(action[len("move "):])
        elif action == "sleep":
            if self.inventory["energy"] < constants.items["energy"]["max"]:
                self.sleeping = True
                success = eval_success = chosen == action
        elif action.startswith(("eat ", "attack ")):
            if ((action == "eat plant" and isinstance(obj, objects.Plant))
                    or (action == "attack zombie" and isinstance(obj, objects.Zombie))
                    or (action == "attack skeleton" and isinstance(obj, objects.Skeleton))
                    or (action in ("attack cow", "eat cow") and isinstance(obj, objects.Cow))):
                eval_success = self._hit(obj)
        elif action.startswith(("chop ", "mine ", "drink ")):
            if action.split(" ", 1)[1] == material and action in self.good_actions:
                eval_success = self._collect(target, material)
        elif action.startswith("place ") or action == "make crafting table":
            eval_success = self._put(action.split(" ", 1)[1].replace(" ", "_"), target, material)
        elif action.startswith("make "):
            eval_success = self._craft(action[len("make "):].replace(" ", "_"))
        self._update_life_stats()
        self._degen_or_regen_health()
        for name, amount in self.inventory.items():
            self.inventory[name] = max(0, min(amount, constants.items[name]["max"]))
        self._wake_up_when_hurt()
        self.success, self.eval_success = bool(success or eval_success), bool(eval_success)

    def _move_succeeded(self, direction: str) -> bool:
        self.facing = {"left": (-1, 0), "right": (+1, 0), "up": (0, -1), "down": (0, +1)}[direction]
        moved = self.move(self.facing)
        if self.world[self.pos][0] == "lava":
            self.health = 0
        return bool(moved)

    def _hit(self, obj: Any) -> bool:
        damage = max(self.base_damage, self.inventory["wood_sword"] and 2, self.inventory["stone_sword"] and 3,
                     self.inventory["iron_sword"] and 5)
        if isinstance(obj, objects.Plant):
            if not obj.ripe:
                return False
            obj.grown = 0
            self.inventory["food"] += 4
            self.achievements["eat_plant"] += 1
            return True
        if isinstance(obj, (objects.Zombie, objects.Skeleton, objects.Cow)):
            obj.health -= damage
            if obj.health <= 0:
                name = {objects.Zombie: "defeat_zombie", objects.Skeleton: "defeat_skeleton"}.get(type(obj), "eat_cow")
                self.achievements[name] += 1
                if name == "eat_cow":
                    self.inventory["food"] += 6
                    self._hunger = 0
            return True
        return False

    def _collect(self, target: Any, material: str) -> bool:
        if material == "water":
            self._thirst = 0
        info = self.recipes["collect"].get(material)
        if not info or any(self.inventory[name] < amount for name, amount in info["require"].items()):
            return False
        self.world[target] = info["leaves"]
        if self.random.uniform() > info.get("probability", 1):
            return False
        for name, amount in info["receive"].items():
            if self.inventory[name] == constants.items[name]["max"]:
                return False
            self.inventory[name] += amount
            self.achievements[f"collect_{name}"] += 1
        return True

    def _put(self, name: str, target: Any, material: str) -> bool:
        name = "table" if "crafting" in name else name
        info = self.recipes["place"].get(name)
        if self.world[target][1] or info is None or material not in info["where"]:
            return False
        if any(self.inventory[item] < amount for item, amount in info["uses"].items()):
            return False
        for item, amount in info["uses"].items():
            self.inventory[item] -= amount
        if info["type"] == "material":
            self.world[target] = name
        else:
            self.world.add({"fence": objects.Fence, "plant": objects.Plant}[name](self.world, target))
        self.achievements[f"place_{name}"] += 1
        return True

    def _craft(self, name: str) -> bool:
        info = self.recipes["make"].get(name)
        nearby, _ = self.world.nearby(self.pos, 1)
        if info is None or not all(util in nearby for util in info["nearby"]):
            return False
        if any(self.inventory[item] < amount for item, amount in info["uses"].items()):
            return False
        for item, amount in info["uses"].items():
            self.inventory[item] -= amount
        self.inventory[name] += info["gives"]
        self.achievements[f"make_{name}"] += 1
        return True


def names_in_view(semantic: np.ndarray, pos: Any) -> set[str]:
    """Every material and creature in the player's 9 x 7 view (the official observation text's nouns)."""
    x, y = int(pos[0]), int(pos[1])
    half_w, half_h = LOCAL_VIEW[0] // 2, LOCAL_VIEW[1] // 2
    window = semantic[max(0, x - half_w): x + half_w + 1, max(0, y - half_h): y + half_h + 1]
    return {SEMANTIC_NAMES[int(value)] for value in np.unique(window) if int(value) in SEMANTIC_NAMES}


class PaperCrafterEnv(CrafterEnv):
    """``ellm/CrafterPaper-v0``: the paper's game (module docstring), with ``ellm/Crafter-v0``'s text interface.

    Args:
        goal_vocabulary: ``"actions"`` (default): captions, the oracle's goals and the closed-form candidates are
            action names ("chop tree"), as in the official code; ``"achievements"``: the same events named by
            crafter's achievement texts ("collect wood"), the vocabulary of goals ranked in crafter's game.

    ``reward`` (a :class:`~ellm_core.crafter.env.CrafterEnv` argument): ``"task"`` is the official env's reward (+1
    per achievement unlocked first in the episode, no health part); ``"health"`` the health reward the official LM
    wrapper adds, which that env sets to 0. The other arguments are ``CrafterEnv``'s (``fast_worldgen`` stays on).
    """

    def __init__(self, goal_vocabulary: str = "actions", **kwargs: Any) -> None:
        if goal_vocabulary not in ("actions", "achievements"):
            raise ValueError(f"goal_vocabulary must be 'actions' or 'achievements', got {goal_vocabulary!r}")
        super().__init__(**kwargs)
        rules = paper_rules()
        self.goal_vocabulary = goal_vocabulary
        self._env.player_class = PaperPlayer
        semantic_ids = self._env._sem_view._obj_ids  # crafter's semantic map looks objects up by their exact class
        semantic_ids[PaperPlayer] = semantic_ids[objects.Player]
        self.action_text = action_names()
        self.action_space = spaces.Discrete(len(self.action_text))
        self.good_actions: list[str] = list(rules["good_actions"])
        self.oracle_prerequisites: dict[str, tuple[list[str], list[str]]] = rules["oracle"]
        self.achievement_of = {action: self.goal_text[name]
                               for name, actions in rules["achievement_actions"].items() for action in actions}
        pairs = rules["aliases"].items()
        self.aliases = {**{a: b for a, b in pairs}, **{b: a for a, b in pairs}}
        self._succeeded: set[str] = set()

    def _info(self, caption: str | None = None, semantic: np.ndarray | None = None) -> dict[str, Any]:
        info = super()._info(caption, semantic)
        info["valid_actions"] = list(self.good_actions)
        return info

    def _text(self, action: str) -> str:
        return self.achievement_of.get(action, action) if self.goal_vocabulary == "achievements" else action

    def goal_aliases(self) -> dict[str, str]:
        """Goal text -> the goal text that is the same goal (achieving one achieves both)."""
        return {} if self.goal_vocabulary == "achievements" else dict(self.aliases)

    def oracle_goals(self) -> list[str]:
        """What the official ``SimpleOracle`` suggests now: the actions whose inventory items are held and whose
        things are in view; "sleep" only when tired, no second table in view of one; the actions that succeeded
        earlier in the episode (and their aliases) left out unless ``oracle_repeats``."""
        player = self._env._player
        seen = names_in_view(self._env._sem_view(), player.pos)
        seen |= {"crafting table"} if "table" in seen else set()
        goals = [action for action, (items, things) in self.oracle_prerequisites.items()
                 if all(thing in seen for thing in things)
                 and all(player.inventory[item] >= count for item, count in Counter(items).items())]
        if player.inventory["energy"] >= constants.items["energy"]["max"]:
            goals.remove("sleep")
        if "crafting table" in seen and "place crafting table" in goals:
            goals.remove("place crafting table")
        if not self.oracle_repeats:
            goals = [goal for goal in goals if goal not in self._succeeded]
        return list(dict.fromkeys(self._text(goal) for goal in goals))

    def goals_in_view(self) -> list[str]:
        """The oracle's goals (they already ask for what is in view)."""
        return self.oracle_goals()

    def goal_candidates(self) -> list[str]:
        """The closed-form candidates: the official oracle's 24 action texts, or the 22 achievement texts."""
        if self.goal_vocabulary == "achievements":
            return super().goal_candidates()
        return list(self.oracle_prerequisites)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """A new world (crafter's worlds: the same seed gives the same world as ``ellm/Crafter-v0``)."""
        self._succeeded = set()
        return super().reset(seed=seed, options=options)

    def step(self, action: int):
        """One step of the paper's game; ``info`` adds ``action_success``, ``eval_success`` and ``action``."""
        before = self._achievements
        image, reward, terminated, truncated, info = super().step(action)
        player = self._env._player
        if player.success:
            name = self.action_text[int(action)]
            self._succeeded |= {name, self.aliases.get(name, name)}
        unlocked = any(count > 0 and not before.get(name) for name, count in self._achievements.items())
        reward = float(unlocked) if self.reward == "task" else 0.0
        info.update(action=self.action_text[int(action)], action_success=player.success,
                    eval_success=player.eval_success)
        return image, reward, terminated, truncated, info

    def _crafter_action(self, action: int) -> int:
        self._env._player.command = self.action_text[action]
        return 0  # crafter's noop: the paper's player reads its command instead

    def _transition_caption(self, before: dict[str, int], action: int) -> str:
        player = self._env._player
        return self._text(self.action_text[action]) if player.success else ""


