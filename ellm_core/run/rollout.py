"""Stepping a vector of text environments: state vectors for the agent, rewards, and one-step transitions.

Used by training and evaluation alike; :mod:`ellm_core.run.assembly` builds it from a config. The environments speak
the text interface of :mod:`ellm_core.wrappers` and run with gymnasium's same-step autoreset, so a finished
episode's last transition is read from ``info["final_info"]`` while the returned observation already starts the
next one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ellm_core.agents.intrinsic import IntrinsicReward
from ellm_core.agents.state import StateEncoder
from ellm_core.reward import VectorGoalReward
from ellm_core.wrappers import require_text_info

logger = logging.getLogger(__name__)


def unbatch_info(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Split a vector env's info dict into one dict per environment (a key where its ``_key`` mask is False is
    left out for that environment)."""
    per_env: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    for key, values in info.items():
        if key.startswith("_"):
            continue
        mask = info.get(f"_{key}")
        indices = range(num_envs) if mask is None else [i for i, present in enumerate(mask.tolist()) if present]
        if isinstance(values, dict):
            values = unbatch_info(values, num_envs)
        for i in indices:
            per_env[i][key] = values[i]
    return per_env


@dataclass
class StepResult:
    """What one vector step produced, per environment."""

    transition_states: np.ndarray  # state vectors after the action (the final one for finished episodes)
    states: np.ndarray  # state vectors the agent acts from next (new episodes' first ones where reset)
    extrinsic: np.ndarray
    intrinsic: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_masks: np.ndarray  # valid actions in transition_states
    masks: np.ndarray  # valid actions in states
    transition_infos: list[dict[str, Any]]
    achieved_goals: list[str]


class TextRollout:
    """Owns the vector env, the state encoder and the reward source (goal reward or an intrinsic baseline)."""

    def __init__(self, envs: gym.vector.VectorEnv, encoder: StateEncoder, goal_reward: VectorGoalReward | None = None,
                 intrinsic: IntrinsicReward | None = None) -> None:
        self.envs, self.encoder, self.goal_reward, self.intrinsic = envs, encoder, goal_reward, intrinsic
        self.num_envs, self.num_actions = envs.num_envs, int(envs.single_action_space.n)

    def _masks(self, infos: Sequence[dict[str, Any]]) -> np.ndarray:
        return np.stack([np.asarray(info.get("action_mask", np.ones(self.num_actions)), dtype=bool) for info in infos])

    def _goals(self, infos: Sequence[dict[str, Any]]) -> list[list[str]]:
        if self.goal_reward is None:
            return [[] for _ in infos]
        texts = [info["observation_text"] for info in infos]
        return self.goal_reward.suggest(texts, [info["valid_actions"] for info in infos])

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Reset every env; returns (states, action masks, infos)."""
        _, info = self.envs.reset(seed=seed)
        infos = unbatch_info(info, self.num_envs)
        for one in infos:
            require_text_info(one)
        indices = list(range(self.num_envs))
        if self.goal_reward is not None:
            self.goal_reward.reset(indices)
        goals = self._goals(infos)
        states = self.encoder.reset(indices, [one["observation_text"] for one in infos], goals)
        return states, self._masks(infos), infos

    def step(self, actions: np.ndarray) -> StepResult:
        """Act in every env and compute rewards, transition states and the next states."""
        _, extrinsic, terminated, truncated, info = self.envs.step(actions)
        done = terminated | truncated
        infos = unbatch_info(info, self.num_envs)
        finals = unbatch_info(info["final_info"], self.num_envs) if "final_info" in info else [{}] * self.num_envs
        transition_infos = [finals[i] if done[i] else infos[i] for i in range(self.num_envs)]
        captions = [str(one.get("caption", "")) for one in transition_infos]
        texts = [one["observation_text"] for one in transition_infos]

        achieved = [""] * self.num_envs
        intrinsic = np.zeros(self.num_envs, dtype=np.float32)
        if self.goal_reward is not None:
            intrinsic, achieved = self.goal_reward.reward(captions)
            self.goal_reward.reset(np.flatnonzero(done))
        elif self.intrinsic is not None:
            intrinsic = np.asarray(self.intrinsic(self.encoder.embedder.encode(texts), captions), dtype=np.float32)

        goals = self._goals(infos)  # for the observations the agent acts from next
        transition_goals = [[] if done[i] else goals[i] for i in range(self.num_envs)]
        transition_states = self.encoder.step(texts, transition_goals, advance=~done)
        states = transition_states.copy()
        reset = np.flatnonzero(done)
        if len(reset):
            states[reset] = self.encoder.reset(reset, [infos[i]["observation_text"] for i in reset],
                                               [goals[i] for i in reset])
        return StepResult(transition_states, states, np.asarray(extrinsic, dtype=np.float32), intrinsic,
                          terminated, truncated, self._masks(transition_infos), self._masks(infos),
                          transition_infos, achieved)
