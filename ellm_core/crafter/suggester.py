"""A fine-tuned Crafter goal suggester: LoRA on (observation caption -> achievable goals) from seeded play.

This is *not* ELLM: ELLM asks a pretrained LM what to do; this model learns the answer from ground truth
(crafter's rules), so it is reported as its own row ("LoRA suggester") beside the prompted LM, the oracle and
random goals in ``results/goal_quality``.

How an example is built: a situation comes from seeded play by the scripted policy
(:func:`ellm_core.crafter.situations.collect_situations`, seeds disjoint from the evaluation set, and any
situation whose observation text appears in the evaluation file dropped); the input is the zero-shot
open-ended chat of ``data/crafter/prompts.yaml`` (system message, valid actions, caption, "What would you do?");
the target is the situation's achievable goals (``truth``: ``in_view``, what is achievable now with what is in
view, or ``oracle``, crafter's unlock rules), at most ``max_goals``, one ``- goal`` line each. Situations with no
achievable goal are skipped. The adapter is then used like any other: ``--lm-adapter RUN/adapter --no-few-shot``.
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
from ellm_core.goal_quality import Situation, load_situations
from ellm_core.prompts import PromptConfig, open_ended_prompt
from ellm_core.resources import data_dir

logger = logging.getLogger(__name__)

DEFAULT_EXCLUDE = "results/goal_quality/crafter_situations_seed1_n40.jsonl"


@dataclass
class SuggesterConfig:
    """Fine-tuning of the Crafter goal suggester; on the command line each field is a ``--flag``."""

    out: str = option("runs/crafter-suggester", "run directory (adapter, manifest, metrics, loss curve)")
    base_model: str | None = option(None, "base causal LM: local path, hub name or .gguf; default: shipped SmolLM2")
    situations: int = option(400, "training situations collected from seeded play")
    eval_situations: int = option(40, "held-out situations (another seed) for the loss/perplexity")
    play_seed: int = option(100, "seed of the play that yields training situations (eval uses play_seed + 1)")
    exclude: str | None = option(DEFAULT_EXCLUDE, "situations file whose observations never enter training")
    truth: str = option("in_view", "target goals: in_view (achievable now with what is in view) or oracle",
                        choices=("in_view", "oracle"))
    max_goals: int = option(3, "at most this many goals per target")
    steps: int = option(300, "optimizer steps")
    batch_size: int = option(8, "examples per step")
    learning_rate: float = option(5e-4, "AdamW learning rate")
    lora_r: int = option(8, "LoRA rank")
    lora_alpha: int = option(16, "LoRA alpha")
    lora_dropout: float = option(0.05, "LoRA dropout")
    target_modules: str = option("q_proj,v_proj", "comma-separated module names that get LoRA")
    max_length: int = option(256, "token cap of prompt + target")
    checkpoint_every: int = option(100, "steps between atomic checkpoints (0 = only at the end)")
    device: str = option("auto", "torch device; auto = cuda when available (bf16), else cpu")
    seed: int = option(0, "seed of shuffling and LoRA init")


#: Budget presets (overrides of SuggesterConfig fields).
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {"situations": 24, "eval_situations": 8, "steps": 4, "batch_size": 4, "checkpoint_every": 2},
    "demo": {},
}


def apply_preset(config: SuggesterConfig, name: str | None) -> SuggesterConfig:
    """A copy of ``config`` with the preset's budgets (``None`` returns it unchanged)."""
    if name is None:
        return config
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return dataclasses.replace(config, **PRESETS[name])


def target_text(situation: Situation, truth: str, max_goals: int) -> str:
    """The answer the suggester learns for ``situation``: one ``- goal`` line per achievable goal."""
    goals = situation.in_view if truth == "in_view" else situation.achievable
    return "\n".join(f"- {goal}" for goal in list(goals or [])[:max_goals])


