"""Where a run's ELLM goals come from and which of them are active: :class:`GoalConfig`, nested in ``TrainConfig``.

Its fields are flags of every ``… train`` command under their old names (``--goals``, ``--goal-source``,
``--rank-k``, ...), and a run's ``config.yaml`` keeps them under ``goal:`` (older flat files still load, see
:func:`ellm_core.run.config.upgrade_flat_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ellm_core.config import option


@dataclass
class GoalConfig:
    """The goal source (the LM's mode and prompts, in the background or distilled, the label file) and the goal list
    (the LM's chain, how many goals stay active)."""

    mode: str = option("open", "ELLM goal mode: open-ended, closed-form by P(yes), ranked (the env's caption "
                        "vocabulary by the LM's calibrated log-probability), or constrained (open-ended generation "
                        "held to lines of that vocabulary); ranked and constrained need --lm-backend transformers",
                        choices=("open", "closed", "ranked", "constrained"), flag="goals")
    rank_k: int = option(1, "ranked goals: keep the k best candidates")
    source: str = option("lm", "where ELLM goals come from: the LM per state; distilled: the LM labels new "
                              "situations in the background and the goals of the nearest labelled one answer the "
                              "rest at once; or the env's suggested_goals() (goals an LM produced offline, e.g. a "
                              "user's rationales)", choices=("lm", "distilled", "env"), flag="goal_source")
    distill_floor: float = option(0.9, "distilled goals: least cosine of the nearest labelled observation")
    labels: str | None = option(None, "distilled goals: a label file of ranked goals (ellm crafter prewarm "
                                "--labels-out) imported into the cache and learned by the goal model before the run")
    yes_threshold: float = option(0.5, "closed-form goals: minimum P(yes)")
    calibrate: bool = option(False, "closed-form and ranked goals: scores relative to the same candidate's after a "
                             "content-free observation")
    few_shot: bool = option(True, "keep the prompt file's few-shot examples (--no-few-shot drops them)")
    prompts: str | None = option(None, "prompt YAML overriding data/prompts.yaml (e.g. data/crafter/prompts.yaml)")
    lm_async: bool = option(False, "suggest goals off the critical path: a step takes the goals ready now, a "
                            "background worker batches the LM calls of new situations (ellm)")
    lm_async_miss: str = option("previous", "with --lm-async, the goals of a situation not answered yet: the env's "
                                "previous goals, or none", choices=("previous", "none"))
    prerequisites: str | None = option(None, "ELLM goals: a prerequisite file (python -m ellm_core.crafter.analysis.prerequisites): "
                                       "each suggested goal's prerequisites, as the LM named them, come before it")
    prerequisite_depth: int = option(2, "with --prerequisites: steps back along the LM's chain")
    materials: bool = option(False, "with --prerequisites: each goal of the chain comes after what the LM says must "
                             "be collected for it (the file's material answers)")
    active_goals: int = option(0, "ELLM goals: keep at most this many suggested goals, in their order, after those "
                               "achieved this episode are removed (0 = all); with --rank-k above it, the ranking "
                               "skips achieved goals instead of ending empty")


#: GoalConfig field -> its flag's name where they differ (``--goals`` sets ``mode``).
FLAG_NAMES = {field.name: field.metadata.get("flag", field.name) for field in fields(GoalConfig)}
