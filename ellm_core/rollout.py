"""Stepping a vector of text environments: state vectors for the agent, rewards, and one-step transitions.

Used by training and evaluation alike. The environments speak the text interface of
:mod:`ellm_core.wrappers` and run with gymnasium's same-step autoreset, so a finished episode's last
transition is read from ``info["final_info"]`` while the returned observation already starts the next one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from ellm_core.agents.intrinsic import IntrinsicReward, make_intrinsic
from ellm_core.agents.state import StateEncoder
from ellm_core.cache import SQLiteCache
from ellm_core.distilled import DistilledGoals
from ellm_core.embed import Embedder
from ellm_core.goals import ClosedFormGoals, GoalGenerator, OpenEndedGoals, RankedGoals
from ellm_core.lm.background import BackgroundGoals
from ellm_core.lm.base import LMConfig
from ellm_core.lm.registry import make_language_model
from ellm_core.prompts import PromptConfig
from ellm_core.resources import cpu_threads
from ellm_core.reward import VectorGoalReward
from ellm_core.train_config import TrainConfig
from ellm_core.wrappers import require_text_info

logger = logging.getLogger(__name__)


def unbatch_info(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Split a vector env's info dict into one dict per environment (a key where its ``_key`` mask is False is
    left out for that environment)."""
    per_env: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    for key, values in info.items():
        if key.startswith("_"):
            continue
        mask = info.get(f"_{key}")
        indices = range(num_envs) if mask is None else [i for i, present in enumerate(mask.tolist()) if present]
        if isinstance(values, dict):
            values = unbatch_info(values, num_envs)
        for i in indices:
            per_env[i][key] = values[i]
    return per_env


@dataclass
class StepResult:
    """What one vector step produced, per environment."""

    transition_states: np.ndarray  # state vectors after the action (the final one for finished episodes)
    states: np.ndarray  # state vectors the agent acts from next (new episodes' first ones where reset)
    extrinsic: np.ndarray
    intrinsic: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_masks: np.ndarray  # valid actions in transition_states
    masks: np.ndarray  # valid actions in states
    transition_infos: list[dict[str, Any]]
    achieved_goals: list[str]


