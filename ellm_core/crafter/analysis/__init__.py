"""Analyses of Crafter runs and of the goals that drive them; none of it is needed to train.

- :mod:`~ellm_core.crafter.analysis.compare`: the comparison of a sweep's runs (Crafter score, achievements per
  episode, Welch tests, curves and success plots; ``ellm crafter compare``).
- :mod:`~ellm_core.crafter.analysis.goal_sources`: which goals were active and paid in each run (``goals.csv``).
- :mod:`~ellm_core.crafter.analysis.goal_table`: the goal-quality table of ``ellm goals eval``, whose command is
  :mod:`~ellm_core.crafter.analysis.goals_cli`.
- :mod:`~ellm_core.crafter.analysis.distill_quality`: the distilled goal model against the LM's own answers.
- :mod:`~ellm_core.crafter.analysis.chain_levers`: re-rankings of the shipped labels for the crafting chain.
"""
