"""Turning a :class:`~ellm_core.run.config.TrainConfig` into the parts of a run, and a trained run back into an agent.

:func:`assemble` builds, in order: the vector env, the embedder (over the cache), the goal source the config names
(:mod:`ellm_core.goals`: the LM's goals, in the background or distilled, the label file preloaded; the oracle; or
the env's offline goals) and the rollout with its reward (the ELLM goal reward with the LM's chain, an intrinsic
baseline, or nothing). Training, evaluation, videos and prewarming all build their parts here.

:func:`load_agent` is the one way back from a run folder (its ``config.yaml`` and ``qnet.pt`` or newest checkpoint)
to an acting agent, as SB3's ``DQN.load``: resume, fine-tune starts, videos, prewarming and the browse evaluation use
it. The network's shapes come from its weights, so no environment or data is needed to load it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym

from ellm_core.agents.dqn import DQNAgent
from ellm_core.agents.intrinsic import make_intrinsic
from ellm_core.agents.state import StateEncoder
from ellm_core.cache import SQLiteCache, open_cache
from ellm_core.goals import (
    BackgroundGoals,
    ClosedFormGoals,
    DistilledGoals,
    GoalChain,
    GoalGenerator,
    OpenEndedGoals,
    OracleGoals,
    RankedGoals,
)
from ellm_core.goals.prompts import PromptConfig
from ellm_core.lm.base import LMConfig
from ellm_core.lm.registry import make_language_model
from ellm_core.resources import cpu_threads
from ellm_core.reward import VectorGoalReward
from ellm_core.run.config import TrainConfig
from ellm_core.run.rollout import TextRollout
from ellm_core.text.embed import CachedEmbedder, Embedder, make_embedder

logger = logging.getLogger(__name__)

#: Goal modes whose goals are the env's candidate texts (its ``goal_candidates()``).
CANDIDATE_MODES = ("closed", "ranked", "constrained")


def make_envs(config: TrainConfig, num_envs: int | None = None) -> gym.vector.VectorEnv:
    """The vector env of ``config`` with same-step autoreset."""
    kwargs = config.env_arguments()
    factories = [lambda: gym.make(config.env_id, **kwargs) for _ in range(num_envs or config.num_envs)]
    vector = gym.vector.AsyncVectorEnv if config.async_envs else gym.vector.SyncVectorEnv
    return vector(factories, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def env_answers(config: TrainConfig) -> tuple[list[str], dict[str, str]]:
    """The env's ``goal_candidates()`` (every text a caption can say) and ``goal_aliases()`` (goal text -> the text
    that is the same goal), each empty when the env has none: asked once of one local instance (a method missing
    from the env of an AsyncVectorEnv would shut its worker down)."""
    env = gym.make(config.env_id, **config.env_arguments())
    try:
        answers = [getattr(env.unwrapped, name, None) for name in ("goal_candidates", "goal_aliases")]
        candidates, aliases = (method() if callable(method) else None for method in answers)
        return list(candidates or []), dict(aliases or {})
    finally:
        env.close()


def env_goal_candidates(config: TrainConfig) -> list[str]:
    """The env's ``goal_candidates()`` (every text a caption can say); empty when the env has none."""
    return env_answers(config)[0]


def env_goal_aliases(config: TrainConfig) -> dict[str, str]:
    """The env's ``goal_aliases()`` (goal text -> the text that is the same goal); empty when the env has none."""
    return env_answers(config)[1]


def uses_lm(config: TrainConfig) -> bool:
    """Whether ``config``'s goals come from its language model (ELLM with the LM or distilled goal source)."""
    return config.reward == "ellm" and config.goal.source in ("lm", "distilled")


