"""The default LM run by CTranslate2, behind the :class:`LanguageModel` protocol.

CTranslate2 (a prebuilt wheel, no build step) runs a converted copy of the model. The copy is made once, into
:func:`ellm_core.resources.cache_dir`, atomically: from the shipped GGUF (through the plain checkpoint the
transformers backend writes), from a local checkpoint directory, or from a hub name; a peft adapter is merged
first. The compute type (``float32``, ``int8_float32``, ``int8``, ...) is chosen at load time.

Goal prompts share a long head: the system message, the few-shot turns and, in Crafter, the valid-actions line.
:class:`SharedPrefix` finds that head from the prompts themselves (the longest token prefix shared by the prompts
seen so far with the same first message, cut at the end of a line) and it is passed to CTranslate2 as
``static_prompt``, whose model state is computed once and reused. Answers are the same with and without it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ellm_core.lm.base import NO_WORDS, YES_WORDS, LMConfig, Prompt, as_chat
from ellm_core.lm.shipped import identity_name
from ellm_core.resources import build_once, cache_dir, cpu_threads

logger = logging.getLogger(__name__)

#: Compute types CTranslate2 accepts (the CPU supports float32, int8_float32 and int8; GPUs add the 16-bit ones).
COMPUTE_TYPES = ("default", "auto", "float32", "int8_float32", "int8", "int16", "float16", "bfloat16",
                 "int8_float16", "int8_bfloat16")


def _import_ctranslate2():
    try:
        import ctranslate2
    except ImportError as error:  # a regular dependency; only a broken install gets here
        raise ImportError("ctranslate2 is not installed: pip install ctranslate2") from error
    return ctranslate2


def _merge_adapter(location: str, adapter: str, staging: Path) -> None:
    """Save ``location`` with the peft adapter merged in, as a plain checkpoint at ``staging``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ellm_core.lm.weights import apply_adapter

    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32)
    merged = apply_adapter(model, adapter, base_name=location).merge_and_unload()
    merged.save_pretrained(staging)
    AutoTokenizer.from_pretrained(location).save_pretrained(staging)


def converted_model(model: str | None = None, gguf_file: str | None = None, adapter: str | None = None) -> Path:
    """The CTranslate2 copy of ``model`` (+ ``adapter``), converted once into the cache directory.

    ``model`` is ``None`` (the shipped SmolLM2 GGUF), a ``.gguf`` file, a local checkpoint directory or a hub
    name. A missing path is a ``FileNotFoundError`` naming it; a model the converter cannot read is a
    ``ValueError`` naming it.
    """
    from ellm_core.lm.weights import adapter_fingerprint, resolve_model_location

    ctranslate2 = _import_ctranslate2()
    location, _ = resolve_model_location(model, gguf_file)
    identity = f"{location}|{adapter_fingerprint(adapter) if adapter else ''}|{ctranslate2.__version__}"
    name = Path(location).name or "model"
    target = cache_dir() / "models" / f"ct2-{name}-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"

    def convert(folder: Path) -> None:
        source = location
        if adapter:
            source = str(folder.parent / "merged")
            _merge_adapter(location, adapter, Path(source))
        logger.info("converting %s once for CTranslate2 into %s", model or location, target)
        try:
            ctranslate2.converters.TransformersConverter(source, copy_files=None).convert(str(folder), force=True)
        except (OSError, ValueError, KeyError, NotImplementedError) as error:
            raise ValueError(f"could not convert language model {model or location!r} for CTranslate2: "
                             f"{error}") from error
        from transformers import AutoTokenizer

        AutoTokenizer.from_pretrained(source).save_pretrained(folder)

    return build_once(target, convert)


def common_prefix_length(sequences: Sequence[Sequence[str]]) -> int:
    """Length of the longest prefix shared by every sequence."""
    if not sequences:
        return 0
    shortest = min(len(sequence) for sequence in sequences)
    for position in range(shortest):
        token = sequences[0][position]
        if any(sequence[position] != token for sequence in sequences[1:]):
            return position
    return shortest


