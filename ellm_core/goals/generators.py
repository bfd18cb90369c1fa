"""Goal generators: ``suggest(observation, actions) -> list[str]``.

- :class:`OpenEndedGoals`: the LM answers "What would you do?" with a bulleted list (parsed robustly).
- :class:`ClosedFormGoals`: the LM is asked yes/no for each candidate goal; kept when P(yes) > threshold
  (optionally calibrated against the same question about a content-free observation).
- :class:`RankedGoals`: the candidates the LM itself finds likeliest as its answer, by the log-probability of each
  candidate text after the open-ended prompt (calibrated against a content-free observation); the goals are then
  words of the caption vocabulary, so a goal that pays is one the LM ranked first.
- :class:`OracleGoals`: goals the environment supplies itself (ground truth, or an LM's offline goals).

Generators with a ``suggest_batch`` method answer many situations in one LM call; :func:`suggest_batch`
uses it when present.

Example:
    >>> from ellm_core.lm.base import ScriptedLM
    >>> goals = OpenEndedGoals(ScriptedLM({"tree": "- Chop the tree.\\n- chop the tree"}))
    >>> goals.suggest("You see a tree.", ["do", "noop"])
    ['chop the tree']
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ellm_core.goals.prompts import PromptConfig, closed_form_prompt, open_ended_prompt, parse_goals
from ellm_core.lm.base import LanguageModel

logger = logging.getLogger(__name__)


@runtime_checkable
class GoalGenerator(Protocol):
    """Suggests goals (short texts) for a situation described in text."""

    def suggest(self, observation: str, actions: list[str]) -> list[str]: ...


def suggest_batch(
    generator: GoalGenerator, observations: Sequence[str], actions: Sequence[list[str]]
) -> list[list[str]]:
    """Goals for many situations: one batched call when the generator supports it, else one call each."""
    batched = getattr(generator, "suggest_batch", None)
    if batched is not None:
        return batched(observations, actions)
    return [generator.suggest(obs, acts) for obs, acts in zip(observations, actions)]


def lm_stats(lm) -> dict[str, float]:
    """The LM's cache hit rate (prompts answered from the cache), when it is cached."""
    hit_rate = getattr(lm, "hit_rate", None)
    return {"llm_hit_rate": round(hit_rate, 4)} if hit_rate is not None else {}


class OpenEndedGoals:
    """Free-text goals from the LM's answer to the open-ended prompt.

    ``empty_answers`` counts answers that parsed into no goal (garbage, refusals, empty strings).
    """

    def __init__(self, lm: LanguageModel, prompts: PromptConfig | None = None, max_goals: int = 5) -> None:
        self.lm = lm
        self.prompts = prompts or PromptConfig.load()
        self.max_goals = max_goals
        self.queries = 0
        self.empty_answers = 0

    def stats(self) -> dict[str, float]:
        """For the progress log: the LM cache's hit rate."""
        return lm_stats(self.lm)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """Goals for one situation."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str]]:
        """Goals for many situations from one batched LM call."""
        chats = [open_ended_prompt(obs, acts, self.prompts) for obs, acts in zip(observations, actions)]
        answers = self.lm.generate(chats) if chats else []
        return self._parse(answers)

    def cached_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str] | None]:
        """Goals for the situations whose answer the LM's cache holds (``None`` elsewhere); no LM call."""
        cached = getattr(self.lm, "cached", None)
        if cached is None:
            return [None] * len(observations)
        answers = cached([open_ended_prompt(obs, acts, self.prompts) for obs, acts in zip(observations, actions)])
        return [None if answer is None else parse_goals(answer, max_goals=self.max_goals) for answer in answers]

    def _parse(self, answers: Sequence[str]) -> list[list[str]]:
        goal_lists = [parse_goals(answer, max_goals=self.max_goals) for answer in answers]
        self.queries += len(goal_lists)
        self.empty_answers += sum(not goals for goals in goal_lists)
        return goal_lists


#: The observation of the content-free prompt used for calibration ("Calibrate Before Use", Zhao et al., 2021).
CONTENT_FREE = "N/A"


