"""What a browsing run simulates (:class:`BrowseOptions`, saved as ``browse.yaml`` in its run directory), and the
``recrl browse train`` defaults of the core's :class:`~ellm_core.run.config.TrainConfig`.

Training (:mod:`recrl.browse.train`), evaluation (:mod:`recrl.browse.evaluate`) and traces
(:mod:`recrl.browse.trace`) read the options from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ellm_core.config import option
from ellm_core.resources import data_resource
from ellm_core.run.config import TrainConfig, apply_preset, updated

BROWSE_REWARDS = ("ellm", "none", "novelty", "rnd", "apt")
#: TrainConfig values that differ for browsing (before a preset).
BROWSE_DEFAULTS: dict[str, Any] = {"env_id": "recrl/ProductBrowse-v0", "keep_extrinsic": False, "goal_source": "env",
                                   "eval_every": 0, "eval_episodes": 5, "threshold": 0.5}


@dataclass
class BrowseOptions:
    """What the browsing run simulates; saved as ``browse.yaml`` beside the run's ``config.yaml``."""

    data: str = option("data/prepared/sample", "prepared data directory")
    rationale: str | None = option(None, "rationale adapter (a `recrl rationale train` run) for the ELLM goals")
    rationales: str | None = option(None, "precomputed rationales file (skips generation)")
    rationale_mode: str = option("precomputed", "ELLM goals: rationales once per user, or the LM per state",
                              choices=("precomputed", "per-state"))
    num_rationales: int = option(3, "rationales per user (precomputed)")
    rationale_seed: int = option(0, "sampling seed of the precomputed rationales (fixed across training seeds, "
                                    "so every seed of a comparison sees the same goals and the cache is reused)")
    max_users: int = option(0, "simulate only the first N users of the split (0 = all)")
    slate_size: int = option(5, "candidates per page")
    mix: str = option("3,1,1", "slate mix: neighbours,popular,random counts")
    session_steps: int = option(10, "steps per browsing session")
    catalog_embedder: str = option("default", "embedder of item descriptions for the neighbour candidates")
    reward_model: str = option("none", "the env's own reward: none (0), or content-knn (the user's content-kNN rating "
                               "prediction minus their mean, from their train ratings; train with --keep-extrinsic)",
                               choices=("none", "content-knn"))

    def env_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments of ``gymnasium.make("recrl/ProductBrowse-v0", ...)``."""
        values = {"data": self.data, "slate_size": self.slate_size, "mix": self.mix,
                  "session_steps": self.session_steps, "embedder": self.catalog_embedder,
                  "max_users": self.max_users, "reward_model": self.reward_model}
        return {**values, **overrides}


def browse_train_defaults(preset: str | None) -> TrainConfig:
    """The TrainConfig defaults of ``recrl browse train`` under ``preset``."""
    defaults = updated(TrainConfig(), **BROWSE_DEFAULTS, prompts=data_resource("recrl/prompts.yaml"))
    return apply_preset(defaults, preset)


def load_options(run_dir: str | Path) -> BrowseOptions:
    """The :class:`BrowseOptions` a run was trained with."""
    path = Path(run_dir) / "browse.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a browse run (no browse.yaml; train one with `recrl browse train`)")
    return BrowseOptions(**yaml.safe_load(path.read_text(encoding="utf-8")))
