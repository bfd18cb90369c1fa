"""A run's state behind one door: what a checkpoint holds and how a resumed run gets it back.

:class:`RunState` names the parts of a training run that change as it learns (the agent, its replay buffer and
n-step collector, the state encoder, the goal reward, the intrinsic bonus, the goal source), the episode counters,
the random generators, the current observations and, where the envs can say it, their states. ``state_dict()`` is
one checkpoint; ``load_state_dict()`` puts one back. A new part is added to :data:`PARTS` and nowhere else. The
checkpoint's keys are the ones runs have always written, so older checkpoints load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

logger = logging.getLogger(__name__)

#: The learning parts of a run, by checkpoint key; each has ``state_dict``/``load_state_dict`` (or is ``None``).
PARTS = ("agent", "buffer", "collector", "encoder", "goal_reward", "intrinsic", "goal_source")


def _env_states(envs) -> list[Any] | None:
    if not isinstance(envs, gym.vector.SyncVectorEnv):
        return None
    try:
        return [{"env": env.unwrapped.get_state(), "elapsed": getattr(env, "_elapsed_steps", None)}
                for env in envs.envs]
    except AttributeError:
        return None


def _restore_env_states(envs, states: list[Any]) -> None:
    for env, state in zip(envs.envs, states):
        env.unwrapped.set_state(state["env"])
        wrapper = env
        while wrapper is not env.unwrapped:  # the TimeLimit wrapper's step count
            if hasattr(wrapper, "_elapsed_steps"):
                wrapper._elapsed_steps = state["elapsed"]
            wrapper = wrapper.env


@dataclass
class RunState:
    """The parts and counters of one training run (module docstring); the loop reads and advances them."""

    agent: Any
    buffer: Any
    collector: Any
    encoder: Any
    goal_reward: Any
    intrinsic: Any
    goal_source: Any
    envs: Any
    rng: np.random.Generator
    episode: dict[str, np.ndarray]
    step: int = 0
    episodes_done: int = 0
    states: np.ndarray | None = None
    masks: np.ndarray | None = None
    restored_envs: bool = field(default=False, init=False)

    def _parts(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARTS}

    def state_dict(self) -> dict[str, Any]:
        """One checkpoint of the run."""
        parts = {name: part.state_dict() if hasattr(part, "state_dict") else None
                 for name, part in self._parts().items()}
        return {"step": self.step, "episodes_done": self.episodes_done, **parts,
                "episode": {key: torch.from_numpy(value.copy()) for key, value in self.episode.items()},
                "rng": {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state()},
                "states": torch.from_numpy(self.states), "masks": torch.from_numpy(self.masks),
                "env_states": _env_states(self.envs)}

    def load_state_dict(self, state: dict[str, Any], seed: int) -> None:
        """Put a checkpoint back. The envs get their states back where they kept them (``restored_envs``); else the
        caller starts fresh episodes (the observations here are then the checkpoint's, not the envs')."""
        self.step, self.episodes_done = int(state["step"]), int(state["episodes_done"])
        for name, part in self._parts().items():
            if part is not None and state.get(name) is not None and hasattr(part, "load_state_dict"):
                part.load_state_dict(state[name])  # the goal source: e.g. its labels, read again from the cache
        self.episode = {key: value.numpy() for key, value in state["episode"].items()}
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"])
        self.states, self.masks = state["states"].numpy(), state["masks"].numpy()
        self.restored_envs = state["env_states"] is not None and isinstance(self.envs, gym.vector.SyncVectorEnv)
        if self.restored_envs:
            self.envs.reset(seed=seed)
            _restore_env_states(self.envs, state["env_states"])