class SharedPrefix:
    """The static head of a family of prompts, learnt from the prompts themselves.

    Prompts are grouped by a key (their first message). For each group the prefix is the longest token prefix
    shared by every prompt seen so far, cut back to the end of a line, so that it settles after a few prompts
    (a cut mid-observation would shrink again with the next observation). A group gets a prefix once it has
    seen two prompts; a prefix shorter than ``min_tokens`` is not worth a static prompt.
    """

    def __init__(self, ends_line, min_tokens: int = 16) -> None:
        self.ends_line, self.min_tokens = ends_line, min_tokens
        self._common: dict[str, list[str]] = {}
        self._seen: dict[str, int] = {}

    def update(self, key: str, token_lists: Sequence[Sequence[str]]) -> None:
        """Shrink ``key``'s shared prefix to what ``token_lists`` also share."""
        group = [*([self._common[key]] if key in self._common else []), *token_lists]
        self._common[key] = list(group[0][: common_prefix_length(group)])
        self._seen[key] = self._seen.get(key, 0) + len(token_lists)

    def prefix(self, key: str) -> list[str]:
        """The static prefix for ``key`` (empty when there is none yet)."""
        common = self._common.get(key, [])
        if self._seen.get(key, 0) < 2:
            return []
        cut = len(common)
        while cut > 0 and not self.ends_line(common[cut - 1]):
            cut -= 1
        return common[:cut] if cut >= self.min_tokens else []


