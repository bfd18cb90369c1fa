"""PNG plots of the reward validation: reward by held-out rating, ROC curves, the threshold curve, and the
personal signal (own − shuffled and beyond-popularity intervals per metric and goal source)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_all(scores: dict[str, np.ndarray], ratings: np.ndarray, curves: dict[str, list[dict]], out: Path,
             liked: float = 4.0, disliked: float = 2.0) -> list[Path]:
    """``reward_by_rating.png``, ``roc.png`` and ``threshold.png`` in ``out`` (primary goals, every metric)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    names = list(scores)
    paths = []
    figure, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 3.2), squeeze=False)
    levels = sorted(set(ratings.tolist()))
    for axis, name in zip(axes[0], names):
        values = scores[name]
        groups = [values[(ratings == level) & ~np.isnan(values)] for level in levels]
        axis.boxplot(groups, showfliers=False)
        axis.set_xticks(range(1, len(levels) + 1), [f"{level:g}" for level in levels])
        axis.set_xlabel("held-out rating")
        axis.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("reward (max over goals)")
    figure.tight_layout()
    paths.append(out / "reward_by_rating.png")
    figure.savefig(paths[-1], dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(4.4, 4))
    keep_base = (ratings >= liked) | (ratings <= disliked)
    for name in names:
        keep = keep_base & ~np.isnan(scores[name])
        labels = ratings[keep] >= liked
        if labels.any() and not labels.all():
            fpr, tpr, _ = roc_curve(labels, scores[name][keep])
            axis.plot(fpr, tpr, label=name)
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":")
    axis.set_xlabel("false positive rate (disliked)")
    axis.set_ylabel("true positive rate (liked)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    paths.append(out / "roc.png")
    figure.savefig(paths[-1], dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(4.8, 3.6))
    for name, points in curves.items():
        axis.plot([p["quantile"] for p in points], [p["auc"] for p in points], marker="o", markersize=3, label=name)
    axis.set_xlabel("threshold (quantile of the reward)")
    axis.set_ylabel("ROC-AUC of the thresholded reward")
    axis.legend(fontsize=8)
    figure.tight_layout()
    paths.append(out / "threshold.png")
    figure.savefig(paths[-1], dpi=110)
    plt.close(figure)
    return paths


PERSONAL_PANELS = (("own_minus_shuffled_spearman", "own − shuffled Spearman ρ\n(the personal part)"),
                   ("own_minus_shuffled_auc", "own − shuffled ROC-AUC"),
                   ("partial_spearman", "Spearman ρ given popularity\n(signal beyond popularity)"))


def plot_personal(personal: list[dict], path: Path) -> Path:
    """``personal.png``: a forest plot of the personal-signal rows of a report (``report["personal"]``): for each
    metric × goal source, the estimate and its 95 % interval, one panel per statistic, zero marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = list(dict.fromkeys(row["goals"] for row in personal))
    metrics = list(dict.fromkeys(row["metric"] for row in personal))
    figure, axes = plt.subplots(1, len(PERSONAL_PANELS), figsize=(4.2 * len(PERSONAL_PANELS), 0.25 * len(personal) + 1.6),
                                sharey=True, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, (key, title) in zip(axes[0], PERSONAL_PANELS):
        for row in personal:
            y = metrics.index(row["metric"]) + 0.8 * (sources.index(row["goals"]) / max(len(sources), 1) - 0.4)
            stat = row[key]
            colour = colours[sources.index(row["goals"]) % len(colours)]
            axis.errorbar(stat["value"], y, xerr=[[stat["value"] - stat["low"]], [stat["high"] - stat["value"]]],
                          fmt="o", markersize=4, capsize=2, color=colour,
                          label=row["goals"] if metrics.index(row["metric"]) == 0 else None)
        axis.axvline(0.0, color="grey", linestyle=":")
        axis.set_title(title, fontsize=9)
    axes[0][0].set_yticks(range(len(metrics)), metrics)
    axes[0][0].invert_yaxis()
    figure.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=len(sources), fontsize=8)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
