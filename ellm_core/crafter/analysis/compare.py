"""Methods compared on Crafter: the table, the tests and the pretraining curves of a sweep's runs.

Run directories are grouped into methods by name (``<method>-seed<S>``, the sweep's layout). Per method:
the Crafter score, achievements unlocked per episode and the episode reward (crafter's task reward, the
number that matters after fine-tuning) as mean ± std with a 95 % bootstrap CI over seeds; Welch's t-test of
each method against each reference method (``none`` and ``novelty`` by default); the success rate of every
achievement; and the curve of achievements per episode against environment steps with a band of ± one std
over seeds (the paper's pretraining figure). Written as ``compare.json``, ``compare.md`` and PNGs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ellm_core.crafter.score import ACHIEVEMENTS, read_stats, score_run, unlocked_count
from ellm_core.experiments.stats import describe, format_ci, format_p, format_std, welch

RUN_NAME = re.compile(r"^(?P<method>.+)-seed(?P<seed>\d+)$")
METRICS = {"score": "Crafter score", "achievements": "achievements / episode", "reward": "episode reward"}


def discover_runs(directory: str | Path, finished_only: bool = True) -> dict[str, list[Path]]:
    """``{method: [run dirs sorted by seed]}`` of the ``<method>-seed<S>`` folders holding a ``stats.jsonl`` (and,
    with ``finished_only``, a ``summary.json``: runs still training are left out)."""
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"{directory}: no such folder (give a sweep's out folder, which holds "
                                "<method>-seed<S> run directories)")
    methods: dict[str, list[tuple[int, Path]]] = {}
    for path in sorted(Path(directory).iterdir()):
        match = RUN_NAME.match(path.name)
        finished = (path / "summary.json").is_file() or not finished_only
        if match and path.is_dir() and (path / "stats.jsonl").is_file() and finished:
            methods.setdefault(match["method"], []).append((int(match["seed"]), path))
    return {method: [path for _, path in sorted(runs)] for method, runs in methods.items()}


def achievement_curve(run: str | Path, edges: np.ndarray) -> np.ndarray:
    """Mean distinct achievements per episode of the episodes that ended in each step bin (NaN if none)."""
    episodes = read_stats(run)
    steps = np.array([episode.get("step", 0) for episode in episodes], dtype=np.float64)
    if not np.any(steps):  # stats written without the training step: cumulative lengths
        steps = np.cumsum([episode.get("length", 0) for episode in episodes]).astype(np.float64)
    unlocked = np.array([unlocked_count(episode) for episode in episodes], dtype=np.float64)
    which = np.digitize(steps, edges[1:-1], right=True)  # bins (a, b]: an episode ending at b is in it
    return np.array([unlocked[which == b].mean() if np.any(which == b) else np.nan for b in range(len(edges) - 1)])


def compare(methods: dict[str, Sequence[str | Path]], baselines: Sequence[str] = ("none", "novelty"),
            bins: int = 20, published: Sequence[dict] | None = None) -> dict:
    """The comparison of ``{method: run dirs}`` (one run per seed) as a JSON-ready dict; ``published`` rows
    (``{agent, score, task_reward, source}``) are quoted beside it."""
    rows, curves, seeds = {}, {}, {}
    budget = max(max((e.get("step", 0) for e in read_stats(run)), default=0) for runs in methods.values()
                 for run in runs)
    edges = np.linspace(0, max(budget, 1), bins + 1)
    for method, runs in methods.items():
        scores = [score_run(run) for run in runs]
        seeds[method] = {"score": [s.score for s in scores], "achievements": [s.achievements_mean for s in scores],
                         "reward": [s.reward_mean for s in scores]}
        false_pay = [json.loads((Path(run) / "summary.json").read_text()).get("false_pay_share")
                     if (Path(run) / "summary.json").is_file() else None for run in runs]
        rows[method] = {"runs": [str(run) for run in runs], "episodes": [s.episodes for s in scores],
                        "false_pay_share": (float(np.mean(false_pay)) if all(v is not None for v in false_pay)
                                            else None),
                        **{metric: {**describe(values, seed=0), "per_seed": values}
                           for metric, values in seeds[method].items()},
                        "success_rates": {name: float(np.mean([s.rates[name] for s in scores]))
                                          for name in ACHIEVEMENTS}}
        curve = np.array([achievement_curve(run, edges) for run in runs])
        curves[method] = {"mean": np.nanmean(curve, axis=0).tolist(),
                          "std": (np.nanstd(curve, axis=0, ddof=1) if len(runs) > 1 else np.zeros(bins)).tolist()}
    tests = {reference: {method: {metric: welch(seeds[method][metric], seeds[reference][metric])
                                  for metric in METRICS}
                         for method in methods if method != reference}
             for reference in baselines if reference in methods}
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    return {"methods": rows, "tests": tests, "curves": {"steps": centres, **curves},
            **({"published": [dict(row) for row in published]} if published else {})}


def format_markdown(result: dict) -> str:
    """The comparison as Markdown: the main table, the tests against each reference, the success rates."""
    lines = ["| method | seeds | Crafter score [95 % CI] | achievements / episode [95 % CI] | episode reward | "
             "false pay |", "| --- | --- | --- | --- | --- | --- |"]
    for method, row in result["methods"].items():
        share = row.get("false_pay_share")
        lines.append(f"| {method} | {row['score']['n']} | {format_ci(row['score'])} | "
                     f"{format_ci(row['achievements'])} | {format_std(row['reward'])} | "
                     f"{'-' if share is None else f'{share:.0%}'} |")
    for reference, tests in result["tests"].items():
        if not tests:
            continue
        lines += ["", f"Welch's t-test against **{reference}** (difference of means, p):", "",
                  "| method | Δ score | p | Δ achievements | p | Δ reward | p |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for method, test in tests.items():
            cells = " | ".join(f"{test[m]['diff']:+.2f} | {format_p(test[m]['p'])}" for m in METRICS)
            lines.append(f"| {method} | {cells} |")
    lines += ["", "False pay: the share of a run's goal reward paid to a goal naming a different achievement than "
              "the one the caption reports (the goal's nearest achievement text by the run's embedder; mean over "
              "seeds; `pays.csv` in each run). '-': no goal reward, or a run from before the tally."]
    if result.get("published"):
        lines += ["", "Published agents at the same budget, quoted (their observation is 64×64 pixels; ours is a text "
                  "caption of crafter's semantic map, which is privileged information: compare methods with each "
                  "other on one observation, and read these as anchors):", "",
                  "| agent | Crafter score % | uses task reward | source |", "| --- | --- | --- | --- |"]
        for row in result["published"]:
            lines.append(f"| {row['agent']} | {row['score']} | {'yes' if row.get('task_reward') else 'no'} | "
                         f"{row.get('source', '')} |")
    names = list(result["methods"])
    lines += ["", "Success rate per achievement (% of episodes, mean over seeds):", "",
              "| achievement | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for achievement in ACHIEVEMENTS:
        lines.append(f"| {achievement} | " + " | ".join(f"{result['methods'][m]['success_rates'][achievement]:.1f}"
                                                     for m in names) + " |")
    return "\n".join(lines) + "\n"


def plot_curves(result: dict, path: str | Path, title: str = "") -> Path:
    """Achievements unlocked per episode against environment steps, mean ± std over seeds, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array(result["curves"]["steps"])
    figure, axis = plt.subplots(figsize=(7, 4))
    for method in result["methods"]:
        mean, std = (np.array(result["curves"][method][key], dtype=float) for key in ("mean", "std"))
        axis.plot(steps, mean, label=method)
        axis.fill_between(steps, mean - std, mean + std, alpha=0.2)
    axis.set_xlabel("environment steps")
    axis.set_ylabel("achievements unlocked per episode")
    axis.set_title(title or "Pretraining without task reward (mean ± std over seeds)")
    axis.legend(fontsize=8, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)


