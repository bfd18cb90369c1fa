"""A synthetic product category in the Amazon Reviews 2023 format whose answer is known: a planted taste.

Every item is a garment with one value in each of four facets (colour, material, cut, feature), written into its
title, description and features. Every user cares about two facets and has a preferred value in each; users share
their tastes (20 tastes by default), so that co-ratings carry them too and collaborative filtering can learn them
(with a taste per user, MF fitted on ~7 train ratings a user ranks held-out ratings at Spearman 0.00; with 16
shared tastes at 0.23, on 30k reviews). A rating
depends only on how many of the user's two preferences the item meets (0, 1 or 2), plus noise; an item's
popularity (how often it is picked) is a Zipf weight over a random order of the items, drawn independently of its
facets, so popularity alone cannot predict a rating. A liked review says what the user liked about the item (its
values in the facets the user cares about); a disliked one says what the user missed. No field carries the
rating itself: the metadata's ``average_rating`` is left out, and review texts speak of facets, not stars.

``write_category(folder, reviews=100_000)`` writes ``Planted.jsonl.gz`` and ``meta_Planted.jsonl.gz``, ready for
``recrl data prepare --source amazon2023 --input folder/Planted.jsonl.gz``.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The facets of a garment and their values, as the texts write them.
FACETS: dict[str, list[str]] = {
    "colour": ["red", "navy", "olive", "mustard", "white", "black", "teal", "burgundy", "grey", "pink"],
    "material": ["linen", "denim", "wool", "cotton", "silk", "leather", "fleece", "corduroy"],
    "cut": ["oversized", "slim", "cropped", "wrap", "a-line", "boxy"],
    "feature": ["deep pockets", "a hood", "a zip front", "wooden buttons", "a drawstring waist", "reflective trim",
                "a high collar", "side slits"],
}
GARMENTS = ["dress", "jacket", "shirt", "skirt", "coat", "sweater", "trousers", "vest"]
#: What a liked review says about a value the user cares about, per facet.
LIKED = {"colour": "The {} is exactly the shade I wanted.", "material": "I love how the {} feels.",
         "cut": "The {} cut suits me perfectly.", "feature": "So glad it has {}."}
#: What a disliked review says the user missed, per facet.
MISSED = {"colour": "I was hoping for {}.", "material": "I wanted {}, not this fabric.",
          "cut": "I prefer a {} cut.", "feature": "It really needs {}."}
#: Sentences that say nothing about taste, to make the texts as long as real ones.
FILLER = ["Arrived on time.", "Packaging was fine.", "Sizing runs true.", "Washed it twice so far.",
          "Bought it for a trip.", "The stitching looks neat.", "Delivery took a week.", "Ordered my usual size."]
NAMES = list(FACETS)


@dataclass(frozen=True)
class Category:
    """The facts behind a written category: each item's facet values, each user's facets and preferred values."""

    items: np.ndarray        # (items, 4): value index per facet
    user_facets: np.ndarray  # (users, 2): the facets each user cares about
    user_values: np.ndarray  # (users, 2): the preferred value in each


def matches(category: Category, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """How many of each user's two preferences each item meets (0, 1 or 2), pairwise over ``users``/``items``."""
    values = category.items[items[:, None], category.user_facets[users]]
    return (values == category.user_values[users]).sum(axis=1)


def _rating(match: int, rng: np.random.Generator) -> int:
    """5/4 for both preferences met, 4/3 for one, 2/1 for none; one rating in ten is uniform noise."""
    if rng.random() < 0.1:
        return int(rng.integers(1, 6))
    return int(rng.choice(([2, 1], [4, 3], [5, 4])[match], p=(0.7, 0.3)))


def _review(category: Category, user: int, item: int, rating: int, rng: np.random.Generator) -> str:
    facets, wanted = category.user_facets[user], category.user_values[user]
    if rating >= 4:
        said = [LIKED[NAMES[f]].format(FACETS[NAMES[f]][category.items[item, f]]) for f in facets
                if category.items[item, f] == wanted[list(facets).index(f)]] or ["Nice enough."]
    else:
        said = [MISSED[NAMES[f]].format(FACETS[NAMES[f]][v]) for f, v in zip(facets, wanted)
                if category.items[item, f] != v] or ["Not for me."]
    return " ".join(said + list(rng.choice(FILLER, size=2, replace=False)))


