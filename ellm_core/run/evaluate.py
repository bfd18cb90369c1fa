"""Evaluation episodes of a trained agent on a fresh environment (no learning, small fixed ε)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ellm_core.agents.dqn import DQNAgent
from ellm_core.goals import GoalGenerator
from ellm_core.run.assembly import build_rollout, make_envs
from ellm_core.run.config import TrainConfig
from ellm_core.text.embed import Embedder


def evaluate(agent: DQNAgent, config: TrainConfig, embedder: Embedder, goal_generator: GoalGenerator | None,
             step: int, episode_hook=None, aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``config.eval_episodes`` episodes with ε = ``config.eval_epsilon``; mean/std of their returns.

    Uses its own random generator and environment, so evaluating never changes the training run.
    Intrinsic baselines are not trained here; the ELLM/oracle goal reward is measured (and conditions the
    goal-conditioned agent) as in training. ``aliases``: the env's goal aliases, as the run's assembly asked them.
    """
    envs = make_envs(config, num_envs=1)
    rollout = build_rollout(config, envs, embedder, goal_generator, aliases)
    rollout.intrinsic = None
    rng = np.random.default_rng([config.seed, step, 7])
    states, masks, _ = rollout.reset(seed=config.seed + 1_000_000 + step)
    finished: list[np.ndarray] = []  # per episode: extrinsic return, intrinsic return, achieved goals, length
    unlocked: list[dict[str, int]] = []  # per episode, where the env reports ``info["achievements"]``
    totals = np.zeros(4)
    while len(finished) < config.eval_episodes:
        actions = agent.act(states, config.eval_epsilon, rng, masks)
        result = rollout.step(actions)
        totals += (result.extrinsic[0], result.intrinsic[0], bool(result.achieved_goals[0]), 1)
        if result.terminated[0] or result.truncated[0]:
            finished.append(totals.copy())
            totals[:] = 0
            if "achievements" in result.transition_infos[0]:
                unlocked.append({k: int(v > 0) for k, v in result.transition_infos[0]["achievements"].items()})
            if episode_hook is not None:
                episode_hook(result.transition_infos[0], step)
        states, masks = result.states, result.masks
    envs.close()
    table = np.stack(finished)
    achievements: dict[str, float] = {}
    if unlocked:
        achievements["achievements_unlocked_mean"] = float(np.mean([sum(one.values()) for one in unlocked]))
        achievements.update({f"success_{name}": float(np.mean([one.get(name, 0) for one in unlocked]))
                             for name in sorted(unlocked[0])})
    return {**achievements, "extrinsic_return_mean": float(table[:, 0].mean()), "extrinsic_return_std": float(table[:, 0].std()),
            "intrinsic_return_mean": float(table[:, 1].mean()), "achieved_goals_mean": float(table[:, 2].mean()),
            "length_mean": float(table[:, 3].mean()), "episodes": len(finished)}
