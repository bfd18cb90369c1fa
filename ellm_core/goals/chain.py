"""What must come first, asked of the LM: each candidate goal's prerequisite, and goal lists that put it first.

ELLM pays a goal only when a transition achieves it. A goal whose requirement is missing ("make wood pickaxe" with no
table near) cannot pay, and an LM that ranks the caption texts may never name the requirement itself: the 1.5B puts
"place crafting table" first in none of its 5,250 labelled situations, while a tool is among its top 3 in a third of
them. Here the LM is asked once per candidate goal, in the ranked form of the goal source: the observation line says
"You want to G, but you cannot yet: something must come first." and the other candidates are ranked by the LM's
log-probability of answering with them; the best one is G's prerequisite. (The file also keeps the choice calibrated
against the same question about no goal in particular; that question is itself answered with the crafting chain,
so subtracting it removes what the LM knows: ``--prerequisites`` reads the raw choice.) :class:`GoalChain` puts each suggested goal's prerequisites (to ``depth``) before it;
with ELLM's filter of achieved goals and ``active_goals`` kept, an agent meets them in order. Nothing here knows
Crafter's recipes: the chain is what the LM answers, committed as a file (``python -m ellm_core.crafter.analysis.prerequisites``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ellm_core.goals.prompts import PromptConfig, open_ended_prompt

logger = logging.getLogger(__name__)

#: The observation line of the prerequisite question (``{goal}``: a candidate goal).
PREREQUISITE_OBSERVATION = "You want to {goal}, but you cannot yet: something must come first."
#: The observation line of the material question: which "collect ..." goal must come before ``{goal}``.
MATERIAL_OBSERVATION = "You want to {goal}, but you are missing something you must collect first."
#: The verb of the goals the material question ranks (the caption vocabulary's word for gathering).
MATERIAL_VERB = "collect"
#: The goal of the calibration row: the same question about no goal in particular.
CONTENT_FREE_GOAL = "do something"
FORMAT = "ellm-prerequisites-2"


def ask_prerequisites(lm, candidates: Sequence[str], actions: Sequence[str], prompts: PromptConfig,
                      answer_prefix: str = "-") -> dict:
    """Ask ``lm`` (it must score continuations) for each candidate's prerequisite among the others; returns the file
    content: the raw scores, the scores of the question about no goal in particular (``prior``) and, per goal, its
    prerequisite: the other candidate the LM most likes to answer (``prerequisite``), and the one it likes most above
    its answer to the question about no goal (``prerequisite_calibrated``)."""
    candidates = list(candidates)
    goals = candidates + [CONTENT_FREE_GOAL]
    chats = [open_ended_prompt(PREREQUISITE_OBSERVATION.format(goal=goal), list(actions), prompts) for goal in goals]
    scores = np.asarray(lm.score_continuations(chats, [" " + c for c in candidates], answer_prefix), dtype=float)
    raw, prior = scores[:-1], scores[-1]
    calibrated = raw - prior

    def best(table: np.ndarray) -> dict[str, dict]:
        table = table.copy()
        np.fill_diagonal(table, -np.inf)  # a goal is not its own prerequisite
        return {goal: {"goal": candidates[j], "score": round(float(table[i, j]), 4)}
                for i, (goal, j) in enumerate(zip(candidates, table.argmax(axis=1)))}

    result = {"format": FORMAT, "lm_identity": str(getattr(lm, "scoring_identity", getattr(lm, "identity", "?"))),
              "question": PREREQUISITE_OBSERVATION, "content_free_goal": CONTENT_FREE_GOAL, "actions": list(actions),
              "answer_prefix": answer_prefix, "candidates": candidates, "raw": raw.round(4).tolist(),
              "prior": prior.round(4).tolist(), "prerequisite": best(raw), "prerequisite_calibrated": best(calibrated)}
    return result | ask_materials(lm, candidates, actions, prompts, answer_prefix)


def ask_materials(lm, candidates: Sequence[str], actions: Sequence[str], prompts: PromptConfig,
                  answer_prefix: str = "-") -> dict:
    """Ask ``lm`` for each candidate's material: which of the ``collect ...`` candidates it most likes to answer to
    "You want to G, but you are missing something you must collect first." (raw, as ``--prerequisites`` reads it;
    the file keeps the scores). A goal is never its own material; the keys extend :func:`ask_prerequisites`'s file."""
    candidates = list(candidates)
    materials = [c for c in candidates if c.split(" ", 1)[0] == MATERIAL_VERB]
    if not materials:
        return {}
    chats = [open_ended_prompt(MATERIAL_OBSERVATION.format(goal=goal), list(actions), prompts) for goal in candidates]
    scores = np.asarray(lm.score_continuations(chats, [" " + m for m in materials], answer_prefix), dtype=float)
    chosen = {}
    for goal, row in zip(candidates, scores):
        row = np.where([m == goal for m in materials], -np.inf, row)
        chosen[goal] = {"goal": materials[int(row.argmax())], "score": round(float(row.max()), 4)}
    return {"material_question": MATERIAL_OBSERVATION, "material_candidates": materials,
            "material_raw": scores.round(4).tolist(), "material": chosen}


