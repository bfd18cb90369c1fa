"""Goal-suggestion quality: score a goal generator's suggestions against the goals achievable in each situation.

A *situation* is an observation text, the valid actions and the ground-truth achievable goals (what the
oracle would suggest). A suggestion is *correct* when its similarity to some achievable goal reaches the
reward's threshold (the same test the ELLM reward applies to captions). Reported:

- ``precision``: correct suggestions / all suggestions;
- ``recall``: per situation, the share of achievable goals matched by some suggestion, averaged;
- ``precision_in_view`` / ``recall_in_view``: the same against the stricter truth (what is achievable now with
  what is in view), when situations carry it;
- ``empty_share``: situations with no suggestion at all (garbage or refusals parse into none);
- ``seconds_per_situation`` and, when the LM counts them, ``tokens_per_s``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ellm_core.goals import GoalGenerator, suggest_batch
from ellm_core.text.embed import Embedder
from ellm_core.text.similarity import similarity


@dataclass
class Situation:
    """One scored situation: what the LM is shown, and what is achievable in it."""

    observation: str
    actions: list[str]
    achievable: list[str]
    tags: list[str] = field(default_factory=list)
    in_view: list[str] | None = None  # a stricter truth: achievable now with what is in view


def save_situations(situations: Sequence[Situation], path: str | Path) -> Path:
    """Write situations as JSON lines (so every backend is scored on the same set)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(s)) + "\n" for s in situations), encoding="utf-8")
    return path


def load_situations(path: str | Path) -> list[Situation]:
    """Read situations written by :func:`save_situations`."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [Situation(**json.loads(line)) for line in lines if line.strip()]


def score_suggestions(situations: Sequence[Situation], suggestions: Sequence[list[str]], embedder: Embedder,
                      threshold: float, metric: str = "cosine") -> dict[str, float]:
    """Precision, recall and empty share of ``suggestions[i]`` for ``situations[i]``."""
    if len(situations) != len(suggestions):
        raise ValueError(f"{len(situations)} situations but {len(suggestions)} suggestion lists")
    score = similarity(metric)
    correct = total = 0
    recalls = []
    for situation, goals in zip(situations, suggestions):
        if not situation.achievable:
            continue
        if not goals:
            recalls.append(0.0)
            continue
        sims = score(embedder.encode(list(goals)), embedder.encode(list(situation.achievable)))  # (goals, achievable)
        hits = sims >= threshold
        correct += int(hits.any(axis=1).sum())
        total += len(goals)
        recalls.append(float(hits.any(axis=0).mean()))
    return {"precision": correct / total if total else 0.0,
            "recall": float(np.mean(recalls)) if recalls else 0.0,
            "empty_share": float(np.mean([not goals for goals in suggestions])) if suggestions else 0.0,
            "suggestions_per_situation": total / max(len(suggestions), 1)}


def score_at(situations: Sequence[Situation], suggestions: Sequence[list[str]], embedder: Embedder,
             threshold: float, metric: str = "cosine") -> dict[str, float]:
    """:func:`score_suggestions` at ``threshold``, plus the in-view columns when the situations carry them."""
    result = score_suggestions(situations, suggestions, embedder, threshold, metric)
    if all(s.in_view is not None for s in situations):
        strict = [Situation(s.observation, s.actions, list(s.in_view)) for s in situations]
        in_view = score_suggestions(strict, suggestions, embedder, threshold, metric)
        result.update({"precision_in_view": in_view["precision"], "recall_in_view": in_view["recall"]})
    return result


def evaluate_generator(generator: GoalGenerator, situations: Sequence[Situation], embedder: Embedder,
                       threshold: float | Sequence[float], batch_size: int = 8, metric: str = "cosine") -> dict[str, Any]:
    """Ask ``generator`` about every situation (in batches) and score the answers, with timing.

    With several thresholds the top-level scores are the first one's and ``by_threshold`` holds each one's; every
    situation's suggestions are kept (``suggestions``), so the scores recompute without the LM."""
    thresholds = [float(threshold)] if isinstance(threshold, (int, float)) else [float(t) for t in threshold]
    suggestions: list[list[str]] = []
    lm = getattr(generator, "lm", None)
    tokens_before = getattr(getattr(lm, "lm", lm), "tokens_generated", None)
    started = time.perf_counter()
    for start in range(0, len(situations), batch_size):
        batch = situations[start:start + batch_size]
        suggestions.extend(suggest_batch(generator, [s.observation for s in batch], [s.actions for s in batch]))
    seconds = time.perf_counter() - started
    by_threshold = {f"{t:g}": score_at(situations, suggestions, embedder, t, metric) for t in thresholds}
    result: dict[str, Any] = {**by_threshold[f"{thresholds[0]:g}"], "by_threshold": by_threshold}
    result["seconds_per_situation"] = seconds / max(len(situations), 1)
    tokens_after = getattr(getattr(lm, "lm", lm), "tokens_generated", None)
    if tokens_before is not None and tokens_after is not None and tokens_after > tokens_before and seconds > 0:
        result["tokens_per_s"] = (tokens_after - tokens_before) / seconds
    result["examples"] = [{"observation": s.observation, "achievable": s.achievable, "suggested": g}
                          for s, g in list(zip(situations, suggestions))[:5]]
    result["suggestions"] = [list(goals) for goals in suggestions]
    return result


class RandomGoals:
    """Lower bound: ``k`` goals drawn uniformly from ``candidates`` for every situation (seeded)."""

    def __init__(self, candidates: Sequence[str], k: int = 2, seed: int = 0):
        self.candidates, self.k = list(candidates), k
        self.rng = np.random.default_rng(seed)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """``k`` distinct random candidates."""
        picks = self.rng.choice(len(self.candidates), size=min(self.k, len(self.candidates)), replace=False)
        return [self.candidates[i] for i in picks]


class SituationOracle:
    """Upper bound: the achievable goals of each situation, looked up by its observation text."""

    def __init__(self, situations: Sequence[Situation]):
        self.answers = {s.observation: list(s.achievable) for s in situations}

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """The situation's achievable goals."""
        return list(self.answers.get(observation, []))


class ReplayedGoals:
    """The suggestions a scored row kept (``ellm goals eval --out``), given again for the same situations: rescoring
    a row under another embedder or threshold without its LM."""

    def __init__(self, situations: Sequence[Situation], suggestions: Sequence[list[str]]):
        if len(situations) != len(suggestions):
            raise ValueError(f"the row kept {len(suggestions)} suggestions for {len(situations)} situations: "
                             "pass the situations file it was scored on (--situations-file)")
        self.answers = {s.observation: list(goals) for s, goals in zip(situations, suggestions)}

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """The row's suggestions for this situation."""
        return list(self.answers.get(observation, []))