def lm_config(config: TrainConfig) -> LMConfig:
    """The run's LM config; in the background modes an LM left on all cores gets half of them (the loop the rest)."""
    if (config.goal.lm_async or config.goal.source == "distilled") and config.lm.threads == 0:
        return dataclasses.replace(config.lm, threads=max(1, cpu_threads() // 2))
    return config.lm


def loop_threads(config: TrainConfig) -> int:
    """CPU threads of the loop's embedder and learner: 0 (all cores) unless an LM answers in the background
    (``goal.lm_async`` or the distilled source); then the cores its LM leaves. Both sides asking for every core made
    a 2-core chain cell run at half speed (86 against 172 steps/s): CTranslate2's 2-thread embedder waits at each
    call for a core that the LM holds."""
    if uses_lm(config) and (config.goal.lm_async or config.goal.source == "distilled"):
        return max(1, cpu_threads() - lm_config(config).threads)
    return 0


def make_goal_source(config: TrainConfig, cache: SQLiteCache | None, candidates: list[str] | None = None,
                     embedder: Embedder | None = None):
    """The LM goal source of ``config`` (open-ended, closed-form or ranked over ``candidates``): in the background
    with ``goal.lm_async``, distilled into a fast goal model over ``embedder``'s vectors with ``goal.source ==
    "distilled"`` (its label file preloaded)."""
    goal = config.goal
    vocabulary = {"vocabulary": candidates} if goal.mode == "constrained" else {}  # answers held to these lines
    lm = make_language_model(lm_config(config), cache, **vocabulary)
    prompts = PromptConfig.load(goal.prompts)
    if not goal.few_shot:
        prompts = prompts.without_few_shot()
    generator: GoalGenerator
    if goal.mode in CANDIDATE_MODES and not candidates:
        raise ValueError(f"{goal.mode} goals need candidate goals from the environment (goal_candidates())")
    if goal.mode == "closed":
        generator = ClosedFormGoals(lm, candidates, threshold=goal.yes_threshold, prompts=prompts,
                                    calibrate=goal.calibrate)
    elif goal.mode == "ranked":
        generator = RankedGoals(lm, candidates, prompts=prompts, k=goal.rank_k, calibrate=goal.calibrate)
    else:
        generator = OpenEndedGoals(lm, prompts)
    if goal.source == "distilled":
        if embedder is None:
            raise ValueError("distilled goals need the agent's embedder")
        distilled = DistilledGoals(generator, embedder, floor=goal.distill_floor, batch_size=config.lm.batch_size)
        if goal.labels:
            preload_labels(distilled, config, cache)
        return distilled
    if goal.lm_async:
        return BackgroundGoals(generator, batch_size=config.lm.batch_size, miss=goal.lm_async_miss)
    return generator


def preload_labels(distilled: DistilledGoals, config: TrainConfig, cache: SQLiteCache | None) -> None:
    """Import ``goal.labels`` into ``cache`` (the exact answers) and teach the distilled goal model its situations."""
    from ellm_core.cache.files import import_cache
    from ellm_core.goals.labels import label_goals
    from ellm_core.lm.shipped import same_model

    path = config.goal.labels
    situations, goal_lists, header = label_goals(path, k=config.goal.rank_k)
    identity, rekey = getattr(distilled.generator.lm, "scoring_identity", None), None
    if header["lm_identity"] != identity and identity and same_model(header["lm_identity"], identity):
        # the same model at another precision (float32 on a CPU without native bfloat16): its answers stand in for
        # this LM's (the 1.5B picks the same top goal in 37 of 40 situations either way, docs/goal-quality.md)
        logger.info("the labels of %s come from %s, the same model as this run's %s at another precision: they "
                    "answer for it", path, header["lm_identity"], identity)
        rekey = identity
    elif header["lm_identity"] != identity:
        logger.warning("the labels of %s come from %s, this run's LM is %s: the goal model learns them, but the LM "
                       "is asked about each situation itself", path, header["lm_identity"], identity)
    if cache is not None:
        added, present = import_cache(cache, path, identity=rekey)
        logger.info("labels %s: %d cache entries added, %d already there", path, added, present)
    distilled.preload(situations, goal_lists)
    logger.info("the goal model learned %d labelled situations before the run", len(situations))


def build_rollout(config: TrainConfig, envs, embedder: Embedder, goal_source: GoalGenerator | None,
                  aliases: dict[str, str] | None = None) -> TextRollout:
    """The rollout for ``config.reward``: the goal reward for ellm (``goal_source``, with the LM's chain when the
    config names one) and the oracle (the envs' own goals), a baseline bonus, or nothing. ``aliases``: the env's
    goal aliases, when the caller has asked them already (:func:`env_answers`)."""
    goal = config.goal
    conditioned = config.goal_conditioned and config.reward in ("ellm", "oracle")
    encoder = StateEncoder(embedder, envs.num_envs, config.frame_stack, conditioned)
    goal_reward = intrinsic = None
    if config.reward in ("ellm", "oracle"):
        if config.reward == "oracle":
            goal_source = OracleGoals.of_vector_env(envs, "oracle_goals")
        elif goal.source == "env":
            goal_source = OracleGoals.of_vector_env(envs, "suggested_goals")
        chain = None
        if goal.prerequisites and config.reward == "ellm":
            chain = GoalChain.load(goal.prerequisites, goal.prerequisite_depth, materials=goal.materials)
        goal_reward = VectorGoalReward(goal_source, embedder, envs.num_envs, config.threshold, config.metric,
                                       config.filter_achieved, chain, goal.active_goals, config.pay_limit,
                                       env_goal_aliases(config) if aliases is None else aliases)
    elif config.reward != "none":
        intrinsic = make_intrinsic(config.reward, encoder.dim, config.seed)
    return TextRollout(envs, encoder, goal_reward, intrinsic)


@dataclass
class Assembly:
    """The parts of one run, as :func:`assemble` built them."""

    envs: gym.vector.VectorEnv
    embedder: CachedEmbedder
    cache: SQLiteCache | None
    goal_source: GoalGenerator | None
    rollout: TextRollout
    candidates: list[str]  # the env's goal candidates and aliases, asked once (:func:`env_answers`)
    aliases: dict[str, str]


def assemble(config: TrainConfig, goal_source: GoalGenerator | None = None,
             embedder: Embedder | None = None) -> Assembly:
    """The envs, embedder, goal source and rollout of ``config``. ``goal_source``/``embedder`` replace the
    configured LM goals and embedder (tests pass fakes). With a background LM the loop's embedder and torch
    threads are the cores the LM leaves (:func:`loop_threads`)."""
    import torch

    cache = open_cache(config.cache)
    threads = loop_threads(config) if goal_source is None else 0  # the LM and the loop share the cores
    embedder = CachedEmbedder(embedder or make_embedder(config.embedder, config.device, threads), cache)
    envs = make_envs(config)
    candidates, aliases = env_answers(config)
    if goal_source is None and uses_lm(config):
        goal_source = make_goal_source(config, cache, candidates if config.goal.mode in CANDIDATE_MODES else None,
                                       embedder)
    if threads:
        torch.set_num_threads(threads)
    rollout = build_rollout(config, envs, embedder, goal_source, aliases)
    return Assembly(envs, embedder, cache, goal_source, rollout, candidates, aliases)


@dataclass
class LoadedAgent:
    """A trained run's agent, its config and the file its network came from."""

    agent: DQNAgent
    config: TrainConfig
    weights: Path


def load_train_config(run_dir: str | Path) -> TrainConfig:
    """The ``config.yaml`` of a run folder (older flat ones included); a folder without one is a clear error."""
    from ellm_core.config import load_config

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: not a training run directory (no config.yaml; train one with ellm "
                                "train or ellm crafter train)")
    return load_config(TrainConfig, path)


def load_agent(run_dir: str | Path, device: str = "cpu") -> LoadedAgent:
    """The agent of a run folder: its ``qnet.pt``, else its newest checkpoint's network, in a :class:`DQNAgent`
    built from the weights' shapes (observation size and actions) and the run's DQN config; online and target
    networks both hold the weights."""
    from ellm_core.run.checkpoint import load_network

    config = load_train_config(run_dir)
    try:
        weights, path = load_network(run_dir)
    except FileNotFoundError:
        raise FileNotFoundError(f"{run_dir}: no network (qnet.pt) or checkpoint to load; train it first, or resume "
                                "it with --resume") from None
    layers = sorted({key.rsplit(".", 1)[0] for key in weights if key.endswith(".weight")},
                    key=lambda name: int(name.split(".")[-1]))  # net.<i>
    state_dim, num_actions = int(weights[f"{layers[0]}.weight"].shape[1]), int(weights[f"{layers[-1]}.weight"].shape[0])
    agent = DQNAgent(state_dim, num_actions, config.dqn, device)
    agent.q.load_state_dict(weights)
    agent.sync_target()
    return LoadedAgent(agent, config, path)
