"""The strongest description-based reward we can build from a user's own history, chosen on the validation split
and reported on the test split beside the popularity and collaborative-filtering anchors.

Every candidate scores a (user, item) pair from the item's description and the user's train interactions only (no
other user's ratings): the item descriptions are embedded once (``--embedder``, unit vectors), and

- ``own liked, max (latest 5)``: the ELLM reward with the user's 5 latest liked train items as goals, the max cosine
  over goals (the ``own liked reviews`` row of ``recrl validate``, whose texts are these descriptions where the data
  has no reviews);
- ``own liked, max (all)``: the same with every liked train item as a goal;
- ``own liked, centroid``: the cosine with the mean of the liked items' vectors (a mean over goals, not a max);
- ``liked − disliked centroid``: that minus the cosine with the disliked items' mean (Rocchio; 0 without any);
- ``content kNN``: the user's mean train rating plus the similarity-weighted, mean-centred ratings of their ``k``
  most similar rated train items (a content-based rating predictor: it also reads the user's low ratings).

The candidate with the highest ROC-AUC (liked vs disliked) on the validation split (``valid``: goals from train) is
the chosen one. All are then scored on the test split with ``recrl validate``'s statistics and bootstrap, beside
popularity and the CF anchors of :mod:`recrl.validation.anchors`. ``python -m recrl.validation.strongest --help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ellm_core.config import option, save_config
from recrl.data.prepared import load_prepared
from recrl.validation.anchors import anchor_scores
from recrl.validation.content import content_knn
from recrl.validation.stats import STATISTICS, evaluate_scores

logger = logging.getLogger(__name__)

CANDIDATES = ("own liked, max (latest 5)", "own liked, max (all)", "own liked, centroid",
              "liked − disliked centroid", "content kNN")


@dataclass
class StrongestConfig:
    """One selection experiment; saved as ``config.yaml`` in the output directory."""

    data: str = option("data/prepared/sample", "prepared data directory (with train, valid and test splits)")
    out: str = option("runs/strongest", "output directory (report.json, report.md)")
    embedder: str = option("default", "embedder of the item descriptions")
    neighbours: int = option(20, "content kNN: rated train items per prediction")
    max_users: int = option(0, "the first N users (sorted ids; 0 = all)")
    bootstrap: int = option(1000, "bootstrap resamples of users for the 95% intervals (test split)")
    liked_threshold: float = option(4.0, "ratings >= this are liked (goals; AUC positives)")
    disliked_threshold: float = option(2.0, "ratings <= this are disliked (Rocchio; AUC negatives)")
    seed: int = option(0, "seed of the bootstrap and the MF anchor")


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def candidate_scores(history: pd.DataFrame, pairs: pd.DataFrame, vectors: dict[str, np.ndarray],
                     config: StrongestConfig) -> dict[str, np.ndarray]:
    """Every candidate's score of each of ``pairs`` (user_id, item_id) from ``history`` (the users' train
    interactions: user_id, item_id, rating, timestamp) and the items' unit ``vectors``; NaN where a user has no
    history the candidate can use."""
    scores = {name: np.full(len(pairs), np.nan) for name in CANDIDATES}
    history = history.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    by_user = dict(tuple(history.groupby("user_id", sort=False)))
    for user, index in tqdm(pairs.groupby("user_id", sort=True).indices.items(), desc="users", unit="user",
                            disable=None):
        rows = by_user.get(user)
        if rows is None or rows.empty:
            continue
        rows = rows[rows["item_id"].isin(vectors)]
        items = np.stack([vectors[i] for i in pairs["item_id"].to_numpy()[index]])
        known = np.stack([vectors[i] for i in rows["item_id"]]) if len(rows) else np.zeros((0, items.shape[1]))
        ratings = rows["rating"].to_numpy(dtype=float)
        similarity = items @ known.T  # (pairs of this user, rated train items)
        liked, disliked = ratings >= config.liked_threshold, ratings <= config.disliked_threshold
        if liked.any():
            latest = np.flatnonzero(liked)[-5:]
            scores["own liked, max (latest 5)"][index] = similarity[:, latest].max(axis=1)
            scores["own liked, max (all)"][index] = similarity[:, liked].max(axis=1)
            liked_centroid = items @ _unit(known[liked].mean(axis=0))
            scores["own liked, centroid"][index] = liked_centroid
            disliked_centroid = items @ _unit(known[disliked].mean(axis=0)) if disliked.any() else 0.0
            scores["liked − disliked centroid"][index] = liked_centroid - disliked_centroid
        if len(ratings):
            scores["content kNN"][index] = content_knn(similarity, ratings, config.neighbours)
    return scores


def item_vectors(texts: dict[str, str], embedder_name: str) -> dict[str, np.ndarray]:
    """item_id -> unit vector of its description."""
    from ellm_core.text.embed import make_embedder

    ids = list(texts)
    vectors = make_embedder(embedder_name).encode([texts[i] for i in ids])
    return dict(zip(ids, _unit(np.asarray(vectors, dtype=np.float64))))


def _pairs(part: pd.DataFrame, users: list[str]) -> pd.DataFrame:
    return part[part["user_id"].isin(users)][["user_id", "item_id", "rating"]].reset_index(drop=True)


def select(config: StrongestConfig) -> dict:
    """Choose on the validation split, report on the test split; writes report.json and report.md."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out)
    data = load_prepared(config.data)
    train = data.part("train")
    users = sorted(map(str, data.part("test")["user_id"].unique()))
    users = users[: config.max_users] if config.max_users else users
    valid, test = _pairs(data.part("valid"), users), _pairs(data.part("test"), users)
    if valid.empty or test.empty:
        raise ValueError(f"{config.data} needs valid and test ratings: prepare it with a validation split")
    vectors = item_vectors(data.item_text(), config.embedder)
    history = train[train["user_id"].isin(users)]
    stats = dict(bootstrap=0, seed=config.seed, liked=config.liked_threshold, disliked=config.disliked_threshold)
    validation, validation_user_rho = {}, {}
    for name, scores in candidate_scores(history, valid, vectors, config).items():
        result = evaluate_scores(scores, valid["rating"].to_numpy(), valid["user_id"].to_numpy(), **stats)
        validation[name], validation_user_rho[name] = result["auc"]["value"], result["user_spearman"]["value"]
    chosen = max(validation, key=lambda name: -np.inf if np.isnan(validation[name]) else validation[name])
    logger.info("validation AUC %s; chosen: %s", json.dumps(validation), chosen)
    stats["bootstrap"] = config.bootstrap
    rows = []
    popularity = train["item_id"].value_counts()
    candidates = candidate_scores(history, test, vectors, config)
    named = {**{name: ("description (own history)", s) for name, s in candidates.items()},
             "popularity": ("no goals", test["item_id"].map(popularity).fillna(0).to_numpy(dtype=float)),
             **{name: ("ratings (CF)", s) for name, s in anchor_scores(train, test, config.seed).items()}}
    for name, (kind, scores) in named.items():
        result = evaluate_scores(scores, test["rating"].to_numpy(), test["user_id"].to_numpy(), **stats)
        rows.append({"reward": name, "kind": kind, "validation_auc": validation.get(name),
                     "validation_user_spearman": validation_user_rho.get(name), **result})
    report = {"config": dataclasses.asdict(config), "users": len(users), "valid_pairs": len(valid),
              "test_pairs": len(test), "chosen": chosen, "validation_auc": validation,
              "validation_user_spearman": validation_user_rho, "table": rows}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    (out / "report.md").write_text(format_report(report), encoding="utf-8")
    return report


