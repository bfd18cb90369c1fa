"""Training flags shared by every ``… train`` command (``ellm train``, ``ellm crafter train``, ``recrl browse
train``): the :class:`~ellm_core.run.config.TrainConfig` fields, its goal fields under their own names (``--goals``,
``--goal-source``, ...), ``--dqn-*`` and ``--lm-*`` as flags, and back."""

from __future__ import annotations

import argparse

from ellm_core.config import add_dataclass_arguments, dataclass_from_args
from ellm_core.lm.base import LMConfig


def add_train_arguments(parser: argparse.ArgumentParser, defaults=None) -> None:
    """Flags of :class:`TrainConfig` (its goal fields, ``--dqn-*``, ``--lm-*``) plus ``--preset``."""

    from ellm_core.agents.dqn import DQNConfig
    from ellm_core.goals.config import GoalConfig
    from ellm_core.run.config import PRESETS, TrainConfig

    parser.add_argument("--preset", choices=tuple(PRESETS), default=None,
                        help="budget preset; explicit flags override it")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    add_dataclass_arguments(parser, TrainConfig)
    add_dataclass_arguments(parser, GoalConfig)
    add_dataclass_arguments(parser, DQNConfig, prefix="dqn-")
    add_dataclass_arguments(parser, LMConfig, prefix="lm-")
    if defaults is not None:  # e.g. the preset's values, so that explicit flags still win
        parser.set_defaults(**train_flag_defaults(defaults))


def train_flag_defaults(config) -> dict:
    """A :class:`TrainConfig` as argparse defaults of :func:`add_train_arguments` (``goal``, ``dqn_*``, ``lm_*``
    flattened)."""
    import dataclasses

    from ellm_core.goals.config import FLAG_NAMES

    values = {k: v for k, v in dataclasses.asdict(config).items() if k not in ("goal", "dqn", "lm")}
    values.update({FLAG_NAMES[k]: v for k, v in dataclasses.asdict(config.goal).items()})
    values.update({f"dqn_{k}": v for k, v in dataclasses.asdict(config.dqn).items()})
    values.update({f"lm_{k}": v for k, v in dataclasses.asdict(config.lm).items()})
    return values


def train_config_from_args(args: argparse.Namespace):
    """The :class:`TrainConfig` the parsed flags describe."""
    import dataclasses

    from ellm_core.agents.dqn import DQNConfig
    from ellm_core.goals.config import GoalConfig
    from ellm_core.lm.registry import for_ranking
    from ellm_core.run.config import TrainConfig

    config = dataclass_from_args(TrainConfig, args)
    goal = dataclass_from_args(GoalConfig, args)
    lm = dataclass_from_args(LMConfig, args, prefix="lm-")
    return dataclasses.replace(config, goal=goal, dqn=dataclass_from_args(DQNConfig, args, prefix="dqn-"),
                               lm=for_ranking(lm) if goal.mode == "ranked" else lm)
