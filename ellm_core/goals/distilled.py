"""Distilled goals: the LM labels situations in the background; a fast goal model, learned from its answers, suggests
goals at every step (``--goal-source distilled``).

The LM worker of :class:`~ellm_core.goals.background.BackgroundGoals` keeps answering the newest situations it has not
seen, in batches. Each step, for each situation:

1. the LM's own answer when it is known (answered earlier, or in the LM's SQLite cache): an exact hit always wins;
2. else the goal model's answer: the goals of the nearest labelled situation by the embedding of the observation
   text (the agent computes that embedding anyway), when its cosine is at least ``floor``;
3. else no goals.

:attr:`DistilledGoals.answered_by` counts which of the three answered. The labels are the LM's answers, so they live
in its SQLite cache: a resumed run asks the cache again for the situations its checkpoint lists
(:meth:`DistilledGoals.state_dict`), and nothing the LM said is lost.

This is the scheme ONI (Klissarov et al., 2024) uses for LLM rewards (asynchronous LLM labels, a fast model in the
loop), applied to ELLM's goal suggestions.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

import numpy as np

from ellm_core.goals.background import BackgroundGoals
from ellm_core.goals.generators import GoalGenerator, lm_stats
from ellm_core.text.embed import Embedder

logger = logging.getLogger(__name__)


class NearestLabels:
    """The goal model: the goals of the nearest labelled observation (cosine of unit embeddings), above ``floor``.

    Queries repeat (the same observation text many times), so each text remembers its best match and the number
    of labels it has been compared with; a later query compares it with the newer labels only.
    """

    def __init__(self, floor: float = 0.9) -> None:
        self.floor = floor
        self._vectors = np.zeros((0, 0), dtype=np.float32)  # capacity doubles, so adding labels is amortised O(1)
        self.goals: list[list[str]] = []
        self._best: dict[str, tuple[float, int, int]] = {}  # text -> (cosine, label index, labels compared)

    def __len__(self) -> int:
        return len(self.goals)

    def add(self, vectors: np.ndarray, goal_lists: Sequence[list[str]]) -> None:
        """Learn labels: one unit vector and its goals each."""
        if not len(goal_lists):
            return
        vectors = np.asarray(vectors, dtype=np.float32)
        size, needed = len(self.goals), len(self.goals) + len(vectors)
        if needed > len(self._vectors):
            grown = np.zeros((max(needed, 2 * len(self._vectors), 256), vectors.shape[1]), dtype=np.float32)
            if size:
                grown[:size] = self._vectors[:size]
            self._vectors = grown
        self._vectors[size:needed] = vectors
        self.goals.extend(list(goals) for goals in goal_lists)

    @property
    def vectors(self) -> np.ndarray:
        """The labelled observations' unit vectors, one row per label."""
        return self._vectors[:len(self.goals)]

    def nearest(self, text: str, vector: np.ndarray) -> tuple[float, int]:
        """(cosine, index) of the nearest label to ``vector`` (``(-1, -1)`` before any label)."""
        similarity, index, compared = self._best.get(text, (-1.0, -1, 0))
        if compared < len(self.goals):
            sims = self.vectors[compared:] @ np.asarray(vector, dtype=np.float32)
            best = int(np.argmax(sims))
            if sims[best] > similarity:
                similarity, index = float(sims[best]), compared + best
            self._best[text] = (similarity, index, len(self.goals))
        return similarity, index

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> list[list[str] | None]:
        """The nearest label's goals for each text, ``None`` where none is at least ``floor`` similar."""
        answers: list[list[str] | None] = []
        for text, vector in zip(texts, vectors):
            similarity, index = self.nearest(text, vector)
            answers.append(list(self.goals[index]) if index >= 0 and similarity >= self.floor else None)
        return answers