def calibrated(p: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """P(yes) with the model's prior removed: ``sigmoid(logit(p) - logit(baseline))``.

    ``baseline`` is P(yes) for the same question about a content-free observation, so a goal the model says
    yes to whatever it is shown gets 0.5, and only situations that raise P(yes) above that prior pass 0.5.
    """
    eps = 1e-6
    p, baseline = np.clip(p, eps, 1 - eps), np.clip(baseline, eps, 1 - eps)
    logit = np.log(p / (1 - p)) - np.log(baseline / (1 - baseline))
    return 1.0 / (1.0 + np.exp(-logit))


class ClosedFormGoals:
    """Candidate goals the LM approves: P(yes) > ``threshold`` for "Should the agent <goal> now?".

    Args:
        lm: the language model.
        candidates: a fixed goal list, or a function of the observation text returning candidates.
        threshold: minimum P(yes) to keep a goal.
        prompts: prompt templates (defaults from ``data/prompts.yaml``).
        calibrate: compare P(yes) to the model's P(yes) for the same goal on a content-free observation
            (:func:`calibrated`), asked once per goal and remembered.
    """

    def __init__(
        self,
        lm: LanguageModel,
        candidates: Sequence[str] | Callable[[str], Sequence[str]],
        threshold: float = 0.5,
        prompts: PromptConfig | None = None,
        calibrate: bool = False,
    ) -> None:
        self.lm, self.candidates, self.threshold = lm, candidates, threshold
        self.prompts = prompts or PromptConfig.load()
        self.calibrate = calibrate
        self.baseline: dict[tuple[str, tuple[str, ...]], float] = {}

    def _baseline(self, goals: list[str], actions: list[str]) -> np.ndarray:
        """The content-free P(yes) of each goal (computed once per goal and action set)."""
        keys = [(goal, tuple(actions)) for goal in goals]
        todo = list(dict.fromkeys(key for key in keys if key not in self.baseline))
        if todo:
            chats = [closed_form_prompt(CONTENT_FREE, list(acts), goal, self.prompts) for goal, acts in todo]
            for key, value in zip(todo, self.lm.yes_probability(chats)):
                self.baseline[key] = float(value)
        return np.asarray([self.baseline[key] for key in keys], dtype=float)

    def _candidates_for(self, observation: str) -> list[str]:
        return list(self.candidates(observation) if callable(self.candidates) else self.candidates)

    def stats(self) -> dict[str, float]:
        """For the progress log: the LM cache's hit rate."""
        return lm_stats(self.lm)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """Approved candidates for one situation, most probable first."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str]]:
        """Approved candidates for many situations, from one batched P(yes) call."""
        per_situation = [self._candidates_for(obs) for obs in observations]
        chats = [
            closed_form_prompt(obs, acts, goal, self.prompts)
            for obs, acts, goals in zip(observations, actions, per_situation)
            for goal in goals
        ]
        probabilities = self.lm.yes_probability(chats) if chats else np.zeros(0)
        results, offset = [], 0
        for goals, acts in zip(per_situation, actions):
            p = np.nan_to_num(np.asarray(probabilities[offset : offset + len(goals)], dtype=float))
            if self.calibrate and goals:
                p = calibrated(p, self._baseline(goals, list(acts)))
            offset += len(goals)
            order = np.argsort(-p, kind="stable")
            results.append([goals[i] for i in order if p[i] > self.threshold])
        return results


#: The content-free observation of ranking calibration: a situation that suggests nothing in particular.
RANK_CONTENT_FREE = "You see nothing in particular. You face grass. You have nothing."


class RankedGoals:
    """Closed form by likelihood: the top ``k`` of ``candidates`` by the LM's log-probability of writing each one
    as its first bullet after the open-ended prompt.

    With ``calibrate`` a candidate's score is its log-probability minus the same candidate's after a content-free
    observation (:data:`RANK_CONTENT_FREE`), so a goal the model would name whatever it is shown does not win every
    situation. The LM needs ``score_continuations`` (the transformers backend, or the scripted fake).
    """

    def __init__(self, lm, candidates: Sequence[str], prompts: PromptConfig | None = None, k: int = 1,
                 calibrate: bool = True, answer_prefix: str = "-") -> None:
        if not callable(getattr(lm, "score_continuations", None)):
            raise ValueError("ranked goals need an LM that scores continuations: --lm-backend transformers")
        if k < 1 or not candidates:
            raise ValueError(f"ranked goals need candidates and k >= 1, got {len(candidates)} candidates, k={k}")
        self.lm, self.candidates, self.k, self.calibrate = lm, list(candidates), k, calibrate
        self.prompts = prompts or PromptConfig.load()
        self.answer_prefix = answer_prefix
        self.baseline: dict[tuple[str, ...], np.ndarray] = {}

    def _score(self, observations: Sequence[str], actions: Sequence[list[str]]) -> np.ndarray:
        chats = [open_ended_prompt(obs, acts, self.prompts) for obs, acts in zip(observations, actions)]
        continuations = [" " + candidate for candidate in self.candidates]
        return np.asarray(self.lm.score_continuations(chats, continuations, self.answer_prefix), dtype=float)

    def baseline_scores(self, actions: list[str]) -> np.ndarray:
        """The candidates' raw scores after the content-free observation (computed once per action set)."""
        if tuple(actions) not in self.baseline:
            self.baseline[tuple(actions)] = self._score([RANK_CONTENT_FREE], [list(actions)])[0]
        return self.baseline[tuple(actions)]

    def scores(self, observations: Sequence[str], actions: Sequence[list[str]]) -> np.ndarray:
        """Calibrated (or raw) scores, one row per situation and one column per candidate."""
        raw = self._score(observations, actions)
        if not self.calibrate or not len(actions):
            return raw
        return raw - np.stack([self.baseline_scores(list(acts)) for acts in actions])

    def _top(self, row: np.ndarray) -> list[str]:
        return [self.candidates[i] for i in np.argsort(-row, kind="stable")[:self.k]]

    def cached_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str] | None]:
        """The goals of the situations whose scores the LM's cache holds (``None`` elsewhere), without asking the LM
        (the baseline of a new action set excepted)."""
        cached = getattr(self.lm, "cached_scores", None)
        if cached is None or not observations:
            return [None] * len(observations)
        chats = [open_ended_prompt(obs, acts, self.prompts) for obs, acts in zip(observations, actions)]
        rows = cached(chats, [" " + candidate for candidate in self.candidates], self.answer_prefix)
        return [None if row is None else
                self._top(np.asarray(row) - (self.baseline_scores(list(acts)) if self.calibrate else 0.0))
                for row, acts in zip(rows, actions)]

    def stats(self) -> dict[str, float]:
        """For the progress log: the LM cache's hit rate."""
        return lm_stats(self.lm)

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """The ``k`` best candidates for one situation."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str]]:
        """The ``k`` best candidates for each situation, best first."""
        if not observations:
            return []
        return [self._top(row) for row in self.scores(observations, actions)]


class OracleGoals:
    """Goals the environment supplies itself: ground truth (crafter's ``oracle_goals()``: the achievements achievable
    now and not yet unlocked), or goals an LM produced offline (``suggested_goals()``, e.g. a user's rationales).

    ``goals_fn()`` answers for one environment; :meth:`of_vector_env` asks every env of a vector env by method name.
    """

    def __init__(self, goals_fn: Callable[[], Sequence[str]] | None = None) -> None:
        self.goals_fn, self.envs, self.method = goals_fn, None, None

    @classmethod
    def of_vector_env(cls, envs, method: str = "oracle_goals") -> OracleGoals:
        """The goals each env of ``envs`` (a gymnasium vector env) returns from its ``method()``."""
        oracle = cls()
        oracle.envs, oracle.method = envs, method
        return oracle

    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """The environment's current goals (the text arguments are ignored)."""
        return list(self.goals_fn()) if self.goals_fn is not None else self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[list[str]]) -> list[list[str]]:
        """The current goals of each environment, in order."""
        if self.envs is not None:
            return [list(goals) for goals in self.envs.call(self.method)]
        return [self.suggest(observation, options) for observation, options in zip(observations, actions)]
