"""The written report of :mod:`recrl.browse.evaluate`: Markdown tables, a bar chart and the per-session parquet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recrl.browse.metrics import METRICS, REFERENCE


def format_table(report: dict[str, Any]) -> str:
    """Markdown tables: policy × metric (mean ± std over runs), then each policy minus DQN + none over the same
    sessions with its 95 % paired bootstrap CI."""
    slates = ("Slates: one held-out item of the user among popularity-sampled negatives it never rated "
              "(leave-one-out). " if report.get("slates") == "held-out" else "")
    lines = [slates + "Mean ± sample standard deviation (ddof = 1) over runs (seeds); a policy without training has "
             "one run.", "", "| policy | runs | liked share | mean held-out rating | NDCG |", "| --- | --- | --- | --- | --- |"]
    for name, metrics in report["policies"].items():
        cells = [f"{metrics[m]['mean']:.3f} ± {metrics[m]['std']:.3f}" for m in METRICS]
        lines.append(f"| {name} | {metrics['ndcg']['runs']} | " + " | ".join(cells) + " |")
    paired = report.get("paired_vs_none") or {}
    if paired:
        lines += ["", f"Paired difference from {REFERENCE} over the same held-out sessions (seeds averaged per "
                  "session; 95 % bootstrap CI over sessions):", "",
                  "| policy | Δ liked share | Δ mean held-out rating | Δ NDCG |", "| --- | --- | --- | --- |"]
        for name, metrics in paired.items():
            lines.append(f"| {name} | " + " | ".join(_difference(metrics[m]) for m in METRICS) + " |")
    for anchor, rows in (report.get("paired_vs_anchors") or {}).items():
        lines += ["", f"Paired difference of each agent from the {anchor} (same sessions, seeds averaged per session; "
                  "95 % bootstrap CI):", "", "| agent | Δ liked share | Δ mean held-out rating | Δ NDCG |",
                  "| --- | --- | --- | --- |"]
        for name, metrics in rows.items():
            lines.append(f"| {name} | " + " | ".join(_difference(metrics[m]) for m in METRICS) + " |")
    return "\n".join(lines) + "\n"


def _difference(cell: dict[str, float]) -> str:
    """``+0.004 [-0.001, +0.008]``: a paired difference with its CI."""
    return f"{cell['diff']:+.3f} [{cell['ci_low']:+.3f}, {cell['ci_high']:+.3f}]"


def plot_report(report: dict[str, Any], path: str | Path) -> Path:
    """Bar charts of each metric per policy, error bars = std over runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["policies"])
    figure, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.4))
    for axis, metric in zip(axes, METRICS):
        means = [report["policies"][n][metric]["mean"] for n in names]
        stds = [report["policies"][n][metric]["std"] for n in names]
        axis.bar(range(len(names)), means, yerr=stds, capsize=3, color="tab:blue")
        axis.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        axis.set_title(metric.replace("_", " "), fontsize=10)
    figure.suptitle(f"held-out evaluation, {report['episodes']} test sessions per policy", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return Path(path)


def write_report(report: dict[str, Any], out: str | Path) -> list[Path]:
    """``browse_eval.json``, ``browse_eval.md``, ``browse_eval.png`` and ``sessions.parquet`` (every session of
    every policy and run, from which the table recomputes: :func:`report_from_sessions`) in ``out``."""
    import pandas as pd

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sessions = report.get("sessions", [])
    summary = {key: value for key, value in report.items() if key != "sessions"}
    (out / "browse_eval.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "browse_eval.md").write_text(format_table(report), encoding="utf-8")
    files = [out / "browse_eval.json", out / "browse_eval.md", plot_report(report, out / "browse_eval.png")]
    if sessions:
        pd.DataFrame(sessions).to_parquet(out / "sessions.parquet", index=False)
        files.append(out / "sessions.parquet")
    return files
