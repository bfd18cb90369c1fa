"""``ellm crafter prewarm``: fill the LLM cache with the goals of situations an agent will meet, in large batches.

A training run asks the LM about each new observation caption as it meets it, one situation at a time. Crafter
repeats its situations a lot, so most of those questions can be asked before training, by playing cheap steps
(random or scripted, with the text fast path), collecting the unique captions and answering them in large
batches. The goals go into the same SQLite cache, under the same keys, because the goal generator is built by the
same function as in training (:func:`ellm_core.run.assembly.make_goal_source`) from the same flags.

Coverage is measured, not assumed: a second, held-out play (another seed) counts the share of its situations
whose goals the cache holds before and after pre-warming; that is the LLM hit rate a training run can expect.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ellm_core.cache import open_cache
from ellm_core.crafter.env import CrafterEnv
from ellm_core.crafter.situations import scripted_action
from ellm_core.goals.labels import write_labels
from ellm_core.run.assembly import CANDIDATE_MODES, make_goal_source
from ellm_core.run.config import TrainConfig, updated

logger = logging.getLogger(__name__)

POLICIES = ("random", "scripted", "agent", "labels")
Situation = tuple[str, tuple[str, ...]]


def play_situations(steps: int, seed: int = 0, policy: str = "random", length: int = 400) -> dict[Situation, int]:
    """The unique (observation caption, valid actions) met in ``steps`` steps of seeded play, in order of first
    visit, with their visit counts."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    rng = np.random.default_rng(seed)
    env = CrafterEnv(length=length, pixels=False)
    _, info = env.reset(seed=seed)
    seen: dict[Situation, int] = {}
    for _ in range(steps):
        situation = (info["observation_text"], tuple(info["valid_actions"]))
        seen[situation] = seen.get(situation, 0) + 1
        if policy == "random":
            action = int(rng.integers(env.action_space.n))
        else:
            action = scripted_action(info["observation_text"], info["inventory"], rng)
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset()
    return seen


def agent_situations(run_dirs: Sequence[str | Path], steps: int, seed: int = 0, epsilon: float = 0.05,
                     length: int = 400) -> dict[Situation, int]:
    """The unique situations that the agents of ``run_dirs`` meet in ``steps`` steps each (ε-greedy, each with its
    own config's embedder and network), with their visit counts, in order of first visit."""
    from ellm_core.run.assembly import build_rollout, load_agent, make_envs
    from ellm_core.text.embed import make_embedder

    seen: dict[Situation, int] = {}
    embedders: dict[str, object] = {}
    for index, run_dir in enumerate(run_dirs):
        loaded = load_agent(run_dir)
        env_kwargs = {**loaded.config.env_arguments(), "length": length, "pixels": False}
        config = updated(loaded.config, reward="none", num_envs=1, async_envs=False, env_kwargs=json.dumps(env_kwargs))
        if config.embedder not in embedders:
            embedders[config.embedder] = make_embedder(config.embedder, "cpu")
        envs = make_envs(config, num_envs=1)
        rollout = build_rollout(config, envs, embedders[config.embedder], None)
        agent = loaded.agent
        rng = np.random.default_rng(seed + index)
        states, masks, infos = rollout.reset(seed=seed + 1000 * index)
        info = infos[0]
        for _ in tqdm(range(steps), desc=f"play {Path(run_dir).name}", unit="step", disable=None):
            situation = (info["observation_text"], tuple(info["valid_actions"]))
            seen[situation] = seen.get(situation, 0) + 1
            result = rollout.step(agent.act(states, epsilon, rng, masks))
            states, masks = result.states, result.masks
            info = result.transition_infos[0]
            if result.terminated[0] or result.truncated[0]:  # the next episode has begun
                info = {"observation_text": rollout.envs.envs[0].unwrapped.observation_text(),
                        "valid_actions": info["valid_actions"]}
        envs.close()
    return seen


def cached_share(generator, visits: dict[Situation, int]) -> float | None:
    """Share of the steps of a play (``visits``) whose situation's goals the generator's cache holds: the LLM hit
    rate a run meeting these situations would have (``None`` if the generator cannot tell)."""
    if not visits or not hasattr(generator, "cached_batch"):
        return None
    situations = list(visits)
    answers = generator.cached_batch([obs for obs, _ in situations], [list(acts) for _, acts in situations])
    return sum(visits[s] for s, answer in zip(situations, answers) if answer is not None) / sum(visits.values())


