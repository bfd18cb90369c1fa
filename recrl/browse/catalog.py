"""The catalogue a browsing session moves through: item texts, popularity, description neighbours, users.

Built once per (data directory, embedder) and shared by every environment copy in the process. Popularity
and user histories come from the **train** split only; held-out ratings (``valid``/``test``) are kept apart
and only handed out by :meth:`Catalog.held_out_rating` (the environment exposes them in eval mode only).

Fallbacks: an item without a description is described by its title (or its id); a user without liked train
items has an empty history ("nothing yet") and starts at the most popular item.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ellm_core.cache import open_cache
from ellm_core.text.embed import CachedEmbedder, make_embedder
from recrl.data.prepared import PreparedData, load_prepared
from recrl.rationale.examples import user_histories

logger = logging.getLogger(__name__)


@dataclass
class Catalog:
    """Items (index-aligned arrays), their neighbours by description, and per-user train/held-out data."""

    item_ids: list[str]
    titles: list[str]
    texts: list[str]  # the caption of an opened item: title + description
    popularity: np.ndarray  # train interactions per item
    neighbours: np.ndarray  # (items, n) indices by description cosine, most similar first, self excluded
    histories: dict[str, tuple[tuple[str, ...], str]]  # user -> (liked train titles, category)
    last_item: dict[str, int]  # user -> index of their latest train item
    held_out: dict[tuple[str, int], float]  # (user, item index) -> rating in the held-out split
    users_by_split: dict[str, list[str]]
    vectors: np.ndarray | None = None  # (items, d) unit embeddings of the item texts
    train_ratings: dict[str, tuple[np.ndarray, np.ndarray]] | None = None  # user -> (item indices, train ratings)

    @property
    def size(self) -> int:
        return len(self.item_ids)

    @functools.cached_property
    def popular_order(self) -> np.ndarray:
        """Item indices, most popular first (ties by index)."""
        return np.lexsort((np.arange(self.size), -self.popularity))

    @functools.cached_property
    def held_out_by_user(self) -> dict[str, list[float]]:
        """user -> their held-out ratings (for the ideal session of NDCG)."""
        by_user: dict[str, list[float]] = {}
        for (user, _), rating in self.held_out.items():
            by_user.setdefault(user, []).append(rating)
        return by_user

    @functools.cached_property
    def held_out_items(self) -> dict[str, list[int]]:
        """user -> the item indices they rated in the held-out split."""
        by_user: dict[str, list[int]] = {}
        for user, item in self.held_out:
            by_user.setdefault(user, []).append(item)
        return by_user

    @functools.cached_property
    def negative_weights(self) -> np.ndarray:
        """Sampling weights of held-out slates' negatives: train popularity + 1, so that a negative is as popular
        as a picked item tends to be (uniform negatives would let popularity alone find the held-out item)."""
        weights = self.popularity.astype(float) + 1.0
        return weights / weights.sum()

    def held_out_rating(self, user: str, item: int) -> float:
        """The user's held-out rating of the item, NaN when they have none."""
        return self.held_out.get((user, item), float("nan"))


def _item_text(title: str, description: str, item_id: str) -> str:
    description = " ".join(str(description or "").split())
    title = " ".join(str(title or "").split()) or item_id
    return description if description.startswith(title) else f"{title}. {description}".strip(" .") + "."


def build_catalog(data: PreparedData, embedder_name: str = "default", neighbours: int = 50,
                  held_out_split: str = "test", cache: str | None = None) -> Catalog:
    """A :class:`Catalog` from prepared data; a clear error when there is nothing to browse."""
    items = data.items.reset_index(drop=True)
    if items.empty:
        raise ValueError("the prepared data has no items: nothing to browse")
    train = data.part("train")
    if train.empty:
        raise ValueError("the prepared data has no train interactions: no users to simulate")
    index = {item_id: i for i, item_id in enumerate(items["item_id"])}
    texts = [_item_text(t, d, i) for t, d, i in zip(items["title"], items["description"], items["item_id"])]
    popularity = np.bincount(train["item_id"].map(index).dropna().astype(int), minlength=len(items)).astype(np.int64)
    embedder = CachedEmbedder(make_embedder(embedder_name), open_cache(cache))
    vectors = embedder.encode(texts)
    count = min(neighbours, len(items) - 1)
    order = np.zeros((len(items), count), dtype=np.int64)
    for start in range(0, len(items), 1024):  # bounded memory: 1024 rows of similarities at a time
        scores = vectors[start : start + 1024] @ vectors.T
        rows = np.arange(scores.shape[0])
        scores[rows, start + rows] = -np.inf
        top = np.argpartition(-scores, count - 1, axis=1)[:, :count] if count else np.zeros((len(rows), 0), int)
        ranked = np.take_along_axis(scores, top, axis=1)
        order[start : start + len(rows)] = np.take_along_axis(top, np.argsort(-ranked, axis=1, kind="stable"), axis=1)
    latest = train.sort_values(["user_id", "timestamp", "item_id"], kind="stable").groupby("user_id").tail(1)
    held = data.part(held_out_split)
    held_out = {(str(u), index[i]): float(r) for u, i, r in zip(held["user_id"], held["item_id"], held["rating"])
                if i in index}
    users = {split: sorted(map(str, data.part(split)["user_id"].unique())) for split in ("train", "valid", "test")}
    rated = train[train["item_id"].isin(index)]
    train_ratings = {str(user): (rows["item_id"].map(index).to_numpy(dtype=np.int64), rows["rating"].to_numpy(float))
                     for user, rows in rated.groupby("user_id", sort=False)}
    return Catalog(
        item_ids=list(items["item_id"].astype(str)), titles=list(items["title"].astype(str)), texts=texts,
        popularity=popularity, neighbours=order,
        histories=user_histories(data, users["train"] or None),
        last_item={str(u): index[i] for u, i in zip(latest["user_id"], latest["item_id"]) if i in index},
        held_out=held_out, users_by_split=users, vectors=np.asarray(vectors, dtype=np.float32),
        train_ratings=train_ratings,
    )


@functools.lru_cache(maxsize=4)
def load_catalog(data_dir: str, embedder_name: str = "default", neighbours: int = 50,
                 held_out_split: str = "test") -> Catalog:
    """The catalogue of a prepared directory, built once per process for each argument combination."""
    logger.info("building the browsing catalogue of %s (embedder %s)", data_dir, embedder_name)
    return build_catalog(load_prepared(Path(data_dir)), embedder_name, neighbours, held_out_split)
