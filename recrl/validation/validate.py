"""Reward vs held-out ratings: is the ELLM reward of a product, under a user's goals, a sign they liked it?

For every held-out (test split) pair (user, item, rating) the reward is the max over the user's goals of
``metric.score(goal, item description)`` (the ELLM reward before its threshold; the threshold's effect is a
separate curve). Goal sources compared:

- ``rationales``: the fine-tuned generator's rationales (``--rationales``, from ``recrl rationale generate``);
- ``own liked reviews``: what the user wrote about their liked **train** items (no LM; the metadata proxy
  where the data has no reviews) — the default primary source, so validation works on any prepared directory;
- any ``--extra-goals LABEL=PATH`` (e.g. the base model's rationales);
- ``shuffled``: the primary goals of *another* user (a seeded derangement) — a control that should be worse;
- ``popularity``: the item's train interaction count, no goals at all;
- the collaborative-filtering anchors of :mod:`recrl.validation.anchors` (item mean, user + item bias, MF): what a
  recommender fitted on the train ratings reaches on the same pairs.

Unique texts are embedded once (cache), scores are computed user-chunk by user-chunk as matrix products, so
memory stays bounded by the chunk size.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ellm_core.config import option, save_config
from recrl.data.prepared import PreparedData, load_prepared
from recrl.rationale.generate import read_rationales
from recrl.validation.anchors import anchor_scores
from recrl.validation.learned_metric import goal_text, train_learned_metric
from recrl.validation.metrics import metric
from recrl.validation.stats import STATISTICS, evaluate_scores, personal_signal, threshold_curve

logger = logging.getLogger(__name__)

#: Metrics trained on the train split by ``recrl validate`` (name -> hard negatives, see recrl.validation.learned_metric).
LEARNED = {"learned": "any", "learned-taste": "popularity-matched"}


@dataclass
class ValidateConfig:
    """One validation experiment; saved as ``config.yaml`` in the output directory."""

    data: str = option("data/prepared/sample", "prepared data directory")
    out: str = option("runs/validate", "output directory (report.json, report.md, PNG plots)")
    rationales: str | None = option(None, "rationales file of the fine-tuned generator (the primary goals)")
    extra_goals: list[str] = field(default_factory=list, metadata={"help": "more goal sources as LABEL=PATH"})
    metrics: list[str] = field(default_factory=lambda: ["sbert-cosine", "tfidf-cosine", "bm25", "jaccard"],
                               metadata={"help": "metric names (learned, learned-taste: train one on the train "
                                                              "split)"})
    max_users: int = option(0, "validate on the first N users (sorted ids; 0 = all)")
    sample_users: int = option(0, "validate on a seeded sample of N test users (--seed; 0 = all); the report says "
                                  "it is a sample, and its intervals are over the sampled users")
    max_goals: int = option(5, "own liked reviews per user (the latest)")
    bootstrap: int = option(200, "bootstrap resamples of users for the 95% intervals")
    learned_steps: int = option(100, "training steps of the learned metric")
    learned_triplets: int = option(2000, "training triplets of the learned metric")
    chunk_users: int = option(64, "users scored per matrix product")
    liked_threshold: float = option(4.0, "held-out ratings >= this are liked (AUC positives)")
    disliked_threshold: float = option(2.0, "held-out ratings <= this are disliked (AUC negatives)")
    seed: int = option(0, "seed of the shuffled control, bootstrap and learned metric")


PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"max_users": 30, "bootstrap": 30, "learned_steps": 4, "learned_triplets": 64},
    "demo": {"max_users": 300, "bootstrap": 200, "learned_steps": 100, "learned_triplets": 2000},
    "paper": {"max_users": 0, "bootstrap": 1000, "learned_steps": 1000, "learned_triplets": 0},
}


def own_liked_goals(data: PreparedData, users: list[str], liked: float, max_goals: int) -> dict[str, list[str]]:
    """user -> goal texts of their latest liked train interactions (review sentences, else metadata proxy)."""
    items = data.items.set_index("item_id").to_dict("index")  # one dict lookup a row, not a frame lookup
    train = data.part("train")
    train = train[(train["rating"] >= liked) & train["user_id"].isin(users)]
    train = train.sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    goals: dict[str, list[str]] = {}
    for user, rows in train.groupby("user_id", sort=True):
        texts = [goal_text(r.review_text, {"item_id": r.item_id, **items[r.item_id]})
                 for r in rows.tail(max_goals).itertuples(index=False) if r.item_id in items]
        goals[str(user)] = list(dict.fromkeys(texts))
    return goals


def shuffled(goals: dict[str, list[str]], seed: int) -> dict[str, list[str]]:
    """Each user gets another user's goals (a seeded derangement: nobody keeps their own)."""
    users = sorted(goals)
    if len(users) < 2:
        return {}
    order = np.random.default_rng(seed).permutation(len(users))
    shift = {users[order[i]]: users[order[(i + 1) % len(users)]] for i in range(len(users))}
    return {user: goals[shift[user]] for user in users}