def prewarm(config: TrainConfig, policy: str = "random", check_steps: int = 2_000, batch_size: int = 64,
            agents: list[str] | None = None, agent_epsilon: float = 0.05, labels_out: str | None = None,
            situations_from: str | None = None) -> dict:
    """Play ``config.steps`` steps, answer every unique situation into ``config.cache``; returns the coverage report.

    ``config`` is the training run's config (its LM, prompts and goal mode make the cache keys); its ``seed``
    seeds the play, and ``seed + 1`` the held-out check play of ``check_steps`` steps. With ``policy="agent"``
    each run of ``agents`` (a trained run with a ``qnet.pt``) plays ``config.steps`` steps ε-greedy instead; with
    ``policy="labels"`` the situations are those of the label file ``situations_from`` (another LM's labels of the
    same situations: the same coverage).
    With ranked goals, ``labels_out`` receives the label file of the situations (:mod:`ellm_core.goals.labels`).
    A killed pre-warm loses at most one batch: the answers are in the cache, and a rerun skips them.
    """
    if config.reward != "ellm" or config.goal.source not in ("lm", "distilled"):
        raise ValueError("pre-warming is for --reward ellm with LM goals (--goal-source lm or distilled)")
    cache = open_cache(config.cache)
    if cache is None:
        raise ValueError("pre-warming needs a cache (--cache PATH, not 'none')")
    length = int(config.env_arguments().get("length", 400))
    env = CrafterEnv(length=length, pixels=False)
    config = updated(config, lm_async=False, goal_source="lm")  # the LM itself: a distilled run reads its cache
    generator = make_goal_source(config, cache, env.goal_candidates() if config.goal.mode in CANDIDATE_MODES else None)
    if labels_out and config.goal.mode != "ranked":
        raise ValueError("--labels-out writes ranked goals' scores: add --goals ranked")
    started = time.perf_counter()
    if policy == "agent":
        if not agents:
            raise ValueError("--policy agent needs --agents RUN [RUN ...] (training runs with a qnet.pt)")
        visits = agent_situations(agents, config.steps, config.seed, agent_epsilon, length)
    elif policy == "labels":
        if not situations_from:
            raise ValueError("--policy labels needs --situations-from LABELS.jsonl.gz (a label file)")
        from ellm_core.goals.labels import read_labels

        _, lines = read_labels(situations_from)
        visits = {(row["observation"], tuple(row["actions"])): int(row.get("visits", 0)) for row in lines}
    else:
        visits = play_situations(config.steps, config.seed, policy, length)
    situations = list(visits)
    held_out = play_situations(check_steps, config.seed + 1, policy, length) if check_steps > 0 else {}
    play_s = time.perf_counter() - started
    before = cached_share(generator, held_out)
    lm = getattr(generator, "lm", None)
    todo = situations
    if hasattr(generator, "cached_batch"):
        answers = generator.cached_batch([obs for obs, _ in situations], [list(acts) for _, acts in situations])
        todo = [situation for situation, answer in zip(situations, answers) if answer is None]
    started = time.perf_counter()
    with tqdm(total=len(todo), desc="prewarm", unit="situation", disable=None) as bar:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            generator.suggest_batch([obs for obs, _ in chunk], [list(acts) for _, acts in chunk])
            bar.update(len(chunk))
    generate_s = time.perf_counter() - started
    if labels_out:
        write_labels(labels_out, generator, situations, config.lm.model or "smollm2-135m", str(config.goal.prompts), visits,
                     batch_size)
    report = {"agents": agents if policy == "agent" else None, "situations_from": situations_from,
              "labels_out": labels_out, "steps": config.steps, "policy": policy, "seed": config.seed, "unique_situations": len(situations),
              "already_cached": len(situations) - len(todo), "generated": len(todo),
              "play_s": round(play_s, 2), "generate_s": round(generate_s, 2),
              "s_per_situation": round(generate_s / len(todo), 4) if todo else 0.0,
              "check_steps": check_steps, "check_situations": len(held_out),
              "check_hit_rate_before": before, "check_hit_rate_after": cached_share(generator, held_out),
              "lm": getattr(getattr(lm, "lm", lm), "identity", None), "cache": cache.path}
    logger.info("prewarm: %s", json.dumps(report))
    return report


def format_report(report: dict) -> str:
    """The coverage report as a few readable lines."""
    def share(value):
        return "n/a" if value is None else f"{value:.1%}"

    return "\n".join([
        f"played {report['steps']} steps ({report['policy']} policy, seed {report['seed']}): "
        f"{report['unique_situations']} unique situations, {report['already_cached']} already cached",
        f"generated goals for {report['generated']} situations in {report['generate_s']:.1f} s "
        f"({report['s_per_situation']:.3f} s each) into {report['cache']}",
        f"held-out play ({report['check_steps']} steps, seed {report['seed'] + 1}, {report['check_situations']} "
        f"situations): LLM hit rate per step {share(report['check_hit_rate_before'])} before, "
        f"{share(report['check_hit_rate_after'])} after pre-warming",
    ])
