"""DQN gradient updates per second: ours vs Stable-Baselines3's DQN, side by side in one run.

Both learners get the same MLP (two hidden layers), batch size, optimiser (Adam) and the same 20,000
stored transitions of 384-d states (the size of all-MiniLM-L6-v2 embeddings) and 17 actions (Crafter's);
each then performs the same number of gradient updates, timed in 5 alternating rounds (medians reported). Ours computes double-DQN targets (one extra
forward pass per update) and samples from a float16 buffer; SB3 uses plain DQN targets and float32.

Usage: python benchmarks/dqn_throughput.py [--quick] [--device cpu|cuda] [--hidden 512]
Needs ``stable-baselines3`` (``make bench`` installs it).
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch

from ellm_core.hardware import describe, describe_line

STATE_DIM, NUM_ACTIONS, STORED = 384, 17, 20_000


def transitions(rng: np.random.Generator):
    states = rng.normal(size=(STORED + 1, STATE_DIM)).astype(np.float32)
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    return states, rng.integers(0, NUM_ACTIONS, STORED), rng.normal(size=STORED).astype(np.float32)


def ours(states, actions, rewards, hidden: int, batch: int, device: str):
    """A function doing ``n`` gradient updates of our DQN on the stored transitions."""
    from ellm_core.agents.buffer import ReplayBuffer, Transition
    from ellm_core.agents.dqn import DQNAgent, DQNConfig

    agent = DQNAgent(STATE_DIM, NUM_ACTIONS, DQNConfig(hidden=hidden, batch_size=batch), device)
    buffer = ReplayBuffer(STORED, STATE_DIM, NUM_ACTIONS)
    mask = np.ones(NUM_ACTIONS, dtype=bool)
    for i in range(STORED):
        buffer.add(Transition(states[i], int(actions[i]), float(rewards[i]), states[i + 1], 0.99, mask))
    rng = np.random.default_rng(0)

    def run(n: int) -> None:
        for _ in range(n):
            agent.update(buffer.sample(batch, rng, device))

    return run


def stable_baselines(states, actions, rewards, hidden: int, batch: int, device: str):
    """A function doing ``n`` gradient updates of SB3's DQN on the same transitions."""
    from stable_baselines3 import DQN

    class Embeddings(gym.Env):
        observation_space = gym.spaces.Box(-1.0, 1.0, (STATE_DIM,), np.float32)
        action_space = gym.spaces.Discrete(NUM_ACTIONS)

        def reset(self, *, seed=None, options=None):
            return np.zeros(STATE_DIM, np.float32), {}

        def step(self, action):
            return np.zeros(STATE_DIM, np.float32), 0.0, False, False, {}

    model = DQN("MlpPolicy", Embeddings(), buffer_size=STORED, batch_size=batch, learning_starts=0, train_freq=4,
                gradient_steps=1, policy_kwargs={"net_arch": [hidden, hidden]}, device=device, seed=0)
    model._logger = __import__("stable_baselines3.common.logger", fromlist=["configure"]).configure(None, [])
    for i in range(STORED):
        model.replay_buffer.add(states[i : i + 1], states[i + 1 : i + 2], np.array([actions[i]]),
                                np.array([rewards[i]]), np.array([False]), [{}])
    return lambda n: model.train(gradient_steps=n, batch_size=batch)


def rate(run, n: int, device: str) -> float:
    """Updates per second of ``run(n)``."""
    started = time.perf_counter()
    run(n)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 timed updates instead of 3000")
    parser.add_argument("--device", default="cpu", help="torch device for both learners")
    parser.add_argument("--hidden", type=int, default=512, help="hidden units per layer (paper: 512)")
    parser.add_argument("--batch-size", type=int, default=64, help="minibatch size (paper: 64)")
    args = parser.parse_args()
    updates = 500 if args.quick else 3000
    states, actions, rewards = transitions(np.random.default_rng(0))
    torch.manual_seed(0)
    learners = {"ours": ours(states, actions, rewards, args.hidden, args.batch_size, args.device),
                "sb3": stable_baselines(states, actions, rewards, args.hidden, args.batch_size, args.device)}
    rates: dict[str, list[float]] = {name: [] for name in learners}
    for run in learners.values():
        run(20)  # warm-up
    for _ in range(5):  # alternate rounds so both see the same machine conditions; report medians
        for name, run in learners.items():
            rates[name].append(rate(run, updates // 5, args.device))
    ours_rate, sb3_rate = float(np.median(rates["ours"])), float(np.median(rates["sb3"]))
    print(f"DQN updates/s, MLP {STATE_DIM}-{args.hidden}-{args.hidden}-{NUM_ACTIONS}, batch {args.batch_size}, "
          f"{updates} updates, device {args.device}, {torch.get_num_threads()} threads")
    print(describe_line())
    print(f"{'learner':<28}{'updates/s':>12}")
    print(f"{'ellm_core DQN (double)':<28}{ours_rate:>12.1f}")
    print(f"{'Stable-Baselines3 DQN':<28}{sb3_rate:>12.1f}")
    print(json.dumps({"benchmark": "dqn_throughput", "ratio": round(ours_rate / sb3_rate, 2), "goal": ">= 1.0",
                      "ours_updates_per_s": round(ours_rate, 1), "sb3_updates_per_s": round(sb3_rate, 1),
                      "hidden": args.hidden, "batch_size": args.batch_size, "device": args.device,
                      **describe()}))


if __name__ == "__main__":
    main()
