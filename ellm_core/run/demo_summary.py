"""What ``make demo`` ran, its key numbers, and where each table, picture and video was written.

Reads the demo's run directories (files only: it imports nothing of ``recrl``) and prints one short block per
part. Usage: ``python -m ellm_core.run.demo_summary [--runs runs]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _files(directory: Path, *patterns: str) -> str:
    found = [str(path) for pattern in patterns for path in sorted(directory.glob(pattern))]
    return ", ".join(found) or "(none)"


def summary_lines(runs: Path) -> list[str]:
    """The summary, line by line (parts whose run directory is missing are said to be missing)."""
    lines = ["", "== make demo: what ran =="]
    textchain = _load(runs / "demo-textchain" / "summary.json")
    if textchain:
        final = textchain["final_eval"]
        lines += [f"TextChain, ELLM, real LM + embedder, {textchain['step']} steps: intrinsic return "
                  f"{final['intrinsic_return_mean']:.2f}, goals achieved per episode {final['achieved_goals_mean']:.2f}",
                  f"  curves: {_files(runs / 'demo-textchain', '*.png')}"]
    crafter = _load(runs / "demo-crafter" / "crafter_eval.json")
    if crafter:
        lines += [f"Crafter, ELLM, smoke budget: Crafter score {crafter['score']['mean']:.2f} over "
                  f"{crafter['episodes']} episodes (a smoke run: see results/crafter for the comparison)",
                  f"  table and plots: {_files(runs / 'demo-crafter', 'crafter_eval.json', '*.png')}",
                  f"  video: {_files(runs / 'demo-crafter' / 'videos', '*.mp4', '*.gif')}"]
    rationale = _load(runs / "demo-rationale" / "metrics.json")
    if rationale:
        lines += [f"Rationale LoRA (smoke, {rationale['steps']} steps): held-out perplexity "
                  f"{rationale['perplexity_base']:.1f} -> {rationale['perplexity_tuned']:.1f}; samples in "
                  f"{runs / 'demo-rationale' / 'samples.md'} (a smoke adapter; the full run's samples are "
                  "results/recrl/rationale/samples.md)"]
    browse = _load(runs / "demo-browse" / "browse_eval.json")
    if browse:
        scores = ", ".join(f"{name} {values['ndcg']['mean']:.3f}" for name, values in browse["policies"].items())
        lines += [f"Product browsing, {browse['episodes']} held-out sessions, NDCG: {scores}",
                  f"  table and plot: {_files(runs / 'demo-browse', 'browse_eval.*')}",
                  f"  session traces: {_files(runs / 'demo-browse' / 'traces', 'traces.md', 'trace.png')}"]
    if len(lines) == 2:
        lines.append(f"(no demo runs under {runs}: run `make demo`)")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="directory holding the demo's run directories")
    args = parser.parse_args(argv)
    print("\n".join(summary_lines(Path(args.runs))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
