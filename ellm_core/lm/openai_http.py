"""Any OpenAI-compatible chat-completions server (vLLM, Ollama, TGI, llama.cpp) as a :class:`LanguageModel`.

Uses the ``openai`` client: its timeouts, and its retries with exponential backoff on connection errors,
timeouts, 408/409/429 and 5xx answers. Requests of one batch run concurrently. The API key is read from an
environment variable and never logged; servers that need none get a placeholder.

llama.cpp's server samples with its own defaults (``repeat_penalty`` 1.1, ``top_k`` 40, ``min_p`` 0.05) unless
told otherwise: ``--lm-extra-body '{"repeat_penalty": 1.0, "top_k": 0, "min_p": 0}'`` makes its greedy answers
identical to the in-process :class:`ellm_core.lm.llamacpp.LlamaCppLM`.

Example (with ``python -m llama_cpp.server --model FILE.gguf`` or ``vllm serve MODEL`` running)::

    lm = OpenAICompatibleLM(base_url="http://127.0.0.1:8000/v1", model="smollm2")
    lm.generate(["What would you do?"])
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ellm_core.config import json_object
from ellm_core.lm.base import LLMServerError, LMConfig, Prompt, as_chat

logger = logging.getLogger(__name__)


class OpenAICompatibleLM:
    """Chat completions from a server, configured by its :class:`ellm_core.lm.base.LMConfig` (or that config's fields
    as keywords).

    The fields it reads: ``base_url`` (e.g. ``http://127.0.0.1:8000/v1``); ``model``, the served model name;
    ``api_key_env``, the environment variable with the key (unset: a placeholder is sent); ``timeout_s`` per
    request; ``max_retries`` after the first attempt, with exponential backoff; ``batch_size``, the requests in
    flight at once for one batch; ``extra_body``, a JSON object of server-specific sampling fields (a repetition
    penalty other than 1 is sent both as vLLM's ``repetition_penalty`` and llama.cpp's ``repeat_penalty``).
    """

    def __init__(self, config: LMConfig | None = None, /, **overrides: object) -> None:
        import openai

        config = LMConfig.for_backend(config, "openai", overrides)
        extra_body = json_object(config.extra_body, "--lm-extra-body")
        if config.repetition_penalty != 1.0:  # vLLM's name, and llama.cpp's (whose server default is 1.1)
            extra_body = {"repetition_penalty": config.repetition_penalty,
                          "repeat_penalty": config.repetition_penalty, **extra_body}
        base_url, model, timeout_s, max_retries = config.base_url, config.model or "default", config.timeout_s, \
            config.max_retries
        max_new_tokens, temperature, top_p, seed = config.max_new_tokens, config.temperature, config.top_p, config.seed
        self._api_key = os.environ.get(config.api_key_env) or "not-needed"
        self.client = openai.OpenAI(
            base_url=base_url, api_key=self._api_key, timeout=timeout_s, max_retries=max_retries
        )
        self.base_url, self.model, self.max_retries, self.timeout_s = base_url, model, max_retries, timeout_s
        self.concurrency = max(1, config.batch_size)
        self.sampling = {"max_tokens": max_new_tokens, "temperature": temperature, "top_p": top_p, "seed": seed}
        self.extra_body = extra_body or None
        self.identity = (f"openai:{base_url}:{model}:t={temperature}:p={top_p}:n={max_new_tokens}:seed={seed}"
                         + (f":extra={json.dumps(extra_body, sort_keys=True)}" if extra_body else ""))
        self._warned_no_logprobs = False
        self.tokens_generated = 0  # as reported by the server's usage field
        self._lock = threading.Lock()

    def _complete(self, prompt: Prompt, **overrides):
        import openai

        arguments = {**self.sampling, **overrides}
        try:
            return self.client.chat.completions.create(
                model=self.model, messages=as_chat(prompt), extra_body=self.extra_body, **arguments
            )
        except openai.APIError as error:
            message = str(error).replace(self._api_key, "***")
            raise LLMServerError(
                f"LM server {self.base_url} (model {self.model!r}) failed after {self.max_retries} retries "
                f"(timeout {self.timeout_s} s): {type(error).__name__}: {message}"
            ) from None

    def _map(self, function, prompts: Sequence[Prompt]) -> list:
        if len(prompts) <= 1 or self.concurrency == 1:
            return [function(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(function, prompts))

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """One completion per prompt, ``concurrency`` requests at a time."""

        def answer(prompt: Prompt) -> str:
            response = self._complete(prompt)
            usage = getattr(response, "usage", None)
            if usage is not None and usage.completion_tokens:
                with self._lock:
                    self.tokens_generated += int(usage.completion_tokens)
            return (response.choices[0].message.content or "").strip() if response.choices else ""

        return self._map(answer, prompts)

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """P(yes) / (P(yes) + P(no)) from the first token's top log-probabilities.

        Servers that return no log-probabilities are answered from the text: 1 for yes, 0 for no, 0.5 otherwise.
        """

        def probability(prompt: Prompt) -> float:
            response = self._complete(prompt, max_tokens=2, temperature=0.0, logprobs=True, top_logprobs=20)
            if not response.choices:
                return 0.5
            choice = response.choices[0]
            content = getattr(choice.logprobs, "content", None) if choice.logprobs else None
            if content:
                yes = no = 0.0
                for candidate in content[0].top_logprobs or []:
                    word = candidate.token.strip().lower()
                    yes += math.exp(candidate.logprob) if word == "yes" else 0.0
                    no += math.exp(candidate.logprob) if word == "no" else 0.0
                if yes + no > 0:
                    return yes / (yes + no)
            if not self._warned_no_logprobs:
                logger.warning("%s returned no usable log-probabilities; using the answer text", self.base_url)
                self._warned_no_logprobs = True
            text = (choice.message.content or "").strip().lower()
            return 1.0 if text.startswith("yes") else 0.0 if text.startswith("no") else 0.5

        return np.asarray(self._map(probability, prompts), dtype=np.float64)
