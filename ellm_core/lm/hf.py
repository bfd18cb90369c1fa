"""A local causal LM through ``transformers``: chat template, batched left-padded generation, P(yes).

GGUF files and shipped names are supported through :mod:`ellm_core.lm.weights` (converted once into a plain
checkpoint under :func:`ellm_core.resources.cache_dir`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ellm_core.lm.base import NO_WORDS, YES_WORDS, LMConfig, Prompt, as_chat
from ellm_core.lm.shipped import identity_name
from ellm_core.lm.weights import adapter_fingerprint, apply_adapter, resolve_model_location

logger = logging.getLogger(__name__)

__all__ = ["TransformersLM", "VocabularyConstraint", "adapter_fingerprint", "apply_adapter",
           "resolve_model_location"]


class VocabularyConstraint:
    """``prefix_allowed_tokens_fn`` of constrained generation: the answer is at most ``max_lines`` bulleted lines,
    each one of ``candidates`` word for word ("- collect wood"), then the end of the answer.

    Each line is tokenized on its own ("- " + text + newline); a line ends with the newline token, so no line is
    the prefix of another and the generated tokens always say which lines are complete."""

    def __init__(self, tokenizer, candidates: Sequence[str], max_lines: int = 3) -> None:
        self.lines = [tokenizer.encode(f"- {text}\n", add_special_tokens=False) for text in dict.fromkeys(candidates)]
        self.end, self.max_lines, self.prompt_length = tokenizer.eos_token_id, max_lines, 0

    def __call__(self, batch_id: int, input_ids: torch.Tensor) -> list[int]:
        generated, complete = input_ids[self.prompt_length:].tolist(), 0
        while (line := next((ln for ln in self.lines if generated[:len(ln)] == ln), None)) is not None:
            generated, complete = generated[len(line):], complete + 1
        if not generated and complete >= self.max_lines:
            return [self.end]
        allowed = {ln[len(generated)] for ln in self.lines if len(ln) > len(generated) and ln[:len(generated)] == generated}
        if not generated and complete:
            allowed.add(self.end)
        return sorted(allowed) or [self.end]


#: ``--lm-compute-type`` values of the transformers backend (torch dtypes of the weights and the arithmetic).
TORCH_COMPUTE_TYPES = ("float32", "bfloat16", "float16")


class TransformersLM:
    """A local causal LM with a chat template, built from its :class:`ellm_core.lm.base.LMConfig` (or that config's
    fields as keywords, e.g. ``TransformersLM(batch_size=4)``; alone, the compute type is float32).

    With ``vocabulary`` its answers are constrained to bulleted lines of those texts (:class:`VocabularyConstraint`).
    """

    def __init__(self, config: LMConfig | None = None, /, *, vocabulary: Sequence[str] | None = None,
                 situations_per_pass: int = 4, **overrides: Any) -> None:
        config = LMConfig.for_backend(config, "transformers", overrides, compute_type="float32")
        model, gguf_file, device, adapter = config.model, config.gguf_file, config.device, config.adapter
        compute_type, batch_size, seed = config.resolved_compute_type(), config.batch_size, config.seed
        max_new_tokens, temperature, top_p = config.max_new_tokens, config.temperature, config.top_p
        repetition_penalty = config.repetition_penalty
        from transformers import AutoModelForCausalLM, AutoTokenizer

        location, gguf = resolve_model_location(model, gguf_file)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=gguf)
            if compute_type not in TORCH_COMPUTE_TYPES:
                raise ValueError(f"unknown compute type {compute_type!r} for the transformers backend; known: "
                                 f"{', '.join(TORCH_COMPUTE_TYPES)}")
            dtype = getattr(torch, compute_type)
            if device.startswith("cuda") and compute_type == "float32":
                dtype = torch.bfloat16
            self.model = AutoModelForCausalLM.from_pretrained(location, gguf_file=gguf, dtype=dtype)
        except OSError as error:
            raise OSError(f"could not load language model {model or location!r}: {error}") from error
        if adapter is not None:
            self.model = apply_adapter(self.model, adapter, base_name=model or location)
        self.model.to(device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device, self.batch_size, self.seed = device, batch_size, seed
        self.max_new_tokens, self.temperature = max_new_tokens, temperature
        self.top_p, self.repetition_penalty = top_p, repetition_penalty
        self.identity = (
            f"transformers:{identity_name(model)}:t={temperature}:p={top_p}:"
            f"rp={repetition_penalty}:n={max_new_tokens}:seed={seed}"
            + ("" if compute_type == "float32" else f":{compute_type}")
            + (f":adapter={adapter_fingerprint(adapter)}" if adapter else "")
            + (f":vocab={hashlib.sha256(chr(10).join(vocabulary).encode()).hexdigest()[:12]}" if vocabulary else "")
        )
        #: the model alone (log-probabilities do not depend on decoding settings): the key of cached scores
        self.scoring_identity = (f"transformers:{identity_name(model)}"
                                 + ("" if compute_type == "float32" else f":{compute_type}")
                                 + (f":adapter={adapter_fingerprint(adapter)}" if adapter else ""))
        self.constraint = VocabularyConstraint(self.tokenizer, vocabulary) if vocabulary else None
        self.tokens_generated = 0
        self._calls = 0
        self.scorer = None  # the PrefixScorer of score_continuations, made on first use
        self.situations_per_pass = situations_per_pass
        self._yes_ids = self._single_token_ids(YES_WORDS)
        self._no_ids = self._single_token_ids(NO_WORDS)

    def _single_token_ids(self, words: Sequence[str]) -> list[int]:
        ids = {self.tokenizer.encode(w, add_special_tokens=False)[0] for w in words}
        return sorted(ids)

    def _render(self, prompts: Sequence[Prompt]) -> list[str]:
        return [
            self.tokenizer.apply_chat_template(as_chat(p), tokenize=False, add_generation_prompt=True)
            for p in prompts
        ]

    def _batches(self, texts: list[str]):
        """Yield (indices, encoded batch), grouping prompts of similar length to limit padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            encoded = self.tokenizer(
                [texts[i] for i in indices], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.device)
            yield indices, encoded

    @torch.inference_mode()
    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """Answers to ``prompts``, generated in left-padded batches of ``batch_size``."""
        texts = self._render(prompts)
        answers = [""] * len(texts)
        sample = self.temperature > 0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + self._calls)
            self._calls += 1
            for indices, encoded in self._batches(texts):
                if self.constraint is not None:
                    self.constraint.prompt_length = encoded["input_ids"].shape[1]
                output = self.model.generate(
                    **encoded,
                    prefix_allowed_tokens_fn=self.constraint,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=sample,
                    temperature=self.temperature if sample else None,
                    top_p=self.top_p if sample else None,
                    top_k=None,
                    repetition_penalty=self.repetition_penalty,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                new_tokens = output[:, encoded["input_ids"].shape[1] :]
                self.tokens_generated += int((new_tokens != self.tokenizer.pad_token_id).sum())
                decoded = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
                for index, answer in zip(indices, decoded):
                    answers[index] = answer.strip()
        return answers

    @torch.inference_mode()
    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """P(yes) / (P(yes) + P(no)) of the first answer token, from next-token logits."""
        texts = self._render(prompts)
        result = np.zeros(len(texts), dtype=np.float64)
        for indices, encoded in self._batches(texts):
            logits = self.model(**encoded).logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1)
            yes = probs[:, self._yes_ids].sum(dim=1)
            no = probs[:, self._no_ids].sum(dim=1)
            result[indices] = (yes / (yes + no).clamp_min(1e-12)).cpu().numpy()
        return result

    @torch.inference_mode()
    def score_continuations(self, prompts: Sequence[Prompt], continuations: Sequence[str],
                            answer_prefix: str = "") -> np.ndarray:
        """Log-probability (sum over its tokens) of each continuation after each rendered prompt + ``answer_prefix``:
        shape ``(len(prompts), len(continuations))``.

        The prompts' shared head runs once for all calls, and the continuations of several prompts run as one
        packed pass (:class:`ellm_core.lm.prefix_scoring.PrefixScorer`); :meth:`score_continuations_separately`
        gives the same numbers the plain way."""
        if not continuations:
            return np.zeros((len(prompts), 0), dtype=np.float64)
        if self.scorer is None:
            from ellm_core.lm.prefix_scoring import PrefixScorer

            self.scorer = PrefixScorer(self.model, self.device, situations_per_pass=self.situations_per_pass)
        prompt_ids = [self.tokenizer.encode(text + answer_prefix, add_special_tokens=False) for text in self._render(prompts)]
        pieces = [self.tokenizer.encode(text, add_special_tokens=False) for text in continuations]
        return self.scorer.score(prompt_ids, pieces)

    @torch.inference_mode()
    def score_continuations_separately(self, prompts: Sequence[Prompt], continuations: Sequence[str],
                                       answer_prefix: str = "") -> np.ndarray:
        """:meth:`score_continuations` the plain way, the reference the fast path is tested against: each whole
        prompt runs on its own; its key/value cache is then repeated for all continuations, which run as one
        right-padded batch."""
        scores = np.zeros((len(prompts), len(continuations)), dtype=np.float64)
        pieces = [self.tokenizer.encode(text, add_special_tokens=False) for text in continuations]
        if not continuations:
            return scores
        width = max(len(piece) for piece in pieces)
        candidates = torch.full((len(pieces), width), self.tokenizer.pad_token_id, dtype=torch.long)
        real = torch.zeros((len(pieces), width), dtype=torch.bool)
        for row, piece in enumerate(pieces):
            candidates[row, :len(piece)] = torch.tensor(piece)
            real[row, :len(piece)] = True
        candidates, real = candidates.to(self.device), real.to(self.device)
        for index, text in enumerate(self._render(prompts)):
            prompt = self.tokenizer(text + answer_prefix, return_tensors="pt", add_special_tokens=False).to(self.device)
            length = prompt["input_ids"].shape[1]
            out = self.model(**prompt, use_cache=True)
            first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)  # the continuations' first tokens
            cache = out.cache
            cache.batch_repeat_interleave(len(pieces))
            mask = torch.cat([torch.ones((len(pieces), length), dtype=torch.long, device=self.device),
                              real.long()], dim=1)
            positions = torch.arange(length, length + width, device=self.device).expand(len(pieces), width)
            logits = self.model(input_ids=candidates, attention_mask=mask, position_ids=positions,
                                cache=cache).logits.float()
            following = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, candidates[:, 1:, None])[..., 0]
            token_scores = torch.cat([first[candidates[:, 0]][:, None], following], dim=1)
            scores[index] = (token_scores * real).sum(dim=1).cpu().numpy()
        return scores
