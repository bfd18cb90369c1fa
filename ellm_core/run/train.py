"""One readable training loop: act, step, store, update, evaluate, checkpoint, log.

Works with any gymnasium environment that speaks the text interface (``observation_text``,
``valid_actions``, ``caption`` in its info). The reward is chosen by name (``TrainConfig.reward``):
``ellm`` and ``oracle`` go through the ELLM goal reward, ``novelty``/``rnd``/``apt`` through the intrinsic
baselines, ``none`` adds nothing. A killed run resumes exactly from its last checkpoint (``resume=True``)
when its environments are synchronous and expose ``get_state``/``set_state``; otherwise they restart
their episodes.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import ellm_core.envs  # noqa: F401  (registers the example environments)
from ellm_core.agents.buffer import NStepCollector, ReplayBuffer
from ellm_core.agents.dqn import DQNAgent
from ellm_core.config import save_config
from ellm_core.goals import GoalGenerator
from ellm_core.reward import false_pay
from ellm_core.run.assembly import assemble, load_agent
from ellm_core.run.checkpoint import load_checkpoint, resume_checkpoint, save_checkpoint, save_network
from ellm_core.run.config import TrainConfig, check_config
from ellm_core.run.evaluate import evaluate
from ellm_core.run.faults import TrainingStopped, stop_signals
from ellm_core.run.runlog import RunLog, plot_curves, write_csv
from ellm_core.run.state import RunState
from ellm_core.text.embed import Embedder

logger = logging.getLogger(__name__)


def goal_stats(goal_source) -> dict[str, float]:
    """What the goal source reports about itself (its optional ``stats()``: the LM cache's hit rate, the background
    mode's miss rate, the distilled source's answer shares)."""
    stats = getattr(goal_source, "stats", None)
    return stats() if callable(stats) else {}


def close(goal_source) -> None:
    """Stop the goal source's background worker, if it has one (its optional ``close()``)."""
    if callable(getattr(goal_source, "close", None)):
        goal_source.close()


def write_pays(run_dir: Path, pays: list[dict[str, Any]], candidates: list[str], embedder: Embedder) -> dict[str, float]:
    """``pays.csv``: which caption each goal was paid for, the achievement the goal names (the nearest of the env's
    ``candidates``) and whether the pay was false; returns ``{"false_pay_share": ...}`` for the summary (nothing
    when the env has no candidates)."""
    share, rows = false_pay(pays, candidates, embedder)
    if rows:
        write_csv(run_dir / "pays.csv", rows)
    return {"false_pay_share": round(share, 4)} if candidates else {}


def init_from_run(agent: DQNAgent, run_dir: str | Path) -> Path:
    """Load a pretrained run's Q-network (its ``qnet.pt``, else its last checkpoint's) into ``agent`` (online and
    target); returns the file used."""
    try:
        pretrained = load_agent(run_dir)
    except FileNotFoundError as error:
        raise FileNotFoundError(f"--init-from {error}") from None
    try:
        agent.q.load_state_dict(pretrained.agent.q.state_dict())
    except RuntimeError as error:
        raise ValueError(f"--init-from {run_dir}: its Q-network does not fit this run's (same embedder, frame "
                         f"stack, goal conditioning, hidden sizes and actions needed): {error}") from None
    agent.sync_target()
    return pretrained.weights