class CTranslate2LM:
    """A causal LM converted for CTranslate2, built from its :class:`ellm_core.lm.base.LMConfig` (or that config's
    fields as keywords, e.g. ``CTranslate2LM(max_new_tokens=24)``).

    Alone, the compute type is ``float32``: it keeps the goal quality of the transformers backend; ``int8`` variants
    are faster on some CPUs and lose quality on this model. ``threads`` 0 uses all cores.

    Args:
        static_prefix: pass the prompts' shared head as ``static_prompt`` (off only for tests and ablations).
    """

    def __init__(self, config: LMConfig | None = None, /, *, static_prefix: bool = True, **overrides: Any) -> None:
        config = LMConfig.for_backend(config, "ctranslate2", overrides, compute_type="float32")
        model, gguf_file, device, adapter = config.model, config.gguf_file, config.device, config.adapter
        compute_type, threads = config.resolved_compute_type(), config.threads
        batch_size, seed = config.batch_size, config.seed
        max_new_tokens, temperature, top_p = config.max_new_tokens, config.temperature, config.top_p
        repetition_penalty = config.repetition_penalty
        from transformers import AutoTokenizer

        from ellm_core.lm.weights import adapter_fingerprint

        ctranslate2 = _import_ctranslate2()
        if compute_type not in COMPUTE_TYPES:
            raise ValueError(f"unknown compute type {compute_type!r}; known: {', '.join(COMPUTE_TYPES)}")
        directory = converted_model(model, gguf_file, adapter)
        try:
            self.generator = ctranslate2.Generator(str(directory), device=device.split(":")[0],
                                                   compute_type=compute_type,
                                                   intra_threads=threads or cpu_threads())
            self.tokenizer = AutoTokenizer.from_pretrained(str(directory))
        except (RuntimeError, ValueError, OSError) as error:
            raise RuntimeError(f"could not load the CTranslate2 model for {model or 'the default LM'!r} from "
                               f"{directory} (delete that directory to convert it again): {error}") from error
        self._ctranslate2 = ctranslate2
        self.compute_type, self.batch_size, self.seed = compute_type, batch_size, seed
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        self.repetition_penalty, self.use_static_prefix = repetition_penalty, static_prefix
        self.identity = (f"ctranslate2:{identity_name(model)}:{compute_type}:t={temperature}:"
                         f"p={top_p}:rp={repetition_penalty}:n={max_new_tokens}:seed={seed}"
                         + (f":adapter={adapter_fingerprint(adapter)}" if adapter else ""))  # content, not name
        self.shared = SharedPrefix(self._ends_line)
        self._line_ends: dict[str, bool] = {}
        self.tokens_generated = 0
        self._calls = 0
        self._yes_ids = self._first_token_ids(YES_WORDS)
        self._no_ids = self._first_token_ids(NO_WORDS)

    def _first_token_ids(self, words: Sequence[str]) -> list[int]:
        return sorted({self.tokenizer.encode(word, add_special_tokens=False)[0] for word in words})

    def _ends_line(self, token: str) -> bool:
        if token not in self._line_ends:
            self._line_ends[token] = self.tokenizer.convert_tokens_to_string([token]).endswith("\n")
        return self._line_ends[token]

    def _tokens(self, prompt: Prompt) -> list[str]:
        text = self.tokenizer.apply_chat_template(as_chat(prompt), tokenize=False, add_generation_prompt=True)
        return self.tokenizer.convert_ids_to_tokens(self.tokenizer.encode(text, add_special_tokens=False))

    def _groups(self, prompts: Sequence[Prompt]):
        """Yield (indices, static prefix, suffixes): prompts that share one static prefix, split after it.

        Suffixes in a group have one length: CTranslate2 forwards a batch's prompts at once only up to the
        shortest one and decodes the rest step by step, which shifts the first answer position of the others.
        """
        tokens = [self._tokens(prompt) for prompt in prompts]
        keys = [str(as_chat(prompt)[0]) for prompt in prompts]
        for key in dict.fromkeys(keys):
            self.shared.update(key, [t for t, k in zip(tokens, keys) if k == key])
        groups: dict[tuple[tuple[str, ...], int], list[int]] = {}
        for index, (token_list, key) in enumerate(zip(tokens, keys)):
            prefix = self.shared.prefix(key) if self.use_static_prefix else []
            if len(prefix) >= len(token_list):  # a prompt that is all prefix keeps at least one token to forward
                prefix = []
            groups.setdefault((tuple(prefix), len(token_list) - len(prefix)), []).append(index)
        for (prefix, _), indices in groups.items():
            yield indices, list(prefix), [tokens[i][len(prefix):] for i in indices]

    def _run(self, suffixes: list[list[str]], prefix: list[str], **options):
        return self.generator.generate_batch(suffixes, static_prompt=prefix or None, include_prompt_in_result=False,
                                             max_batch_size=self.batch_size, **options)

    def generate(self, prompts: Sequence[Prompt]) -> list[str]:
        """Answers to ``prompts`` (greedy at temperature 0, else sampled with ``top_p``)."""
        answers = [""] * len(prompts)
        sample = self.temperature > 0
        if sample:
            self._ctranslate2.set_random_seed(self.seed + self._calls)
        self._calls += 1
        options = {"max_length": self.max_new_tokens, "repetition_penalty": self.repetition_penalty,
                   "sampling_topk": 0 if sample else 1, "sampling_topp": self.top_p if sample else 1.0,
                   "sampling_temperature": self.temperature if sample else 1.0}
        for indices, prefix, suffixes in self._groups(prompts):
            for index, result in zip(indices, self._run(suffixes, prefix, **options)):
                ids = result.sequences_ids[0]
                self.tokens_generated += len(ids)
                answers[index] = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
        return answers

    def yes_probability(self, prompts: Sequence[Prompt]) -> np.ndarray:
        """P(yes) / (P(yes) + P(no)) of the first answer token, from its distribution over the vocabulary."""
        result = np.zeros(len(prompts), dtype=np.float64)
        for indices, prefix, suffixes in self._groups(prompts):
            outputs = self._run(suffixes, prefix, max_length=1, sampling_topk=1, return_logits_vocab=True)
            for index, output in zip(indices, outputs):
                logits = np.asarray(output.logits[0], dtype=np.float64).reshape(-1)
                probs = np.exp(logits - logits.max())
                yes, no = probs[self._yes_ids].sum(), probs[self._no_ids].sum()
                result[index] = yes / max(yes + no, 1e-12)
        return result
