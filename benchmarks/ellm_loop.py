"""The ELLM training loop against the same loop without a bonus: steps/s of one Crafter run per contender.

Every contender is the same run (``ellm crafter train --preset demo``, one seed, episodes of 400, no evaluation
during training), started in this process one after the other, each with a fresh cache:

- ``none``: no intrinsic reward (the loop at the speed of the environment, embedder and learner);
- ``ellm`` with the default LM backend and the default mode (what plain ``ellm crafter train --reward ellm`` does);
- ``ellm`` with each other installed backend and mode (synchronous, background);
- synchronous ``ellm`` after ``ellm crafter prewarm`` (its prewarm time on its own line);
- ``ellm`` with distilled goals (``--goal-source distilled``: the LM labels in the background, the nearest labelled
  observation answers every step), with the shares of situations answered by the LM, the goal model and neither;
- ``none`` and ``novelty`` and ``oracle``: the no-LM methods;
- the same loop before this project's speed-ups, side by side: ``none, crafter worldgen`` (crafter's own world
  generator instead of :mod:`ellm_core.crafter.worldgen`), and the embedder levers: ``none, minilm-int8`` and
  ``none, minilm-static`` (``--embedder``; opt-in: other vectors); and ``none, 4 envs``: four environments in one
  process with one learner (steps summed over the environments).

``--only`` picks contenders by name; ``--set loop`` runs the loop-speed set (the none variants, novelty, oracle and
ELLM default) and prints the projected hours of a 1M-step cell on one core for each.

The headline ratio is ELLM (default) ÷ none. It also prints none ÷ a raw crafter random agent, and where each
run's time goes (LM, embedder, environment, learner: wall-clock seconds inside each, measured by timing the
methods; the background LM runs beside the loop, so its seconds overlap the others).

Usage: python benchmarks/ellm_loop.py [--quick] [--steps N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import crafter
import numpy as np
import torch

import ellm_core.crafter  # noqa: F401  (registers ellm/Crafter-v0)
from ellm_core.agents.dqn import DQNAgent
from ellm_core.crafter.cli import crafter_train_defaults
from ellm_core.crafter.env import CrafterEnv, TextCrafter
from ellm_core.crafter.prewarm import prewarm
from ellm_core.hardware import describe, describe_line
from ellm_core.lm.ct2 import CTranslate2LM
from ellm_core.lm.hf import TransformersLM
from ellm_core.run.config import updated
from ellm_core.run.train import train
from ellm_core.text.embed import CTranslate2Embedder, SentenceTransformerEmbedder

SECONDS: dict[str, float] = defaultdict(float)


def timed(owner, name: str, label: str) -> None:
    """Accumulate the wall-clock seconds spent in ``owner.name`` under ``label``."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SECONDS[label] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def instrument() -> None:
    timed(CrafterEnv, "step", "env")
    timed(CrafterEnv, "reset", "env")
    timed(TextCrafter, "reset", "world generation")
    timed(SentenceTransformerEmbedder, "encode", "embedder")
    timed(CTranslate2Embedder, "encode", "embedder")
    try:
        from ellm_core.text.static_embed import StaticEmbedder

        timed(StaticEmbedder, "encode", "embedder")
    except ImportError:
        pass
    timed(DQNAgent, "update", "learner")
    timed(DQNAgent, "act", "learner")
    for backend in (CTranslate2LM, TransformersLM):
        timed(backend, "generate", "LM")
    try:
        from ellm_core.lm.llamacpp import LlamaCppLM

        timed(LlamaCppLM, "generate", "LM")
    except ImportError:
        pass


def has_llamacpp() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def raw_crafter_steps_per_s(steps: int, length: int) -> float:
    """A random agent on ``crafter.Env`` as it ships (image drawn every step), resets included."""
    env = crafter.Env(length=length, seed=0)
    actions = np.random.default_rng(0).integers(0, 17, steps)
    env.reset()
    start = time.perf_counter()
    for action in actions:
        if env.step(int(action))[2]:
            env.reset()
    return steps / (time.perf_counter() - start)


COMMITTED_1M = Path(__file__).resolve().parents[1] / "results/crafter/1m/runs"