def pair_scores(scorer, goals: dict[str, list[str]], pairs: pd.DataFrame, texts: dict[str, str],
                chunk_users: int = 64) -> np.ndarray:
    """Max over each pair's user goals of the metric score of the item's description (NaN: user has none)."""
    result = np.full(len(pairs), np.nan)
    positions = pairs.groupby("user_id", sort=True).indices
    item_ids = pairs["item_id"].to_numpy()  # once: a per-user conversion of the column is quadratic in users
    users = [u for u in positions if goals.get(u)]
    for start in range(0, len(users), chunk_users):
        chunk = users[start : start + chunk_users]
        goal_list = list(dict.fromkeys(g for u in chunk for g in goals[u]))
        goal_row = {g: i for i, g in enumerate(goal_list)}
        rows = np.concatenate([positions[u] for u in chunk])
        item_list = list(dict.fromkeys(item_ids[rows]))
        item_col = {item: j for j, item in enumerate(item_list)}
        matrix = np.asarray(scorer.score(goal_list, [texts[i] for i in item_list]), dtype=np.float64)
        for user in chunk:
            index = positions[user]
            user_rows = [goal_row[g] for g in goals[user]]
            cols = [item_col[i] for i in item_ids[index]]
            result[index] = matrix[np.ix_(user_rows, cols)].max(axis=0)
    return result


def goal_sources(config: ValidateConfig, data: PreparedData, users: list[str]) -> dict[str, dict[str, list[str]]]:
    """Label -> user -> goals, for every goal-based source of the module docstring."""
    sources = {}
    if config.rationales:
        sources["rationales"] = read_rationales(config.rationales)
    sources["own liked reviews"] = own_liked_goals(data, users, config.liked_threshold, config.max_goals)
    for spec in config.extra_goals:
        label, _, path = spec.partition("=")
        if not path:
            raise ValueError(f"--extra-goals wants LABEL=PATH, got {spec!r}")
        sources[label] = read_rationales(path)
    primary, wanted = next(iter(sources.values())), set(users)  # the set once: per user it is quadratic in users
    sources["shuffled"] = shuffled({u: g for u, g in primary.items() if u in wanted}, config.seed)
    return sources


def validate(config: ValidateConfig) -> dict[str, Any]:
    """Run the validation; writes report.json, report.md and plots into ``config.out`` and returns the report."""
    from recrl.validation.plots import plot_all, plot_personal

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out)
    data = load_prepared(config.data)
    test = data.part("test")
    population = data.test_users()
    users = data.test_users(config.sample_users, config.seed)
    users = users[: config.max_users] if config.max_users else users
    pairs = test[test["user_id"].isin(users)][["user_id", "item_id", "rating"]].reset_index(drop=True)
    if pairs.empty:
        raise ValueError(f"{config.data} has no held-out (test) ratings to validate against")
    texts = data.item_text()
    sources = goal_sources(config, data, users)
    popularity = data.part("train")["item_id"].value_counts()
    pair_popularity = pairs["item_id"].map(popularity).fillna(0).to_numpy(dtype=float)
    rows, personal, scores_for_plots, curves = [], [], {}, {}
    for name in config.metrics:
        spec = name
        if name in LEARNED:
            spec = "learned:" + str(train_learned_metric(data, out / f"{name}-metric", config.learned_steps,
                                                         max_triplets=config.learned_triplets, seed=config.seed,
                                                         negatives=LEARNED[name]))
        scorer = metric(spec)
        if hasattr(scorer, "fit"):
            scorer.fit(list(dict.fromkeys(texts.values())))
        for label, goals in tqdm(sources.items(), desc=f"metric {spec}", unit="source"):
            scores = pair_scores(scorer, goals, pairs, texts, config.chunk_users)
            rows.append(_row(name, label, scores, pairs, config))
            if label != "shuffled":  # the personal part: these goals against the same goals dealt to other users
                control = pair_scores(scorer, shuffled(goals, config.seed), pairs, texts, config.chunk_users)
                personal.append(_personal_row(name, label, scores, control, pairs, pair_popularity, config))
            if label == next(iter(sources)):
                scores_for_plots[name] = scores
                curves[name] = threshold_curve(scores, pairs["rating"].to_numpy(), liked=config.liked_threshold,
                                               disliked=config.disliked_threshold)
    rows.append(_row("popularity", "no goals", pair_popularity, pairs, config))
    for name, scores in anchor_scores(data.part("train"), pairs, config.seed).items():  # what CF reaches
        rows.append(_row(name, "ratings (CF)", scores, pairs, config))
    report = {"config": dataclasses.asdict(config), "pairs": len(pairs), "users": len(users),
              "test_users": len(population),
              "primary_goals": next(iter(sources)), "personal": personal, "table": rows, "threshold_curves": curves,
              "users_without_goals": {label: len(set(users) - set(goals)) for label, goals in sources.items()}}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    (out / "report.md").write_text(format_table(report), encoding="utf-8")
    report["plots"] = [str(p) for p in plot_all(scores_for_plots, pairs["rating"].to_numpy(), curves, out,
                                                config.liked_threshold, config.disliked_threshold)]
    if personal:
        report["plots"].append(str(plot_personal(personal, out / "personal.png")))
    return report


