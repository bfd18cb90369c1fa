"""ELLM: language-model-suggested goals as an intrinsic reward for reinforcement learning.

The method of "Guiding Pretraining in Reinforcement Learning with Large Language Models" (Du et al., 2023),
independent of any environment. The pieces, each behind a one-method protocol:

- :mod:`ellm_core.llm`: ``LanguageModel`` backends (local transformers/GGUF, OpenAI-compatible HTTP, scripted).
- :mod:`ellm_core.goals`: ``GoalGenerator`` (open-ended, closed-form, oracle).
- :mod:`ellm_core.embed`: ``Embedder`` (sentence-transformers, hashing fake), with a persistent cache.
- :mod:`ellm_core.reward`: the similarity reward and the per-episode achieved-goal filter.
- :mod:`ellm_core.wrappers`: the gymnasium ``ELLMReward`` wrapper.

Heavy dependencies (torch, transformers) are imported only by the modules that need them.
"""

__version__ = "0.1.0"

# Registering is cheap (entry points are strings: nothing heavy is imported until gymnasium.make), so
# `import ellm_core` makes ellm/TextChain-v0 and ellm/Crafter-v0 available; `gymnasium.make("ellm_core:ellm/Crafter-v0")`
# does the import itself.
from ellm_core import crafter as _crafter  # noqa: F401,E402
from ellm_core import envs as _envs  # noqa: F401,E402
