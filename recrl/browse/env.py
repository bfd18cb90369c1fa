"""ProductBrowse-v0: one user's browsing session over a product catalogue, in the ELLM text interface.

State: the product currently shown and a slate of K candidates (a configurable mix of the current product's
nearest neighbours by description, popular items and random items; never the same item twice in a slate,
never the current product). Actions: ``open i`` for each slot i, then ``show other candidates``. A session
ends (``truncated``) after ``session_steps`` steps. The environment's own reward is 0 by default: training sees no
ratings.

The observation is the item indices ``[current, slot 1 .. slot K]``; the agent reads the text in ``info``:
``observation_text`` (the user's liked items, the current page, the candidates), ``valid_actions``, and
after a step ``caption`` (the opened product's title and description; ``""`` after "show other
candidates"), ``item_id`` and ``user_id``. With ``reward_model="content-knn"`` the environment's own reward is a
description-based one instead of 0: for an opened product, the user's content-kNN rating prediction minus their mean
train rating (:func:`recrl.validation.content.content_knn` over their rated **train** items; no held-out rating is read). With ``eval_mode=True`` (evaluation only) a step's info also
carries ``held_out_rating`` (NaN when the user has no held-out rating of the opened item) and the final step
``session``: the opened items with their held-out ratings, liked share and NDCG.

Held-out slates (``held_out_slates=True``, evaluation only; ``recrl browse eval --slates held-out``): each slate
holds one of the user's held-out items (each in turn), at a random slot, among negatives the user never rated,
sampled by train popularity (leave-one-out evaluation with popularity-matched negatives, so that opening the most
popular candidate does not find the held-out item by itself). A policy that knows the user's taste opens the liked
ones; the mixed slates rarely show a held-out item at all.

Goals: ``suggested_goals()`` returns the session user's rationales (from ``rationales``, a file written by
``recrl rationale generate``); users without rationales get none, so ELLM gives them no reward (counted in
``missing_rationales``). With ``goal_source=lm`` the core's goal generator asks an LM per state instead.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from recrl.browse.catalog import Catalog, load_catalog
from recrl.browse.metrics import session_summary
from recrl.rationale.generate import read_rationales
from recrl.validation.content import content_knn

SHOW_OTHERS = "show other candidates"
#: The environment's own reward: none (0), or a description-based one from the user's train ratings.
REWARD_MODELS = ("none", "content-knn")


def parse_mix(mix: str, slate_size: int) -> tuple[int, int, int]:
    """``"neighbours,popular,random"`` counts; they must sum to the slate size."""
    try:
        counts = tuple(int(part) for part in mix.split(","))
    except ValueError:
        counts = ()
    if len(counts) != 3 or min(counts) < 0 or sum(counts) != slate_size:
        raise ValueError(f"slate mix {mix!r} must be three non-negative counts (neighbours,popular,random) "
                         f"summing to the slate size {slate_size}")
    return counts  # type: ignore[return-value]


class ProductBrowseEnv(gym.Env):
    """See the module docstring. ``split`` chooses whose sessions are simulated (``train`` or ``test`` users;
    ``max_users`` keeps the first N of them, sorted by id)."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, data: str = "data/prepared/sample", split: str = "train", slate_size: int = 5,
                 mix: str = "3,1,1", session_steps: int = 10, rationales: str | None = None,
                 eval_mode: bool = False, embedder: str = "default", liked_threshold: float = 4.0, max_users: int = 0,
                 render_mode: str | None = None, catalog: Catalog | None = None, reward_model: str = "none",
                 neighbours: int = 20, held_out_slates: bool = False) -> None:
        self.catalog = catalog or load_catalog(str(data), embedder)
        self.users = self.catalog.users_by_split.get(split, [])
        self.users = self.users[:max_users] if max_users else self.users
        if not self.users:
            raise ValueError(f"no users in the {split!r} split of {data}: nothing to simulate")
        if reward_model not in REWARD_MODELS:
            raise ValueError(f"unknown reward_model {reward_model!r}; known: {', '.join(REWARD_MODELS)}")
        self.reward_model, self.neighbours = reward_model, neighbours
        if held_out_slates and not eval_mode:
            raise ValueError("held_out_slates show held-out items: they are for evaluation (eval_mode=True) only")
        self.held_out_slates = held_out_slates
        self.counts = parse_mix(mix, slate_size)
        self.slate_size, self.session_steps, self.eval_mode = slate_size, session_steps, eval_mode
        self.liked_threshold, self.render_mode = liked_threshold, render_mode
        self.rationales = read_rationales(rationales) if rationales else {}
        self.missing_rationales = 0
        self.observation_space = spaces.MultiDiscrete([self.catalog.size] * (slate_size + 1))
        self.action_space = spaces.Discrete(slate_size + 1)
        self.user, self.current, self.slate, self.t = "", 0, np.zeros(slate_size, dtype=np.int64), 0
        self._turn = 0
        self.shown: set[int] = set()
        self.opened: list[int] = []

    # --- slate -----------------------------------------------------------------------------------------
    def _draw_slate(self) -> np.ndarray:
        """K distinct candidates not shown yet in this session (never the current product): first the
        neighbours' and popular quotas, then random items for the rest (and for any shortfall); or a held-out
        slate (see the module docstring)."""
        if self.held_out_slates:
            return self._held_out_slate()
        slate: list[int] = []
        blocked = {self.current} | self.shown

        def fill(pool, quota: int) -> None:
            for item in pool:
                if quota <= 0:
                    return
                if int(item) not in blocked:
                    slate.append(int(item))
                    blocked.add(int(item))
                    quota -= 1

        neighbours, popular, _ = self.counts
        fill(self.catalog.neighbours[self.current], neighbours)
        fill(self.catalog.popular_order, popular)
        if len(blocked) + self.slate_size - len(slate) > self.catalog.size:  # the session saw nearly everything
            self.shown.clear()
            blocked = {self.current, *slate}
        while len(slate) < self.slate_size:
            fill(self.np_random.integers(self.catalog.size, size=4 * self.slate_size), self.slate_size - len(slate))
        self.shown.update(slate)
        return np.asarray(slate, dtype=np.int64)

    def _held_out_slate(self) -> np.ndarray:
        """One held-out item of the user (each in turn, in a seeded order) among popularity-sampled negatives the
        user never rated, at a random slot."""
        held = self.catalog.held_out_items.get(self.user, [])
        positives = [item for item in held if item != self.current]
        rated = set(held)
        if self.catalog.train_ratings and self.user in self.catalog.train_ratings:
            rated.update(int(i) for i in self.catalog.train_ratings[self.user][0])
        slate = [positives[(self.t + self._turn) % len(positives)]] if positives else []
        blocked = rated | {self.current} | set(slate)
        if self.catalog.size - len(blocked) < self.slate_size - len(slate):  # a tiny catalogue the user rated
            blocked = {self.current, *slate}
        while len(slate) < self.slate_size:
            for item in self.np_random.choice(self.catalog.size, size=4 * self.slate_size,
                                              p=self.catalog.negative_weights):
                if len(slate) < self.slate_size and int(item) not in blocked:
                    slate.append(int(item))
                    blocked.add(int(item))
        return self.np_random.permutation(np.asarray(slate, dtype=np.int64))

    # --- text --------------------------------------------------------------------------------------------
    def observation_text(self) -> str:
        """The user's liked items, the current page and the numbered candidates."""
        history, _ = self.catalog.histories.get(self.user, ((), ""))
        titles = self.catalog.titles
        candidates = "; ".join(f"{i + 1}. {titles[item]}" for i, item in enumerate(self.slate))
        return (f"You liked: {'; '.join(history) or 'nothing yet'}. Now viewing: {self.catalog.texts[self.current]} "
                f"Candidates: {candidates}.")

    def valid_actions(self) -> list[str]:
        """``open i: <title>`` per slot, then ``show other candidates``."""
        return [f"open {i + 1}: {self.catalog.titles[item]}" for i, item in enumerate(self.slate)] + [SHOW_OTHERS]

    def suggested_goals(self) -> list[str]:
        """The session user's precomputed rationales (empty when there are none)."""
        return list(self.rationales.get(self.user, []))

    def _observation(self) -> np.ndarray:
        return np.concatenate([[self.current], self.slate]).astype(np.int64)

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {"observation_text": self.observation_text(), "valid_actions": self.valid_actions(),
                "user_id": self.user, "action_mask": np.ones(self.slate_size + 1, dtype=bool), **extra}

    # --- gymnasium API -----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a session of a user drawn from the split (or ``options["user_id"]``) at their latest item."""
        super().reset(seed=seed)
        options = options or {}
        self.user = str(options.get("user_id") or self.users[int(self.np_random.integers(len(self.users)))])
        fallback = int(self.catalog.popular_order[0])
        self.current = self.catalog.last_item.get(self.user, fallback)
        self.t, self.opened, self.shown = 0, [], set()
        self._turn = int(self.np_random.integers(1 << 16))  # where the held-out slates start in the user's items
        if self.rationales and self.user not in self.rationales:
            self.missing_rationales += 1
        self.slate = self._draw_slate()
        return self._observation(), self._info()

    def step(self, action):
        """Open a candidate (its text becomes the caption) or draw other candidates."""
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        action, extra = int(action), {}
        if action < self.slate_size:
            self.current = int(self.slate[action])
            self.opened.append(self.current)
            extra = {"caption": self.catalog.texts[self.current], "item_id": self.catalog.item_ids[self.current]}
            if self.eval_mode:
                extra["held_out_rating"] = self.catalog.held_out_rating(self.user, self.current)
        else:
            extra = {"caption": "", "item_id": ""}
            if self.eval_mode:
                extra["held_out_rating"] = math.nan
        reward = self.own_reward(self.current) if action < self.slate_size else 0.0
        self.t += 1
        self.slate = self._draw_slate()
        truncated = self.t >= self.session_steps
        if truncated and self.eval_mode:
            extra["session"] = session_summary(self.catalog, self.user, self.opened, self.liked_threshold)
        return self._observation(), reward, False, truncated, self._info(**extra)

    def own_reward(self, item: int) -> float:
        """The environment's own reward for opening ``item``: 0, or :meth:`content_score`
        (``reward_model="content-knn"``)."""
        return 0.0 if self.reward_model == "none" else self.content_score(item)

    def content_score(self, item: int) -> float:
        """The session user's content-kNN rating prediction for ``item`` minus their mean train rating (from their
        rated **train** items' descriptions; 0 for a user without train ratings)."""
        rated, ratings = (self.catalog.train_ratings or {}).get(self.user, (np.zeros(0, np.int64), np.zeros(0)))
        if not len(ratings):
            return 0.0
        similarity = self.catalog.vectors[rated] @ self.catalog.vectors[item]
        return float(content_knn(similarity[None, :], ratings, self.neighbours)[0] - ratings.mean())

    def render(self) -> str | None:
        """The observation text (``ansi``)."""
        return self.observation_text() if self.render_mode == "ansi" else None