class TextRollout:
    """Owns the vector env, the state encoder and the reward source (goal reward or an intrinsic baseline)."""

    def __init__(self, envs: gym.vector.VectorEnv, encoder: StateEncoder, goal_reward: VectorGoalReward | None = None,
                 intrinsic: IntrinsicReward | None = None) -> None:
        self.envs, self.encoder, self.goal_reward, self.intrinsic = envs, encoder, goal_reward, intrinsic
        self.num_envs, self.num_actions = envs.num_envs, int(envs.single_action_space.n)

    def _masks(self, infos: Sequence[dict[str, Any]]) -> np.ndarray:
        return np.stack([np.asarray(info.get("action_mask", np.ones(self.num_actions)), dtype=bool) for info in infos])

    def _goals(self, infos: Sequence[dict[str, Any]]) -> list[list[str]]:
        if self.goal_reward is None:
            return [[] for _ in infos]
        texts = [info["observation_text"] for info in infos]
        return self.goal_reward.suggest(texts, [info["valid_actions"] for info in infos])

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Reset every env; returns (states, action masks, infos)."""
        _, info = self.envs.reset(seed=seed)
        infos = unbatch_info(info, self.num_envs)
        for one in infos:
            require_text_info(one)
        indices = list(range(self.num_envs))
        if self.goal_reward is not None:
            self.goal_reward.reset(indices)
        goals = self._goals(infos)
        states = self.encoder.reset(indices, [one["observation_text"] for one in infos], goals)
        return states, self._masks(infos), infos

    def step(self, actions: np.ndarray) -> StepResult:
        """Act in every env and compute rewards, transition states and the next states."""
        _, extrinsic, terminated, truncated, info = self.envs.step(actions)
        done = terminated | truncated
        infos = unbatch_info(info, self.num_envs)
        finals = unbatch_info(info["final_info"], self.num_envs) if "final_info" in info else [{}] * self.num_envs
        transition_infos = [finals[i] if done[i] else infos[i] for i in range(self.num_envs)]
        captions = [str(one.get("caption", "")) for one in transition_infos]
        texts = [one["observation_text"] for one in transition_infos]

        achieved = [""] * self.num_envs
        intrinsic = np.zeros(self.num_envs, dtype=np.float32)
        if self.goal_reward is not None:
            intrinsic, achieved = self.goal_reward.reward(captions)
            self.goal_reward.reset(np.flatnonzero(done))
        elif self.intrinsic is not None:
            intrinsic = np.asarray(self.intrinsic(self.encoder.embedder.encode(texts), captions), dtype=np.float32)

        goals = self._goals(infos)  # for the observations the agent acts from next
        transition_goals = [[] if done[i] else goals[i] for i in range(self.num_envs)]
        transition_states = self.encoder.step(texts, transition_goals, advance=~done)
        states = transition_states.copy()
        reset = np.flatnonzero(done)
        if len(reset):
            states[reset] = self.encoder.reset(reset, [infos[i]["observation_text"] for i in reset],
                                               [goals[i] for i in reset])
        return StepResult(transition_states, states, np.asarray(extrinsic, dtype=np.float32), intrinsic,
                          terminated, truncated, self._masks(transition_infos), self._masks(infos),
                          transition_infos, achieved)


class VectorEnvGoals:
    """Goals every env of a vector env supplies itself: ``oracle_goals()`` (ground truth) or
    ``suggested_goals()`` (e.g. LM goals precomputed offline, such as a user's rationales)."""

    def __init__(self, envs: gym.vector.VectorEnv, method: str = "oracle_goals") -> None:
        self.envs, self.method = envs, method

    def suggest_batch(self, observations: list[str], actions: list[list[str]]) -> list[list[str]]:
        return [list(goals) for goals in self.envs.call(self.method)]


def make_envs(config: TrainConfig, num_envs: int | None = None) -> gym.vector.VectorEnv:
    """The vector env of ``config`` with same-step autoreset."""
    kwargs = config.env_arguments()
    factories = [lambda: gym.make(config.env_id, **kwargs) for _ in range(num_envs or config.num_envs)]
    vector = gym.vector.AsyncVectorEnv if config.async_envs else gym.vector.SyncVectorEnv
    return vector(factories, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def lm_config(config: TrainConfig) -> LMConfig:
    """The run's LM config; in the background modes an LM left on all cores gets half of them (the loop the rest)."""
    if (config.lm_async or config.goal_source == "distilled") and config.lm.threads == 0:
        return dataclasses.replace(config.lm, threads=max(1, cpu_threads() // 2))
    return config.lm


def default_goal_generator(config: TrainConfig, cache: SQLiteCache | None, candidates: list[str] | None = None,
                           embedder: Embedder | None = None):
    """The LM goal generator of ``config`` (open-ended, closed-form or ranked over ``candidates``): in the background
    with ``config.lm_async``, distilled into a fast goal model over ``embedder``'s vectors with
    ``goal_source="distilled"``."""
    vocabulary = {"vocabulary": candidates} if config.goals == "constrained" else {}  # answers held to these lines
    lm = make_language_model(lm_config(config), cache, **vocabulary)
    prompts = PromptConfig.load(config.prompts)
    if not config.few_shot:
        prompts = prompts.without_few_shot()
    generator: GoalGenerator
    if config.goals in ("closed", "ranked", "constrained") and not candidates:
        raise ValueError(f"{config.goals} goals need candidate goals from the environment (goal_candidates())")
    if config.goals == "closed":
        generator = ClosedFormGoals(lm, candidates, threshold=config.yes_threshold, prompts=prompts,
                                    calibrate=config.calibrate)
    elif config.goals == "ranked":
        generator = RankedGoals(lm, candidates, prompts=prompts, k=config.rank_k, calibrate=config.calibrate)
    else:
        generator = OpenEndedGoals(lm, prompts)
    if config.goal_source == "distilled":
        if embedder is None:
            raise ValueError("distilled goals need the agent's embedder")
        distilled = DistilledGoals(generator, embedder, floor=config.distill_floor, batch_size=config.lm.batch_size)
        if config.labels:
            preload_labels(distilled, config, cache)
        return distilled
    if config.lm_async:
        return BackgroundGoals(generator, batch_size=config.lm.batch_size, miss=config.lm_async_miss)
    return generator


def preload_labels(distilled: DistilledGoals, config: TrainConfig, cache: SQLiteCache | None) -> None:
    """Import ``config.labels`` into ``cache`` (the exact answers) and teach the distilled goal model its situations."""
    from ellm_core.cache_cli import import_cache
    from ellm_core.labels import label_goals
    from ellm_core.lm.shipped import same_model

    situations, goal_lists, header = label_goals(config.labels, k=config.rank_k)
    identity, rekey = getattr(distilled.generator.lm, "scoring_identity", None), None
    if header["lm_identity"] != identity and identity and same_model(header["lm_identity"], identity):
        # the same model at another precision (float32 on a CPU without native bfloat16): its answers stand in for
        # this LM's (the 1.5B picks the same top goal in 37 of 40 situations either way, docs/goal-quality.md)
        logger.info("the labels of %s come from %s, the same model as this run's %s at another precision: they "
                    "answer for it", config.labels, header["lm_identity"], identity)
        rekey = identity
    elif header["lm_identity"] != identity:
        logger.warning("the labels of %s come from %s, this run's LM is %s: the goal model learns them, but the LM "
                       "is asked about each situation itself", config.labels, header["lm_identity"], identity)
    if cache is not None:
        added, present = import_cache(cache, config.labels, identity=rekey)
        logger.info("labels %s: %d cache entries added, %d already there", config.labels, added, present)
    distilled.preload(situations, goal_lists)
    logger.info("the goal model learned %d labelled situations before the run", len(situations))


def build_rollout(config: TrainConfig, envs, embedder: Embedder, goal_generator: GoalGenerator | None) -> TextRollout:
    """The rollout for ``config.reward``: goal reward for ellm/oracle, a baseline bonus, or nothing."""
    conditioned = config.goal_conditioned and config.reward in ("ellm", "oracle")
    encoder = StateEncoder(embedder, envs.num_envs, config.frame_stack, conditioned)
    goal_reward = intrinsic = None
    if config.reward in ("ellm", "oracle"):
        if config.reward == "oracle":
            generator = VectorEnvGoals(envs, "oracle_goals")
        elif config.goal_source == "env":
            generator = VectorEnvGoals(envs, "suggested_goals")
        else:
            generator = goal_generator
        chain = None
        if config.prerequisites and config.reward == "ellm":
            from ellm_core.goal_chain import GoalChain

            chain = GoalChain.load(config.prerequisites, config.prerequisite_depth, materials=config.materials)
        goal_reward = VectorGoalReward(generator, embedder, envs.num_envs, config.threshold, config.metric,
                                       config.filter_achieved, chain, config.active_goals, config.pay_limit)
    elif config.reward != "none":
        intrinsic = make_intrinsic(config.reward, encoder.dim, config.seed)
    return TextRollout(envs, encoder, goal_reward, intrinsic)
