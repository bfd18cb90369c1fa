"""Training on ProductBrowse-v0 with the core's DQN and rewards: the browse options' goals.

The core :func:`ellm_core.run.train.train` runs unchanged; this module only turns
:class:`~recrl.browse.options.BrowseOptions` into the environment's keyword arguments and the ELLM goal source:

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
from pathlib import Path

import yaml

from ellm_core.cache import open_cache
from ellm_core.run.config import TrainConfig, updated
from recrl.browse.catalog import load_catalog
from recrl.browse.options import BROWSE_REWARDS, BrowseOptions

logger = logging.getLogger(__name__)


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