def plot_success_heatmap(result: dict, path: str | Path) -> Path:
    """Success rate of each achievement (columns) for each method (rows), in percent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["methods"])
    rates = np.array([[result["methods"][m]["success_rates"][a] for a in ACHIEVEMENTS] for m in names])
    figure, axis = plt.subplots(figsize=(12, 0.45 * len(names) + 2))
    image = axis.imshow(rates, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    axis.set_xticks(range(len(ACHIEVEMENTS)), [a.replace("_", " ") for a in ACHIEVEMENTS], rotation=60,
                    ha="right", fontsize=8)
    axis.set_yticks(range(len(names)), names)
    for (row, column), value in np.ndenumerate(rates):
        axis.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=7,
                  color="white" if value < 50 else "black")
    figure.colorbar(image, ax=axis, label="success rate (%)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)


def write_comparison(result: dict, out: str | Path) -> list[Path]:
    """``compare.json``, ``compare.md``, ``curves.png`` and ``success.png`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "compare.md").write_text(format_markdown(result), encoding="utf-8")
    return [out / "compare.json", out / "compare.md", plot_curves(result, out / "curves.png"),
            plot_success_heatmap(result, out / "success.png")]


def sweep_comparison(methods: dict[str, list[Path]], options: dict, out: Path) -> dict:
    """The comparison ``ellm sweep`` runs for ``compare: {kind: crafter}``: the finished runs of each method."""
    runs = {method: [run for run in paths if (Path(run) / "summary.json").is_file()] for method, paths in methods.items()}
    runs = {method: paths for method, paths in runs.items() if paths}
    if not runs:
        return {"skipped": "no run has finished yet"}
    result = compare(runs, baselines=options.get("baselines", ("none", "novelty")), bins=options.get("bins", 20),
                     published=options.get("published"))
    files = write_comparison(result, out)
    return {"out": str(out), "files": [str(path) for path in files],
            "score": {method: row["score"]["mean"] for method, row in result["methods"].items()}}


def cmd_compare(args) -> int:
    """Compare methods from sweep run directories (``<method>-seed<S>``): table, Welch tests, curves."""
    methods: dict[str, list[Path]] = {}
    for directory in args.dirs:
        for method, runs in discover_runs(directory, finished_only=not args.include_unfinished).items():
            methods.setdefault(method, []).extend(runs)
    if args.methods:
        missing = [m for m in args.methods if m not in methods]
        if missing:
            raise ValueError(f"no runs of {missing} in {args.dirs}; found {sorted(methods)}")
        methods = {m: methods[m] for m in args.methods}
    if not methods:
        raise ValueError(f"no <method>-seed<S> run with a stats.jsonl in {args.dirs}")
    result = compare(methods, baselines=args.baseline, bins=args.bins)
    files = write_comparison(result, args.out or Path(args.dirs[0]) / "compare")
    print(format_markdown(result))
    print("wrote " + ", ".join(str(path) for path in files))
    return 0
