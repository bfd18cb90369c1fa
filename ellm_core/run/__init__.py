"""The run loop and what keeps a run alive.

- :mod:`~ellm_core.run.config`: ``TrainConfig``, the one dataclass of a run, and its presets;
- :mod:`~ellm_core.run.cli`: its command-line flags (``ellm train``, ``ellm crafter train``);
- :mod:`~ellm_core.run.assembly`: the parts a config names (envs, embedder, goal source, rollout), built once;
- :mod:`~ellm_core.run.train`: the loop (DQN over text embeddings); :mod:`~ellm_core.run.rollout`: one vector-env
  step with its rewards; :mod:`~ellm_core.run.evaluate`: greedy evaluation episodes;
- :mod:`~ellm_core.run.checkpoint`, :mod:`~ellm_core.run.runlog`, :mod:`~ellm_core.run.faults`: atomic checkpoints
  and resume, the run's logs, what a run does when something fails; :mod:`~ellm_core.run.demo_summary`: what
  ``make demo`` prints.
"""
