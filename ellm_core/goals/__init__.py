"""Goal sources: everything that answers ``suggest(observation, actions) -> list[str]`` for the ELLM reward.

- :mod:`~ellm_core.goals.generators`: the ``GoalGenerator`` protocol and the LM's goals, open-ended, closed-form and
  ranked; ``OracleGoals``, the goals the environment supplies itself (ground truth, or an LM's offline goals).
- :mod:`~ellm_core.goals.background`: ``BackgroundGoals``, any generator answered off the step by a worker thread.
- :mod:`~ellm_core.goals.distilled`: ``DistilledGoals``, the LM in the background and the goals of the nearest
  situation it labelled answering at once.
- :mod:`~ellm_core.goals.labels`: label files of ranked goals (the LM's answers kept as data; ``python -m
  ellm_core.goals.labels``).
- :mod:`~ellm_core.goals.chain`: ``GoalChain``, the LM's prerequisites (and materials) put before each goal
  (``python -m ellm_core.crafter.analysis.prerequisites``).

Which source a run uses is assembled from its config in :mod:`ellm_core.run.assembly`. Optional methods a source may
have, read by the training loop without naming its type: ``stats() -> dict`` (for the progress log),
``state_dict()``/``load_state_dict()`` (kept in checkpoints) and ``close()``.
"""

from ellm_core.goals.background import BackgroundGoals
from ellm_core.goals.chain import GoalChain
from ellm_core.goals.distilled import DistilledGoals
from ellm_core.goals.generators import (
    CONTENT_FREE,
    RANK_CONTENT_FREE,
    ClosedFormGoals,
    GoalGenerator,
    OpenEndedGoals,
    OracleGoals,
    RankedGoals,
    calibrated,
    suggest_batch,
)

__all__ = ["BackgroundGoals", "CONTENT_FREE", "ClosedFormGoals", "DistilledGoals", "GoalChain", "GoalGenerator",
           "OpenEndedGoals", "OracleGoals", "RANK_CONTENT_FREE", "RankedGoals", "calibrated", "suggest_batch"]
