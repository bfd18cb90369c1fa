"""LoRA fine-tuning of the rationale generator: one config dataclass, one readable training loop.

``train_rationale(config)`` builds the examples (:mod:`recrl.rationale.examples`), measures the held-out
target loss of the base model, trains the LoRA adapter (:func:`ellm_core.lora.train_steps`: AdamW, seeded
shuffling, loss on the target tokens only, tqdm progress, atomic checkpoints every ``checkpoint_every`` steps so a
killed run resumes), measures the
held-out loss again, and writes ``RUN/adapter`` (peft files + manifest), ``metrics.json``, ``train.csv`` and
``loss.png``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ellm_core import lora
from ellm_core.config import option, save_config
from recrl.data.prepared import load_prepared
from recrl.rationale import model as rm
from recrl.rationale.examples import RationaleExample, build_examples

logger = logging.getLogger(__name__)


@dataclass
class RationaleConfig:
    """Fine-tuning of the rationale generator; on the command line each field is a ``--flag``."""

    data: str = option("data/prepared/sample", "prepared data directory (`recrl data prepare`)")
    out: str = option("runs/rationale", "run directory (adapter, manifest, metrics, plots)")
    base_model: str | None = option(None, "base causal LM: local path, hub name or .gguf; default: shipped SmolLM2")
    steps: int = option(150, "optimizer steps")
    batch_size: int = option(8, "examples per step")
    learning_rate: float = option(3e-4, "AdamW learning rate")
    lora_r: int = option(8, "LoRA rank")
    lora_alpha: int = option(16, "LoRA alpha")
    lora_dropout: float = option(0.05, "LoRA dropout")
    target_modules: str = option("q_proj,v_proj", "comma-separated module names that get LoRA")
    liked_threshold: float = option(4.0, "ratings at or above this are liked (training targets)")
    max_history: int = option(5, "earlier liked items in the prompt")
    max_target_chars: int = option(160, "length cap of a rationale target")
    max_length: int = option(192, "token cap of prompt + target")
    max_examples: int = option(2000, "training examples sampled (seeded) from the train split; 0 = all")
    eval_examples: int = option(100, "held-out examples (test split) for the loss/perplexity")
    checkpoint_every: int = option(50, "steps between atomic checkpoints (0 = only at the end)")
    device: str = option("auto", "torch device; auto = cuda when available (bf16), else cpu")
    seed: int = option(0, "seed of sampling, shuffling and LoRA init")


#: Budget presets (overrides of RationaleConfig fields).
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"steps": 6, "batch_size": 4, "max_examples": 48, "eval_examples": 12, "checkpoint_every": 3},
    "demo": {"steps": 150, "batch_size": 8, "max_examples": 2000, "eval_examples": 100},
    "paper": {"steps": 2000, "batch_size": 16, "max_examples": 0, "eval_examples": 1000, "checkpoint_every": 200},
}


def apply_preset(config: RationaleConfig, name: str | None) -> RationaleConfig:
    """A copy of ``config`` with the preset's budgets (``None`` returns it unchanged)."""
    if name is None:
        return config
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return dataclasses.replace(config, **PRESETS[name])


def _sample(examples: list[RationaleExample], count: int, seed: int) -> list[RationaleExample]:
    if count <= 0 or count >= len(examples):
        return list(examples)
    return random.Random(seed).sample(examples, count)


def select_examples(config: RationaleConfig, data) -> tuple[list[RationaleExample], list[RationaleExample]]:
    """(training examples from the train split, held-out examples from the test split)."""
    options = {"liked_threshold": config.liked_threshold, "max_history": config.max_history,
               "max_target_chars": config.max_target_chars}
    train = build_examples(data, "train", **options)
    if not train:
        raise ValueError(f"no usable training examples in {config.data}: no train interaction is rated >= "
                         f"{config.liked_threshold:g} with review text or item metadata to build a rationale from")
    held_out = build_examples(data, "test", history_splits=("train", "valid", "test"), **options)
    return _sample(train, config.max_examples, config.seed), _sample(held_out, config.eval_examples, config.seed + 1)


def train_rationale(config: RationaleConfig) -> dict[str, Any]:
    """Fine-tune, evaluate and save; returns the metrics (also in ``RUN/metrics.json``)."""
    run_dir, device = Path(config.out), rm.resolve_device(config.device)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    data = load_prepared(config.data)
    train, held_out = select_examples(config, data)
    logger.info("rationale examples: %d train, %d held-out (test split)", len(train), len(held_out))
    save_config(config, run_dir)
    tokenizer, base = rm.load_base(config.base_model, device)
    model = rm.add_lora(base, config.lora_r, config.lora_alpha, config.lora_dropout,
                        [m.strip() for m in config.target_modules.split(",") if m.strip()])
    encoded = [rm.encode(tokenizer, example, config.max_length) for example in train]
    eval_batches = lora.batches([rm.encode(tokenizer, e, config.max_length) for e in held_out],
                                config.batch_size, tokenizer.pad_token_id, device)
    model.eval()
    with model.disable_adapter():
        base_loss = rm.target_loss(model, eval_batches)
    history, tokens_per_s = lora.train_steps(
        model, encoded, steps=config.steps, batch_size=config.batch_size, learning_rate=config.learning_rate,
        pad_id=tokenizer.pad_token_id, device=device, seed=config.seed, run_dir=run_dir,
        checkpoint_every=config.checkpoint_every, desc="rationale LoRA fine-tuning")
    model.eval()
    tuned_loss = rm.target_loss(model, eval_batches)
    metrics = {
        "train_examples": len(train), "eval_examples": len(held_out), "steps": config.steps,
        "first_train_loss": history[0]["loss"] if history else None,
        "last_train_loss": float(np.mean([h["loss"] for h in history[-10:]])) if history else None,
        "eval_loss_base": base_loss, "eval_loss_tuned": tuned_loss,
        "perplexity_base": float(np.exp(base_loss)), "perplexity_tuned": float(np.exp(tuned_loss)),
        "train_tokens_per_s": tokens_per_s, "device": device,
    }
    manifest = {"base_model": config.base_model, "base_identity": rm.base_identity(config.base_model),
                "data": str(config.data), "data_fingerprint": rm.data_fingerprint(config.data),
                "lora": {"r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout,
                         "target_modules": config.target_modules},
                "liked_threshold": config.liked_threshold, "max_history": config.max_history,
                "seed": config.seed, "metrics": metrics}
    rm.save_adapter(model, run_dir / "adapter", manifest)
    lora.write_loss_curve(run_dir, history, "rationale LoRA fine-tuning")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    logger.info("held-out target perplexity: base %.2f -> fine-tuned %.2f", metrics["perplexity_base"],
                metrics["perplexity_tuned"])
    return metrics
