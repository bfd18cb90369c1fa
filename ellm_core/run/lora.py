"""LoRA fine-tuning of a causal LM on (chat prompt -> target text) pairs, shared by every fine-tuned generator.

Used by the rationale generator (:mod:`recrl.rationale`) and the fine-tuned Crafter goal suggester
(:mod:`ellm_core.crafter.suggester`). The pieces:

- :func:`load_base` / :func:`add_lora`: the base LM (a GGUF is converted once, see ASSETS) wrapped with a fresh
  peft ``LoraConfig`` adapter; only the adapter trains.
- :func:`encode_chat` / :func:`collate`: token ids with the loss on the target tokens only (labels -100 on the
  prompt and the padding).
- :func:`train_steps`: one readable loop (AdamW, seeded shuffling, tqdm, atomic checkpoints so a killed run
  resumes with the same batches) returning the loss history and training tokens/s.
- :func:`target_loss`: mean held-out NLL per target token (perplexity = exp of it).
- :func:`write_adapter`: peft's files plus ``manifest.json``, written atomically.
- :class:`LoraTrainConfig`, :func:`prepare` and :func:`fine_tune`: the options, set-up and train-then-measure
  sequence every fine-tuned generator shares (its config subclasses :class:`LoraTrainConfig`).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ellm_core.config import option
from ellm_core.lm.weights import adapter_fingerprint, resolve_model_location
from ellm_core.run.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
Encoded = tuple[list[int], list[int]]


@dataclass
class LoraTrainConfig:
    """The options of any LoRA fine-tuning run; a generator's config subclasses it (and may change defaults)."""

    base_model: str | None = option(None, "base causal LM: local path, hub name or .gguf; default: shipped SmolLM2")
    steps: int = option(150, "optimizer steps")
    batch_size: int = option(8, "examples per step")
    learning_rate: float = option(3e-4, "AdamW learning rate")
    lora_r: int = option(8, "LoRA rank")
    lora_alpha: int = option(16, "LoRA alpha")
    lora_dropout: float = option(0.05, "LoRA dropout")
    target_modules: str = option("q_proj,v_proj", "comma-separated module names that get LoRA")
    max_length: int = option(192, "token cap of prompt + target")
    checkpoint_every: int = option(50, "steps between atomic checkpoints (0 = only at the end)")
    device: str = option("auto", "torch device; auto = cuda when available (bf16), else cpu")
    seed: int = option(0, "seed of sampling, shuffling and LoRA init")


def prepare(config: LoraTrainConfig):
    """Seed everything, then (tokenizer, base model on ``config.device`` wrapped with a fresh LoRA adapter)."""
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    tokenizer, base = load_base(config.base_model, device)
    model = add_lora(base, config.lora_r, config.lora_alpha, config.lora_dropout,
                     [m.strip() for m in config.target_modules.split(",") if m.strip()])
    return tokenizer, model


def fine_tune(model, tokenizer, config: LoraTrainConfig, train: list[Encoded], held_out: list[Encoded],
              run_dir: str | Path, title: str) -> dict[str, Any]:
    """Held-out loss of the base, :func:`train_steps`, held-out loss again, ``train.csv`` + ``loss.png``.

    Returns the metrics: first/last training loss, held-out loss and perplexity of base and tuned model,
    training tokens/s and the device.
    """
    device = str(model.device)
    eval_batches = batches(held_out, config.batch_size, tokenizer.pad_token_id, device)
    model.eval()
    with model.disable_adapter():
        base_loss = target_loss(model, eval_batches)
    history, tokens_per_s = train_steps(
        model, train, steps=config.steps, batch_size=config.batch_size, learning_rate=config.learning_rate,
        pad_id=tokenizer.pad_token_id, device=device, seed=config.seed, run_dir=run_dir,
        checkpoint_every=config.checkpoint_every, desc=title)
    tuned_loss = target_loss(model, eval_batches)
    write_loss_curve(run_dir, history, title)
    logger.info("held-out target perplexity: base %.2f -> fine-tuned %.2f", np.exp(base_loss), np.exp(tuned_loss))
    return {
        "steps": config.steps, "first_train_loss": history[0]["loss"] if history else None,
        "last_train_loss": float(np.mean([h["loss"] for h in history[-10:]])) if history else None,
        "eval_loss_base": base_loss, "eval_loss_tuned": tuned_loss,
        "perplexity_base": float(np.exp(base_loss)), "perplexity_tuned": float(np.exp(tuned_loss)),
        "train_tokens_per_s": tokens_per_s, "device": device,
    }


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


