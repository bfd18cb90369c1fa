"""Random-agent steps/s on Crafter: raw ``crafter.Env`` vs our adapter (captions) vs the ELLM-wrapped adapter.

The three run the same seeded random action sequence, in alternating rounds (medians reported), so that
they see the same worlds and the same machine conditions. The ELLM-wrapped env uses the real sentence
embedder (all-MiniLM-L6-v2) and a goal generator whose LM answers come from a warm SQLite cache: a first,
untimed pass over the same trajectory fills the caches, as a long training run's caches would be. (The
LM's own generation speed is ``goal_generation.py``'s subject; the LM here is a scripted stand-in behind
the same cache, so a warm hit costs exactly what it costs in training.)

Usage: python benchmarks/crafter_throughput.py [--quick] [--steps N] [--length L]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import crafter
import numpy as np

from ellm_core.cache import SQLiteCache
from ellm_core.crafter.env import CrafterEnv
from ellm_core.goals import OpenEndedGoals
from ellm_core.goals.prompts import PromptConfig
from ellm_core.hardware import describe, describe_line
from ellm_core.lm.base import CachedLM, ScriptedLM
from ellm_core.resources import data_dir
from ellm_core.text.embed import CachedEmbedder, make_embedder
from ellm_core.wrappers import ELLMReward

ANSWERS = {"tree": "- collect wood", "water": "- drink water", "cow": "- eat cow", "table": "- make wood pickaxe"}


def scripted_answer(user_text: str) -> str:
    """A plausible answer depending on what the observation text mentions."""
    return "\n".join(answer for word, answer in ANSWERS.items() if word in user_text) or "- collect sapling"


def run_raw(env: crafter.Env, actions: np.ndarray, seed: int) -> int:
    env._seed, env._episode = seed, 0  # the same world sequence as CrafterEnv.reset(seed=seed)
    env.reset()
    for action in actions:
        _, _, done, _ = env.step(int(action))
        if done:
            env.reset()
    return len(actions)


def run_gym(env, actions: np.ndarray, seed: int) -> int:
    env.reset(seed=seed)
    for action in actions:
        _, _, terminated, truncated, _ = env.step(int(action))
        if terminated or truncated:
            env.reset()
    return len(actions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="steps per timed round")
    parser.add_argument("--length", type=int, default=400, help="episode length")
    parser.add_argument("--quick", action="store_true", help="600 steps per round, 3 rounds")
    args = parser.parse_args()
    steps, rounds = (600, 3) if args.quick else (args.steps, 5)
    actions = np.random.default_rng(0).integers(0, 17, steps)
    with tempfile.TemporaryDirectory() as folder:
        cache = SQLiteCache(Path(folder) / "cache.sqlite")
        embedder = CachedEmbedder(make_embedder("default"), cache)
        lm = CachedLM(ScriptedLM(scripted_answer), cache)
        prompts = PromptConfig.load(data_dir() / "crafter" / "prompts.yaml")
        wrapped = ELLMReward(CrafterEnv(length=args.length), OpenEndedGoals(lm, prompts), embedder, threshold=0.9)
        adapter = CrafterEnv(length=args.length)
        raw_env = crafter.Env(length=args.length)
        contenders = {"crafter.Env (raw)": lambda: run_raw(raw_env, actions, 0),
                      "CrafterEnv (captions)": lambda: run_gym(adapter, actions, 0),
                      "ELLMReward(CrafterEnv)": lambda: run_gym(wrapped, actions, 0)}
        contenders["ELLMReward(CrafterEnv)"]()  # untimed warm-up: fills the LM and embedding caches
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, run in contenders.items():
                start = time.perf_counter()
                done = run()
                rates[name].append(done / (time.perf_counter() - start))
        hit_rate = embedder.hit_rate
    medians = {name: float(np.median(values)) for name, values in rates.items()}
    raw = medians["crafter.Env (raw)"]
    print(f"random agent, {steps} steps x {rounds} rounds, episode length {args.length}")
    print(describe_line())
    print(f"{'env':<26}{'steps/s':>10}{'vs raw':>8}")
    for name, value in medians.items():
        print(f"{name:<26}{value:>10.1f}{value / raw:>8.2f}")
    print(json.dumps({"benchmark": "crafter_throughput", "ratio": round(medians["ELLMReward(CrafterEnv)"] / raw, 2),
                      "goal": ">= 0.8", "adapter_ratio": round(medians["CrafterEnv (captions)"] / raw, 2),
                      "raw_steps_per_s": round(raw, 1), "embedding_hit_rate": round(hit_rate, 3),
                      **describe()}))


if __name__ == "__main__":
    main()
