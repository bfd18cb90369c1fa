"""The ELLM intrinsic reward and the per-episode achieved-goal filter.

r = max_g sim(goal_g, caption) if that maximum exceeds the threshold, else 0 — the reward *is* the
similarity, as in the paper. A goal counts as achieved once a caption matched it; for the rest of the
episode it (and any suggestion the same caption would match again) is no longer rewarded.

Example:
    >>> import numpy as np
    >>> goals = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    >>> ellm_reward(goals, np.array([0.0, 1.0], dtype=np.float32), threshold=0.5)
    (0.8, 1)
    >>> ellm_reward(goals, np.array([0.0, 1.0], dtype=np.float32), threshold=0.8)
    (0.0, -1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ellm_core.text.embed import Embedder
from ellm_core.text.similarity import similarity

#: Default similarity threshold of the core (presets may override it, e.g. the paper's 0.99 for Crafter).
DEFAULT_THRESHOLD = 0.5


def ellm_reward(
    goal_embeddings: np.ndarray, caption_embedding: np.ndarray, threshold: float, metric: str = "cosine"
) -> tuple[float, int]:
    """(reward, index of the matched goal) for one transition; (0.0, -1) when no goal exceeds ``threshold``."""
    if len(goal_embeddings) == 0:
        return 0.0, -1
    scores = similarity(metric)(np.asarray(caption_embedding), np.asarray(goal_embeddings))[0]
    best = int(np.argmax(scores))
    score = round(float(scores[best]), 6)
    return (score, best) if score > threshold else (0.0, -1)


@dataclass
class AchievedGoalFilter:
    """Removes goals achieved earlier in the episode; :meth:`reset` at episode end.

    A goal is removed once its text was rewarded ``limit`` times (ELLM: once), or once ``limit`` captions that
    earned a reward match it (above ``threshold``), so paraphrases of an achieved goal are not rewarded again either.
    A ``limit`` above 1 lets a goal that takes several of the same step pay for each of them (a table takes two
    wood: "collect wood" twice). ``enabled=False`` turns the filter off for ablations. ``aliases`` maps a goal text
    to another that is the same goal (the paper's game: "eat cow" and "attack cow"); achieving one achieves both.
    """

    threshold: float = DEFAULT_THRESHOLD
    metric: str = "cosine"
    enabled: bool = True
    limit: int = 1
    aliases: Mapping[str, str] = field(default_factory=dict)
    achieved_goals: Counter[str] = field(default_factory=Counter)
    achieved_captions: list[np.ndarray] = field(default_factory=list)

    def reset(self) -> None:
        """Forget everything achieved (call at episode start)."""
        self.achieved_goals.clear()
        self.achieved_captions.clear()

    def mark(self, goal: str, caption_embedding: np.ndarray) -> None:
        """Record that ``goal`` was achieved by the caption with this embedding."""
        self.achieved_goals[goal] += 1
        if goal in self.aliases:
            self.achieved_goals[self.aliases[goal]] += 1
        self.achieved_captions.append(np.asarray(caption_embedding, dtype=np.float32))

    def keep_mask(self, goals: Sequence[str], goal_embeddings: np.ndarray) -> np.ndarray:
        """Boolean mask of the goals not yet achieved (``limit`` times)."""
        mask = np.ones(len(goals), dtype=bool)
        if not self.enabled or len(goals) == 0:
            return mask
        mask &= np.array([self.achieved_goals[goal] < self.limit for goal in goals])
        if self.achieved_captions:
            scores = similarity(self.metric)(np.stack(self.achieved_captions), np.asarray(goal_embeddings))
            mask &= (scores > self.threshold).sum(axis=0) < self.limit
        return mask


@dataclass
class EpisodeReward:
    """The ELLM reward for one environment's episode: filter + embed + max-similarity reward.

    Example:
        >>> from ellm_core.text.embed import HashingEmbedder
        >>> episode = EpisodeReward(HashingEmbedder(), threshold=0.5)
        >>> episode.step(["collect wood", "drink water"], "collect wood")[:2]
        (1.0, 'collect wood')
        >>> episode.step(["collect wood", "drink water"], "collect wood")  # achieved earlier this episode
        (0.0, None, ['drink water'])
    """

    embedder: Embedder
    threshold: float = DEFAULT_THRESHOLD
    metric: str = "cosine"
    filter_achieved: bool = True
    pay_limit: int = 1
    aliases: Mapping[str, str] = field(default_factory=dict)
    achieved: AchievedGoalFilter = field(init=False)

    def __post_init__(self) -> None:
        self.achieved = AchievedGoalFilter(self.threshold, self.metric, self.filter_achieved, self.pay_limit,
                                           dict(self.aliases))

    def reset(self) -> None:
        """Start a new episode."""
        self.achieved.reset()

    def active_goals(self, goals: Sequence[str]) -> list[str]:
        """The goals not achieved yet in this episode."""
        return self.step(goals, "")[2]

    def step(self, goals: Sequence[str], caption: str) -> tuple[float, str | None, list[str]]:
        """(reward, achieved goal or None, goals still active) for the transition described by ``caption``."""
        goals = list(dict.fromkeys(goals))
        if not goals:
            return 0.0, None, []
        embeddings = self.embedder.encode([*goals, caption] if caption else goals)
        mask = self.achieved.keep_mask(goals, embeddings[: len(goals)])
        active = [goal for goal, keep in zip(goals, mask) if keep]
        if not active or not caption:
            return 0.0, None, active
        reward, index = ellm_reward(embeddings[: len(goals)][mask], embeddings[-1], self.threshold, self.metric)
        if index < 0:
            return 0.0, None, active
        goal = active[index]
        if self.filter_achieved:
            self.achieved.mark(goal, embeddings[-1])
        return reward, goal, active


class VectorGoalReward:
    """The ELLM reward for every environment of a vector env, with goal suggestions batched across envs.

    ``goals[i]`` holds the active goals of env ``i`` for its current observation; :meth:`reward` scores a
    step's captions against them, :meth:`suggest` replaces them for the new observations: the suggestions, each
    preceded by its prerequisites when a ``chain`` is given, less the goals achieved this episode, the first
    ``active_goals`` of them when that is above 0. ``active_steps`` and
    ``rewarded`` tally, per goal text, the env steps it was active and the times it paid (:meth:`goal_counts`).
    """

    def __init__(self, generator, embedder: Embedder, num_envs: int, threshold: float = DEFAULT_THRESHOLD,
                 metric: str = "cosine", filter_achieved: bool = True, chain=None, active_goals: int = 0,
                 pay_limit: int = 1, aliases: Mapping[str, str] | None = None) -> None:
        from ellm_core.goals import suggest_batch

        self._suggest_batch = suggest_batch
        self.generator = generator
        self.chain, self.active_goals = chain, active_goals  # a GoalChain (prerequisites first); goals kept
        self.episodes = [EpisodeReward(embedder, threshold, metric, filter_achieved, pay_limit, aliases or {})
                         for _ in range(num_envs)]
        self.goals: list[list[str]] = [[] for _ in range(num_envs)]
        self.active_steps: Counter[str] = Counter()
        self.rewarded: Counter[str] = Counter()
        self.paid: Counter[tuple[str, str]] = Counter()  # (goal, caption) -> reward paid in total
        self.paid_times: Counter[tuple[str, str]] = Counter()

    def reset(self, env_indices: Sequence[int]) -> None:
        """New episodes for ``env_indices``: achieved goals forgotten."""
        for i in env_indices:
            self.episodes[i].reset()
            self.goals[i] = []

    def reward(self, captions: Sequence[str]) -> tuple[np.ndarray, list[str]]:
        """(reward per env, achieved goal per env or "") for one step's transition captions."""
        rewards, achieved = np.zeros(len(captions), dtype=np.float32), []
        for i, caption in enumerate(captions):
            rewards[i], goal, _ = self.episodes[i].step(self.goals[i], caption)
            achieved.append(goal or "")
            if goal:
                self.rewarded[goal] += 1
                self.paid[goal, caption] += float(rewards[i])
                self.paid_times[goal, caption] += 1
        return rewards, achieved

    def suggest(self, observations: Sequence[str], actions: Sequence[Sequence[str]]) -> list[list[str]]:
        """Suggest (one batched call) and filter the goals for every env's current observation."""
        suggested = self._suggest_batch(self.generator, list(observations), [list(a) for a in actions])
        if self.chain is not None:
            suggested = [self.chain.expand(goals) for goals in suggested]
        self.goals = [episode.active_goals(goals) for episode, goals in zip(self.episodes, suggested)]
        if self.active_goals > 0:
            self.goals = [goals[:self.active_goals] for goals in self.goals]
        for goals in self.goals:
            self.active_steps.update(goals)
        return self.goals

    def goal_counts(self) -> list[dict[str, object]]:
        """One row per goal ever active: ``goal``, ``active_steps``, ``rewarded``; most active first."""
        goals = sorted(self.active_steps.keys() | self.rewarded.keys(),
                       key=lambda goal: (-self.active_steps[goal], -self.rewarded[goal], goal))
        return [{"goal": goal, "active_steps": self.active_steps[goal], "rewarded": self.rewarded[goal]}
                for goal in goals]

    def pay_counts(self) -> list[dict[str, object]]:
        """One row per (goal, caption) that paid: ``goal``, ``caption``, ``times``, ``reward`` (summed); most reward
        first. Which caption each goal was paid for: a goal paid for a caption naming something else shows here."""
        pairs = sorted(self.paid, key=lambda pair: (-self.paid[pair], pair))
        return [{"goal": goal, "caption": caption, "times": self.paid_times[goal, caption],
                 "reward": round(self.paid[goal, caption], 4)} for goal, caption in pairs]

    def state_dict(self) -> dict[str, object]:
        """Achieved goals and current goals of every env (for exact resume)."""
        return {
            "paid": [[goal, caption, value, self.paid_times[goal, caption]]
                     for (goal, caption), value in self.paid.items()],
            "goals": self.goals,
            "achieved_goals": [sorted(e.achieved.achieved_goals.elements()) for e in self.episodes],
            "achieved_captions": [[c.tolist() for c in e.achieved.achieved_captions] for e in self.episodes],
            "active_steps": dict(self.active_steps),
            "rewarded": dict(self.rewarded),
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.goals = [list(goals) for goals in state["goals"]]
        self.active_steps = Counter(state.get("active_steps", {}))  # absent from checkpoints of older versions
        self.rewarded = Counter(state.get("rewarded", {}))
        paid = state.get("paid", [])  # absent from checkpoints of older versions
        self.paid = Counter({(goal, caption): float(value) for goal, caption, value, _ in paid})
        self.paid_times = Counter({(goal, caption): int(times) for goal, caption, _, times in paid})
        for episode, goals, captions in zip(self.episodes, state["achieved_goals"], state["achieved_captions"]):
            episode.achieved.achieved_goals = Counter(goals)
            episode.achieved.achieved_captions = [np.asarray(c, dtype=np.float32) for c in captions]


def false_pay(pays: Sequence[dict], candidates: Sequence[str], embedder: Embedder) -> tuple[float, list[dict]]:
    """The share of the reward paid to a goal naming a different achievement than the one the caption reports.

    A goal *names* the candidate (achievement text) nearest to it by ``embedder``; a pay is false when that
    candidate is not among the caption's achievements (a caption lists them joined by ", "). Returns the share
    (0 when nothing paid) and ``pays`` with ``names`` and ``false`` added to each row.
    """
    if not pays or not candidates:
        return 0.0, [dict(row) for row in pays]
    goals = sorted({str(row["goal"]) for row in pays})
    sims = embedder.encode(goals) @ embedder.encode(list(candidates)).T
    names = {goal: candidates[int(np.argmax(row))] for goal, row in zip(goals, sims)}
    rows = [{**row, "names": names[str(row["goal"])],
             "false": names[str(row["goal"])] not in str(row["caption"]).split(", ")} for row in pays]
    total = sum(float(row["reward"]) for row in rows)
    wrong = sum(float(row["reward"]) for row in rows if row["false"])
    return (wrong / total if total else 0.0), rows