def _row(name: str, label: str, scores: np.ndarray, pairs: pd.DataFrame, config: ValidateConfig) -> dict:
    result = evaluate_scores(scores, pairs["rating"].to_numpy(), pairs["user_id"].to_numpy(), config.bootstrap,
                             config.seed, config.liked_threshold, config.disliked_threshold)
    return {"metric": _label(name), "goals": label, **result}


def _personal_row(name: str, label: str, scores: np.ndarray, control: np.ndarray, pairs: pd.DataFrame,
                  popularity: np.ndarray, config: ValidateConfig) -> dict:
    result = personal_signal(scores, control, pairs["rating"].to_numpy(), pairs["user_id"].to_numpy(), popularity,
                             config.bootstrap, config.seed, config.liked_threshold, config.disliked_threshold)
    return {"metric": _label(name), "goals": label, **result}


def _label(name: str) -> str:
    """A metric's row label: a loaded learned metric (learned:PATH) is 'learned'."""
    return "learned" if name.startswith("learned:") else name


PERSONAL_HEADERS = {"own_minus_shuffled_spearman": "own − shuffled ρ", "own_minus_shuffled_auc": "own − shuffled AUC",
                    "own_minus_shuffled_ndcg10": "own − shuffled NDCG@10", "partial_spearman": "ρ given popularity",
                    "auc_within_popularity": "AUC within popularity quintiles",
                    "incremental_auc": "AUC gain over popularity"}


def format_table(report: dict[str, Any]) -> str:
    """Markdown: first how much of the reward is personal (per metric × goal source, value [95% CI]), then
    metric × goal source × {Spearman, Kendall, AUC, NDCG@10}; a sample of the test users is said first."""
    lines = []
    population = report.get("test_users", report.get("users"))
    if population and report.get("users", population) < population:
        lines += [f"On a sample of {report['users']} of the {population} test users "
                  f"({report['pairs']} held-out ratings; seed {report['config'].get('seed', 0)}); the intervals "
                  "are over the sampled users.", ""]
    if report.get("personal"):
        lines += ["How much of the reward is personal (95 % bootstrap intervals over users; an interval above 0, or "
                  "above 0.5 for the within-quintile AUC, is a personal signal):", "",
                  "| metric | goals | " + " | ".join(PERSONAL_HEADERS.values()) + " |",
                  "| --- | --- |" + " --- |" * len(PERSONAL_HEADERS)]
        for row in report["personal"]:
            cells = [f"{row[s]['value']:.3f} [{row[s]['low']:.3f}, {row[s]['high']:.3f}]" for s in PERSONAL_HEADERS]
            lines.append(f"| {row['metric']} | {row['goals']} | " + " | ".join(cells) + " |")
        lines += ["", "The reward against held-out ratings (95 % bootstrap intervals over users):", ""]
    lines += ["| metric | goals | pairs | Spearman ρ | mean per-user ρ | Kendall τ | ROC-AUC | NDCG@10 |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in report["table"]:
        cells = [f"{row[s]['value']:.3f} [{row[s]['low']:.3f}, {row[s]['high']:.3f}]" if s in row else "-"
                 for s in STATISTICS]
        lines.append(f"| {row['metric']} | {row['goals']} | {row['pairs']['value']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