def encode_chat(tokenizer, chat: list[dict[str, str]], target: str, max_length: int) -> Encoded:
    """(input ids, labels) of the rendered ``chat`` prompt (labels -100) followed by ``target`` and end of turn."""
    prompt = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=False)
    answer = tokenizer(target + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    ids = (list(prompt) + answer)[:max_length]
    labels = ([-100] * len(prompt) + answer)[:max_length]
    return ids, labels


def collate(encoded: list[Encoded], pad_id: int, device: str) -> dict[str, torch.Tensor]:
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


def batches(encoded: list[Encoded], batch_size: int, pad_id: int, device: str) -> list[dict[str, torch.Tensor]]:
    """``encoded`` collated in consecutive batches (for evaluation)."""
    return [collate(encoded[i : i + batch_size], pad_id, device) for i in range(0, len(encoded), batch_size)]


@torch.inference_mode()
def target_loss(model, eval_batches: list[dict[str, torch.Tensor]]) -> float:
    """Mean negative log-likelihood per target token over ``eval_batches`` (perplexity = exp of it)."""
    total, tokens = 0.0, 0
    for batch in eval_batches:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
        shifted, labels = logits[:, :-1], batch["labels"][:, 1:]
        losses = torch.nn.functional.cross_entropy(shifted.reshape(-1, shifted.shape[-1]), labels.reshape(-1),
                                                   ignore_index=-100, reduction="sum")
        total += float(losses)
        tokens += int((labels != -100).sum())
    return total / max(tokens, 1)


def train_steps(model, encoded: list[Encoded], *, steps: int, batch_size: int, learning_rate: float, pad_id: int,
                device: str, seed: int, run_dir: str | Path, checkpoint_every: int = 0,
                desc: str = "LoRA fine-tuning") -> tuple[list[dict[str, float]], float | None]:
    """Train the adapter of ``model`` for ``steps`` AdamW steps; returns (loss history, training tokens/s).

    Batches come from a seeded permutation of ``encoded``, reshuffled when used up. Every ``checkpoint_every``
    steps the LoRA weights, optimizer and history are saved atomically under ``run_dir/checkpoints``; a later
    call with the same arguments resumes from the latest one and replays the shuffling, so it sees the same
    batches as an uninterrupted run.
    """
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    start, history = _resume(Path(run_dir), model, optimizer)
    generator = torch.Generator().manual_seed(seed)
    order: list[int] = []
    for _ in range(start):
        order = _next_batch(order, len(encoded), batch_size, generator)[1]
    model.train()
    tokens, began = 0, time.perf_counter()
    progress = tqdm(range(start, steps), desc=desc, initial=start, total=steps)
    for step in progress:
        indices, order = _next_batch(order, len(encoded), batch_size, generator)
        batch = collate([encoded[i] for i in indices], pad_id, device)
        loss = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        tokens += int(batch["attention_mask"].sum())
        history.append({"step": step + 1, "loss": loss.item()})
        progress.set_postfix(loss=f"{history[-1]['loss']:.3f}")
        if checkpoint_every and (step + 1) % checkpoint_every == 0 and step + 1 < steps:
            save_checkpoint(run_dir, step + 1, {"lora": _lora_state(model), "optimizer": optimizer.state_dict(),
                                                "history": history})
    seconds = time.perf_counter() - began
    model.eval()
    return history, (tokens / seconds if seconds > 0 and tokens else None)


def _next_batch(order: list[int], size: int, batch_size: int, generator: torch.Generator):
    """Take the next ``batch_size`` indices of a seeded permutation, reshuffling when it runs out."""
    while len(order) < batch_size:
        order = order + torch.randperm(size, generator=generator).tolist()
    return order[:batch_size], order[batch_size:]


def _lora_state(model) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().cpu() for name, tensor in model.state_dict().items() if "lora_" in name}


def _resume(run_dir: Path, model, optimizer) -> tuple[int, list[dict]]:
    """Restore the LoRA weights, optimizer and loss history of the latest checkpoint, if any."""
    path = latest_checkpoint(run_dir)
    if path is None:
        return 0, []
    state = load_checkpoint(path)
    model.load_state_dict(state["lora"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    history = list(state["history"])
    logger.info("resuming LoRA training from %s (step %d)", path, len(history))
    return len(history), history


def write_adapter(model, directory: str | Path, manifest: dict[str, Any]) -> Path:
    """Write the adapter and ``manifest.json`` (plus the adapter's fingerprint) into ``directory`` atomically."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=directory.name + ".", dir=directory.parent))
    try:
        model.save_pretrained(staging)
        manifest = {**manifest, "adapter_fingerprint": adapter_fingerprint(staging)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def write_loss_curve(run_dir: str | Path, history: list[dict[str, float]], title: str) -> None:
    """``train.csv`` and the ``loss.png`` training curve of a fine-tuning run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    run_dir = Path(run_dir)
    frame = pd.DataFrame(history, columns=["step", "loss"])
    frame.to_csv(run_dir / "train.csv", index=False)
    figure, axis = plt.subplots(figsize=(5, 3.2))
    axis.plot(frame["step"], frame["loss"], alpha=0.4, label="per step")
    axis.plot(frame["step"], frame["loss"].rolling(10, min_periods=1).mean(), label="rolling mean (10)")
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("target-token loss")
    axis.set_title(title, fontsize=10)
    axis.legend()
    figure.tight_layout()
    figure.savefig(run_dir / "loss.png", dpi=110)
    plt.close(figure)
