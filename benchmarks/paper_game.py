"""A random agent in both games: crafter's (17 actions, ``ellm/Crafter-v0``) and the paper's (139 verb–noun
actions, ``ellm/CrafterPaper-v0``), side by side.

Each game plays the same seeded worlds (episodes of ``--length`` steps) with uniformly random actions, and the
script prints every achievement's success rate (share of episodes that unlocked it), achievements per episode,
Crafter's score, the paper game's share of steps whose action succeeded (its success rule) and steps/s, then one
JSON line. The ratio column says how much rarer each achievement is under random play in the paper's game: what
undirected exploration loses when "chop tree" only acts on a tree.

Usage: python benchmarks/paper_game.py [--episodes N] [--length L] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from crafter import constants

from ellm_core.crafter.env import CrafterEnv
from ellm_core.crafter.paper import PaperCrafterEnv
from ellm_core.crafter.score import crafter_score
from ellm_core.hardware import describe, describe_line


def play(env, episodes: int, seed: int) -> dict:
    """Success rate per achievement, achievements per episode, Crafter's score, success share and steps/s of uniformly
    random actions over ``episodes`` seeded episodes."""
    rng = np.random.default_rng(seed)
    unlocked = {name: 0 for name in constants.achievements}
    per_episode, steps, succeeded = [], 0, 0
    start = time.perf_counter()
    for episode in range(episodes):
        env.reset(seed=seed * 1000 + episode)
        done, info = False, {}
        while not done:
            _, _, terminated, truncated, info = env.step(int(rng.integers(env.action_space.n)))
            steps += 1
            succeeded += bool(info.get("action_success", False))
            done = terminated or truncated
        got = [name for name, count in info["achievements"].items() if count > 0]
        per_episode.append(len(got))
        for name in got:
            unlocked[name] += 1
    seconds = time.perf_counter() - start
    rates = {name: 100.0 * count / episodes for name, count in unlocked.items()}
    return {"rates": rates, "achievements_per_episode": float(np.mean(per_episode)),
            "score": crafter_score(rates), "success_share": succeeded / steps,
            "steps": steps, "steps_per_s": steps / seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per game")
    parser.add_argument("--length", type=int, default=400, help="episode length (the paper's config: 400)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the worlds and the actions")
    parser.add_argument("--quick", action="store_true", help="5 episodes of 100 steps")
    args = parser.parse_args(argv)
    episodes, length = (5, 100) if args.quick else (args.episodes, args.length)
    games = {"crafter": CrafterEnv(length=length, pixels=False),
             "paper": PaperCrafterEnv(length=length, pixels=False)}
    results = {name: play(env, episodes, args.seed) for name, env in games.items()}
    print(describe_line())
    print(f"random agent, {episodes} episodes of up to {length} steps, the same worlds in both games")
    print(f"{'achievement':<22}{'crafter %':>10}{'paper %':>10}{'paper/crafter':>15}")
    for name in constants.achievements:
        a, b = results["crafter"]["rates"][name], results["paper"]["rates"][name]
        ratio = f"{b / a:.2f}" if a else ("-" if not b else "new")
        print(f"{name:<22}{a:>10.1f}{b:>10.1f}{ratio:>15}")
    for key, label, fmt in (("achievements_per_episode", "achievements/episode", ".2f"), ("score", "Crafter score", ".2f"),
                            ("success_share", "action success share", ".3f"), ("steps_per_s", "steps/s", ".0f")):
        print(f"{label:<22}{results['crafter'][key]:>10{fmt}}{results['paper'][key]:>10{fmt}}")
    print(json.dumps({"benchmark": "paper_game", "episodes": episodes, "length": length, **describe(),
                      **{f"{game}_{key}": value for game, result in results.items() for key, value in result.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
