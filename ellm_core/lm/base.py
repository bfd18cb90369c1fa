"""The language-model protocol, its config, the cache wrapper and a scripted fake (no backend is imported here).

``LanguageModel.generate(prompts) -> list[str]`` answers chats (or plain user strings);
``LanguageModel.yes_probability(prompts) -> np.ndarray`` gives P(yes) / (P(yes) + P(no)) of the first answer
token, used by closed-form goal suggestion. Here:

- :class:`LanguageModel`: the protocol; :class:`LMConfig`: which backend and how to decode (``--lm-*`` flags);
- :class:`ScriptedLM`: a deterministic fake for tests;
- :class:`CachedLM`: wraps any backend with the persistent SQLite cache.

The backends live in their own modules and are built by name through :mod:`ellm_core.lm.registry`.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Protocol, runtime_checkable

import numpy as np

from ellm_core.cache import SQLiteCache, make_key, pack_json, unpack_json
from ellm_core.config import option

logger = logging.getLogger(__name__)

#: A chat: ``[{"role": "system" | "user" | "assistant", "content": ...}, ...]`` (the LM protocol's input; the goal
#: prompts of :mod:`ellm_core.goals.prompts` build them).
Chat = list[dict[str, str]]
Prompt = Chat | str

#: LM backends by name (``--lm-backend``); :data:`ellm_core.lm.registry.BACKENDS` says where each one lives.
BACKENDS = ("transformers", "ctranslate2", "llamacpp", "openai", "scripted")


#: First answer tokens counted as yes / no by the local backends' P(yes).
YES_WORDS = ("Yes", "yes", "YES", " Yes", " yes")
NO_WORDS = ("No", "no", "NO", " No", " no")


class LLMServerError(RuntimeError):
    """A served LM could not answer (unreachable, too slow or failing) after the configured retries."""


@runtime_checkable
class LanguageModel(Protocol):
    """Generates answers to chats, and gives P(yes) for yes/no questions."""

    def generate(self, prompts: Sequence[Prompt]) -> list[str]: ...

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray: ...


def as_chat(prompt: Prompt) -> Chat:
    """A plain string becomes a single user turn; a chat is returned unchanged."""
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def last_user_message(prompt: Prompt) -> str:
    """The content of the last user turn (what a scripted model reacts to)."""
    for message in reversed(as_chat(prompt)):
        if message.get("role") == "user":
            return message.get("content", "")
    return ""


@dataclass
class LMConfig:
    """Which language model to use and how to decode; on the command line each field is ``--lm-<name>``."""

    backend: str = option("ctranslate2", "LM backend (ctranslate2: the model converted once, shared prompt head "
                          "computed once, same goals as transformers at 2.5x the speed; llamacpp: the optional "
                          "llama.cpp extra, in-process)", choices=BACKENDS)
    model: str | None = option(
        None, "local path, hub name or .gguf file (transformers), .gguf file (llamacpp) or served model name "
        "(openai); "
        "default: the shipped SmolLM2-135M-Instruct GGUF"
    )
    gguf_file: str | None = option(None, "GGUF file name inside --lm-model (a directory or hub repository)")
    adapter: str | None = option(None, "a peft (LoRA) adapter directory applied on top of the model (transformers)")
    base_url: str = option("http://127.0.0.1:8000/v1", "server URL (openai backend)")
    api_key_env: str = option("OPENAI_API_KEY", "environment variable holding the API key (never logged)")
    device: str = option("cpu", "device of the local model (torch device; cpu or cuda for ctranslate2)")
    compute_type: str = option("auto", "compute type. auto: bfloat16 for transformers on a CPU with native bfloat16 "
                               "(AVX512-BF16 or AMX: about 2x faster ranking, scores within ~0.2 nats), float32 "
                               "elsewhere (emulated bfloat16 is ~6x slower). transformers: float32, bfloat16, "
                               "float16 (GPU). ctranslate2: float32, int8_float32, int8 (float16, bfloat16 on GPU)")
    threads: int = option(0, "CPU threads of the local LM (0 = all cores; ctranslate2)")
    max_new_tokens: int = option(32, "tokens generated per answer")
    temperature: float = option(0.0, "sampling temperature; 0 = greedy")
    top_p: float = option(1.0, "nucleus sampling mass")
    repetition_penalty: float = option(
        1.0, "repetition penalty of local generation (>1 also penalises copying the few-shot format)"
    )
    extra_body: str = option("{}", "JSON of server-specific request fields (openai), e.g. '{\"top_k\": 0}'; a "
                             "repetition penalty other than 1 is sent as repetition_penalty and repeat_penalty")
    grammar: str | None = option(None, "GBNF grammar constraining answers (llamacpp): 'goal-lines' or a file")
    batch_size: int = option(8, "prompts per forward pass (local) or concurrent requests (openai)")
    timeout_s: float = option(30.0, "per-request timeout in seconds (openai)")
    max_retries: int = option(3, "retries with exponential backoff (openai)")
    seed: int = option(0, "sampling seed")

    @classmethod
    def for_backend(cls, config: LMConfig | None, backend: str, overrides: Mapping[str, object],
                    **defaults: object) -> LMConfig:
        """The config a backend runs: ``config`` (or this backend's ``defaults`` when there is none) with
        ``overrides`` applied. A backend takes its ``LMConfig`` whole, so a field is listed here once; an unknown
        override names the known fields."""
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            raise TypeError(f"unknown LM config field(s) {', '.join(unknown)}; known: "
                            f"{', '.join(f.name for f in fields(cls))}")
        base = config if config is not None else cls(backend=backend, **defaults)
        return replace(base, backend=backend, **overrides)

    def resolved_compute_type(self) -> str:
        """The compute type the backend runs: ``auto`` decided for this backend, device and CPU."""
        from ellm_core.hardware import auto_compute_type

        return auto_compute_type(self.backend, self.device) if self.compute_type == "auto" else self.compute_type


class ScriptedLM:
    """A deterministic fake. Answers come from ``responses``, keyed on the last user message.

    ``responses`` may be a function of the user text, a mapping whose first key contained in the user text
    wins, or a sequence cycled through. ``yes`` gives P(yes) likewise (function, mapping or constant);
    ``scores(user_text, continuation)`` the log-probability of a continuation (0 without it).
    Every prompt received is appended to ``calls``.
    """

    def __init__(
        self,
        responses: Callable[[str], str] | Mapping[str, str] | Sequence[str] = ("",),
        yes: Callable[[str], float] | Mapping[str, float] | float = 0.5,
        default: str = "",
        scores: Callable[[str, str], float] | None = None,
    ) -> None:
        self.responses, self.yes, self.default, self.scores = responses, yes, default, scores
        self._cycle = itertools.cycle(responses) if isinstance(responses, Sequence) and responses else None
        self.calls: list[Chat] = []
        self.identity = "scripted"

    def _lookup(self, table: Mapping, text: str, default):
        return next((value for key, value in table.items() if key in text), default)

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """Scripted answers, one per prompt."""
        answers = []
        for prompt in prompts:
            self.calls.append(as_chat(prompt))
            text = last_user_message(prompt)
            if callable(self.responses):
                answers.append(self.responses(text))
            elif isinstance(self.responses, Mapping):
                answers.append(self._lookup(self.responses, text, self.default))
            else:
                answers.append(next(self._cycle) if self._cycle else self.default)
        return answers

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """Scripted P(yes), one per prompt."""
        values = []
        for prompt in prompts:
            self.calls.append(as_chat(prompt))
            text = last_user_message(prompt)
            if callable(self.yes):
                values.append(self.yes(text))
            elif isinstance(self.yes, Mapping):
                values.append(self._lookup(self.yes, text, 0.0))
            else:
                values.append(self.yes)
        return np.asarray(values, dtype=np.float64)

    def score_continuations(self, prompts: Sequence[Prompt], continuations: Sequence[str],
                            answer_prefix: str = "") -> np.ndarray:
        """Scripted log-probabilities, one row per prompt, one column per continuation."""
        self.calls.extend(as_chat(prompt) for prompt in prompts)
        score = self.scores or (lambda text, continuation: 0.0)
        return np.asarray([[score(last_user_message(p), c) for c in continuations] for p in prompts], dtype=np.float64)


class CachedLM:
    """Answers each distinct prompt once: later calls read the persistent cache.

    With sampling (temperature > 0) this keeps the first sample per prompt, as the paper's cached queries did.
    """

    def __init__(self, lm: LanguageModel, cache: SQLiteCache) -> None:
        self.lm, self.cache = lm, cache
        self.identity = str(getattr(lm, "identity", type(lm).__name__))
        #: what score entries are keyed by: the model alone, since decoding settings do not change a log-probability
        self.scoring_identity = str(getattr(lm, "scoring_identity", self.identity))
        self.hits = self.misses = 0  # prompts answered from the cache / by the model (``cached`` not counted)

    def _keys(self, kind: str, prompts: Sequence[Prompt]) -> list[str]:
        identity = self.scoring_identity if kind.startswith("score:") else self.identity
        return [make_key(identity, kind, json.dumps(as_chat(p), sort_keys=True)) for p in prompts]

    @staticmethod
    def _score_kind(continuations: Sequence[str], answer_prefix: str) -> str:
        return "score:" + json.dumps([answer_prefix, list(continuations)])

    def cached_scores(self, prompts: Sequence[Prompt], continuations: Sequence[str],
                      answer_prefix: str = "") -> list[list[float] | None]:
        """The cached ``score_continuations`` row of each prompt, ``None`` where there is none; never calls the model."""
        keys = self._keys(self._score_kind(continuations, answer_prefix), prompts)
        found = self.cache.get_many("llm", keys)
        return [unpack_json(found[key]) if key in found else None for key in keys]

    def cached(self, prompts: Sequence[Prompt]) -> list[str | None]:
        """The cached answer of each prompt, ``None`` where there is none; never calls the model."""
        keys = self._keys("generate", prompts)
        found = self.cache.get_many("llm", keys)
        return [unpack_json(found[key]) if key in found else None for key in keys]

    def _cached(self, kind: str, prompts: Sequence[Prompt], compute: Callable[[list[Prompt]], list]) -> list:
        keys = self._keys(kind, prompts)
        found = self.cache.get_many("llm", keys)
        todo = [i for i, key in enumerate(keys) if key not in found]
        todo_unique = list({keys[i]: i for i in todo}.values())
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if todo_unique:
            answers = compute([prompts[i] for i in todo_unique])
            fresh = {keys[i]: pack_json(answer) for i, answer in zip(todo_unique, answers)}
            self.cache.put_many("llm", fresh)
            found.update(fresh)
        return [unpack_json(found[key]) for key in keys]

    @property
    def hit_rate(self) -> float:
        """Share of prompts answered from the cache (0 before any)."""
        return self.hits / (self.hits + self.misses) if self.hits + self.misses else 0.0

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """Cached :meth:`LanguageModel.generate`."""
        return self._cached("generate", prompts, self.lm.generate)

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """Cached :meth:`LanguageModel.yes_probability`."""
        values = self._cached("yes", prompts, lambda todo: [float(v) for v in self.lm.yes_probability(todo)])
        return np.asarray(values, dtype=np.float64)

    def score_continuations(self, prompts: Sequence[Prompt], continuations: Sequence[str],
                            answer_prefix: str = "") -> np.ndarray:
        """Cached ``score_continuations`` of the wrapped LM (one entry per prompt and continuation list)."""
        if not callable(getattr(self.lm, "score_continuations", None)):
            raise ValueError(f"the {self.identity} LM does not score continuations: --lm-backend transformers")
        kind = self._score_kind(continuations, answer_prefix)

        def compute(todo: list[Prompt]) -> list:
            return [[float(v) for v in row] for row in self.lm.score_continuations(todo, continuations, answer_prefix)]

        return np.asarray(self._cached(kind, prompts, compute), dtype=np.float64).reshape(len(prompts), len(continuations))
