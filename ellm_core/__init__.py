"""ELLM: language-model-suggested goals as an intrinsic reward for reinforcement learning.

The method of "Guiding Pretraining in Reinforcement Learning with Large Language Models" (Du et al., 2023),
independent of any environment. The method sits at the top of the package, each piece behind a one-method
protocol:

- :mod:`ellm_core.goals.prompts`: the open-ended and closed-form prompts, and robust parsing of the answers.
- :mod:`ellm_core.goals`: ``GoalGenerator`` (open-ended, closed-form, oracle).
- :mod:`ellm_core.text.embed`: ``Embedder`` (sentence-transformers, hashing fake), with a persistent cache.
- :mod:`ellm_core.reward`: the similarity reward and the per-episode achieved-goal filter.
- :mod:`ellm_core.wrappers`: the gymnasium ``ELLMReward`` wrapper.
- :mod:`ellm_core.run.train`: the one training loop (DQN over text embeddings, :mod:`ellm_core.agents`).

Its parts, in subpackages:

- :mod:`ellm_core.lm`: ``LanguageModel`` protocol, backends by name (CTranslate2, transformers/GGUF, llama.cpp,
  OpenAI-compatible HTTP, scripted), the background worker and LoRA fine-tuning.
- :mod:`ellm_core.experiments`: ``ellm sweep`` (spec and cells, local and Ray runners), comparisons by name and
  the statistics they use.
- :mod:`ellm_core.crafter`, :mod:`ellm_core.envs`: the environments (the only place that imports ``crafter``).

Heavy dependencies (torch, transformers) are imported only by the modules that need them.
"""

__version__ = "0.1.0"

# Registering is cheap (entry points are strings: nothing heavy is imported until gymnasium.make), so
# `import ellm_core` makes ellm/TextChain-v0, ellm/Crafter-v0 and ellm/CrafterPaper-v0 available; `gymnasium.make("ellm_core:ellm/Crafter-v0")`
# does the import itself.
from ellm_core import _moved  # noqa: E402
from ellm_core import crafter as _crafter  # noqa: F401,E402
from ellm_core import envs as _envs  # noqa: F401,E402

_moved.install()  # old module paths (ellm_core.llm, ellm_core.sweep, ...) for one release
