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
        # fused: the same Adam update in one kernel (the per-tensor loop is more than half of a step's cost)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=lr, fused=True)
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
    """Particle-based entropy: log(1 + mean distance to the k nearest of the last ``memory_size`` embeddings).

    The memory is a ring of ``memory_size`` slots, as in APT. Text observations repeat (the same caption gives the
    same embedding), so each distinct embedding is stored once with the number of slots that hold it, and the k
    nearest are counted with those multiplicities: the same bonus as a scan of every slot, at the cost of the
    distinct embeddings only (a few thousand in 10k Crafter steps instead of 10k rows a step).

    Each step reads the memory once: squared distances as ``|b|^2 - 2ab`` (one matrix-vector product against
    stored norms) choose ``k + margin`` candidate rows, and the candidates' distances are then taken as differences,
    so an embedding seen before is at distance 0 exactly (``|a|^2 + |b|^2 - 2ab`` alone leaves ~1e-3). The
    bonus is the exact scan's unless more than ``margin`` rows tie with the k-th nearest to within float error.
    """

    margin = 16  # candidate rows beyond k whose exact distances are taken

    def __init__(self, dim: int, k: int = 12, memory_size: int = 10_000) -> None:
        self.k, self.memory_size, self.dim = k, memory_size, dim
        self._clear()

    def _clear(self) -> None:
        dim, memory_size = self.dim, self.memory_size
        self.slots = np.full(memory_size, -1, dtype=np.int64)  # slot -> row of ``vectors``
        self.vectors = np.zeros((memory_size, dim), dtype=np.float32)  # distinct embeddings (row reuse via ``free``)
        self.counts = np.zeros(memory_size, dtype=np.int64)  # slots holding each row; 0 = free
        self.norms = np.full(memory_size, np.inf, dtype=np.float32)  # |row|^2; inf for a free row (never chosen)
        self.rows: dict[bytes, int] = {}
        self.free: list[int] = []
        self.used, self.filled, self.position = 0, 0, 0  # rows ever used; slots filled; next slot

    def _row(self, embedding: np.ndarray) -> int:
        key = embedding.tobytes()
        row = self.rows.get(key)
        if row is None:
            row = self.free.pop() if self.free else self.used
            self.used = max(self.used, row + 1)
            self.rows[key] = row
            self.vectors[row] = embedding
            self.norms[row] = float(embedding @ embedding)
        return row

    def _add(self, embedding: np.ndarray) -> None:
        old = self.slots[self.position]
        if old >= 0:
            self.counts[old] -= 1
            if self.counts[old] == 0:
                del self.rows[self.vectors[old].tobytes()]
                self.free.append(int(old))
                self.norms[old] = np.inf
        row = self._row(embedding)
        self.counts[row] += 1
        self.slots[self.position] = row
        self.position = (self.position + 1) % self.memory_size
        self.filled = min(self.filled + 1, self.memory_size)

    def _bonus(self, embeddings: np.ndarray) -> np.ndarray:
        vectors = torch.from_numpy(self.vectors[: self.used])  # a view: the memory is read, not copied
        queries = torch.from_numpy(embeddings)
        rough = torch.from_numpy(self.norms[: self.used]) - 2 * queries @ vectors.T  # + |a|^2: same order
        k = min(self.k, self.filled)
        live = len(self.rows)
        candidates = rough.topk(min(k + self.margin, live), dim=1, largest=False).indices  # free rows are inf
        distances = (vectors[candidates] - queries[:, None, :]).norm(dim=2)  # exact, by differences
        nearest = distances.sort(dim=1)
        bonus = np.empty(len(embeddings), dtype=np.float32)
        for i, (values, order) in enumerate(zip(nearest.values.numpy(), nearest.indices.numpy())):
            counts = self.counts[candidates[i, order].numpy()]
            taken = np.minimum(np.cumsum(counts), k)  # the k nearest slots, with multiplicity
            weights = np.diff(taken, prepend=0)
            bonus[i] = np.log1p(float(values @ weights) / k)
        return bonus

    def __call__(self, next_embeddings: np.ndarray, captions: Sequence[str]) -> np.ndarray:
        embeddings = np.ascontiguousarray(next_embeddings, dtype=np.float32)
        bonus = self._bonus(embeddings) if self.filled else np.zeros(len(embeddings), dtype=np.float32)
        for embedding in embeddings:
            self._add(embedding)
        return bonus

    def memory(self) -> np.ndarray:
        """The filled slots' embeddings in slot order (the ring a plain implementation would hold)."""
        return self.vectors[self.slots[: self.filled]]

    def state_dict(self) -> dict[str, Any]:
        return {"memory": torch.from_numpy(self.memory().copy()), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        memory = state["memory"].numpy()
        self._clear()
        for embedding in memory:
            self._add(np.ascontiguousarray(embedding))
        self.filled, self.position = len(memory), int(state["position"])


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
