"""Intrinsic-reward baselines, chosen by name: ``novelty``, ``rnd``, ``apt``.

Each is called once per vector step with the next observations' embeddings and the transition captions of
all environments, and returns one bonus per environment (learning, where there is any, happens inside the
call). Each has ``state_dict``/``load_state_dict`` so a resumed run continues exactly.

- novelty: count-based bonus on transition captions, ``1 / sqrt(N(caption))`` (0 for empty captions).
- RND (Burda et al., 2019): error of a trained predictor against a fixed random network on the observation
  embedding, divided by a running standard deviation of that error.
- APT (Liu & Abbeel, 2021): particle-based entropy, ``log(1 + mean distance to the k nearest neighbours)``
  of the observation embedding among a memory of recent ones (k = 12). The representation is the fixed
  sentence embedding rather than APT's contrastively learned one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn


class IntrinsicReward(Protocol):
    """One bonus per environment for the step just taken."""

    def __call__(self, next_embeddings: np.ndarray, captions: Sequence[str]) -> np.ndarray: ...


class NoveltyBonus:
    """``1 / sqrt(count)`` of each non-empty transition caption, counted over the whole run."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, next_embeddings: np.ndarray, captions: Sequence[str]) -> np.ndarray:
        bonus = np.zeros(len(captions), dtype=np.float32)
        for i, caption in enumerate(captions):
            if caption:
                self.counts[caption] += 1
                bonus[i] = 1.0 / np.sqrt(self.counts[caption])
        return bonus

    def state_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.counts = Counter(state["counts"])


def _mlp(dim_in: int, hidden: int, dim_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, dim_out))


class RNDBonus:
    """Random network distillation on observation embeddings, normalised by a running std of the error."""

    def __init__(self, dim: int, hidden: int = 256, out: int = 64, lr: float = 1e-4, seed: int = 0) -> None:
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.target, self.predictor = _mlp(dim, hidden, out), _mlp(dim, hidden, out)
        torch.random.set_rng_state(generator_state)
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=lr)
        self.count, self.mean, self.m2 = 0, 0.0, 0.0  # Welford running moments of the raw error

    def _update_moments(self, errors: np.ndarray) -> None:
        for value in errors:
            self.count += 1
            delta = value - self.mean
            self.mean += delta / self.count
            self.m2 += delta * (value - self.mean)

    def __call__(self, next_embeddings: np.ndarray, captions: Sequence[str]) -> np.ndarray:
        states = torch.as_tensor(next_embeddings, dtype=torch.float32)
        errors = (self.predictor(states) - self.target(states)).pow(2).mean(dim=1)
        raw = errors.detach().numpy().astype(np.float64)
        self._update_moments(raw)
        std = np.sqrt(self.m2 / self.count) if self.count > 1 else 1.0
        self.optimizer.zero_grad(set_to_none=True)
        errors.mean().backward()
        self.optimizer.step()
        return (raw / max(std, 1e-8)).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return {"target": self.target.state_dict(), "predictor": self.predictor.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "moments": [int(self.count), float(self.mean), float(self.m2)]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.target.load_state_dict(state["target"])
        self.predictor.load_state_dict(state["predictor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.count, self.mean, self.m2 = int(state["moments"][0]), *map(float, state["moments"][1:])


class APTBonus:
    """Particle-based entropy: log(1 + mean distance to the k nearest of the last ``memory_size`` embeddings)."""

    def __init__(self, dim: int, k: int = 12, memory_size: int = 10_000) -> None:
        self.k, self.memory_size = k, memory_size
        self.memory = np.zeros((memory_size, dim), dtype=np.float32)
        self.filled, self.position = 0, 0

    def __call__(self, next_embeddings: np.ndarray, captions: Sequence[str]) -> np.ndarray:
        embeddings = np.asarray(next_embeddings, dtype=np.float32)
        bonus = np.zeros(len(embeddings), dtype=np.float32)
        if self.filled:
            memory = torch.from_numpy(self.memory[: self.filled])
            distances = torch.cdist(torch.from_numpy(embeddings), memory)
            nearest = distances.topk(min(self.k, self.filled), dim=1, largest=False).values
            bonus = torch.log1p(nearest.mean(dim=1)).numpy()
        for embedding in embeddings:
            self.memory[self.position] = embedding
            self.position = (self.position + 1) % self.memory_size
            self.filled = min(self.filled + 1, self.memory_size)
        return bonus

    def state_dict(self) -> dict[str, Any]:
        return {"memory": torch.from_numpy(self.memory[: self.filled].copy()), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        memory = state["memory"].numpy()
        self.filled, self.position = len(memory), int(state["position"])
        self.memory[: self.filled] = memory


_BASELINES: dict[str, Callable[..., IntrinsicReward]] = {
    "novelty": lambda dim, seed: NoveltyBonus(),
    "rnd": lambda dim, seed: RNDBonus(dim, seed=seed),
    "apt": lambda dim, seed: APTBonus(dim),
}


def make_intrinsic(name: str, dim: int, seed: int = 0) -> IntrinsicReward:
    """The baseline registered as ``name`` for embeddings of size ``dim``."""
    try:
        return _BASELINES[name](dim, seed)
    except KeyError:
        raise ValueError(f"unknown intrinsic baseline {name!r}; known: {', '.join(sorted(_BASELINES))}") from None
