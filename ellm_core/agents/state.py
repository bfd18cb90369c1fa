"""Text to state vectors: observation embedding(s), optionally frame-stacked, plus the goal embedding.

The goal-conditioned agent reads its goals as one sentence, ``"Your goal is: collect wood; drink water."``
(``"Your goal is: none."`` when the LM suggested nothing), embedded by the same embedder as observations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import torch

from ellm_core.text.embed import Embedder


def goal_sentence(goals: Sequence[str]) -> str:
    """The text a goal-conditioned agent is conditioned on."""
    return f"Your goal is: {'; '.join(goals) if goals else 'none'}."


class StateEncoder:
    """Builds ``[obs_{t-k+1} … obs_t, goal]`` vectors for each environment of a vector env.

    Args:
        embedder: text embedder (wrap it in ``CachedEmbedder`` so each text is embedded once).
        num_envs: number of parallel environments.
        frame_stack: observation embeddings stacked (1 = the current one only).
        goal_conditioned: append the goal-sentence embedding.
    """

    def __init__(self, embedder: Embedder, num_envs: int, frame_stack: int = 1, goal_conditioned: bool = False):
        self.embedder, self.frame_stack, self.goal_conditioned = embedder, frame_stack, goal_conditioned
        self.dim = int(embedder.encode(["probe"]).shape[1])
        self.state_dim = self.dim * (frame_stack + int(goal_conditioned))
        self.stacks: list[deque] = [deque(maxlen=frame_stack) for _ in range(num_envs)]

    def _goal_vectors(self, goal_lists: Sequence[Sequence[str]]) -> list[np.ndarray]:
        if not self.goal_conditioned:
            return [np.zeros(0, np.float32)] * len(goal_lists)
        return list(self.embedder.encode([goal_sentence(goals) for goals in goal_lists]))

    def reset(self, env_indices: Sequence[int], texts: Sequence[str], goal_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Start new episodes for ``env_indices``; returns their first state vectors."""
        observations = self.embedder.encode(list(texts))
        for index, observation in zip(env_indices, observations):
            self.stacks[index].clear()
            self.stacks[index].extend([observation] * self.frame_stack)
        goals = self._goal_vectors(goal_lists)
        return np.stack([np.concatenate([*self.stacks[i], g]) for i, g in zip(env_indices, goals)])

    def step(
        self, texts: Sequence[str], goal_lists: Sequence[Sequence[str]], advance: Sequence[bool] | None = None
    ) -> np.ndarray:
        """Push each env's new observation and return the state vectors.

        Where ``advance[i]`` is False the stack is left unchanged (used for the final observation of an
        episode, whose stack is about to be reset).
        """
        observations = self.embedder.encode(list(texts))
        goals = self._goal_vectors(goal_lists)
        states = []
        for index, (observation, goal) in enumerate(zip(observations, goals)):
            frames = list(self.stacks[index])[1:] + [observation]
            if advance is None or advance[index]:
                self.stacks[index].append(observation)
            states.append(np.concatenate([*frames, goal]))
        return np.stack(states)

    def state_dict(self) -> dict[str, object]:
        return {"stacks": [torch.from_numpy(np.stack(stack)) if stack else torch.zeros(0) for stack in self.stacks]}

    def load_state_dict(self, state: dict[str, object]) -> None:
        for stack, frames in zip(self.stacks, state["stacks"]):
            stack.clear()
            stack.extend(frame.numpy() for frame in frames)