def train(config: TrainConfig, goal_generator: GoalGenerator | None = None, embedder: Embedder | None = None,
          episode_hook=None, step_hook=None, start_from: Path | None | str = "choose") -> dict[str, Any]:
    """Train DQN with the configured reward; returns the final summary (also saved as ``summary.json``).

    ``goal_generator``/``embedder`` replace the configured LM/embedder (tests pass fakes). ``episode_hook``,
    if given, is called as ``episode_hook(final_info, step)`` for each finished training episode
    (e.g. crafter's ``stats.jsonl`` writer); ``step_hook(step, agent)`` after every vector step (e.g. crafter's
    periodic videos). ``start_from`` is the checkpoint a caller already chose with
    :func:`~ellm_core.run.checkpoint.resume_checkpoint` (``None``: a fresh start); by default ``train`` chooses it.
    """
    check_config(config)
    run_dir = Path(config.out)
    if start_from == "choose":
        start_from = resume_checkpoint(run_dir, config.resume, config.overwrite)
    checkpoint_path = start_from
    save_config(config, run_dir)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)

    parts = assemble(config, goal_generator, embedder)
    envs, embedder, cache, goal_generator, rollout = (parts.envs, parts.embedder, parts.cache, parts.goal_source,
                                                      parts.rollout)
    dqn = config.dqn
    agent = DQNAgent(rollout.encoder.state_dim, rollout.num_actions, dqn, config.device)
    buffer = ReplayBuffer(dqn.buffer_size, rollout.encoder.state_dim, rollout.num_actions, dqn.buffer_dtype)
    collector = NStepCollector(dqn.n_step, dqn.gamma, envs.num_envs)
    log = RunLog(run_dir, config.tensorboard)
    logger.info("replay buffer: %.1f MB preallocated", buffer.nbytes / 1e6)

    n = envs.num_envs
    episode = {"extrinsic": np.zeros(n), "intrinsic": np.zeros(n), "length": np.zeros(n, dtype=np.int64),
               "achieved": np.zeros(n, dtype=np.int64)}
    run = RunState(agent, buffer, collector, rollout.encoder, rollout.goal_reward, rollout.intrinsic, goal_generator,
                   envs, rng, episode)
    losses = []
    if checkpoint_path is not None:
        run.load_state_dict(load_checkpoint(checkpoint_path), config.seed)
        step, episodes_done, episode, states, masks = run.step, run.episodes_done, run.episode, run.states, run.masks
        if not run.restored_envs:
            logger.warning("environments cannot restore their state: resuming with fresh episodes")
            states, masks, _ = rollout.reset(seed=config.seed + step)
        log.truncate_after(step)
        logger.info("resumed %s at step %d", run_dir, step)
    else:
        step, episodes_done = 0, 0
        if config.init_from:
            logger.info("initialised the Q-network from %s", init_from_run(agent, config.init_from))
        states, masks, _ = rollout.reset(seed=config.seed)

    def schedule(every: int) -> int:  # the first multiple of ``every`` after the current step
        return (step // every + 1) * every if every > 0 else config.steps + 1

    next_update, next_target = max(schedule(dqn.train_every), dqn.learning_starts), schedule(dqn.target_update_every)
    next_log, next_eval, next_checkpoint = schedule(config.log_every), schedule(config.eval_every), schedule(config.checkpoint_every)

    def checkpoint() -> None:
        run.step, run.episodes_done, run.episode, run.states, run.masks = step, episodes_done, episode, states, masks
        save_checkpoint(run_dir, step, run.state_dict())

    started, start_step = time.perf_counter(), step
    with stop_signals() as stop, tqdm(total=config.steps, initial=step, desc=f"{config.reward} {config.env_id}",
                                      unit="step", disable=None) as bar:
        while step < config.steps and not stop:
            actions = agent.act(states, agent.epsilon(step), rng, masks)
            result = rollout.step(actions)
            rewards = result.extrinsic * float(config.keep_extrinsic) + config.intrinsic_scale * result.intrinsic
            for i in range(n):
                for transition in collector.push(i, states[i], actions[i], rewards[i], result.transition_states[i],
                                                 result.next_masks[i], result.terminated[i], result.truncated[i]):
                    buffer.add(transition)
            episode["extrinsic"] += result.extrinsic
            episode["intrinsic"] += result.intrinsic
            episode["length"] += 1
            episode["achieved"] += np.array([bool(goal) for goal in result.achieved_goals])
            step += n
            for i in np.flatnonzero(result.terminated | result.truncated):
                episodes_done += 1
                log.write("episodes", {"step": step, "episode": episodes_done, "extrinsic_return": episode["extrinsic"][i],
                                       "intrinsic_return": episode["intrinsic"][i], "length": int(episode["length"][i]),
                                       "achieved_goals": int(episode["achieved"][i])})
                if episode_hook is not None:
                    episode_hook(result.transition_infos[i], step)
                for value in episode.values():
                    value[i] = 0
            states, masks = result.states, result.masks
            while step >= next_update and len(buffer) >= dqn.batch_size:
                losses.append(agent.update(buffer.sample(dqn.batch_size, rng, config.device))["loss"])
                next_update += dqn.train_every
            while step >= next_target:
                agent.sync_target()
                next_target += dqn.target_update_every
            if step >= next_log:
                elapsed = time.perf_counter() - started
                log.write("progress", {"step": step, "epsilon": round(agent.epsilon(step), 4),
                                       "loss": float(np.mean(losses)) if losses else float("nan"),
                                       "updates": agent.updates, "buffer": len(buffer), "episodes": episodes_done,
                                       "steps_per_s": round((step - start_step) / max(elapsed, 1e-9), 1),
                                       "embedding_hit_rate": round(embedder.hit_rate, 4),
                                       "llm_cache_hit_rate": round(cache.hit_rate, 4) if cache else 0.0,
                                       **goal_stats(goal_generator)})
                losses.clear()
                next_log += config.log_every
            if step >= next_eval:
                scores = evaluate(agent, config, embedder, goal_generator, step, aliases=parts.aliases)
                log.write("eval", {"step": step, **scores})
                next_eval += config.eval_every
            if step >= next_checkpoint:
                checkpoint()
                next_checkpoint += config.checkpoint_every
            if step_hook is not None:
                step_hook(step, agent)
            bar.update(n)
        if stop:  # SIGINT or SIGTERM: the step is done; keep it and say how to go on
            checkpoint()
            log.close()
            close(goal_generator)
            envs.close()
            raise TrainingStopped(stop.signum, step, run_dir)
    checkpoint()
    save_network(run_dir, agent.q.state_dict())
    final = evaluate(agent, config, embedder, goal_generator, step, aliases=parts.aliases)
    log.write("eval", {"step": step, **final})
    log.close()
    pay_stats = {}
    if rollout.goal_reward is not None:  # which goals were active, and which paid for what, over the whole run
        write_csv(run_dir / "goals.csv", rollout.goal_reward.goal_counts())
        pay_stats = write_pays(run_dir, rollout.goal_reward.pay_counts(), parts.candidates, embedder)
    close(goal_generator)
    summary = {"step": step, "episodes": episodes_done, "reward": config.reward, "env_id": config.env_id,
               "seed": config.seed, "final_eval": final, "embedding_hit_rate": embedder.hit_rate,
               "steps_per_s": round((step - start_step) / max(time.perf_counter() - started, 1e-9), 2),
               **goal_stats(goal_generator), **pay_stats,
               "plots": [str(p) for p in plot_curves(run_dir)]}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    envs.close()
    return summary
