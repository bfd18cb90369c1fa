"""Crafter's own evaluation: per-achievement success rates and the Crafter score from ``stats.jsonl``.

``stats.jsonl`` holds one JSON object per episode, as ``crafter.Recorder`` writes it: ``length``, ``reward``
and ``achievement_<name>`` counts. The success rate of an achievement is the percentage of episodes in
which it was unlocked at least once; the score is ``S = exp(mean_i ln(1 + s_i)) - 1`` with ``s_i`` in
percent (Hafner, 2021), computed over all training episodes of a run, as the benchmark does.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from crafter import constants

logger = logging.getLogger(__name__)
ACHIEVEMENTS: tuple[str, ...] = tuple(constants.achievements)


def read_stats(path: str | Path) -> list[dict]:
    """The episodes of a ``stats.jsonl`` (a run directory is also accepted); a bad line names its number."""
    path = Path(path)
    if path.is_dir():
        path = path / "stats.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no crafter stats at {path} (a run of `ellm crafter train` writes it)")
    episodes = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                episodes.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}, line {number}: not JSON ({error.msg})") from None
    return episodes


def unlocked_count(episode: dict) -> int:
    """How many distinct achievements an episode unlocked."""
    return sum(episode.get(f"achievement_{name}", 0) > 0 for name in ACHIEVEMENTS)


def success_rates(episodes: list[dict]) -> dict[str, float]:
    """Percentage of episodes with each achievement unlocked at least once (all 22, 0 when never)."""
    if not episodes:
        raise ValueError("no episodes to score")
    return {name: 100.0 * float(np.mean([episode.get(f"achievement_{name}", 0) > 0 for episode in episodes]))
            for name in ACHIEVEMENTS}


def crafter_score(rates: dict[str, float]) -> float:
    """The Crafter score of success rates given in percent: the geometric mean of ``1 + s_i``, minus 1."""
    values = np.array([rates[name] for name in ACHIEVEMENTS], dtype=np.float64)
    return float(np.exp(np.mean(np.log(1.0 + values))) - 1.0)


@dataclass
class RunScore:
    """One run's evaluation."""

    run: str
    episodes: int
    rates: dict[str, float]
    score: float
    reward_mean: float
    achievements_mean: float  # distinct achievements unlocked per episode
    length_mean: float


def score_run(run_dir: str | Path) -> RunScore:
    """Score one run directory from its ``stats.jsonl``."""
    episodes = read_stats(run_dir)
    rates = success_rates(episodes)
    unlocked = [unlocked_count(episode) for episode in episodes]
    return RunScore(str(run_dir), len(episodes), rates, crafter_score(rates),
                    float(np.mean([episode.get("reward", 0.0) for episode in episodes])), float(np.mean(unlocked)),
                    float(np.mean([episode.get("length", 0) for episode in episodes])))


def aggregate(scores: list[RunScore]) -> dict:
    """Mean and standard deviation over runs (seeds) of the score and of every success rate."""
    def stats(values: list[float]) -> dict[str, float]:
        return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}

    return {"runs": [score.run for score in scores], "episodes": sum(score.episodes for score in scores),
            "score": stats([score.score for score in scores]),
            "achievements_per_episode": stats([score.achievements_mean for score in scores]),
            "reward": stats([score.reward_mean for score in scores]),
            "success_rates": {name: stats([score.rates[name] for score in scores]) for name in ACHIEVEMENTS}}


def format_table(summary: dict) -> str:
    """The aggregate as a readable table: one row per achievement, then the score."""
    lines = [f"{'achievement':<22}{'success %':>12}{'± std':>8}"]
    for name, value in summary["success_rates"].items():
        lines.append(f"{name:<22}{value['mean']:>12.1f}{value['std']:>8.1f}")
    runs, episodes = len(summary["runs"]), summary["episodes"]
    lines.append(f"{'Crafter score':<22}{summary['score']['mean']:>12.2f}{summary['score']['std']:>8.2f}"
                 f"   ({runs} run{'s' * (runs != 1)}, {episodes} episodes)")
    lines.append(f"{'achievements/episode':<22}{summary['achievements_per_episode']['mean']:>12.2f}"
                 f"{summary['achievements_per_episode']['std']:>8.2f}")
    return "\n".join(lines)


def plot_success(summary: dict, path: str | Path, title: str = "") -> Path:
    """Bar chart of the success rates (log scale, as in the Crafter paper) with std error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["success_rates"])
    means = [summary["success_rates"][n]["mean"] for n in names]
    stds = [summary["success_rates"][n]["std"] for n in names]
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.bar(range(len(names)), means, yerr=stds, color="tab:blue", capsize=2)
    axis.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=60, ha="right", fontsize=8)
    axis.set_yscale("symlog", linthresh=1.0)
    axis.set_ylim(0, 100)
    axis.set_ylabel("success rate (%)")
    axis.set_title(title or f"Crafter score {summary['score']['mean']:.2f} ± {summary['score']['std']:.2f}")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)


def plot_episode_curves(run_dirs: list[str | Path], path: str | Path, window: int = 20) -> Path:
    """Return and achievements unlocked per episode against cumulative steps, one line per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for run in run_dirs:
        episodes = read_stats(run)
        steps = np.cumsum([episode.get("length", 0) for episode in episodes])
        reward = np.array([episode.get("reward", 0.0) for episode in episodes], dtype=float)
        unlocked = np.array([unlocked_count(episode) for episode in episodes], dtype=float)
        kernel = np.ones(min(window, len(episodes))) / min(window, len(episodes))
        for axis, values in zip(axes, (reward, unlocked)):
            smooth = np.convolve(values, kernel, mode="valid")
            axis.plot(steps[len(steps) - len(smooth):], smooth, label=Path(run).name)
    for axis, label in zip(axes, ("episode return", "achievements unlocked")):
        axis.set_xlabel("environment steps")
        axis.set_ylabel(f"{label} (moving mean of {window})")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)
