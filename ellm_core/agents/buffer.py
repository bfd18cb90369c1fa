"""Replay buffer of n-step transitions over embedding vectors, preallocated in numpy.

:class:`NStepCollector` turns each environment's one-step transitions into n-step ones
(``R = r_t + γ r_{t+1} + … + γ^{k-1} r_{t+k-1}``, bootstrap discount ``γ^k``, 0 when the episode terminated
within the window; a truncated episode still bootstraps from its last observation). :class:`ReplayBuffer`
stores them in arrays of a configurable dtype.

Memory: each transition holds the state and next state vectors (``2 × state_dim × itemsize`` bytes) plus
about 10 bytes of scalars and a next-action mask. With all-MiniLM-L6-v2 (384-d) in float16: 1.5 KB per
transition for the plain agent (≈1.5 GB at 1M transitions), 3.1 KB goal-conditioned (384 + 384 dims,
≈3.1 GB at 1M), 7.7 KB goal-conditioned with a frame stack of 4 (≈7.7 GB at 1M). float32 doubles these.
:func:`bytes_per_transition` computes the figure for any setting.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import torch


class ReplayBatch(NamedTuple):
    """A sampled minibatch, as tensors on the learner's device."""

    states: torch.Tensor
    actions: torch.Tensor
    returns: torch.Tensor
    next_states: torch.Tensor
    discounts: torch.Tensor
    next_action_masks: torch.Tensor


class Transition(NamedTuple):
    """One n-step transition ready for the buffer."""

    state: np.ndarray
    action: int
    n_step_return: float
    next_state: np.ndarray
    discount: float
    next_action_mask: np.ndarray


def bytes_per_transition(state_dim: int, num_actions: int, dtype: str = "float16") -> int:
    """Memory one stored transition takes (states in ``dtype``, scalars and mask)."""
    return 2 * state_dim * np.dtype(dtype).itemsize + 8 + 4 + 4 + num_actions


class ReplayBuffer:
    """A ring buffer of :class:`Transition` in preallocated arrays.

    Args:
        capacity: transitions kept (the oldest are overwritten).
        state_dim: length of a state vector.
        num_actions: size of the action space (for the next-state action masks).
        dtype: storage dtype of the state vectors (``float16`` halves the memory of ``float32``).
    """

    def __init__(self, capacity: int, state_dim: int, num_actions: int, dtype: str = "float16") -> None:
        self.capacity, self.state_dim, self.num_actions = capacity, state_dim, num_actions
        self.states = np.zeros((capacity, state_dim), dtype=dtype)
        self.next_states = np.zeros((capacity, state_dim), dtype=dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.returns = np.zeros(capacity, dtype=np.float32)
        self.discounts = np.zeros(capacity, dtype=np.float32)
        self.next_action_masks = np.ones((capacity, num_actions), dtype=bool)
        self.position = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the preallocated arrays."""
        arrays = (self.states, self.next_states, self.actions, self.returns, self.discounts, self.next_action_masks)
        return sum(array.nbytes for array in arrays)

    def add(self, transition: Transition) -> None:
        """Store one transition, overwriting the oldest when full."""
        i = self.position
        self.states[i] = transition.state
        self.actions[i] = transition.action
        self.returns[i] = transition.n_step_return
        self.next_states[i] = transition.next_state
        self.discounts[i] = transition.discount
        self.next_action_masks[i] = transition.next_action_mask
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator, device: str | torch.device = "cpu") -> ReplayBatch:
        """A uniform minibatch (with replacement) as float32 tensors on ``device``."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = rng.integers(0, self.size, size=batch_size)

        def tensor(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            return torch.as_tensor(array[index]).to(device=device, dtype=dtype)

        return ReplayBatch(
            tensor(self.states, torch.float32), tensor(self.actions, torch.int64),
            tensor(self.returns, torch.float32), tensor(self.next_states, torch.float32),
            tensor(self.discounts, torch.float32), tensor(self.next_action_masks, torch.bool),
        )

    def state_dict(self) -> dict[str, object]:
        """Contents as tensors (for ``torch.save`` / ``torch.load(weights_only=True)``)."""
        used = slice(0, self.size)
        return {
            "position": self.position, "size": self.size,
            **{name: torch.from_numpy(np.ascontiguousarray(getattr(self, name)[used]))
               for name in ("states", "next_states", "actions", "returns", "discounts", "next_action_masks")},
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved."""
        size = int(state["size"])
        if size > self.capacity:
            raise ValueError(f"checkpoint holds {size} transitions, more than the capacity {self.capacity}")
        for name in ("states", "next_states", "actions", "returns", "discounts", "next_action_masks"):
            getattr(self, name)[:size] = state[name].numpy()
        self.size, self.position = size, int(state["position"])


class NStepCollector:
    """Per-environment windows that emit n-step transitions.

    Example:
        >>> collector = NStepCollector(n_step=2, gamma=0.5, num_envs=1)
        >>> s, m = np.zeros(1), np.ones(2, dtype=bool)
        >>> collector.push(0, s, 0, 1.0, s + 1, m, terminated=False, truncated=False)
        []
        >>> [round(t.n_step_return, 2) for t in collector.push(0, s + 1, 1, 1.0, s + 2, m, False, False)]
        [1.5]
        >>> [(round(t.n_step_return, 2), t.discount) for t in collector.push(0, s + 2, 0, 2.0, s + 3, m, True, False)]
        [(2.0, 0.0), (2.0, 0.0)]
    """

    def __init__(self, n_step: int, gamma: float, num_envs: int) -> None:
        if n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        self.n_step, self.gamma = n_step, gamma
        self.windows: list[deque] = [deque() for _ in range(num_envs)]

    def _emit(self, window: deque, next_state: np.ndarray, next_mask: np.ndarray, terminated: bool) -> Transition:
        state, action, _ = window[0]
        n_step_return = sum(self.gamma**k * reward for k, (_, _, reward) in enumerate(window))
        discount = 0.0 if terminated else self.gamma ** len(window)
        window.popleft()
        return Transition(state, action, float(n_step_return), next_state, discount, next_mask)

    def push(
        self, env_index: int, state: np.ndarray, action: int, reward: float, next_state: np.ndarray,
        next_action_mask: np.ndarray, terminated: bool, truncated: bool,
    ) -> list[Transition]:
        """Add one step of env ``env_index``; return the transitions that became complete."""
        window = self.windows[env_index]
        window.append((state, int(action), float(reward)))
        ready = []
        if terminated or truncated:
            while window:
                ready.append(self._emit(window, next_state, next_action_mask, terminated))
        elif len(window) == self.n_step:
            ready.append(self._emit(window, next_state, next_action_mask, False))
        return ready

    def state_dict(self) -> dict[str, object]:
        """Pending windows (for exact resume)."""
        return {"windows": [[(torch.from_numpy(np.asarray(s)), a, r) for s, a, r in window] for window in self.windows]}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.windows = [deque((s.numpy(), a, r) for s, a, r in window) for window in state["windows"]]
