"""Language models: the protocol and the backends (one module each, built by name).

- :mod:`ellm_core.lm.base`: ``LanguageModel`` protocol, ``LMConfig``, ``CachedLM``, ``ScriptedLM`` (tests);
- :mod:`ellm_core.lm.registry`: ``make_language_model(config)``: name -> backend, imported on demand;
- backends: :mod:`~ellm_core.lm.ct2` (CTranslate2, the default), :mod:`~ellm_core.lm.hf` (transformers, GGUF ok),
  :mod:`~ellm_core.lm.llamacpp` (llama.cpp in-process), :mod:`~ellm_core.lm.openai_http` (vLLM, Ollama, ...);
- LoRA fine-tuning with peft is a training run: :mod:`ellm_core.run.lora`.
"""

from ellm_core.lm.base import CachedLM, LanguageModel, LMConfig, ScriptedLM
from ellm_core.lm.registry import make_language_model

__all__ = ["CachedLM", "LMConfig", "LanguageModel", "ScriptedLM", "make_language_model"]
