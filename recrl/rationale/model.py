"""The rationale model: base causal LM + peft LoRA, tokenised examples with the loss on the target only, and
the adapter directory (peft's files plus ``manifest.json``) saved atomically and loaded back with checks.
The generic LoRA pieces live in :mod:`ellm_core.run.lora`; this module adds what is specific to rationales.

An adapter directory holds ``adapter_config.json`` and ``adapter_model.safetensors`` (written by
``PeftModel.save_pretrained``) and ``manifest.json``: the base model identity, the prompt template, the
fingerprint of the data it was trained on, the LoRA options and the training/evaluation metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from ellm_core.run.lora import (  # noqa: F401  (re-exported: the rationale model's LoRA pieces)
    MANIFEST,
    add_lora,
    base_identity,
    collate,
    load_base,
    resolve_device,
    target_loss,
    write_adapter,
)
from recrl.rationale.examples import SYSTEM, USER_TEMPLATE, RationaleExample, chat

logger = logging.getLogger(__name__)


def encode(tokenizer, example: RationaleExample, max_length: int) -> tuple[list[int], list[int]]:
    """(input ids, labels) of one example: the chat prompt (labels -100) then the target and end-of-turn token.

    A prompt too long for ``max_length`` loses its oldest history first (kept: the target, whole).
    """
    target = tokenizer(example.target + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    history = list(example.history)
    while True:
        prompt = tokenizer.apply_chat_template(chat(history, example.category), add_generation_prompt=True,
                                               tokenize=True, return_dict=False)
        if len(prompt) + len(target) <= max_length or not history:
            break
        history = history[1:]
    ids = (list(prompt) + target)[:max_length]
    labels = ([-100] * len(prompt) + target)[:max_length]
    return ids, labels


def data_fingerprint(data_dir: str | Path) -> str:
    """A short hash of a prepared directory's interactions and split files."""
    digest = hashlib.sha256()
    for name in ("interactions.parquet", "split.parquet", "items.parquet"):
        digest.update((Path(data_dir) / name).read_bytes())
    return digest.hexdigest()[:16]


def save_adapter(model, directory: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the adapter and its manifest (with the rationale prompt) into ``directory`` atomically."""
    return write_adapter(model, directory, {**manifest, "prompt": {"system": SYSTEM, "user_template": USER_TEMPLATE}})


def read_manifest(adapter: str | Path) -> tuple[Path, dict[str, Any]]:
    """(adapter directory, manifest) for a rationale run directory or its ``adapter/`` folder.

    Missing files are a clear error naming the path.
    """
    path = Path(adapter).expanduser()
    if (path / "adapter" / MANIFEST).is_file():
        path = path / "adapter"
    if not (path / MANIFEST).is_file() or not (path / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{path} is not a rationale adapter (expected adapter_config.json and {MANIFEST}; "
                                "create one with `recrl rationale train`)")
    return path, json.loads((path / MANIFEST).read_text(encoding="utf-8"))


def check_base(manifest: dict[str, Any], adapter: Path, base_model: str | None) -> str | None:
    """The base model to load for ``adapter``: the manifest's unless ``base_model`` overrides it; a different
    base than the one trained on is an error naming both."""
    trained_on = manifest.get("base_model")
    if base_model is not None and base_identity(base_model) != manifest.get("base_identity"):
        raise ValueError(f"adapter {str(adapter)!r} was trained on base {manifest.get('base_identity')!r}, "
                         f"not {base_identity(base_model)!r}; pass the same --base-model (or none)")
    return trained_on


def rationale_lm(adapter: str | Path, base_model: str | None = None, device: str = "cpu",
                 backend: str = "transformers", **decoding: Any):
    """The fine-tuned rationale model as a core ``LanguageModel``: ``TransformersLM`` with the adapter applied, or
    (``backend="ctranslate2"``) ``CTranslate2LM`` on the base with the adapter merged, converted once.

    ``decoding`` takes the backends' shared options (``temperature``, ``top_p``, ``max_new_tokens``,
    ``repetition_penalty``, ``batch_size``, ``seed``).
    """
    directory, manifest = read_manifest(adapter)
    base = check_base(manifest, directory, base_model)
    if backend == "ctranslate2":
        from ellm_core.lm.ct2 import CTranslate2LM

        return CTranslate2LM(model=base, adapter=str(directory), **decoding)
    if backend != "transformers":
        raise ValueError(f"rationale backend must be transformers or ctranslate2, got {backend!r}")
    from ellm_core.lm.hf import TransformersLM

    return TransformersLM(model=base, device=resolve_device(device), adapter=str(directory), **decoding)
