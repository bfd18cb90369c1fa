"""The rationale model: base causal LM + peft LoRA, tokenised examples with the loss on the target only, and
the adapter directory (peft's files plus ``manifest.json``) saved atomically and loaded back with checks.

An adapter directory holds ``adapter_config.json`` and ``adapter_model.safetensors`` (written by
``PeftModel.save_pretrained``) and ``manifest.json``: the base model identity, the prompt template, the
fingerprint of the data it was trained on, the LoRA options and the training/evaluation metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from ellm_core.llm_local import adapter_fingerprint, resolve_model_location
from recrl.rationale.examples import SYSTEM, USER_TEMPLATE, RationaleExample, chat

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; anything else unchanged."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def base_identity(base_model: str | None) -> str:
    """A stable name of the base model: the shipped default, or the path/hub name as given."""
    return "default:SmolLM2-135M-Instruct.Q4_1.gguf" if base_model is None else str(base_model)


def load_base(base_model: str | None, device: str):
    """(tokenizer, model) of the base LM; a GGUF base is converted once into a plain checkpoint (see ASSETS)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location, gguf = resolve_model_location(base_model, None)
    dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=gguf)
        model = AutoModelForCausalLM.from_pretrained(location, gguf_file=gguf, dtype=dtype)
    except OSError as error:
        raise OSError(f"could not load base model {base_identity(base_model)!r}: {error}") from error
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model.to(device)


def add_lora(model, r: int, alpha: int, dropout: float, target_modules: list[str]):
    """Wrap ``model`` with a fresh LoRA adapter (peft ``LoraConfig``); only the adapter is trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(task_type="CAUSAL_LM", r=r, lora_alpha=alpha, lora_dropout=dropout,
                        target_modules=target_modules)
    return get_peft_model(model, config)


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


def collate(encoded: list[tuple[list[int], list[int]]], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    """Right-padded batch tensors; padding is masked out of attention and loss."""
    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), -100, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, (ids, target) in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(target)] = torch.tensor(target)
        mask[row, : len(ids)] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


@torch.inference_mode()
def target_loss(model, batches: list[dict[str, torch.Tensor]]) -> float:
    """Mean negative log-likelihood per target token over ``batches`` (perplexity = exp of it)."""
    total, tokens = 0.0, 0
    for batch in batches:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        shifted, labels = logits[:, :-1], batch["labels"][:, 1:]
        losses = torch.nn.functional.cross_entropy(shifted.reshape(-1, shifted.shape[-1]), labels.reshape(-1),
                                                   ignore_index=-100, reduction="sum")
        total += float(losses)
        tokens += int((labels != -100).sum())
    return total / max(tokens, 1)


def data_fingerprint(data_dir: str | Path) -> str:
    """A short hash of a prepared directory's interactions and split files."""
    digest = hashlib.sha256()
    for name in ("interactions.parquet", "split.parquet", "items.parquet"):
        digest.update((Path(data_dir) / name).read_bytes())
    return digest.hexdigest()[:16]


def save_adapter(model, directory: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the adapter and its manifest into ``directory`` atomically (a staging directory renamed in)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=directory.name + ".", dir=directory.parent))
    try:
        model.save_pretrained(staging)
        manifest = {**manifest, "prompt": {"system": SYSTEM, "user_template": USER_TEMPLATE},
                    "adapter_fingerprint": adapter_fingerprint(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


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


def rationale_lm(adapter: str | Path, base_model: str | None = None, device: str = "cpu", **decoding: Any):
    """The fine-tuned rationale model as a core ``LanguageModel`` (``TransformersLM`` with the adapter applied).

    ``decoding`` takes ``TransformersLM`` options (``temperature``, ``top_p``, ``max_new_tokens``,
    ``repetition_penalty``, ``batch_size``, ``seed``).
    """
    from ellm_core.llm_local import TransformersLM

    directory, manifest = read_manifest(adapter)
    base = check_base(manifest, directory, base_model)
    return TransformersLM(model=base, device=resolve_device(device), adapter=str(directory), **decoding)