def committed_cell_hours(runs: Path = COMMITTED_1M) -> dict:
    """Hours of each committed 1M cell on its core (its ``steps_per_s``), by method: min-max over seeds."""
    by_method: dict[str, list[float]] = defaultdict(list)
    for summary in sorted(runs.glob("*-seed*/summary.json")):
        data = json.loads(summary.read_text(encoding="utf-8"))
        if data.get("steps_per_s"):
            by_method[summary.parent.name.rsplit("-seed", 1)[0]].append(data["step"] / data["steps_per_s"] / 3600)
    return {method: f"{min(hours):.2f}-{max(hours):.2f}" for method, hours in by_method.items()}


def run(name: str, config, folder: Path, prewarm_steps: int = 0) -> dict:
    """One training run with a fresh cache; steps/s of its loop and where its time went."""
    config = updated(config, cache=str(folder / f"{name}.sqlite"), out=str(folder / name))
    row = {"name": name}
    if prewarm_steps:
        report = prewarm(updated(config, steps=prewarm_steps), check_steps=0)
        row.update(prewarm_s=round(report["play_s"] + report["generate_s"], 1),
                   prewarm_situations=report["unique_situations"])
    SECONDS.clear()
    start = time.perf_counter()
    summary = train(config)
    row.update(wall_s=round(time.perf_counter() - start, 1), steps_per_s=summary["steps_per_s"],
               llm_hit_rate=summary.get("llm_hit_rate"), goal_miss_rate=summary.get("goal_miss_rate"),
               **{key: summary[key] for key in ("goals_by_lm", "goals_by_model", "goals_by_none", "labels")
                  if key in summary},
               seconds={key: round(value, 1) for key, value in SECONDS.items()})
    print(f"  {name}: {row['steps_per_s']} steps/s, {json.dumps(row['seconds'])}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps per contender")
    parser.add_argument("--quick", action="store_true", help="600 steps per contender")
    parser.add_argument("--prewarm-steps", type=int, default=2_000,
                        help="steps of random play for pre-warming (the run's seed: the same worlds)")
    parser.add_argument("--only", nargs="*", default=None, help="run only these contenders (by name)")
    parser.add_argument("--set", choices=["all", "loop"], default="all",
                        help="loop: the loop-speed contenders (none before/after, embedder levers, the no-LM methods, "
                             "ELLM default) with the projected hours of a 1M-step cell")
    args = parser.parse_args()
    steps = 600 if args.quick else args.steps
    base = updated(crafter_train_defaults("demo"), steps=steps, eval_every=0, eval_episodes=1,
                               checkpoint_every=10 * steps, tensorboard=False,
                               env_kwargs=json.dumps({"length": 400, "pixels": False}))
    lm_default = base.lm
    contenders = {
        "none": (updated(base, reward="none"), 0),
        "ellm default": (updated(base, reward="ellm"), 0),
        "ellm ctranslate2 sync": (updated(base, reward="ellm", lm_async=False, goal_source="lm",
                                                      lm=dataclasses.replace(lm_default, backend="ctranslate2")), 0),
        "ellm ctranslate2 background": (updated(base, reward="ellm", lm_async=True, goal_source="lm",
                                                            lm=dataclasses.replace(lm_default, backend="ctranslate2")),
                                        0),
        "ellm transformers sync": (updated(base, reward="ellm", lm_async=False, goal_source="lm",
                                                       lm=dataclasses.replace(lm_default, backend="transformers")), 0),
        "ellm sync after prewarm": (updated(base, reward="ellm", goal_source="lm"), args.prewarm_steps),
        "ellm distilled": (updated(base, reward="ellm", goal_source="distilled"), 0),
        "none, crafter worldgen": (updated(base, reward="none", env_kwargs=json.dumps(
            {"length": 400, "pixels": False, "fast_worldgen": False})), 0),
        "none, minilm-int8": (updated(base, reward="none", embedder="minilm-int8"), 0),
        "none, minilm-static": (updated(base, reward="none", embedder="minilm-static"), 0),
        "none, 4 envs": (updated(base, reward="none", num_envs=4), 0),
        "novelty": (updated(base, reward="novelty"), 0),
        "oracle": (updated(base, reward="oracle"), 0),
    }
    if args.set == "loop":
        keep = ("none", "none, crafter worldgen", "none, minilm-int8", "none, minilm-static", "none, 4 envs",
                "novelty", "oracle", "ellm default")
        contenders = {name: contenders[name] for name in keep if name in contenders}
    else:
        for name in ("none, crafter worldgen", "none, minilm-int8", "none, minilm-static", "none, 4 envs", "novelty",
                     "oracle"):
            del contenders[name]
    mode = "distilled" if base.goal.source == "distilled" else "background" if base.goal.lm_async else "synchronous"
    if mode == "distilled":
        contenders.pop("ellm distilled", None)  # the same run as "ellm default"
    elif lm_default.backend == "ctranslate2" and mode == "synchronous":
        contenders.pop("ellm ctranslate2 sync", None)  # the same run as "ellm default"
    if has_llamacpp() and args.set == "all":
        contenders["ellm llamacpp sync"] = (dataclasses.replace(
            base, reward="ellm", lm_async=False, goal_source="lm", lm=dataclasses.replace(lm_default, backend="llamacpp")),
            0)
    if args.only:
        contenders = {name: value for name, value in contenders.items() if name in args.only or name == "none"}
    instrument()
    raw = raw_crafter_steps_per_s(steps, 400)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        threads = torch.get_num_threads()
        for name, (config, prewarm_steps) in contenders.items():
            torch.set_num_threads(threads)  # as a fresh process has them (the background mode changes it)
            rows.append(run(name, config, Path(folder), prewarm_steps))
    none = rows[0]["steps_per_s"]
    print(f"\nCrafter, --preset demo, {steps} steps, one seed, fresh cache each; default LM backend "
          f"{lm_default.backend}, default goal source {mode}")
    print(describe_line(threads))
    print(f"{'contender':<30}{'steps/s':>9}{'÷ none':>8}{'LLM hits':>9}{'misses':>8}  seconds in LM / embedder / "
          "env / learner")
    for row in rows:
        parts = " / ".join(f"{row['seconds'].get(key, 0.0):.1f}" for key in ("LM", "embedder", "env", "learner"))
        hits = "-" if row["llm_hit_rate"] is None else f"{row['llm_hit_rate']:.2f}"
        misses = "-" if row["goal_miss_rate"] is None else f"{row['goal_miss_rate']:.2f}"
        print(f"{row['name']:<30}{row['steps_per_s']:>9.1f}{row['steps_per_s'] / none:>8.2f}{hits:>9}{misses:>8}  "
              f"{parts}")
        if "goals_by_lm" in row:
            print(f"{'  (who answered)':<30} LM {row['goals_by_lm']:.2f}, goal model {row['goals_by_model']:.2f}, "
                  f"neither {row['goals_by_none']:.2f} of the situations; {row['labels']} labels")
        if "prewarm_s" in row:
            print(f"{'  (prewarm, separately)':<30} {row['prewarm_s']} s for {row['prewarm_situations']} situations "
                  f"of {args.prewarm_steps} random steps")
    if args.set == "loop":
        print(f"\n{'contender':<30}{'1M-step cell, hours on one core (projected)':>45}")
        for row in rows:
            print(f"{row['name']:<30}{1e6 / row['steps_per_s'] / 3600:>45.2f}")
        parts = rows[0]["seconds"]
        print(f"none: {parts.get('world generation', 0.0):.1f} s of {rows[0]['wall_s']} s in world generation")
        print("(a short run meets more new captions per step than a long one: the committed 1M cells, whose later "
              "steps mostly repeat captions, took)")
        for method, hours in committed_cell_hours().items():
            print(f"  {method:<28}{hours:>45}")
    env_rate = steps / max(rows[0]["seconds"].get("env", 0.0), 1e-9)
    print(f"raw crafter random agent: {raw:.1f} steps/s; none ÷ raw = {none / raw:.2f}; the text env alone inside "
          f"the none loop (captions included): {env_rate:.1f} steps/s = {env_rate / raw:.2f} × raw")
    default = next(row for row in rows if row["name"] == "ellm default") if any(
        row["name"] == "ellm default" for row in rows) else rows[-1]
    print(json.dumps({"benchmark": "ellm_loop", "ratio": round(default["steps_per_s"] / none, 3), "goal": ">= 0.8",
                      "none_vs_raw_crafter": round(none / raw, 2), "text_env_vs_raw_crafter": round(env_rate / raw, 2),
                      "steps": steps, "set": args.set,
                      "hours_per_1m_cell": {row["name"]: round(1e6 / row["steps_per_s"] / 3600, 2) for row in rows},
                      "rows": {row["name"]: row for row in rows}, **describe(threads)}))


if __name__ == "__main__":
    main()
