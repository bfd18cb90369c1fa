"""Language-model backends by name, imported only when one is asked for.

Each entry of :data:`BACKENDS` is ``"module:Class"``; the class takes its ``LMConfig``. The protocol module
(:mod:`ellm_core.lm.base`) imports no backend, so a missing optional dependency (llama.cpp, an HTTP client)
costs nothing until that backend is chosen.

Example:
    >>> from ellm_core.lm.base import LMConfig
    >>> lm = make_language_model(LMConfig(backend="scripted"))
    >>> lm.generate(["What would you do?"])
    ['']
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import asdict

from ellm_core.cache import SQLiteCache
from ellm_core.lm.base import BACKENDS as BACKEND_NAMES
from ellm_core.lm.base import CachedLM, LanguageModel, LMConfig

logger = logging.getLogger(__name__)

#: ``--lm-backend`` name -> ``"module:Class"`` of the backend.
BACKENDS: dict[str, str] = {
    "transformers": "ellm_core.lm.hf:TransformersLM",
    "ctranslate2": "ellm_core.lm.ct2:CTranslate2LM",
    "llamacpp": "ellm_core.lm.llamacpp:LlamaCppLM",
    "openai": "ellm_core.lm.openai_http:OpenAICompatibleLM",
    "scripted": "ellm_core.lm.base:ScriptedLM",
}
assert set(BACKENDS) == set(BACKEND_NAMES), "the registry and LMConfig's choices must name the same backends"

#: Backends whose models score continuations (``score_continuations``), as ranked goals need.
SCORING_BACKENDS = ("transformers", "scripted")


def for_ranking(config: LMConfig) -> LMConfig:
    """``config`` with a backend that scores continuations: ranked goals on a backend that only generates (the default
    ctranslate2) run on transformers instead, with one line saying so."""
    if config.backend in SCORING_BACKENDS:
        return config
    logger.info("ranked goals need an LM that scores continuations; %s does not: using the transformers backend",
                config.backend)
    from dataclasses import replace

    return replace(config, backend="transformers")


def backend_class(name: str) -> type:
    """The class registered as ``name`` (imported now); a clear error listing the names for an unknown one."""
    if name not in BACKENDS:
        raise ValueError(f"unknown LM backend {name!r}; known: {', '.join(BACKENDS)}")
    module, _, attribute = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)


def make_language_model(config: LMConfig, cache: SQLiteCache | None = None,
                        vocabulary: list[str] | None = None) -> LanguageModel:
    """Build the backend named by ``config.backend``, wrapped with ``cache`` when one is given; ``vocabulary``
    constrains its answers to bulleted lines of those texts (the transformers backend)."""
    logger.info("language model: %s", {k: v for k, v in asdict(config).items() if k != "api_key_env"})
    if config.grammar and config.backend != "llamacpp":
        raise ValueError(f"--lm-grammar needs --lm-backend llamacpp (not {config.backend!r})")
    if vocabulary and config.backend not in ("transformers", "scripted"):
        raise ValueError(f"constrained goals need --lm-backend transformers (not {config.backend!r})")
    cls = backend_class(config.backend)
    if config.backend == "scripted":
        lm: LanguageModel = cls()
    else:
        lm = cls(config, vocabulary=vocabulary) if vocabulary else cls(config)
    return CachedLM(lm, cache) if cache is not None else lm