class DistilledGoals:
    """A goal source that answers every step at the speed of the goal model (see the module docstring).

    Args:
        generator: the LM goal generator the background worker calls (open-ended, closed-form or ranked).
        embedder: embeds observation texts (pass the agent's cached embedder: its texts are already embedded).
        floor: the least cosine at which the nearest labelled situation's goals are used.
        batch_size: situations per LM call of the worker.
    """

    def __init__(self, generator: GoalGenerator, embedder: Embedder, floor: float = 0.9, batch_size: int = 8) -> None:
        self.background = BackgroundGoals(generator, batch_size=batch_size, miss="none")
        self.embedder, self.model = embedder, NearestLabels(floor)
        self.answered_by: Counter[str] = Counter()  # "lm", "model", "none": who answered each requested situation
        self._learned = 0  # how many of the worker's answers the model has learned
        self.preloaded = 0  # labels learned before the run (preload)

    @property
    def generator(self) -> GoalGenerator:
        """The LM goal generator (for the cache statistics)."""
        return self.background.generator

    def learn(self) -> int:
        """Add the LM's answers that arrived since the last call to the goal model; returns how many."""
        new = self.background.answered_since(self._learned)
        if new:
            self.model.add(self.embedder.encode([observation for (observation, _), _ in new]),
                           [goals for _, goals in new])
            self._learned += len(new)
        return len(new)

    def preload(self, situations: Sequence[tuple[str, Sequence[str]]], goal_lists: Sequence[list[str]]) -> None:
        """Teach the goal model labels made before the run (a label file's); they answer nearby situations at once.
        Their exact answers come from the LM's cache, where the label file is imported."""
        if situations:
            self.model.add(self.embedder.encode([observation for observation, _ in situations]), goal_lists)
            self.preloaded = len(situations)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """Goals for one situation."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[Sequence[str]]) -> list[list[str]]:
        """The LM's answer where known, else the goal model's, else none; unknown situations go to the worker."""
        self.learn()
        answers = self.background.lookup(observations, actions)
        missing = [i for i, goals in enumerate(answers) if goals is None]
        if missing:
            vectors = self.embedder.encode([observations[i] for i in missing])
            for i, goals in zip(missing, self.model.predict([observations[i] for i in missing], vectors)):
                answers[i] = goals
                self.answered_by["model" if goals is not None else "none"] += 1
        self.answered_by["lm"] += len(answers) - len(missing)
        return [list(goals) if goals is not None else [] for goals in answers]

    def shares(self) -> dict[str, float]:
        """Share of requested situations answered by the LM, by the goal model and by neither; and the labels."""
        total = sum(self.answered_by.values())
        shares = {f"goals_by_{who}": round(self.answered_by[who] / total, 4) if total else 0.0
                  for who in ("lm", "model", "none")}
        return {**shares, "labels": len(self.model), "labels_preloaded": self.preloaded}

    def stats(self) -> dict[str, float]:
        """For the progress log: the LM cache's hit rate and :meth:`shares`."""
        return {**lm_stats(getattr(self.generator, "lm", None)), **self.shares()}

    def drain(self, timeout_s: float | None = None) -> None:
        """Wait for the worker to answer everything queued (tests, evaluation), then learn it."""
        self.background.drain(timeout_s)
        self.learn()

    def close(self) -> None:
        """Stop the worker."""
        self.background.close()

    def state_dict(self) -> dict[str, object]:
        """The labelled situations, in order (their answers are in the LM's cache), and the counters."""
        labelled = [[observation, list(actions)] for (observation, actions), _ in self.background.answered_since(0)]
        return {"labelled": labelled, "answered_by": dict(self.answered_by)}

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Ask the LM's cache again for the labelled situations and relearn them (none is asked of the LM)."""
        labelled = [(str(observation), tuple(actions)) for observation, actions in state.get("labelled", [])]
        again = self.background.restore(labelled) if labelled else 0
        if again:
            logger.info("%d of %d labelled situations queued for the worker (their generator cannot read the LM "
                        "cache without asking)", again, len(labelled))
        self.answered_by = Counter(state.get("answered_by", {}))
        self.learn()


class FrozenLabels:
    """The goal model alone, learned once from given labels, with no worker: what a distilled run's goal model
    answers (``ellm goals eval --generator distilled``). Unlabelled situations below ``floor`` get no goals."""

    def __init__(self, situations: Sequence[tuple[str, Sequence[str]]], answers: Sequence[list[str]],
                 embedder: Embedder, floor: float = 0.9) -> None:
        self.embedder, self.model = embedder, NearestLabels(floor)
        if situations:
            self.model.add(embedder.encode([observation for observation, _ in situations]), answers)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """Goals for one situation."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[Sequence[str]]) -> list[list[str]]:
        """The nearest labelled situation's goals for each observation, ``[]`` below the floor."""
        vectors = self.embedder.encode(list(observations))
        return [goals or [] for goals in self.model.predict(list(observations), vectors)]
