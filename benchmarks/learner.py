"""Where the DQN learner's time goes on one core, and what the levers buy: ratios measured side by side.

The Crafter loop acts every step (one 384-d state through the 384-512-512-17 MLP) and updates every 4 steps on a
minibatch of 64 from the replay buffer. This times, in alternating rounds (medians, so a busy machine skews all
contenders alike):

- ``act``: ``DQNAgent.act`` under ``torch.no_grad`` (before) against ``torch.inference_mode`` (today);
- ``sample``: one minibatch from the replay buffer (float16 storage, gathered and converted);
- ``update``: today's double-DQN update (three forward passes: online on the next states, target on the next
  states, online on the states) against one where the online network sees the states and the next states in one
  pass of 128 rows, and against ``torch.compile`` of the network (``--compile``; the first call compiles);
- ``update, 2 threads``: today's update with two torch threads instead of one.

Usage: python benchmarks/learner.py [--quick] [--compile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ellm_core.agents.buffer import ReplayBuffer, Transition
from ellm_core.agents.dqn import DQNAgent, DQNConfig
from ellm_core.hardware import describe, describe_line

STATE_DIM, NUM_ACTIONS, STORED, BATCH = 384, 17, 20_000, 64


class SharedForwardAgent(DQNAgent):
    """Today's update, with the online network's two passes (next states, states) as one batch."""

    def update(self, batch):
        both = self.q(torch.cat([batch.states, batch.next_states]))
        q_now, next_online = both[:len(batch.states)], both[len(batch.states):].detach()
        with torch.no_grad():
            next_online = next_online.masked_fill(~batch.next_action_masks, -torch.inf)
            next_actions = next_online.argmax(dim=1, keepdim=True)
            next_values = self.target(batch.next_states).gather(1, next_actions).squeeze(1)
            targets = batch.returns + batch.discounts * next_values
        q_taken = q_now.gather(1, batch.actions.unsqueeze(1)).squeeze(1)
        loss = F.smooth_l1_loss(q_taken, targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.q.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.updates += 1
        return {"loss": loss.item()}


def filled_buffer(rng: np.random.Generator) -> ReplayBuffer:
    states = rng.normal(size=(STORED + 1, STATE_DIM)).astype(np.float32)
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    buffer = ReplayBuffer(STORED, STATE_DIM, NUM_ACTIONS)
    mask = np.ones(NUM_ACTIONS, dtype=bool)
    for i in range(STORED):
        buffer.add(Transition(states[i], int(rng.integers(NUM_ACTIONS)), float(rng.normal()), states[i + 1], 0.99,
                              mask))
    return buffer


def per_call_ms(function, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the Q-network")
    args = parser.parse_args()
    calls, rounds = (50, 3) if args.quick else (300, 5)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    buffer = filled_buffer(rng)
    config = DQNConfig(hidden=512, batch_size=BATCH)
    today, shared = DQNAgent(STATE_DIM, NUM_ACTIONS, config), SharedForwardAgent(STATE_DIM, NUM_ACTIONS, config)
    state = rng.normal(size=(1, STATE_DIM)).astype(np.float32)

    def act_under(mode):
        with mode():
            DQNAgent.act.__wrapped__(today, state, 0.0, rng)

    contenders = {
        "act (no_grad, before)": lambda: act_under(torch.no_grad),
        "act (inference_mode, today)": lambda: act_under(torch.inference_mode),
        "sample a minibatch": lambda: buffer.sample(BATCH, rng, "cpu"),
        "update (today)": lambda: today.update(buffer.sample(BATCH, rng, "cpu")),
        "update, shared forward": lambda: shared.update(buffer.sample(BATCH, rng, "cpu")),
    }
    if args.compile:
        compiled = DQNAgent(STATE_DIM, NUM_ACTIONS, config)
        compiled.q = torch.compile(compiled.q)
        compiled.target = torch.compile(compiled.target)
        start = time.perf_counter()
        compiled.update(buffer.sample(BATCH, rng, "cpu"))
        print(f"torch.compile: first update {time.perf_counter() - start:.1f} s")
        contenders["update, torch.compile"] = lambda: compiled.update(buffer.sample(BATCH, rng, "cpu"))

    def two_threads():
        torch.set_num_threads(2)
        try:
            today.update(buffer.sample(BATCH, rng, "cpu"))
        finally:
            torch.set_num_threads(1)

    contenders["update, 2 threads"] = two_threads
    for function in contenders.values():
        per_call_ms(function, 5)  # warm up
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, function in contenders.items():
            times[name].append(per_call_ms(function, calls))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"DQN learner, 384-512-512-17, batch {BATCH}, {calls} calls x {rounds} alternating rounds, 1 torch thread")
    print(describe_line(1))
    print(f"{'contender':<28}{'ms / call':>10}{'ratio':>9}  (act: ÷ no_grad; update: ÷ today)")
    for name, value in medians.items():
        base = medians["act (no_grad, before)"] if name.startswith("act") else medians["update (today)"]
        ratio = f"{value / base:>9.2f}" if not name.startswith("sample") else f"{'':>9}"
        print(f"{name:<28}{value:>10.3f}{ratio}")
    per_step = medians["act (inference_mode, today)"] + medians["update (today)"] / 4
    print(f"learner per environment step (act + update / 4): {per_step:.2f} ms")
    print(json.dumps({"benchmark": "learner", "ms": {k: round(v, 4) for k, v in medians.items()},
                      "ratio": round(medians["update, shared forward"] / medians["update (today)"], 3),
                      "goal": "shared forward < 0.9 of today to be worth a 100k check", **describe(1)}))


if __name__ == "__main__":
    main()
