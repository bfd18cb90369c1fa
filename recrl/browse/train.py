"""Training on ProductBrowse-v0 with the core's DQN and rewards: the browse options, and their goals.

The core :func:`ellm_core.train.train` runs unchanged; this module only turns :class:`BrowseOptions` into
the environment's keyword arguments and the ELLM goal source:

- ``rationale_mode=precomputed`` (default): the rationale adapter writes K rationales per simulated user once
  (``RUN/rationales.parquet``, cached in SQLite); the environment hands the session user's list to the reward
  (``TrainConfig.goal.source == "env"``).
- ``rationale_mode=per-state``: the adapter is the core's LM (``--lm-adapter``) and is asked per state with the
  browse prompt (``data/recrl/prompts.yaml``: valid actions + current page + "What would you look for?").
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ellm_core.cache import open_cache
from ellm_core.config import option
from ellm_core.resources import data_resource
from ellm_core.train_config import TrainConfig, apply_preset, updated
from recrl.browse.catalog import load_catalog

logger = logging.getLogger(__name__)

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


def precompute_rationales(options: BrowseOptions, run_dir: Path, device: str = "cpu",
                          cache: str | None = None) -> Path:
    """Write K rationales for each simulated train user into ``run_dir/rationales.parquet`` (cached)."""
    from recrl.data.prepared import load_prepared
    from recrl.rationale.examples import user_histories
    from recrl.rationale.generate import generate_rationales, write_rationales
    from recrl.rationale.model import rationale_lm, read_manifest

    if options.rationale is None:
        raise ValueError("ELLM goals need rationales: pass --rationale ADAPTER (from `recrl rationale train`) "
                         "or --rationales FILE (from `recrl rationale generate`)")
    _, manifest = read_manifest(options.rationale)
    users = load_catalog(options.data, options.catalog_embedder).users_by_split["train"]
    users = users[: options.max_users] if options.max_users else users
    histories = user_histories(load_prepared(options.data), users, manifest.get("liked_threshold", 4.0),
                               manifest.get("max_history", 5), history=manifest.get("history", "titles"))
    lm = rationale_lm(options.rationale, device=device, temperature=0.8, top_p=0.95, max_new_tokens=40,
                      seed=options.rationale_seed)
    frame, counts = generate_rationales(lm, histories, options.num_rationales, open_cache(cache))
    logger.info("rationales for %d users: %s", len(users), counts.as_dict())
    return write_rationales(frame, run_dir / "rationales.parquet")


def configure(config: TrainConfig, options: BrowseOptions) -> TrainConfig:
    """The TrainConfig of a browsing run: env kwargs and goal source from ``options`` (generating rationales
    when ELLM needs them and none were given). Writes ``browse.yaml`` into the run directory."""
    if config.reward not in BROWSE_REWARDS:
        raise ValueError(f"reward {config.reward!r} is not available for browsing; choose from {BROWSE_REWARDS}")
    run_dir = Path(config.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    kwargs = options.env_kwargs()
    goal_source = "env"
    if config.reward == "ellm" and options.rationale_mode == "per-state":
        if options.rationale is None:
            raise ValueError("--rationale-mode per-state needs --rationale ADAPTER")
        from recrl.rationale.model import read_manifest

        directory, manifest = read_manifest(options.rationale)
        config = dataclasses.replace(config, lm=dataclasses.replace(
            config.lm, model=manifest.get("base_model"), adapter=str(directory), temperature=0.0))
        goal_source = "lm"
    elif config.reward == "ellm":
        rationales = options.rationales or str(precompute_rationales(options, run_dir, config.device, config.cache))
        kwargs["rationales"] = rationales
    (run_dir / "browse.yaml").write_text(yaml.safe_dump(dataclasses.asdict(options), sort_keys=False), encoding="utf-8")
    return updated(config, env_id="recrl/ProductBrowse-v0", env_kwargs=json.dumps(kwargs), goal_source=goal_source)


def load_options(run_dir: str | Path) -> BrowseOptions:
    """The :class:`BrowseOptions` a run was trained with."""
    path = Path(run_dir) / "browse.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a browse run (no browse.yaml; train one with `recrl browse train`)")
    return BrowseOptions(**yaml.safe_load(path.read_text(encoding="utf-8")))