def _meta(item: int, values: np.ndarray, picks: int, rng: np.random.Generator) -> dict:
    colour, material, cut, feature = (FACETS[name][v] for name, v in zip(NAMES, values))
    garment = GARMENTS[item % len(GARMENTS)]
    title = f"{cut.capitalize()} {material} {garment} in {colour} with {feature}"
    return {"main_category": "Planted", "title": title, "rating_number": int(picks), "store": f"Store {item % 97}",
            "features": [f"{material.capitalize()}", f"With {feature}", "Machine wash"],
            "description": [f"A {cut} {garment} cut from {material}, dyed {colour}, finished with {feature}.",
                            *rng.choice(FILLER, size=2, replace=False)],
            "price": round(float(rng.uniform(15, 120)), 2), "categories": ["Planted", garment.capitalize()],
            "details": {"Department": "Unisex"}, "parent_asin": f"P{item:07d}"}


def write_category(folder: str | Path, reviews: int = 100_000, seed: int = 0, name: str = "Planted",
                   reviews_per_item: int = 15, tastes: int = 20) -> tuple[Path, Category]:
    """Write about ``reviews`` reviews (users: ``reviews // 10``; items: ``reviews // reviews_per_item``) and their
    items' metadata into ``folder``; return the reviews file and the planted facts. ``tastes``: each user takes one
    of this many tastes (shared by many users, as real tastes are), 0: each user's own draw."""
    rng = np.random.default_rng(seed)
    n_users, n_items = max(reviews // 10, 2), max(reviews // reviews_per_item, 8)
    sizes = np.array([len(FACETS[f]) for f in NAMES])
    items = rng.integers(0, sizes, size=(n_items, len(NAMES)))
    pool = tastes or n_users
    user_facets = np.stack([rng.choice(len(NAMES), size=2, replace=False) for _ in range(pool)])
    user_values = rng.integers(0, sizes[user_facets])
    if tastes:
        which = rng.integers(0, tastes, size=n_users)
        user_facets, user_values = user_facets[which], user_values[which]
    category = Category(items, user_facets, user_values)
    popularity = 1.0 / (rng.permutation(n_items) + 10.0) ** 0.9  # independent of the facets
    # half of a user's picks are among items meeting a preference (search by taste), the rest by popularity alone
    cdf_all = np.cumsum(popularity) / popularity.sum()
    by_value = {}
    for f in range(len(NAMES)):
        for v in range(sizes[f]):
            members = np.flatnonzero(items[:, f] == v)
            by_value[f, v] = (members, np.cumsum(popularity[members]) / popularity[members].sum())
    counts = np.minimum(5 + rng.poisson(5, size=n_users), n_items)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    picks = np.zeros(n_items, dtype=np.int64)
    path = folder / f"{name}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for user in range(n_users):
            chosen: list[int] = []
            while len(chosen) < counts[user]:
                if rng.random() < 0.5:
                    k = int(rng.integers(2))
                    members, cdf = by_value[int(user_facets[user, k]), int(user_values[user, k])]
                    item = int(members[min(np.searchsorted(cdf, rng.random()), len(members) - 1)])
                else:
                    item = int(min(np.searchsorted(cdf_all, rng.random()), n_items - 1))
                if item not in chosen:
                    chosen.append(item)
            met = matches(category, np.full(len(chosen), user), np.array(chosen))
            start = 1_600_000_000_000 + int(rng.integers(0, 10**10))
            for day, (item, match) in enumerate(zip(chosen, met)):
                rating = _rating(int(match), rng)
                picks[item] += 1
                out.write(json.dumps({"rating": float(rating), "title": "", "asin": f"P{item:07d}",
                                      "text": _review(category, user, item, rating, rng),
                                      "parent_asin": f"P{item:07d}", "user_id": f"U{user:07d}",
                                      "timestamp": start + day * 86_400_000, "helpful_vote": 0,
                                      "verified_purchase": True}) + "\n")
    with gzip.open(folder / f"meta_{name}.jsonl.gz", "wt", encoding="utf-8", compresslevel=1) as out:
        for item in range(n_items):
            out.write(json.dumps(_meta(item, items[item], picks[item], rng)) + "\n")
    return path, category