class GoalChain:
    """Expands goal lists with their prerequisites: ``[g]`` becomes ``[prerequisite(prerequisite(g)), ..., g]`` up to
    ``depth`` steps back, each goal once, prerequisites first (cycles stop the walk). With ``materials``, each goal of
    that walk comes after its material (``[material(p), p, material(g), g]``, each goal once)."""

    def __init__(self, prerequisites: dict[str, str], depth: int = 2, materials: dict[str, str] | None = None) -> None:
        if depth < 0:
            raise ValueError(f"the prerequisite depth must be >= 0, got {depth}")
        self.prerequisites, self.depth, self.materials = dict(prerequisites), depth, dict(materials or {})

    @classmethod
    def load(cls, path: str | Path, depth: int = 2, calibrated: bool = False, materials: bool = False) -> GoalChain:
        """The chain of a prerequisite file written by :func:`ask_prerequisites` (``python -m ellm_core.crafter.analysis.prerequisites``):
        the LM's raw choices, or its calibrated ones; with ``materials``, also the LM's answers about what to collect
        first (files of format 2)."""
        key = "prerequisite_calibrated" if calibrated else "prerequisite"
        try:
            content = json.loads(Path(path).read_text(encoding="utf-8"))
            mapping = {goal: row["goal"] for goal, row in content[key].items()}
            if materials and "material" not in content:
                raise ValueError(f"--prerequisites {path}: no material answers (written before they were asked: run "
                                 "python -m ellm_core.crafter.analysis.prerequisites again)")
            collect = {goal: row["goal"] for goal, row in content["material"].items()} if materials else None
        except FileNotFoundError:
            raise FileNotFoundError(f"--prerequisites {path}: no such file (python -m ellm_core.crafter.analysis.prerequisites writes "
                                    "one)") from None
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"--prerequisites {path}: not a prerequisite file ({error})") from None
        return cls(mapping, depth, collect)

    def chain(self, goal: str) -> list[str]:
        """``goal``'s prerequisites, the earliest first, then ``goal`` (each after its material, with materials)."""
        chain = [goal]
        for _ in range(self.depth):
            before = self.prerequisites.get(chain[0])
            if before is None or before in chain:
                break
            chain.insert(0, before)
        if not self.materials:
            return chain
        with_materials: list[str] = []
        for step in chain:
            for item in (self.materials.get(step), step):
                if item is not None and item not in with_materials:
                    with_materials.append(item)
        return with_materials

    def expand(self, goals: Sequence[str]) -> list[str]:
        """Each goal's chain in turn, every goal once, in the order first met."""
        expanded: list[str] = []
        for goal in goals:
            for step in self.chain(goal):
                if step not in expanded:
                    expanded.append(step)
        return expanded