def training_situations(config: SuggesterConfig) -> tuple[list[Situation], list[Situation]]:
    """(training, held-out) situations from seeded play, without any observation of ``config.exclude``."""
    from ellm_core.crafter.situations import collect_situations

    excluded: set[str] = set()
    exclude = Path(config.exclude) if config.exclude else None
    if exclude is not None and not exclude.is_absolute() and not exclude.is_file():
        exclude = data_dir().parent / exclude  # the repository's results/ when run from elsewhere
    if exclude is not None and exclude.is_file():
        excluded = {s.observation for s in load_situations(exclude)}
    pool = collect_situations(config.situations + len(excluded), seed=config.play_seed,
                              episodes=max(2, config.situations // 50))
    train = [s for s in pool if s.observation not in excluded and target_text(s, config.truth, 1)]
    dropped = len(pool) - len(train)
    train = train[: config.situations]
    held_out = [s for s in collect_situations(config.eval_situations, seed=config.play_seed + 1)
                if s.observation not in excluded and target_text(s, config.truth, 1)]
    logger.info("suggester situations: %d train (%d dropped: in %s or nothing achievable), %d held-out",
                len(train), dropped, config.exclude, len(held_out))
    if not train:
        raise ValueError("no training situations with an achievable goal; raise --situations")
    return train, held_out


def train_suggester(config: SuggesterConfig) -> dict[str, Any]:
    """Fine-tune, evaluate held-out loss (base vs tuned) and save ``RUN/adapter``; returns the metrics."""
    run_dir, device = Path(config.out), lora.resolve_device(config.device)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    prompts_file = data_dir() / "crafter" / "prompts.yaml"
    prompts = PromptConfig.load(prompts_file).without_few_shot()
    train, held_out = training_situations(config)
    save_config(config, run_dir)
    tokenizer, base = lora.load_base(config.base_model, device)
    model = lora.add_lora(base, config.lora_r, config.lora_alpha, config.lora_dropout,
                          [m.strip() for m in config.target_modules.split(",") if m.strip()])

    def encoded(situations: list[Situation]):
        return [lora.encode_chat(tokenizer, open_ended_prompt(s.observation, s.actions, prompts),
                                 target_text(s, config.truth, config.max_goals), config.max_length)
                for s in situations]

    examples = encoded(train)
    eval_batches = lora.batches(encoded(held_out), config.batch_size, tokenizer.pad_token_id, device)
    model.eval()
    with model.disable_adapter():
        base_loss = lora.target_loss(model, eval_batches)
    history, tokens_per_s = lora.train_steps(
        model, examples, steps=config.steps, batch_size=config.batch_size, learning_rate=config.learning_rate,
        pad_id=tokenizer.pad_token_id, device=device, seed=config.seed, run_dir=run_dir,
        checkpoint_every=config.checkpoint_every, desc="suggester LoRA fine-tuning")
    tuned_loss = lora.target_loss(model, eval_batches)
    metrics = {
        "train_situations": len(train), "eval_situations": len(held_out), "steps": config.steps,
        "first_train_loss": history[0]["loss"] if history else None,
        "last_train_loss": float(np.mean([h["loss"] for h in history[-10:]])) if history else None,
        "eval_loss_base": base_loss, "eval_loss_tuned": tuned_loss,
        "perplexity_base": float(np.exp(base_loss)), "perplexity_tuned": float(np.exp(tuned_loss)),
        "train_tokens_per_s": tokens_per_s, "device": device,
    }
    manifest = {"kind": "crafter goal suggester", "base_model": config.base_model,
                "base_identity": lora.base_identity(config.base_model), "prompts": str(prompts_file),
                "few_shot": False, "config": dataclasses.asdict(config), "metrics": metrics}
    lora.write_adapter(model, run_dir / "adapter", manifest)
    lora.write_loss_curve(run_dir, history, "Crafter suggester LoRA fine-tuning")
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    logger.info("held-out target perplexity: base %.2f -> fine-tuned %.2f", metrics["perplexity_base"],
                metrics["perplexity_tuned"])
    return metrics