def format_report(report: dict) -> str:
    """Markdown: the test table with each candidate's validation AUC, the chosen one in bold."""
    lines = [f"Chosen on the validation split ({report['valid_pairs']} pairs, ROC-AUC liked vs disliked): "
             f"**{report['chosen']}**. Test split: {report['test_pairs']} pairs of {report['users']} users, 95 % "
             "bootstrap intervals over users.", "",
             "| reward | kind | validation AUC | validation per-user ρ | "
             + " | ".join(STAT_HEADERS[s] for s in STATISTICS) + " |",
             "| --- | --- | --- | --- |" + " --- |" * len(STATISTICS)]
    for row in report["table"]:
        name = f"**{row['reward']}**" if row["reward"] == report["chosen"] else row["reward"]
        auc = " | ".join("-" if row.get(key) is None else f"{row[key]:.3f}"
                         for key in ("validation_auc", "validation_user_spearman"))
        cells = [f"{row[s]['value']:.3f} [{row[s]['low']:.3f}, {row[s]['high']:.3f}]" if s in row else "-"
                 for s in STATISTICS]
        lines.append(f"| {name} | {row['kind']} | {auc} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


STAT_HEADERS = {"spearman": "Spearman ρ", "user_spearman": "mean per-user ρ", "kendall": "Kendall τ",
                "auc": "ROC-AUC", "ndcg10": "NDCG@10"}


def main(argv: list[str] | None = None) -> int:
    """``python -m recrl.validation.strongest``: run the selection and print its table."""
    from ellm_core.config import add_dataclass_arguments, dataclass_from_args
    from ellm_core.logs import setup_logging

    parser = argparse.ArgumentParser(prog="python -m recrl.validation.strongest", description=__doc__.splitlines()[0])
    add_dataclass_arguments(parser, StrongestConfig)
    args = parser.parse_args(argv)
    setup_logging(0)
    try:
        report = select(dataclass_from_args(StrongestConfig, args))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
