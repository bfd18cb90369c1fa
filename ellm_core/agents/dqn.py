"""Double DQN with n-step returns and Huber loss, over text-embedding state vectors.

The Q-network is an MLP over the state vector built by :class:`ellm_core.agents.state.StateEncoder`
(observation embedding(s), plus the goal embedding for the goal-conditioned agent). Targets are
``R + γ^n · Q_target(s', argmax_a' Q_online(s', a'))`` over the valid next actions; the target network is
copied every ``target_update_every`` steps; ε decays linearly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ellm_core.agents.buffer import ReplayBatch
from ellm_core.config import option


@dataclass
class DQNConfig:
    """DQN hyper-parameters; defaults are the paper's (the ``paper`` preset)."""

    gamma: float = option(0.99, "discount factor")
    n_step: int = option(3, "n-step return length")
    lr: float = option(6.25e-5, "Adam learning rate")
    adam_eps: float = option(1.5e-4, "Adam epsilon")
    batch_size: int = option(64, "minibatch size")
    buffer_size: int = option(1_000_000, "replay capacity in transitions")
    buffer_dtype: str = option("float16", "storage dtype of state vectors in the replay buffer")
    learning_starts: int = option(5_000, "environment steps before the first update")
    train_every: int = option(4, "environment steps per gradient update")
    target_update_every: int = option(8_000, "environment steps between target-network copies")
    eps_start: float = option(1.0, "initial exploration rate")
    eps_end: float = option(0.01, "final exploration rate")
    eps_decay_steps: int = option(1_000_000, "environment steps of the linear epsilon decay")
    hidden: int = option(512, "hidden units per layer of the Q-network")
    layers: int = option(2, "hidden layers of the Q-network")
    grad_clip: float = option(10.0, "gradient-norm clipping")
    double: bool = option(True, "double DQN targets")


class QNetwork(nn.Module):
    """MLP: state vector -> one Q-value per action."""

    def __init__(self, state_dim: int, num_actions: int, hidden: int = 512, layers: int = 2) -> None:
        super().__init__()
        sizes = [state_dim] + [hidden] * layers
        blocks: list[nn.Module] = []
        for size_in, size_out in zip(sizes[:-1], sizes[1:]):
            blocks += [nn.Linear(size_in, size_out), nn.ReLU()]
        self.net = nn.Sequential(*blocks, nn.Linear(sizes[-1], num_actions))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.net(states)


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """ε decayed linearly from ``start`` to ``end`` over ``decay_steps`` steps, then held."""
    fraction = min(1.0, step / max(1, decay_steps))
    return start + fraction * (end - start)


class DQNAgent:
    """Online and target Q-networks, the optimiser, and ε-greedy action selection.

    Args:
        state_dim: length of the state vector.
        num_actions: number of discrete actions.
        config: hyper-parameters.
        device: torch device.
    """

    def __init__(self, state_dim: int, num_actions: int, config: DQNConfig, device: str = "cpu") -> None:
        self.config, self.device, self.num_actions = config, torch.device(device), num_actions
        self.q = QNetwork(state_dim, num_actions, config.hidden, config.layers).to(self.device)
        self.target = QNetwork(state_dim, num_actions, config.hidden, config.layers).to(self.device)
        self.target.load_state_dict(self.q.state_dict())
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=config.lr, eps=config.adam_eps, fused=True)
        self.updates = 0

    def epsilon(self, step: int) -> float:
        """Exploration rate at environment step ``step``."""
        c = self.config
        return linear_epsilon(step, c.eps_start, c.eps_end, c.eps_decay_steps)

    @torch.inference_mode()
    def act(
        self, states: np.ndarray, epsilon: float, rng: np.random.Generator, masks: np.ndarray | None = None
    ) -> np.ndarray:
        """ε-greedy actions for a batch of states; ``masks`` (bool, n × actions) restricts to valid actions."""
        n = len(states)
        masks = np.ones((n, self.num_actions), dtype=bool) if masks is None else np.asarray(masks, dtype=bool)
        q_values = self.q(torch.as_tensor(states, dtype=torch.float32, device=self.device)).cpu().numpy()
        greedy = np.where(masks, q_values, -np.inf).argmax(axis=1)
        random_actions = np.array([rng.choice(np.flatnonzero(mask)) for mask in masks])
        explore = rng.random(n) < epsilon
        return np.where(explore, random_actions, greedy)

    def update(self, batch: ReplayBatch) -> dict[str, float]:
        """One gradient step on a minibatch; returns the loss and mean Q."""
        with torch.no_grad():
            next_online = self.q(batch.next_states) if self.config.double else self.target(batch.next_states)
            next_online = next_online.masked_fill(~batch.next_action_masks, -torch.inf)
            next_actions = next_online.argmax(dim=1, keepdim=True)
            next_values = self.target(batch.next_states).gather(1, next_actions).squeeze(1)
            targets = batch.returns + batch.discounts * next_values
        q_taken = self.q(batch.states).gather(1, batch.actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q_taken, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.updates += 1
        return {"loss": loss.item(), "q_mean": q_taken.detach().mean().item()}

    def sync_target(self) -> None:
        """Copy the online network into the target network."""
        self.target.load_state_dict(self.q.state_dict())

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimiser and update count."""
        return {"q": self.q.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.q.load_state_dict(state["q"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates = int(state["updates"])
