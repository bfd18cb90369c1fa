"""The crafting-chain probe: can the learner make a wood pickaxe when the goals name it? (the goal source held fixed).

Every run is ``ellm crafter train`` with the oracle's goals at the paper's threshold (0.99, no health reward) on short
Crafter episodes, from two starts: with wood in the inventory (``start_inventory``), so that a table and a wood
pickaxe are two actions away and the goals name both from the first step, and from crafter's usual empty inventory,
so that the agent must find trees and collect wood first. Only the learner changes between variants. For each start,
variant and seed the table gives the training steps until a wood pickaxe is made in at least half of a window of
consecutive training episodes (exploration included), and the rates of the last window; a novelty row (no goals) is
the reference that makes pickaxes at 1M without any goal.

    python benchmarks/crafting_chain.py                 # 2 starts x 5 variants x 3 seeds, 30k steps (~95 min, 1 core)
    python benchmarks/crafting_chain.py --quick         # 1 start x 2 variants x 1 seed, 600 steps: the plumbing only
    python benchmarks/crafting_chain.py --out results/crafter/chain-probe --seeds 0 1 2

Runs land in ``--runs`` (resumable: a finished run is read, not run again); ``--out`` gets ``probe.md`` and
``probe.json`` (per seed, recomputable from the runs' ``stats.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from ellm_core.cli import main as ellm
from ellm_core.hardware import describe, describe_line

#: Learner variants: extra ``ellm crafter train`` flags on top of the probe's (reward and goals held fixed), and
#: extra environment arguments. "paid up to 3 times": the oracle keeps naming an unlocked achievement while it is
#: achievable (a table takes two wood, a pickaxe a third) and the reward pays each goal up to 3 times an episode.
VARIANTS: dict[str, tuple[list[str], dict]] = {
    "reward only (today)": ([], {}),
    "goal-conditioned": (["--goal-conditioned"], {}),
    "goal-conditioned, hidden 512": (["--goal-conditioned", "--dqn-hidden", "512"], {}),
    "paid up to 3 times": (["--pay-limit", "3"], {"oracle_repeats": True}),
    "novelty (no goals)": (["--reward", "novelty"], {}),
}
ACHIEVEMENTS = ("place_table", "make_wood_pickaxe", "make_wood_sword")
#: Starts: (wood in the inventory, episode length). From a tree the chain is longer, so its episodes are too.
STARTS: dict[str, tuple[int, int]] = {"wood in hand": (5, 100), "from a tree": (0, 200)}


def probe_flags(steps: int, length: int, wood: int, seed: int, out: Path, env: dict | None = None) -> list[str]:
    """The flags every probe run shares: the oracle at 0.99, ``wood`` in hand, episodes of ``length`` steps."""
    return ["crafter", "train", "--preset", "demo", "--reward", "oracle", "--threshold", "0.99",
            "--steps", str(steps), "--length", str(length), "--dqn-eps-decay-steps", str(max(1, steps // 10)),
            "--env-kwargs", json.dumps({"start_inventory": {"wood": wood}, **(env or {})}), "--eval-every", "0",
            "--eval-episodes", "1", "--checkpoint-every", str(steps), "--log-every", str(max(100, steps // 20)),
            "--no-tensorboard", "--cache", "none", "--seed", str(seed), "--out", str(out)]


def plan(starts: dict[str, tuple[int, int]], variants: list[str], seeds: list[int],
         runs: Path) -> dict[str, dict[int, Path]]:
    """Each row (``"START: VARIANT"``) and its run folder per seed."""
    rows: dict[str, dict[int, Path]] = {}
    for start, (wood, _) in starts.items():
        for variant in variants:
            name = variant.split(" (")[0].replace(", ", "-").replace(" ", "-")
            rows[f"{start}: {variant}"] = {seed: runs / f"{name}-wood{wood}-seed{seed}" for seed in seeds}
    return rows


def read_stats(run: Path) -> list[dict]:
    """The run's episodes (crafter's ``stats.jsonl`` lines, each with the training ``step`` it ended at)."""
    return [json.loads(line) for line in (run / "stats.jsonl").read_text(encoding="utf-8").splitlines() if line]


def steps_to_share(episodes: list[dict], achievement: str, share: float = 0.5, window: int = 20) -> int | None:
    """The training step at which ``achievement`` was first unlocked in at least ``share`` of the last ``window``
    episodes; ``None`` when that never happened."""
    hits = [bool(episode.get(f"achievement_{achievement}", 0)) for episode in episodes]
    for end in range(window, len(episodes) + 1):
        if sum(hits[end - window:end]) >= share * window:
            return int(episodes[end - 1]["step"])
    return None


def last_rates(episodes: list[dict], window: int = 20) -> dict[str, float]:
    """Share of the last ``window`` episodes that unlocked each achievement of the chain."""
    tail = episodes[-window:]
    return {name: sum(bool(e.get(f"achievement_{name}", 0)) for e in tail) / max(len(tail), 1) for name in ACHIEVEMENTS}


def summarize(runs: dict[str, dict[int, Path]], window: int) -> dict[str, dict]:
    """Per row (a start and a variant): steps to a pickaxe in half the episodes and the last window's rates, per seed
    and on average."""
    result = {}
    for variant, seeds in runs.items():
        per_seed = {}
        for seed, run in seeds.items():
            episodes = read_stats(run)
            per_seed[seed] = {"episodes": len(episodes), "steps": int(episodes[-1]["step"]) if episodes else 0,
                              "steps_to_half_pickaxe": steps_to_share(episodes, "make_wood_pickaxe", 0.5, window),
                              "steps_to_half_table": steps_to_share(episodes, "place_table", 0.5, window),
                              "last": last_rates(episodes, window)}
        result[variant] = {"seeds": per_seed, "last_mean": {
            name: statistics.fmean(row["last"][name] for row in per_seed.values()) for name in ACHIEVEMENTS}}
    return result


def table(summary: dict[str, dict], budget: int, window: int) -> str:
    """The probe as Markdown."""
    def reached(value: int | None) -> str:
        return f"{value:,}" if value is not None else f"> {budget:,}"

    lines = [f"| start: learner | steps to a pickaxe in ≥ 50 % of {window} episodes, per seed | steps to a table in "
             f"≥ 50 % | last {window} episodes: table / wood pickaxe / wood sword |", "| --- | --- | --- | --- |"]
    for variant, row in summary.items():
        seeds = row["seeds"].values()
        last = row["last_mean"]
        lines.append(f"| {variant} | {', '.join(reached(s['steps_to_half_pickaxe']) for s in seeds)} | "
                     f"{', '.join(reached(s['steps_to_half_table']) for s in seeds)} | "
                     f"{100 * last['place_table']:.0f} % / {100 * last['make_wood_pickaxe']:.0f} % / "
                     f"{100 * last['make_wood_sword']:.0f} % |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run (or read) every variant x seed, print the table and one JSON line; write them under ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30_000, help="training steps per run")
    parser.add_argument("--window", type=int, default=20, help="episodes per window of the success share")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--starts", nargs="+", default=list(STARTS), choices=list(STARTS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--runs", default="runs/chain-probe", help="where the runs go (resumable)")
    parser.add_argument("--out", default=None, help="folder for probe.md and probe.json")
    parser.add_argument("--quick", action="store_true", help="600 steps, one start, 2 variants, seed 0: the plumbing")
    args = parser.parse_args(argv)
    starts = {name: STARTS[name] for name in args.starts}
    if args.quick:
        args.steps, args.window, args.seeds = 600, 4, [0]
        args.variants, starts = args.variants[:2], {"wood in hand": (5, 50)}
    runs = plan(starts, args.variants, args.seeds, Path(args.runs))
    for start, (wood, length) in starts.items():
        for variant in args.variants:
            for seed, run in runs[f"{start}: {variant}"].items():
                summary = run / "summary.json"
                if summary.is_file() and json.loads(summary.read_text())["step"] >= args.steps:
                    continue
                extra_flags, env = VARIANTS[variant]
                flags = probe_flags(args.steps, length, wood, seed, run, env) + extra_flags
                if (run / "checkpoints").is_dir():
                    flags.append("--resume")
                elif run.exists():
                    flags.append("--overwrite")
                code = ellm(flags)
                if code:
                    return code
    summary = summarize(runs, args.window)
    markdown = table(summary, args.steps, args.window)
    print(f"crafting-chain probe: oracle goals at 0.99; starts (wood, episode length) {starts}; "
          f"{args.steps:,} steps per run, seeds {args.seeds}")
    print(describe_line())
    print(markdown)
    result = {"benchmark": "crafting_chain", "steps": args.steps, "starts": starts, "window": args.window,
              "rows": summary, **describe()}
    print(json.dumps(result, default=str))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        command = "python benchmarks/crafting_chain.py " + " ".join(argv if argv is not None else [])
        (out / "probe.md").write_text(f"`{command.strip()}` ({describe_line()})\n\n{markdown}", encoding="utf-8")
        (out / "probe.json").write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
