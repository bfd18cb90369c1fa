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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ellm_core.config import option, save_config
from ellm_core.goals.prompts import PromptConfig, open_ended_prompt
from ellm_core.goals.quality import Situation, load_situations
from ellm_core.resources import data_dir
from ellm_core.run import lora

logger = logging.getLogger(__name__)

DEFAULT_EXCLUDE = "results/goal_quality/crafter_situations_seed1_n40.jsonl"


@dataclass
class SuggesterConfig(lora.LoraTrainConfig):
    """Fine-tuning of the Crafter goal suggester; on the command line each field is a ``--flag``."""

    out: str = option("runs/crafter-suggester", "run directory (adapter, manifest, metrics, loss curve)")
    situations: int = option(400, "training situations collected from seeded play")
    eval_situations: int = option(40, "held-out situations (another seed) for the loss/perplexity")
    play_seed: int = option(100, "seed of the play that yields training situations (eval uses play_seed + 1)")
    exclude: str | None = option(DEFAULT_EXCLUDE, "situations file whose observations never enter training")
    truth: str = option("in_view", "target goals: in_view (achievable now with what is in view) or oracle",
                        choices=("in_view", "oracle"))
    max_goals: int = option(3, "at most this many goals per target")
    steps: int = option(150, "optimizer steps")
    learning_rate: float = option(5e-4, "AdamW learning rate")
    max_length: int = option(256, "token cap of prompt + target")
    checkpoint_every: int = option(50, "steps between atomic checkpoints (0 = only at the end)")


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
    run_dir = Path(config.out)
    prompts_file = data_dir() / "crafter" / "prompts.yaml"
    prompts = PromptConfig.load(prompts_file).without_few_shot()
    train, held_out = training_situations(config)
    save_config(config, run_dir)
    tokenizer, model = lora.prepare(config)

    def encoded(situations: list[Situation]):
        return [lora.encode_chat(tokenizer, open_ended_prompt(s.observation, s.actions, prompts),
                                 target_text(s, config.truth, config.max_goals), config.max_length)
                for s in situations]

    metrics = lora.fine_tune(model, tokenizer, config, encoded(train), encoded(held_out), run_dir,
                             "Crafter suggester LoRA fine-tuning")
    metrics = {"train_situations": len(train), "eval_situations": len(held_out), **metrics}
    manifest = {"kind": "crafter goal suggester", "base_model": config.base_model,
                "base_identity": lora.base_identity(config.base_model), "prompts": str(prompts_file),
                "few_shot": False, "config": dataclasses.asdict(config), "metrics": metrics}
    lora.write_adapter(model, run_dir / "adapter", manifest)
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return metrics
