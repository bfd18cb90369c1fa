"""Record the official text Crafter's behaviour on scripted sequences, as the JSON fixtures beside this file.

This runs the *official* game (yuqingd/ellm ``text_crafter``), never the project's: in a throwaway venv outside the
project, as ``../shared/ASSETS.md`` ("Running the official game here") sets it up, with the official package, its ``lm.py`` as
``official_lm.py``, and stub ``transformers``/``cv2``/``openai``/``wandb`` modules on ``PYTHONPATH``::

    PYTHONPATH=/tmp/offref:/tmp/offref/stubs /tmp/offvenv/bin/python tests/ellm_core/data/paper_game/record.py

Each sequence is a seeded world and a script; the script reads the official game's state only to choose its next
action (walk to the nearest tree, face it, ...). A fixture keeps per step the action id and name, the official
``action_success`` and ``eval_success``, the inventory, the achievements, the material faced after the step, and
what the official ``SimpleOracle`` (``text_crafter/lm.py``, novelty filter on, told each action that succeeded, as
the goal wrapper tells it) suggests next.
``tests/ellm_core/crafter/test_paper.py`` replays the action ids in ``ellm/CrafterPaper-v0`` and compares. The
sequences stop before step 147, the first step that draws night noise from the world's generator: the official env
draws two frames a step, crafter one, so the creatures' random numbers part from there on.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import numpy as np
from official_lm import SimpleOracle  # text_crafter/lm.py (stub openai and wandb modules on the path)
from text_crafter.text_crafter.text_env import BaseTextEnv

OUT = Path(__file__).parent
LAST_STEP = 146
MOVES = {(-1, 0): "move left", (1, 0): "move right", (0, -1): "move up", (0, 1): "move down"}
WALKABLE = {"grass", "sand", "path"}


class GoalWrapperView:
    """What ``SimpleOracle`` asks of the goal wrapper it is given: the env, and ``filter_hard_goals`` (goal_wrapper.py,
    which keeps the good actions and the wrapper's custom goals)."""

    def __init__(self, env):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def filter_hard_goals(self, goals: dict) -> dict:
        return {name: value for name, value in goals.items() if name in self.env.good_action_names}


class Recorder:
    def __init__(self, seed: int):
        self.env = BaseTextEnv(action_space_type="harder", length=400, seed=seed)
        self.env.reset()
        self.names = self.env.action_names
        self.oracle = SimpleOracle(novelty_bonus=True)  # as the official goal wrapper keeps it
        self.start_oracle = self._oracle()
        self.steps: list[dict] = []

    def _oracle(self) -> list[str]:
        text_obs, inv_status = self.env.text_obs()
        return sorted(self.oracle.predict_options({"obs": text_obs, **inv_status}, GoalWrapperView(self.env)))

    def act(self, name: str) -> dict:
        if len(self.steps) >= LAST_STEP:
            raise StopIteration
        action = self.names.index(name)
        _, _, done, info = self.env.step(action)
        player = self.env.player
        target = (player.pos[0] + player.facing[0], player.pos[1] + player.facing[1])
        material, obj = self.env.world[target]
        if info["action_success"]:
            self.oracle.take_action(name)  # the wrapper's oracle_lm.take_action(action_name)
        row = {"action": action, "name": name, "success": bool(info["action_success"]),
               "eval_success": bool(info["eval_success"]), "inventory": dict(info["inventory"]),
               "achievements": {k: v for k, v in info["achievements"].items() if v},
               "facing": obj.name if obj is not None else material, "oracle": self._oracle()}
        self.steps.append(row)
        if done:
            raise StopIteration
        return row

    def _is(self, pos, kind: str) -> bool:
        material, obj = self.env.world[pos]
        return (obj is not None and obj.name == kind) or (obj is None and material == kind)

    def goto(self, kind: str, limit: int = 60) -> bool:
        """Walk next to the nearest ``kind`` (material or creature) and face it; False if none is reached."""
        for _ in range(limit):
            player = self.env.player
            pos = tuple(int(v) for v in player.pos)
            if self._is((pos[0] + player.facing[0], pos[1] + player.facing[1]), kind):
                return True
            if kind in WALKABLE:  # a step onto one such cell faces the next one
                near = [move for (dx, dy), move in MOVES.items()
                        if self._is((pos[0] + dx, pos[1] + dy), kind) and self._is((pos[0] + 2 * dx, pos[1] + 2 * dy), kind)]
            else:  # a move toward a cell that is not free only turns to it
                near = [move for (dx, dy), move in MOVES.items() if self._is((pos[0] + dx, pos[1] + dy), kind)]
            if near:
                self.act(near[0])
                continue
            path = self._path(pos, kind)
            if not path:
                return False
            self.act(MOVES[path[0]])
        return False

    def _path(self, start, kind):
        area = self.env.world.area
        seen, queue = {start: None}, collections.deque([start])
        while queue:
            cell = queue.popleft()
            for offset in MOVES:
                nxt = (cell[0] + offset[0], cell[1] + offset[1])
                if nxt in seen or not (0 <= nxt[0] < area[0] and 0 <= nxt[1] < area[1]):
                    continue
                if self._is(nxt, kind):
                    steps = []
                    while seen[cell] is not None:
                        cell, offset_back = seen[cell]
                        steps.append(offset_back)
                    return steps[::-1]
                material, obj = self.env.world[nxt]
                if material in WALKABLE and obj is None:
                    seen[nxt] = (cell, offset)
                    queue.append(nxt)
        return []


def sequence(name: str, seed: int, script) -> None:
    recorder = Recorder(seed)
    try:
        script(recorder)
    except StopIteration:
        pass
    data = {"seed": seed, "start_oracle": recorder.start_oracle, "game": "yuqingd/ellm text_crafter, BaseTextEnv(action_space_type='harder', length=400)",
            "steps": recorder.steps}
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n")
    print(name, len(recorder.steps), "steps", recorder.steps[-1]["inventory"] if recorder.steps else "")


def wood_table_pickaxe(r: Recorder) -> None:
    """One wood, a table from it; the tile chopped again; more wood, a pickaxe, a sword; stone mined and placed."""
    r.goto("tree")
    r.act("chop tree")               # wood 1, the tree becomes grass
    r.act("chop tree")               # facing grass now: fails
    r.act("place crafting table")    # one wood is enough here
    r.act("make wood pickaxe")       # no wood left: fails
    for _ in range(3):
        r.goto("tree")
        r.act("chop tree")
    r.goto("table")
    r.act("make wood pickaxe")
    r.act("make wood sword")
    r.act("make wood sword")
    r.act("make wood sword")         # the wood is gone, but a sword is held: succeeds, makes nothing
    r.act("make crafting table")     # the other name of placing one
    r.goto("stone")
    r.act("mine stone")
    r.act("place stone")
    r.act("mine stone")
    r.act("attack stone")            # stone faced: succeeds, does nothing


def stone_without_pickaxe(r: Recorder) -> None:
    r.act("sleep")                   # not tired: fails
    r.goto("stone")
    r.act("mine stone")              # succeeds, gives no stone
    r.act("chop tree")               # facing stone: fails
    r.act("chop stone")              # noun faced: succeeds, chop acts on trees and grass only
    r.act("mine coal")
    r.goto("tree")
    r.act("mine tree")               # not a good action: no wood, but the tree is faced


def water_and_grass(r: Recorder) -> None:
    r.goto("water")
    r.act("chop tree")               # facing water: fails
    r.act("drink water")             # drink at its maximum: succeeds, no achievement
    for _ in range(30):
        r.act("do nothing")
    r.act("drink water")             # thirsty now: collect_drink
    r.goto("grass")
    for _ in range(25):
        r.act("chop grass")          # a sapling with probability 0.1
    r.act("place plant")
    r.act("eat plant")               # an unripe plant is faced: succeeds, does nothing


def cow(r: Recorder) -> None:
    if r.goto("cow"):
        r.act("attack cow")          # five damage: one hit
        r.act("eat cow")
    if r.goto("cow"):
        r.act("eat cow")
    r.goto("tree")
    for _ in range(9):
        r.act("chop tree") if r.goto("tree") else r.act("do nothing")
    r.goto("tree")
    r.act("chop tree")               # wood at its maximum (9): no wood, the tree is taken all the same


def random_actions(seed: int, good_only: bool):
    def script(r: Recorder) -> None:
        rng = np.random.default_rng(seed)
        names = r.env.good_action_names if good_only else r.names
        while True:
            r.act(names[int(rng.integers(len(names)))])
    return script


if __name__ == "__main__":
    sequence("wood_table_pickaxe", 0, wood_table_pickaxe)
    sequence("stone_without_pickaxe", 1, stone_without_pickaxe)
    sequence("water_and_grass", 2, water_and_grass)
    sequence("cow", 3, cow)
    sequence("random_all", 4, random_actions(4, good_only=False))
    sequence("random_good", 5, random_actions(5, good_only=True))
    sequence("random_good_6", 6, random_actions(6, good_only=True))
    sys.exit(0)
