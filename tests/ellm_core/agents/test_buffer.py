import numpy as np
import pytest
import torch

from ellm_core.agents.buffer import NStepCollector, ReplayBuffer, Transition, bytes_per_transition

MASK = np.ones(3, dtype=bool)


def push_episode(collector, rewards, terminated=True):
    out = []
    for t, reward in enumerate(rewards):
        last = t == len(rewards) - 1
        out += collector.push(0, np.full(2, t, np.float32), t % 3, reward, np.full(2, t + 1, np.float32), MASK,
                              terminated=terminated and last, truncated=not terminated and last)
    return out


def test_n_step_returns_and_discounts_on_termination():
    transitions = push_episode(NStepCollector(n_step=3, gamma=0.5, num_envs=1), [1.0, 2.0, 4.0, 8.0])
    assert [t.n_step_return for t in transitions] == [1 + 1 + 1, 2 + 2 + 2, 4 + 4, 8]
    assert [t.discount for t in transitions] == [0.125, 0.0, 0.0, 0.0]
    assert [t.state[0] for t in transitions] == [0, 1, 2, 3]
    assert [t.next_state[0] for t in transitions] == [3, 4, 4, 4]


def test_truncation_still_bootstraps():
    transitions = push_episode(NStepCollector(n_step=3, gamma=0.5, num_envs=1), [1.0, 1.0], terminated=False)
    assert [t.discount for t in transitions] == [0.25, 0.5]


def test_ring_buffer_overwrites_oldest_and_samples_tensors():
    buffer = ReplayBuffer(capacity=4, state_dim=2, num_actions=3, dtype="float16")
    for i in range(6):
        buffer.add(Transition(np.full(2, i), i % 3, float(i), np.full(2, i + 1), 0.9, MASK))
    assert len(buffer) == 4 and sorted(buffer.returns.tolist()) == [2, 3, 4, 5]
    batch = buffer.sample(8, np.random.default_rng(0))
    assert batch.states.dtype == torch.float32 and batch.states.shape == (8, 2)
    assert torch.equal(batch.next_states[:, 0], batch.states[:, 0] + 1)
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(2, 2, 3).sample(1, np.random.default_rng(0))


def test_state_dict_round_trip_and_memory_figures():
    buffer = ReplayBuffer(capacity=5, state_dim=2, num_actions=3)
    for i in range(3):
        buffer.add(Transition(np.full(2, i), 1, float(i), np.full(2, i), 0.5, MASK))
    copy = ReplayBuffer(capacity=5, state_dim=2, num_actions=3)
    copy.load_state_dict(buffer.state_dict())
    assert (copy.size, copy.position) == (3, 3)
    np.testing.assert_array_equal(copy.states, buffer.states)
    # documented figure: goal-conditioned all-MiniLM (384 + 384 dims), float16, 17 actions ≈ 3.1 KB/transition
    assert 3_000 < bytes_per_transition(768, 17, "float16") < 3_200
    assert bytes_per_transition(768, 17, "float32") > 6_000
