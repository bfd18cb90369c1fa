"""Goal suggestion off the critical path: a step takes the goals that are ready, a worker thread computes the rest.

:class:`BackgroundGoals` wraps any goal generator. For each situation (observation text + valid actions) it
returns, without waiting:

1. the goals it already knows (answered earlier in this process);
2. else the generator's cached answer, when the generator can look one up without computing
   (``cached_batch``: :class:`ellm_core.goals.OpenEndedGoals` over a :class:`ellm_core.lm.base.CachedLM`);
3. else a *miss*: the situation is queued for the worker, and the caller gets the goals last returned at the
   same position of the batch (``miss="previous"``: position ``i`` is env ``i`` of a vector env, whose situation
   changes little from one step to the next) or no goals (``miss="none"``).

The worker answers the newest queued situations first (the agent is near them), ``batch_size`` at a time, with
one ``suggest_batch`` call each, so a burst of new situations costs a few batched LM calls instead of stalling
every step. Nothing is lost or asked twice: every queued situation is answered exactly once. An error in the
worker is raised, as :class:`BackgroundWorkerError`, at the next call. :meth:`close` (also at exit) stops the
worker; its thread is a daemon, so Ctrl-C never hangs on it.

Example:
    >>> from ellm_core.goals import OpenEndedGoals
    >>> from ellm_core.lm.base import ScriptedLM
    >>> goals = BackgroundGoals(OpenEndedGoals(ScriptedLM({"tree": "- collect wood"})), miss="none")
    >>> goals.suggest_batch(["You see a tree."], [["do"]])   # not known yet: queued, no goals now
    [[]]
    >>> goals.drain(); goals.suggest_batch(["You see a tree."], [["do"]])
    [['collect wood']]
    >>> goals.close()
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
from collections.abc import Sequence

from ellm_core.goals.generators import GoalGenerator, lm_stats, suggest_batch

logger = logging.getLogger(__name__)

MISS_POLICIES = ("previous", "none")

Situation = tuple[str, tuple[str, ...]]


class BackgroundWorkerError(RuntimeError):
    """The background goal worker failed; the original error is the ``__cause__``."""


class BackgroundGoals:
    """Goals that never block a step (see the module docstring).

    Args:
        generator: the goal generator the worker calls.
        batch_size: situations per worker call.
        miss: what a situation without an answer gets: ``"previous"`` or ``"none"``.

    Counters: ``requests`` (situations asked for), ``ready`` (answered at once), ``misses`` (answered by the
    miss policy), ``computed`` (situations the worker answered) and ``batches`` (worker calls).
    """

    def __init__(self, generator: GoalGenerator, batch_size: int = 8, miss: str = "previous") -> None:
        if miss not in MISS_POLICIES:
            raise ValueError(f"unknown miss policy {miss!r}; known: {', '.join(MISS_POLICIES)}")
        self.generator, self.batch_size, self.miss = generator, max(1, batch_size), miss
        self.known: dict[Situation, list[str]] = {}
        self.answered: list[Situation] = []  # every known situation, in the order its answer arrived
        self._pending: collections.OrderedDict[Situation, None] = collections.OrderedDict()
        self._in_flight: set[Situation] = set()
        self._previous: dict[int, list[str]] = {}
        self._error: BaseException | None = None
        self._closing = False
        self._changed = threading.Condition()
        self.requests = self.ready = self.misses = self.computed = self.batches = 0
        self._worker = threading.Thread(target=self._work, name="ellm-goal-worker", daemon=True)
        self._worker.start()
        atexit.register(self.close)

    # --- caller side ----------------------------------------------------------------------------
    def suggest(self, observation: str, actions: list[str]) -> list[str]:
        """Goals for one situation (position 0)."""
        return self.suggest_batch([observation], [actions])[0]

    def suggest_batch(self, observations: Sequence[str], actions: Sequence[Sequence[str]]) -> list[list[str]]:
        """Goals for each situation now: known, cached, or the miss policy's (the rest is queued)."""
        results = []
        for position, goals in enumerate(self.lookup(observations, actions)):
            if goals is None:
                goals = self._previous.get(position, []) if self.miss == "previous" else []
            self._previous[position] = goals
            results.append(list(goals))
        return results

    def lookup(self, observations: Sequence[str], actions: Sequence[Sequence[str]]) -> list[list[str] | None]:
        """The LM's answer for each situation when known or cached, else ``None`` (and the situation is queued)."""
        self._raise_if_failed()
        situations = [(obs, tuple(acts)) for obs, acts in zip(observations, actions)]
        self.requests += len(situations)
        with self._changed:
            unknown = [s for s in dict.fromkeys(situations) if s not in self.known]
        if unknown:
            self._look_up(unknown)
        results: list[list[str] | None] = []
        with self._changed:
            for situation in situations:
                goals = self.known.get(situation)
                if goals is None:
                    self.misses += 1
                    self._queue(situation)
                else:
                    self.ready += 1
                results.append(None if goals is None else list(goals))
        return results

    def _look_up(self, situations: list[Situation]) -> None:
        """Answers the generator has cached (no LM call), remembered as known."""
        cached_batch = getattr(self.generator, "cached_batch", None)
        if cached_batch is None:
            return
        answers = cached_batch([obs for obs, _ in situations], [list(acts) for _, acts in situations])
        with self._changed:
            for situation, goals in zip(situations, answers):
                if goals is not None and situation not in self.known:
                    self.known[situation] = list(goals)
                    self.answered.append(situation)

    def _queue(self, situation: Situation) -> None:
        """Queue (or move to the front) a situation nobody answered yet; call with the lock held."""
        if situation in self._in_flight:
            return
        self._pending[situation] = None
        self._pending.move_to_end(situation)
        self._changed.notify_all()

    def answered_since(self, start: int) -> list[tuple[Situation, list[str]]]:
        """The answers that arrived after the first ``start`` ones, in order of arrival (for a model learning them)."""
        with self._changed:
            return [(situation, list(self.known[situation])) for situation in self.answered[start:]]

    def restore(self, situations: Sequence[Situation]) -> int:
        """Know ``situations`` again after a restart: their cached answers at once, the rest queued for the worker
        (whose cached LM answers them from the cache); returns how many were queued."""
        self._look_up(list(situations))
        with self._changed:
            again = [situation for situation in situations if situation not in self.known]
            for situation in reversed(again):
                self._queue(situation)
        return len(again)

    def stats(self) -> dict[str, float]:
        """For the progress log: the LM cache's hit rate and the share of situations the miss policy answered."""
        return {**lm_stats(getattr(self.generator, "lm", None)), "goal_miss_rate": round(self.miss_rate, 4)}

    @property
    def miss_rate(self) -> float:
        """Share of requested situations answered by the miss policy."""
        return self.misses / self.requests if self.requests else 0.0

    @property
    def queued(self) -> int:
        """Situations waiting for the worker (including the batch it is answering)."""
        with self._changed:
            return len(self._pending) + len(self._in_flight)

    def drain(self, timeout_s: float | None = None) -> None:
        """Wait until every queued situation is answered (raises the worker's error, if any)."""
        with self._changed:
            done = self._changed.wait_for(lambda: self._error is not None or self._closing
                                          or not (self._pending or self._in_flight), timeout=timeout_s)
        self._raise_if_failed()
        if not done:
            raise TimeoutError(f"{self.queued} situations still queued after {timeout_s} s")

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the worker (queued situations are dropped; answers already computed stay known)."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout_s)

    def __enter__(self) -> BackgroundGoals:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise BackgroundWorkerError(f"the background goal worker failed: {self._error!r}") from self._error

    # --- worker side ----------------------------------------------------------------------------
    def _next_batch(self) -> list[Situation] | None:
        """The newest queued situations (None when closing)."""
        with self._changed:
            self._changed.wait_for(lambda: self._pending or self._closing)
            if self._closing:
                return None
            batch = []
            while self._pending and len(batch) < self.batch_size:
                batch.append(self._pending.popitem(last=True)[0])
            self._in_flight = set(batch)
            return batch

    def _work(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                answers = suggest_batch(self.generator, [obs for obs, _ in batch], [list(acts) for _, acts in batch])
            except BaseException as error:  # surfaced to the caller; the worker stops
                logger.error("background goal worker failed: %r", error)
                with self._changed:
                    self._error, self._in_flight = error, set()
                    self._changed.notify_all()
                return
            with self._changed:
                for situation, goals in zip(batch, answers):
                    if situation not in self.known:
                        self.answered.append(situation)
                    self.known[situation] = list(goals)
                self.computed += len(batch)
                self.batches += 1
                self._in_flight = set()
                self._changed.notify_all()
