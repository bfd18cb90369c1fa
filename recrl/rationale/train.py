"""LoRA fine-tuning of the rationale generator: one config dataclass, one readable training loop.

``train_rationale(config)`` builds the examples (:mod:`recrl.rationale.examples`), measures the held-out
target loss of the base model, trains the LoRA adapter (:func:`ellm_core.run.lora.train_steps`: AdamW, seeded
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

from ellm_core.config import option, save_config
from ellm_core.run import lora
from recrl.data.prepared import load_prepared
from recrl.rationale import model as rm
from recrl.rationale.examples import RationaleExample, build_examples

logger = logging.getLogger(__name__)


@dataclass
class RationaleConfig(lora.LoraTrainConfig):
    """Fine-tuning of the rationale generator; on the command line each field is a ``--flag``."""

    data: str = option("data/prepared/sample", "prepared data directory (`recrl data prepare`)")
    out: str = option("runs/rationale", "run directory (adapter, manifest, metrics, plots)")
    liked_threshold: float = option(4.0, "ratings at or above this are liked (training targets)")
    max_history: int = option(5, "earlier liked items in the prompt")
    history: str = option("titles", "how earlier liked items appear in the prompt: titles, or titles with their "
                          "metadata (genres, director, two cast names)", choices=("titles", "metadata"))
    max_target_chars: int = option(160, "length cap of a rationale target")
    max_examples: int = option(2000, "training examples sampled (seeded) from the train split; 0 = all")
    eval_examples: int = option(100, "held-out examples (test split) for the loss/perplexity")


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
               "max_target_chars": config.max_target_chars, "history": config.history}
    train = build_examples(data, "train", **options)
    if not train:
        raise ValueError(f"no usable training examples in {config.data}: no train interaction is rated >= "
                         f"{config.liked_threshold:g} with review text or item metadata to build a rationale from")
    held_out = build_examples(data, "test", history_splits=("train", "valid", "test"), **options)
    return _sample(train, config.max_examples, config.seed), _sample(held_out, config.eval_examples, config.seed + 1)


def train_rationale(config: RationaleConfig) -> dict[str, Any]:
    """Fine-tune, evaluate and save; returns the metrics (also in ``RUN/metrics.json``)."""
    run_dir = Path(config.out)
    data = load_prepared(config.data)
    train, held_out = select_examples(config, data)
    logger.info("rationale examples: %d train, %d held-out (test split)", len(train), len(held_out))
    save_config(config, run_dir)
    tokenizer, model = lora.prepare(config)
    metrics = lora.fine_tune(model, tokenizer, config, [rm.encode(tokenizer, e, config.max_length) for e in train],
                             [rm.encode(tokenizer, e, config.max_length) for e in held_out], run_dir,
                             "rationale LoRA fine-tuning")
    metrics = {"train_examples": len(train), "eval_examples": len(held_out), **metrics}
    manifest = {"base_model": config.base_model, "base_identity": rm.base_identity(config.base_model),
                "data": str(config.data), "data_fingerprint": rm.data_fingerprint(config.data),
                "lora": {"r": config.lora_r, "alpha": config.lora_alpha, "dropout": config.lora_dropout,
                         "target_modules": config.target_modules},
                "liked_threshold": config.liked_threshold, "max_history": config.max_history,
                "history": config.history, "seed": config.seed, "metrics": metrics}
    rm.save_adapter(model, run_dir / "adapter", manifest)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics
