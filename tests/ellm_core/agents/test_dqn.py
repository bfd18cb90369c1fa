import numpy as np
import pytest
import torch

from ellm_core.agents.buffer import ReplayBatch
from ellm_core.agents.dqn import DQNAgent, DQNConfig, linear_epsilon


def test_epsilon_schedule_is_linear_then_flat():
    assert linear_epsilon(0, 1.0, 0.1, 100) == 1.0
    assert abs(linear_epsilon(50, 1.0, 0.1, 100) - 0.55) < 1e-9
    assert linear_epsilon(1_000, 1.0, 0.1, 100) == pytest.approx(0.1)


def test_act_respects_action_masks_greedy_and_random():
    agent = DQNAgent(4, 3, DQNConfig(hidden=16))
    masks = np.array([[False, True, False]] * 20)
    rng = np.random.default_rng(0)
    for epsilon in (0.0, 1.0):
        assert (agent.act(np.random.rand(20, 4), epsilon, rng, masks) == 1).all()


def test_updates_fit_a_fixed_batch_and_target_sync():
    torch.manual_seed(0)
    agent = DQNAgent(4, 2, DQNConfig(hidden=32, lr=1e-2))
    states = torch.randn(16, 4)
    batch = ReplayBatch(states, torch.randint(0, 2, (16,)), torch.randn(16), states, torch.zeros(16),
                        torch.ones(16, 2, dtype=torch.bool))
    losses = [agent.update(batch)["loss"] for _ in range(200)]
    assert losses[-1] < 0.05 * losses[0]
    assert not torch.equal(agent.q.net[0].weight, agent.target.net[0].weight)
    agent.sync_target()
    assert torch.equal(agent.q.net[0].weight, agent.target.net[0].weight)
