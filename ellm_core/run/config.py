"""The training experiment as one config dataclass, and the budget presets (``smoke``, ``demo``, ``paper``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ellm_core.agents.dqn import DQNConfig
from ellm_core.config import json_object, option
from ellm_core.goals.config import FLAG_NAMES, GoalConfig
from ellm_core.lm.base import LMConfig
from ellm_core.reward import DEFAULT_THRESHOLD

REWARDS = ("ellm", "none", "oracle", "novelty", "rnd", "apt")


@dataclass
class TrainConfig:
    """Everything a training run depends on; saved as ``config.yaml`` in the run directory."""

    env_id: str = option("ellm/TextChain-v0", "gymnasium id of a text environment")
    env_kwargs: str = option("{}", "JSON keyword arguments for gymnasium.make")
    reward: str = option("ellm", "intrinsic reward", choices=REWARDS)
    keep_extrinsic: bool = option(True, "add the environment's own reward to the intrinsic one")
    intrinsic_scale: float = option(1.0, "multiplier of the intrinsic reward")
    threshold: float = option(DEFAULT_THRESHOLD, "similarity threshold of the ELLM reward")
    metric: str = option("cosine", "similarity between goal and caption embeddings")
    filter_achieved: bool = option(True, "remove goals achieved earlier in the episode")
    pay_limit: int = option(1, "with the filter, times one goal may pay in an episode (1: ELLM's filter; more lets a "
                            "step needed several times pay each time, e.g. the two wood of a table)")
    goal_conditioned: bool = option(False, "condition the Q-network on the goal embedding (ellm/oracle)")
    frame_stack: int = option(1, "observation embeddings stacked in the state")
    embedder: str = option("default", "default (all-MiniLM-L6-v2 via CTranslate2), minilm (the same via sentence-transformers), "
                               "minilm-int8, minilm-static (model2vec), mpnet, hashing[:DIM], or a path / hub name")
    steps: int = option(100_000, "environment steps (summed over parallel envs)")
    num_envs: int = option(1, "parallel environments")
    async_envs: bool = option(False, "run envs in subprocesses (AsyncVectorEnv)")
    seed: int = option(0, "random seed")
    eval_every: int = option(25_000, "environment steps between evaluations (0 = only at the end)")
    eval_episodes: int = option(10, "episodes per evaluation")
    eval_epsilon: float = option(0.05, "exploration rate during evaluation")
    checkpoint_every: int = option(10_000, "environment steps between checkpoints")
    log_every: int = option(1_000, "environment steps between progress rows")
    device: str = option("cpu", "torch device of the learner")
    cache: str | None = option(None, "SQLite cache file ('none' disables; default ~/.cache/ellm/cache.sqlite)")
    out: str = option("runs/latest", "run directory")
    resume: bool = option(False, "continue from the run directory's newest checkpoint that loads")
    overwrite: bool = option(False, "start again from scratch in a run directory that holds a run (its files are "
                             "removed)")
    init_from: str | None = option(None, "start from the Q-network of this run directory's last checkpoint "
                                   "(pretrain -> fine-tune): network weights only, not its replay buffer, "
                                   "optimiser state, exploration schedule or step count")
    tensorboard: bool = option(True, "write TensorBoard scalars")
    goal: GoalConfig = field(default_factory=GoalConfig, metadata={"cli": False})
    dqn: DQNConfig = field(default_factory=DQNConfig, metadata={"cli": False})
    lm: LMConfig = field(default_factory=LMConfig, metadata={"cli": False})

    def env_arguments(self) -> dict[str, Any]:
        """``env_kwargs`` parsed; a clear error when it is not a JSON object."""
        return json_object(self.env_kwargs, "--env-kwargs")

    @staticmethod
    def upgrade_values(values: dict[str, Any]) -> dict[str, Any]:
        """Saved values of an older, flat ``config.yaml`` (``goals: ranked`` beside ``reward``) with the goal fields
        moved under ``goal`` (``config.load_config`` calls it, so old run folders still load)."""
        flat = {flag: name for name, flag in FLAG_NAMES.items()}
        moved = {flat[key]: values[key] for key in values if key in flat}
        if not moved:
            return values
        kept = {key: value for key, value in values.items() if key not in flat}
        return {**kept, "goal": {**kept.get("goal", {}), **moved}}


def updated(config: TrainConfig, **values: Any) -> TrainConfig:
    """A copy of ``config`` with ``values`` set, each by its flag's name: goal fields (``goals="ranked"``,
    ``goal_source="distilled"``, ``rank_k=3``) go to ``config.goal``; ``goal``, ``dqn`` and ``lm`` take a config or a
    dict of its fields."""
    flat = {flag: name for name, flag in FLAG_NAMES.items()}
    goal = {flat[key]: values.pop(key) for key in list(values) if key in flat}
    nested = {}
    for name in ("goal", "dqn", "lm"):  # a whole config, or a dict of its fields
        part = values.pop(name, {})
        nested[name] = part if dataclasses.is_dataclass(part) else dataclasses.replace(getattr(config, name), **part)
    nested["goal"] = dataclasses.replace(nested["goal"], **goal)
    return dataclasses.replace(config, **nested, **values)


#: Budget presets: overrides of TrainConfig fields and of its ``dqn`` fields.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"steps": 600, "eval_every": 0, "eval_episodes": 2, "checkpoint_every": 300, "log_every": 100,
              "dqn": {"buffer_size": 5_000, "learning_starts": 100, "train_every": 4, "target_update_every": 200,
                      "eps_decay_steps": 400, "hidden": 64, "batch_size": 32, "lr": 1e-3}},
    "demo": {"steps": 20_000, "eval_every": 5_000, "eval_episodes": 5, "checkpoint_every": 5_000,
             "log_every": 500, "dqn": {"buffer_size": 50_000, "learning_starts": 1_000, "target_update_every": 1_000,
                                       "eps_decay_steps": 10_000, "hidden": 256, "lr": 2.5e-4}},
    "paper": {"steps": 5_000_000, "eval_every": 25_000, "eval_episodes": 10, "frame_stack": 4,
              "dqn": dataclasses.asdict(DQNConfig())},
}


def check_config(config: TrainConfig) -> None:
    """Refuse impossible values before any work starts: one ``ValueError`` naming the flag and the accepted range."""
    dqn = config.dqn
    rules = [
        ("--steps", config.steps, config.steps > 0, "a positive number of environment steps"),
        ("--num-envs", config.num_envs, config.num_envs >= 1, "at least 1"),
        ("--rank-k", config.goal.rank_k, config.goal.rank_k >= 1, "at least 1"),
        ("--frame-stack", config.frame_stack, config.frame_stack >= 1, "at least 1"),
        ("--log-every", config.log_every, config.log_every >= 1, "at least 1"),
        ("--eval-every", config.eval_every, config.eval_every >= 0, "0 (only at the end) or more"),
        ("--eval-episodes", config.eval_episodes, config.eval_episodes >= 1, "at least 1"),
        ("--checkpoint-every", config.checkpoint_every, config.checkpoint_every >= 0, "0 (only at the end) or more"),
        ("--threshold", config.threshold, -1.0 <= config.threshold <= 1.0, "a similarity in [-1, 1]"),
        ("--distill-floor", config.goal.distill_floor, -1.0 <= config.goal.distill_floor <= 1.0, "a similarity in [-1, 1]"),
        ("--eval-epsilon", config.eval_epsilon, 0.0 <= config.eval_epsilon <= 1.0, "a probability in [0, 1]"),
        ("--dqn-batch-size", dqn.batch_size, dqn.batch_size >= 1, "at least 1"),
        ("--dqn-buffer-size", dqn.buffer_size, dqn.buffer_size >= dqn.batch_size, "at least the batch size"),
        ("--dqn-n-step", dqn.n_step, dqn.n_step >= 1, "at least 1"),
        ("--dqn-train-every", dqn.train_every, dqn.train_every >= 1, "at least 1"),
        ("--dqn-target-update-every", dqn.target_update_every, dqn.target_update_every >= 1, "at least 1"),
        ("--dqn-gamma", dqn.gamma, 0.0 <= dqn.gamma <= 1.0, "a discount in [0, 1]"),
        ("--dqn-lr", dqn.lr, dqn.lr > 0, "positive"),
        ("--dqn-hidden", dqn.hidden, dqn.hidden >= 1, "at least 1"),
        ("--dqn-eps-decay-steps", dqn.eps_decay_steps, dqn.eps_decay_steps >= 1, "at least 1"),
        ("--active-goals", config.goal.active_goals, config.goal.active_goals >= 0, "0 (all) or more"),
        ("--pay-limit", config.pay_limit, config.pay_limit >= 1, "at least 1"),
        ("--prerequisite-depth", config.goal.prerequisite_depth, config.goal.prerequisite_depth >= 0, "0 or more"),
    ]
    for flag, value, ok, accepted in rules:
        if not ok:
            raise ValueError(f"{flag} {value}: must be {accepted}")
    if config.goal.materials and config.goal.prerequisites is None:
        raise ValueError("--materials reads the material answers of a prerequisite file: add --prerequisites FILE")
    if config.goal.prerequisites is not None and config.reward != "ellm":
        raise ValueError(f"--prerequisites {config.goal.prerequisites}: the LM's prerequisites extend LM goals "
                         f"(--reward ellm), not --reward {config.reward}")
    if config.goal.labels is not None:
        if config.goal.mode != "ranked" or config.goal.source != "distilled" or config.reward != "ellm":
            raise ValueError(f"--labels {config.goal.labels}: a label file of ranked goals teaches the distilled goal "
                             "model; add --reward ellm --goals ranked --goal-source distilled")
        if not Path(config.goal.labels).is_file():
            raise FileNotFoundError(f"--labels {config.goal.labels}: no such file (write one with `ellm crafter prewarm "
                                    "--goals ranked --labels-out FILE`)")


def apply_preset(config: TrainConfig, name: str | None) -> TrainConfig:
    """A copy of ``config`` with the preset's budgets (``None`` returns it unchanged)."""
    if name is None:
        return config
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return updated(config, **PRESETS[name])
