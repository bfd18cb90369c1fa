"""``prepare``: any source -> a prepared directory (items, interactions, split as parquet, plus report.json).

The steps, in order: convert the source (:data:`SOURCES`), keep the latest of duplicate items and
(user, item) pairs, drop interactions whose item is unknown, k-core filter, drop unreferenced items, split
per user in time, check the split for leakage, and account for every input row in ``report.json``.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recrl.data.amazon import load_amazon2018, load_amazon2023
from recrl.data.describe import DescriptionOptions
from recrl.data.flags import option, save_config
from recrl.data.movielens import load_movielens, load_sample
from recrl.data.prepared import summarize
from recrl.data.rows import DROP_REASONS, ON_BAD_ROW
from recrl.data.schema import (
    SourceOptions,
    SourceTables,
    normalise_interactions,
    normalise_items,
)
from recrl.data.split import check_no_leakage, drop_duplicates_latest, k_core, temporal_split

logger = logging.getLogger(__name__)

#: source name -> loader converting it to the canonical schema.
SOURCES: dict[str, Callable[[SourceOptions], SourceTables]] = {
    "sample": load_sample,
    "amazon2023": load_amazon2023,
    "amazon2018": load_amazon2018,
    "movielens": load_movielens,
}


@dataclass
class PrepareConfig:
    """Everything ``recrl data prepare`` needs; saved as ``config.yaml`` in the prepared directory."""

    source: str = option("sample", "where the data comes from", choices=tuple(SOURCES))
    input: str | None = option(None, "reviews file (Amazon; 'hub:<Category>' downloads Amazon 2023) or "
                               "folder (MovieLens); not needed for the sample")
    meta: str | None = option(None, "Amazon item metadata file when it is not meta_<Category> beside --input")
    out: str = option("data/prepared/sample", "the prepared directory to write")
    min_user: int = option(5, "k-core: keep users with at least this many interactions")
    min_item: int = option(5, "k-core: keep items with at least this many interactions")
    liked: float = option(4.0, "a rating at or above this counts as liked")
    test_size: float = option(0.2, "per user, the latest interactions held out for test: a count (>= 1) or a fraction")
    valid_size: float = option(0.1, "per user, the interactions before the test ones held out for validation")
    seed: int = option(0, "orders timestamp ties and users without timestamps")
    on_bad_row: str = option("error", "on a malformed row: stop with an error, or skip and count it",
                             choices=ON_BAD_ROW)
    require_text: bool | None = option(None, "drop interactions without review text (default: yes for Amazon)")
    films: str = option("auto", "MovieLens film table to join: 'auto' (bundled Wikidata table), 'none' or a path")
    description_chars: int = option(600, "item descriptions are cut to this many characters (0: no limit)")
    overwrite: bool = option(False, "replace --out if it already holds a prepared directory")


def prepare(config: PrepareConfig) -> dict[str, Any]:
    """Convert ``config.source`` into the prepared directory ``config.out``; returns the report."""
    if config.source not in SOURCES:
        raise ValueError(f"unknown source {config.source!r}; expected one of {sorted(SOURCES)}")
    out = Path(config.out)
    if out.exists() and any(out.iterdir()):
        if not (out / "report.json").is_file():
            raise FileExistsError(f"{out} is not empty and is not a prepared directory; choose another --out")
        if not config.overwrite:
            raise FileExistsError(f"{out} already holds a prepared directory; pass --overwrite to replace it")
    options = SourceOptions(input=config.input, meta=config.meta, on_bad_row=config.on_bad_row,
                            require_text=config.require_text, films=config.films,
                            description=DescriptionOptions(max_chars=config.description_chars))
    tables = SOURCES[config.source](options)
    items, interactions, split = apply_rules(tables, config)
    report = build_report(config, tables, items, interactions, split)
    _write_directory(out, config, items, interactions, split, tables.users, report)
    return report


def apply_rules(tables: SourceTables, config: PrepareConfig) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Deduplicate, drop unknown items, k-core filter, split; every dropped row is counted in the ledgers."""
    items = normalise_items(tables.items)
    before = len(items)
    items = drop_duplicates_latest(items, ["item_id"])
    tables.item_ledger.drop("duplicate", before - len(items))

    interactions = normalise_interactions(tables.interactions)
    before = len(interactions)
    interactions = drop_duplicates_latest(interactions, ["user_id", "item_id"], "timestamp")
    tables.interaction_ledger.drop("duplicate", before - len(interactions))
    known = is_in(interactions["item_id"], items["item_id"])
    tables.interaction_ledger.drop("unknown_item", int((~known).sum()))
    interactions = interactions[known]
    before = len(interactions)
    interactions = k_core(interactions, config.min_user, config.min_item).reset_index(drop=True)
    tables.interaction_ledger.drop("k_core", before - len(interactions))
    referenced = is_in(items["item_id"], interactions["item_id"])
    tables.item_ledger.drop("no_interactions", int((~referenced).sum()))
    items = items[referenced].reset_index(drop=True)

    split = temporal_split(interactions, config.test_size, config.valid_size, seed=config.seed)
    check_no_leakage(interactions, split)
    for name, frame, ledger in (("items", items, tables.item_ledger),
                                ("interactions", interactions, tables.interaction_ledger)):
        if ledger.kept != len(frame):  # the accounting is part of the contract: never write a wrong report
            raise RuntimeError(f"{name}: {ledger.kept} rows counted as kept but {len(frame)} remain")
    interactions = interactions.assign(liked=interactions["rating"] >= config.liked)
    return items, interactions, split


def is_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` through a hash index (pandas' ``isin`` on Arrow strings loops in Python)."""
    return pd.Index(pool.unique()).get_indexer(values) >= 0


def build_report(config: PrepareConfig, tables: SourceTables, items: pd.DataFrame,
                 interactions: pd.DataFrame, split: pd.Series) -> dict[str, Any]:
    """``report.json``: where every input row went, and what the prepared data holds."""
    return {
        "source": config.source,
        "files": {"items": tables.item_ledger.report(), "interactions": tables.interaction_ledger.report()},
        "drop_reasons": dict(DROP_REASONS),
        "liked_threshold": config.liked,
        **summarize(interactions.assign(split=split.to_numpy()), len(items)),
        "notes": tables.notes,
    }


def _write_directory(out: Path, config: PrepareConfig, items: pd.DataFrame, interactions: pd.DataFrame,
                     split: pd.Series, users: pd.DataFrame | None, report: dict[str, Any]) -> None:
    """Write everything into a temporary sibling folder, then move it into place (no half-written output)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        items.to_parquet(staging / "items.parquet", index=False)
        interactions.to_parquet(staging / "interactions.parquet", index=False)
        split_frame = interactions[["user_id", "item_id"]].assign(split=split.to_numpy())
        split_frame.to_parquet(staging / "split.parquet", index=False)
        if users is not None:
            users[users["user_id"].isin(interactions["user_id"])].to_parquet(staging / "users.parquet", index=False)
        save_config(config, staging)
        (staging / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
